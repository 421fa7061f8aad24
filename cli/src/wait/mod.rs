//! `rollout-watcher wait`: the CI gate. Follows one deployment through ECS until it
//! completes, fails, rolls back, is superseded, reaches a `--until` stage, pauses
//! (with `--on-pause exit`) or runs past `--timeout`, and says so in its exit code
//! (DESIGN.md; docs/wait.md).
//!
//! # Layout
//! - `source`: the ECS reading port and its views; `ecs`: the aws-sdk-ecs adapter.
//! - `observe`: readings into the state machine's inputs; stages and pauses.
//! - `plan`: the flags' meaning and the verdicts; `choose`: the deployment
//!   followed without `--deployment`; `follow`: the poll loop;
//!   `clock`: time and back-off.
//! - `report`: the timeline (text) or JSON Lines as it goes.
//!
//! Why only reads: a CI gate that could change a deployment would need write
//! permissions on production services. Ctrl-C stops the polling and nothing else.

mod choose;
mod clock;
mod ecs;
mod follow;
mod observe;
mod plan;
mod report;
mod source;

use std::io;
use std::process::ExitCode;

use clap::ValueEnum;
use rollout_watcher::core::Settings;
use rollout_watcher::model::{DeploymentId, Millis, ServiceArn};

pub use clock::{MAX_BACKOFF, Pacer, WallClock, next_wait};
pub use ecs::EcsReader;
pub use follow::{chain, follow};
pub use observe::{STAGES, stage_reached};
pub use plan::{Ending, OnPause, Pause, Plan, Until, Verdict, WaitError};
pub use report::{JsonReport, Report, TextReport};
pub use source::{
    BriefView, DeploymentView, EcsSource, HookView, ServiceDeploymentView, ServiceEventView,
    ServiceView, SourceError,
};

/// Usage errors (sysexits' EX_USAGE), as for a clap error.
const EXIT_USAGE: u8 = 64;
/// Interrupted (Ctrl-C): 128 + SIGINT, as a shell reports it.
const EXIT_INTERRUPTED: u8 = 130;
/// The shortest `--interval` (ECS's API rate limits are per account).
const MIN_INTERVAL: Millis = Millis(50);

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The `replay` timeline as it happens, then the verdict.
    Text,
    /// JSON Lines: the `replay` effect objects, `stage`, `pause`, then `verdict`.
    Json,
}

/// `wait` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The cluster (name or ARN).
    #[arg(long)]
    pub cluster: String,
    /// The service (name or ARN).
    #[arg(long)]
    pub service: String,
    /// The deployment to follow (`ecs-svc/N`). Default: the service's PRIMARY
    /// deployment when the wait starts.
    #[arg(long)]
    pub deployment: Option<String>,
    /// `completed`, or a lifecycle stage (BAKE_TIME, POST_TEST_TRAFFIC_SHIFT, ...):
    /// exit 0 once the deployment is there.
    #[arg(long, default_value = "completed")]
    pub until: String,
    /// Give up after this long (exit 3): `90s`, `30m`, `2h`.
    // Hyphen values reach the check that names the flag: `-5m` is no duration.
    #[arg(long, default_value = "30m", allow_hyphen_values = true)]
    pub timeout: String,
    /// Time between polls (with ±10 % jitter; doubled while ECS throttles).
    #[arg(long, default_value = "5s", allow_hyphen_values = true)]
    pub interval: String,
    /// On a PAUSE hook awaiting action: keep waiting, or exit 5.
    #[arg(long, value_enum, default_value_t = OnPause::Wait)]
    pub on_pause: OnPause,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// The plan in the arguments, or a one-line usage error naming the argument.
