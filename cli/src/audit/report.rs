//! The audit's findings per service, for people (text) and for machines (JSON Lines).
//!
//! The text follows the way our users check a setting by hand (the seed's "Math":
//! `1 × 200% = 2 tasks`, `1 × 100% = 1 task`), then says what it means and what to
//! change. The JSON carries the same facts under stable snake_case names, one object
//! per service, so a pipeline can gate on `verdict` or on a single finding.

use std::fmt::Write as _;

use rollout_watcher::policy::{Assessment, Finding, Verdict, assess};
use serde::Serialize;

use super::describe::{Missing, ServiceRecord};

/// One service's audit (a JSON line as is).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Audited {
    /// Cluster name.
    pub cluster: String,
    /// Service name.
    pub service: String,
    /// Service ARN, when known.
    pub service_arn: Option<String>,
    /// `safe`, `risky`, `unsafe` or `unknown`.
    pub verdict: Verdict,
    /// Why, one sentence per finding (or why it is safe).
    pub reasons: Vec<String>,
    /// What to change, one line per finding.
    pub fixes: Vec<String>,
    /// Machine names of the findings.
    pub findings: Vec<Finding>,
    /// `desiredCount` (`null` when not reported).
    pub desired: Option<u32>,
    /// minimumHealthyPercent used (reported, or ECS's default 100).
    pub min_healthy_percent: u32,
    /// maximumPercent used (reported, or ECS's default 200).
    pub max_percent: u32,
    /// Healthy tasks ECS keeps during a rollout: `ceil(desired × min% / 100)`.
    pub floor: u32,
    /// Running+pending tasks ECS allows: `floor(desired × max% / 100)`.
    pub ceiling: u32,
    /// Circuit breaker on.
    pub circuit_breaker: bool,
    /// Rollback on failure.
    pub rollback: bool,
    /// Failed tasks before the breaker fails the rollout.
    pub threshold: u32,
    /// Whether the threshold is configured (`COUNT`) rather than ECS's default.
    pub threshold_configured: bool,
    /// `healthCheckGracePeriodSeconds` (`null` when not set).
    pub health_check_grace_s: Option<u32>,
    /// A load balancer is attached (`null` when not reported).
    pub load_balanced: Option<bool>,
    /// `REPLICA` or `DAEMON` (`null` when not reported).
    pub scheduling_strategy: Option<String>,
    /// `ECS`, `CODE_DEPLOY` or `EXTERNAL` (`null` when not reported).
    pub deployment_controller: Option<String>,
    /// `deploymentConfiguration.strategy` (`null` when not reported: ROLLING).
    pub strategy: Option<&'static str>,
    /// Settings not reported, for which ECS's defaults were used.
    pub assumed_defaults: Vec<&'static str>,
    /// The arithmetic, line by line, as the text output shows it.
    pub explanation: Vec<String>,
}

/// Applies the zero-downtime rules (README, "Zero-downtime rules") to one service.
pub fn audit(record: ServiceRecord) -> Audited {
    let cfg = &record.config;
    let a = assess(cfg);
    let reasons = reasons(&a, cfg.desired_count);
    let fixes = a
        .check
        .findings
        .iter()
        .filter_map(|f| fix(*f))
        .map(str::to_owned)
        .collect();
    Audited {
        cluster: record.cluster,
        service: record.name,
        service_arn: record.arn,
        verdict: a.verdict,
        reasons,
        fixes,
        findings: a.check.findings.clone(),
        desired: cfg.desired_count,
        min_healthy_percent: a.check.min_healthy_percent,
        max_percent: a.check.max_percent,
        floor: a.check.floor,
        ceiling: a.check.ceiling,
        circuit_breaker: a.check.circuit_breaker,
        rollback: a.check.rollback,
        threshold: a.check.threshold,
        threshold_configured: cfg.failure_threshold.is_some(),
        health_check_grace_s: cfg.health_check_grace_s,
        load_balanced: cfg.load_balanced,
        scheduling_strategy: cfg.scheduling_strategy.clone(),
        deployment_controller: cfg.deployment_controller.clone(),
        strategy: cfg.strategy.map(|s| s.as_str()),
        assumed_defaults: record.assumed,
        explanation: a.explanation,
    }
}

/// The verdict's reasons: the finding lines of the assessment, or why it is safe.
fn reasons(a: &Assessment, desired: Option<u32>) -> Vec<String> {
    let c = &a.check;
    if desired.is_none() && !c.findings.contains(&Finding::NotRolling) {
        return vec!["desiredCount not reported: nothing to compute".to_owned()];
    }
    if c.findings.is_empty() {
        return vec![if c.desired == 0 {
            "desired count 0: the service runs no task, so no rollout can take one away".to_owned()
        } else if let Some(strategy) = c.native {
            format!(
                "ECS's {} deployment brings the new revision up beside the old one before moving traffic, keeps the old one for its bake time, and a bad rollout rolls back",
                strategy.as_str()
            )
        } else {
            format!(
                "a task keeps serving throughout a rollout (floor {} ≥ 1), ECS can start a new task before stopping an old one (ceiling {} > desired {}), and a bad rollout fails and rolls back",
                c.floor, c.ceiling, c.desired
            )
        }];
    }
    // `assess` writes two lines (arithmetic, or the strategy and its bake), then one
    // line per finding, in order.
    a.explanation
        .get(2..2 + c.findings.len())
        .map(<[String]>::to_vec)
        .unwrap_or_else(|| c.findings.iter().map(|f| format!("{f:?}")).collect())
}

