//! `rollout-watcher audit`: checks ECS services against the zero-downtime rules
//! (README, "Zero-downtime rules") before a rollout proves them wrong.
//!
//! For each service it prints the floor and ceiling of tasks during a rollout, the
//! circuit breaker's threshold, rollback, the health-check grace period and a verdict
//! with its reason, as `1 × 200% = 2 tasks` arithmetic a person can check. Input is
//! either live (`--cluster`, through the AWS default credential chain, honouring
//! `AWS_ENDPOINT_URL`) or offline (`--describe-services FILE`, what
//! `aws ecs describe-services` prints), so the same check runs in a pipeline with or
//! without AWS access. Exit codes make it a CI gate: 2 when any service is unsafe,
//! 1 on errors (or services that could not be described, or none at all), 0
//! otherwise.
//!
//! Errors are one line saying what was wrong, where, and what would be right; the
//! SDK's own error chain is shown with `--verbose`.

mod describe;
mod ecs;
mod input;
mod report;

use std::io::{self, Read, Write};
use std::process::ExitCode;

use aws_config::BehaviorVersion;
use aws_sdk_ecs::config::ProvideCredentials;
use clap::{ArgGroup, ValueEnum};
use thiserror::Error;

pub use describe::{Described, Missing, ServiceRecord, parse as parse_describe_services};
pub use ecs::{BATCH, describe as describe_live};
pub use report::{Audited, Report, audit};

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The arithmetic and the verdict, for people.
    Text,
    /// One JSON object per service, one per line, for machines.
    Json,
}

/// `audit` arguments.
#[derive(clap::Args, Debug)]
#[command(group(ArgGroup::new("input").required(true).args(["cluster", "describe_services"])))]
pub struct Args {
    /// The cluster to audit (name or ARN), read through the AWS default credential
    /// chain.
    #[arg(long)]
    pub cluster: Option<String>,
    /// A service to audit (name or ARN; repeatable). Default: every service of the
    /// cluster.
    #[arg(long = "service", value_name = "SERVICE", requires = "cluster")]
    pub services: Vec<String>,
    /// Offline: a file with what `aws ecs describe-services` prints (`-` for stdin).
    #[arg(long, value_name = "FILE", conflicts_with = "cluster")]
    pub describe_services: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Why the audit could not run.
#[derive(Debug, Error)]
pub enum AuditError {
    /// The file could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file (`-` for stdin).
        path: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The input is not what `aws ecs describe-services` prints, or has no service.
    #[error("{source_name}: {problem}")]
    Input {
        /// The file (`-` for stdin).
        source_name: String,
        /// What is wrong, where, and what was expected.
        problem: String,
    },
    /// The input is not describe-services JSON.
    #[error("{source_name}: not describe-services JSON")]
    Json {
        /// The file (`-` for stdin).
        source_name: String,
        /// Where and what.
        #[source]
        source: serde_json::Error,
    },
    /// An ECS call failed (permissions, unknown cluster, network).
    #[error("{operation} on cluster {cluster}: {hint}")]
    Ecs {
        /// The API operation.
        operation: &'static str,
        /// The cluster asked for.
        cluster: String,
        /// What probably went wrong and what to check, in one line.
        hint: String,
        /// The SDK error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// No region in the environment or the profile.
    #[error(
        "no AWS region: set AWS_REGION (for example AWS_REGION=eu-west-1), or AWS_PROFILE \
         to a profile of ~/.aws/config that has one"
    )]
    NoRegion,
    /// The default credential chain found no credentials.
    #[error(
        "no AWS credentials: set AWS_PROFILE to a profile of ~/.aws/config (after `aws sso \
         login` or `aws configure`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; \
         --verbose shows where the SDK looked"
    )]
    NoCredentials(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// The cluster has no service: a gate never passes on nothing.
    #[error("cluster {0} has no services: nothing to audit (check --cluster and AWS_REGION)")]
    NoServices(String),
    /// The async runtime could not start.
    #[error("starting the async runtime")]
    Runtime(#[source] io::Error),
}

/// Reads describe-services output for `replay --describe-services`: the audit's checks
/// first, so that what is not describe-services output (events, another command's
/// output) is refused as the audit refuses it, with the field by its path or the line
/// where the JSON breaks (the parser alone says neither); then the audit's reading.
/// Unlike the audit, a file that describes no service is no error here: replay then
/// follows events alone.
pub fn parse_for_replay(source: &str, text: &str) -> Result<Described, AuditError> {
    input::check_for_replay(source, text)?;
    parse_describe_services(source, text)
}

/// Runs the subcommand: prints the report and returns the exit code (errors are
/// printed on stderr and exit 1, so that 2 always means "unsafe"). `verbose` adds
/// the SDK's error chain to an error.
pub fn run(args: &Args, verbose: bool) -> ExitCode {
    let report = match collect(args) {
        Ok(r) => r,
        Err(e) => {
            let text = if verbose {
                rollout_watcher::error_chain(&e)
            } else {
                e.to_string()
            };
            eprintln!("rollout-watcher audit: {text}");
            return ExitCode::from(1);
        }
    };
    let text = match args.format {
        Format::Text => report.text(),
        Format::Json => report.json_lines(),
    };
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        eprintln!("rollout-watcher audit: writing the report: {e}");
        return ExitCode::from(1);
    }
    if args.format == Format::Json {
        for m in &report.failures {
            eprintln!(
                "rollout-watcher audit: not audited: {}: {}",
                m.service, m.reason
            );
        }
    }
    ExitCode::from(report.exit_code())
}

/// Reads the services from the chosen input and audits them.
pub fn collect(args: &Args) -> Result<Report, AuditError> {
    let described = match (&args.describe_services, &args.cluster) {
        (Some(path), _) => {
            let text = read(path)?;
            input::check(path, &text)?;
            parse_describe_services(path, &text)?
        }
        (None, Some(cluster)) => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(AuditError::Runtime)?;
            let described = rt.block_on(async {
                let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
                if sdk.region().is_none() {
                    return Err(AuditError::NoRegion);
                }
                if let Some(credentials) = sdk.credentials_provider() {
                    credentials
                        .provide_credentials()
                        .await
                        .map_err(|e| AuditError::NoCredentials(Box::new(e)))?;
                }
                describe_live(&aws_sdk_ecs::Client::new(&sdk), cluster, &args.services).await
            })?;
            if described.services.is_empty() && described.failures.is_empty() {
                return Err(AuditError::NoServices(cluster.clone()));
            }
            described
        }
        (None, None) => Described::default(),
    };
    Ok(Report::new(described.services, described.failures))
}

fn read(path: &str) -> Result<String, AuditError> {
    let read_err = |source| AuditError::Read {
        path: path.to_owned(),
        source,
    };
    if path == "-" {
        let mut text = String::new();
        io::stdin().read_to_string(&mut text).map_err(read_err)?;
        Ok(text)
    } else {
        std::fs::read_to_string(path).map_err(read_err)
    }
}
