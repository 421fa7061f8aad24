//! `rollout-watcher history`: the watcher's finished rollouts read back from its
//! table, with the open ones from the live state, and their figures per service and
//! for all (docs/history.md).
//!
//! With an ARN for `--service`, one Query on the table's key; otherwise Queries of
//! the sparse `history-index`, one per month of the window (never a Scan). Open
//! rollouts come from the services in the sweeper's `due-index` (the services with
//! something open), one GetItem each.

mod page;
mod render;
mod stats;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::ValueEnum;
use rollout_watcher::adapters::dynamodb_history::DynamoHistory;
use rollout_watcher::model::{Millis, ServiceArn, Timestamp};
use rollout_watcher::ports::{HistoryReader, StoreError};

pub use page::page;
pub use render::{json_lines, text};
pub use stats::{History, Row, Stats};

/// Usage errors (sysexits' EX_USAGE).
const EXIT_USAGE: u8 = 64;

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table of rollouts, then the figures.
    Text,
    /// JSON Lines: `history_rollout`, `service_stats`, `all_stats`.
    Json,
    /// One self-contained page (inline CSS and SVG, no script): a section per
    /// service with its figures, an article per rollout.
    Html,
}

/// `history` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The watcher's state table (the module's `<name>-state`).
    #[arg(long)]
    pub table: String,
    /// Only this cluster (name or ARN).
    #[arg(long)]
    pub cluster: Option<String>,
    /// Only this service (an ARN: one Query on the table key; a name: filtered from
    /// the history index).
    #[arg(long)]
    pub service: Option<String>,
    /// How far back: `30d`, `12h`, `90m`, or an RFC 3339 time.
    // Hyphen values reach the check that names the flag: `-3d` is no span.
    #[arg(long, default_value = "30d", allow_hyphen_values = true)]
    pub since: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// What to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// `--cluster`.
    pub cluster: Option<String>,
    /// `--service`.
    pub service: Option<String>,
    /// The window's start.
    pub since: Timestamp,
    /// Its end (now).
    pub now: Timestamp,
}

/// How far back `--since` may reach. The history index is read a month at a time,
/// and the reader stops after 1,200 months counted from the window's start: a window
/// of a century or more silently lost its newest months, this one included. History
/// items expire after 90 days; ten years is far beyond any table's content.
const MAX_BACK_DAYS: i64 = 3650;

/// `--since`: a span back from `now` (`30d`, `12h`, `90m`, `45s`) or an instant, not
/// after `now` and at most [`MAX_BACK_DAYS`] back.
pub fn since(text: &str, now: Timestamp) -> Result<Timestamp, String> {
    let at = window_start(text, now)?;
    if at > now {
        return Err(format!(
            "--since: after now ({now}): nothing could be listed: {text:?}"
        ));
    }
    if now.since(at) > Millis::from_secs(MAX_BACK_DAYS * 86_400) {
        return Err(format!(
            "--since: at most {MAX_BACK_DAYS}d (ten years) back: {text:?}"
        ));
    }
    Ok(at)
}

fn window_start(text: &str, now: Timestamp) -> Result<Timestamp, String> {
    let t = text.trim();
    if let Some(at) = Timestamp::parse(t) {
        return Ok(at);
    }
    let span = match t.strip_suffix('d') {
        Some(days) => days
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|d| *d >= 0)
            .and_then(|d| d.checked_mul(86_400))
            .map(Millis::from_secs),
        None => Millis::parse_duration(t).filter(|_| !t.is_empty()),
    };
    span.map(|s| Timestamp::from_millis(now.as_millis().saturating_sub(s.0)))
        .ok_or_else(|| format!("--since: not a span (30d, 12h, 90m) or an RFC 3339 time: {text:?}"))
}

impl Query {
    /// The query in the arguments, or a one-line usage error naming the argument.
    pub fn from_args(args: &Args, now: Timestamp) -> Result<Self, String> {
        for (flag, v) in [
            ("--table", Some(&args.table)),
            ("--cluster", args.cluster.as_ref()),
            ("--service", args.service.as_ref()),
        ] {
            if v.is_some_and(|v| v.trim().is_empty()) {
                return Err(format!("{flag}: empty"));
            }
        }
        if let Some(s) = &args.service
            && s.starts_with("arn:")
            && ServiceArn::parse(s).is_none()
        {
            if ServiceArn::is_short_form(s) {
                return Err(format!(
                    "--service {s:?}: a short service ARN (a service created before 2021) \
                     names no cluster, and the history keeps services by cluster: give the \
                     service's name, with --cluster if names repeat across clusters"
                ));
            }
            return Err(format!("--service: not an ECS service ARN: {s:?}"));
        }
        Ok(Self {
            cluster: args
                .cluster
                .as_deref()
                .map(|c| c.trim().rsplit('/').next().unwrap_or(c).to_owned()),
            service: args.service.as_deref().map(str::trim).map(str::to_owned),
            since: since(&args.since, now)?,
            now,
        })
    }