fn fix(f: Finding) -> Option<&'static str> {
    Some(match f {
        Finding::DowntimePossible => {
            "raise minimumHealthyPercent so that desired × min% ≥ 1 task (100 for a single task), with maximumPercent 200"
        }
        Finding::CannotProgress => {
            "raise maximumPercent so that desired × max% > desired (200 for a single task), or lower minimumHealthyPercent"
        }
        Finding::NoCircuitBreaker => "enable deploymentCircuitBreaker with rollback = true",
        Finding::NoRollback => "set deploymentCircuitBreaker.rollback = true",
        Finding::NotRolling => return None,
        Finding::NoBakeTime => {
            "set deploymentConfiguration.bakeTimeInMinutes (for example 15) so the old revision stays ready to take traffic back"
        }
        Finding::PauseContinuesUnattended => {
            "set the PAUSE hook's timeoutConfiguration action to ROLLBACK (ECS's default), so an unanswered pause rolls back"
        }
    })
}

/// The whole audit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// One per service, sorted by cluster and name.
    pub services: Vec<Audited>,
    /// Services that could not be described.
    pub failures: Vec<Missing>,
}

impl Report {
    /// Audits records and sorts them.
    pub fn new(records: Vec<ServiceRecord>, failures: Vec<Missing>) -> Self {
        let mut services: Vec<Audited> = records.into_iter().map(audit).collect();
        services.sort_by(|a, b| (&a.cluster, &a.service).cmp(&(&b.cluster, &b.service)));
        Self { services, failures }
    }

    /// 2 when any service is unsafe (the CI gate), else 1 when a service could not be
    /// audited, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.services.iter().any(|s| s.verdict == Verdict::Unsafe) {
            2
        } else if !self.failures.is_empty() {
            1
        } else {
            0
        }
    }

    /// One JSON object per service, one per line.
    pub fn json_lines(&self) -> String {
        self.services
            .iter()
            .filter_map(|s| serde_json::to_string(s).ok())
            .map(|l| l + "\n")
            .collect()
    }

    /// The text report.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for s in &self.services {
            service_text(&mut out, s);
            out.push('\n');
        }
        let count = |v: Verdict| self.services.iter().filter(|s| s.verdict == v).count();
        let _ = writeln!(
            out,
            "{} service{}: {} safe, {} risky, {} unsafe, {} unknown",
            self.services.len(),
            if self.services.len() == 1 { "" } else { "s" },
            count(Verdict::Safe),
            count(Verdict::Risky),
            count(Verdict::Unsafe),
            count(Verdict::Unknown),
        );
        for m in &self.failures {
            let _ = writeln!(out, "not audited: {}: {}", m.service, m.reason);
        }
        out
    }
}

fn service_text(out: &mut String, s: &Audited) {
    let verdict = match s.verdict {
        Verdict::Safe => "SAFE",
        Verdict::Risky => "RISKY",
        Verdict::Unsafe => "UNSAFE",
        Verdict::Unknown => "UNKNOWN",
    };
    let _ = writeln!(out, "{}/{}: {verdict}", s.cluster, s.service);
    let rolling = !s.findings.contains(&Finding::NotRolling);
    if rolling && s.desired.is_some() {
        for line in s.explanation.iter().take(2) {
            let _ = writeln!(out, "  {line}");
        }
        if !s.assumed_defaults.is_empty() {
            let _ = writeln!(
                out,
                "  ({} not reported: ECS defaults 100% / 200% assumed)",
                s.assumed_defaults.join(" and ")
            );
        }
    }
    let breaker = if !s.circuit_breaker {
        "off".to_owned()
    } else if s.threshold_configured {
        format!(
            "on, fails a rollout after {} failed tasks (configured)",
            s.threshold
        )
    } else {
        format!(
            "on, fails a rollout after {} failed tasks (clamp(ceil(0.5 × {}), 3, 200))",
            s.threshold,
            s.desired.unwrap_or(0)
        )
    };
    let _ = writeln!(out, "  circuit breaker: {breaker}");
    let _ = writeln!(out, "  rollback: {}", if s.rollback { "on" } else { "off" });
    let grace = match s.health_check_grace_s {
        Some(g) if g > 0 => format!("{g} s"),
        _ if s.load_balanced == Some(true) => {
            "none (load balanced: ELB health checks count from the task's first second)".to_owned()
        }
        _ => "none".to_owned(),
    };
    let _ = writeln!(out, "  health-check grace period: {grace}");
    let _ = writeln!(
        out,
        "  verdict: {}: {}",
        verdict.to_lowercase(),
        s.reasons.join("; ")
    );
    for f in &s.fixes {
        let _ = writeln!(out, "  fix: {f}");
    }
}