pub fn plan(args: &Args) -> Result<Plan, String> {
    let duration = |flag: &str, text: &str| {
        Millis::parse_duration(text)
            .ok_or_else(|| format!("{flag}: not a duration (90s, 30m, 2h): {text:?}"))
    };
    let timeout = duration("--timeout", &args.timeout)?;
    let interval = duration("--interval", &args.interval)?;
    if interval < MIN_INTERVAL {
        return Err(format!(
            "--interval: at least {} ms: {:?}",
            MIN_INTERVAL.0, args.interval
        ));
    }
    let until = Until::parse(&args.until).ok_or_else(|| {
        format!(
            "--until: `completed` or a lifecycle stage such as BAKE_TIME: {:?}",
            args.until
        )
    })?;
    let deployment = match &args.deployment {
        Some(d) if DeploymentId::find_in(d).is_some_and(|f| f.as_str() == d.trim()) => {
            DeploymentId::parse(d)
        }
        Some(d) => {
            return Err(format!(
                "--deployment: not a deployment id (ecs-svc/N): {d:?}"
            ));
        }
        None => None,
    };
    for (flag, v) in [("--cluster", &args.cluster), ("--service", &args.service)] {
        if v.trim().is_empty() {
            return Err(format!("{flag}: empty"));
        }
    }
    // A service ARN names its cluster: one that contradicts --cluster would reach
    // ECS only to come back as "not found".
    if let Some(arn) = ServiceArn::parse(args.service.trim()) {
        let cluster = args.cluster.trim();
        let named = cluster.rsplit_once(":cluster/").map_or(cluster, |(_, n)| n);
        if named != arn.cluster() {
            return Err(format!(
                "--service names cluster {:?}, --cluster names {named:?}: give the service's cluster, or the service by name",
                arn.cluster()
            ));
        }
    }
    Ok(Plan {
        cluster: args.cluster.trim().to_owned(),
        service: args.service.trim().to_owned(),
        deployment,
        until,
        timeout,
        interval,
        on_pause: args.on_pause,
        settings: Settings::default(),
    })
}

/// Runs the subcommand; prints its own errors (exit 1) so that 2-5 are verdicts.
pub fn run(args: &Args) -> ExitCode {
    let plan = match plan(args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("rollout-watcher wait: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if let Until::Stage(stage) = &plan.until
        && !STAGES.contains(&stage.as_str())
    {
        // Not refused: ECS adds stages. But a typo would otherwise wait, silently,
        // for the whole deployment.
        eprintln!(
            "rollout-watcher wait: --until {stage}: not a lifecycle stage this version knows ({}); \
             waiting for a stage of that name, or the deployment's end",
            STAGES.join(", ")
        );
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rollout-watcher wait: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async {
        let sdk = crate::aws_env::load().await?;
        let source = EcsReader::new(aws_sdk_ecs::Client::new(&sdk));
        let stdout = io::stdout();
        let waited = match args.format {
            Format::Text => {
                let mut out = TextReport::new(stdout.lock(), crate::render::color_wanted());
                interruptible(follow(&source, &WallClock, &plan, &mut out)).await
            }
            Format::Json => {
                let mut out = JsonReport::new(stdout.lock());
                interruptible(follow(&source, &WallClock, &plan, &mut out)).await
            }
        };
        match waited {
            Some(Ok(ending)) => Ok(Some(ending.verdict.exit_code())),
            Some(Err(e)) => Err(chain(&e)),
            None => Ok(None),
        }
    });
    match result {
        Ok(Some(code)) => ExitCode::from(code),
        Ok(None) => {
            eprintln!("rollout-watcher wait: interrupted; the deployment was left as it is");
            ExitCode::from(EXIT_INTERRUPTED)
        }
        Err(e) => {
            eprintln!("rollout-watcher wait: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `f` unless Ctrl-C comes first (`None`): the polling stops, nothing is
/// called on the deployment.
async fn interruptible<T>(f: impl Future<Output = T>) -> Option<T> {
    tokio::select! {
        r = f => Some(r),
        _ = tokio::signal::ctrl_c() => None,
    }
}

#[cfg(test)]
mod tests;