    fn service_arn(&self) -> Option<ServiceArn> {
        self.service.as_deref().and_then(ServiceArn::parse)
    }

    /// Whether a service is in the query.
    pub fn matches(&self, arn: &ServiceArn) -> bool {
        let cluster = self.cluster.as_deref().is_none_or(|c| arn.cluster() == c);
        let service = self
            .service
            .as_deref()
            .is_none_or(|s| arn.as_str() == s || arn.name() == s);
        cluster && service
    }

    /// The text every matching ARN contains (the index Query's filter).
    fn filter(&self) -> Option<String> {
        match (&self.cluster, &self.service) {
            (Some(c), Some(s)) => Some(format!(":service/{c}/{s}")),
            (Some(c), None) => Some(format!(":service/{c}/")),
            (None, Some(s)) => Some(format!("/{s}")),
            (None, None) => None,
        }
    }
}

/// Reads the history the query asks for.
pub async fn collect<R: HistoryReader>(reader: &R, q: &Query) -> Result<History, StoreError> {
    let finished = match q.service_arn() {
        Some(arn) => reader.service_history(&arn, q.since).await?,
        None => {
            reader
                .history_between(q.since, q.now, q.filter().as_deref())
                .await?
        }
    };
    let mut unreadable: Vec<String> = finished
        .unreadable
        .iter()
        .map(|e| crate::wait::chain(e))
        .collect();
    let mut rows: Vec<Row> = finished
        .rollouts
        .iter()
        .filter(|r| q.matches(&r.service))
        .map(|r| Row::of(r, false))
        .collect();
    let open: Vec<ServiceArn> = match q.service_arn() {
        Some(arn) => vec![arn],
        None => reader
            .open_services()
            .await?
            .into_iter()
            .filter(|s| q.matches(s))
            .collect(),
    };
    for service in open {
        // A damaged live item loses that service's open rollouts, not the history.
        let state = match reader.live(&service).await {
            Ok(Some(state)) => state,
            Ok(None) => continue,
            Err(e @ StoreError::Corrupt { .. }) => {
                unreadable.push(crate::wait::chain(&e));
                continue;
            }
            Err(e) => return Err(e),
        };
        rows.extend(
            state
                .rollouts()
                .iter()
                .filter(|r| !r.state.is_terminal())
                .map(|r| Row::of(r, true)),
        );
    }
    let mut history = History::new(q.since, q.now, rows);
    history.unreadable = unreadable;
    Ok(history)
}

/// Writes the history in `format`.
pub fn write(out: &mut impl Write, h: &History, format: Format) -> io::Result<()> {
    match format {
        Format::Text => text(out, h),
        Format::Json => json_lines(out, h),
        Format::Html => out.write_all(crate::html::document(&page(h)).as_bytes()),
    }
}

fn wall_now() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Timestamp::from_millis(ms)
}

/// Runs the subcommand; prints its own errors.
pub fn run(args: &Args) -> ExitCode {
    let query = match Query::from_args(args, wall_now()) {
        Ok(q) => q,
        Err(e) => {
            eprintln!("rollout-watcher history: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rollout-watcher history: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async {
        let sdk = crate::aws_env::load().await?;
        let reader = DynamoHistory::new(aws_sdk_dynamodb::Client::new(&sdk), args.table.trim());
        Ok::<_, String>(collect(&reader, &query).await)
    });
    let history = match result {
        Ok(Ok(h)) => h,
        Err(e) => {
            eprintln!("rollout-watcher history: {e}");
            return ExitCode::FAILURE;
        }
        Ok(Err(e)) => {
            eprintln!(
                "rollout-watcher history: --table {}: {}",
                args.table,
                crate::wait::chain(&e)
            );
            return ExitCode::FAILURE;
        }
    };
    for item in &history.unreadable {
        eprintln!(
            "rollout-watcher history: --table {}: left out, unreadable: {item}",
            args.table
        );
    }
    let mut out = io::stdout().lock();
    match write(&mut out, &history, args.format).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rollout-watcher history: writing the output: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_spans_and_instants_and_names_itself_otherwise() {
        let now = Timestamp::parse("2026-12-02T00:00:00Z").unwrap();
        assert_eq!(
            since("30d", now).unwrap(),
            Timestamp::parse("2026-11-02T00:00:00Z").unwrap()
        );
        assert_eq!(
            since("12h", now).unwrap(),
            Timestamp::parse("2026-12-01T12:00:00Z").unwrap()
        );
        assert_eq!(
            since("2026-11-01T00:00:00Z", now).unwrap(),
            Timestamp::parse("2026-11-01T00:00:00Z").unwrap()
        );
        assert_eq!(
            since("last week", now).unwrap_err(),
            "--since: not a span (30d, 12h, 90m) or an RFC 3339 time: \"last week\""
        );
        assert!(since("-3d", now).is_err());
    }
}
