//! What `wait` prints as it goes: the `replay` timeline (text) or the `replay`
//! effect objects (JSON Lines), then the verdict. Both formats come from the same
//! calls, so they never tell different stories.

use std::io::Write;

use rollout_watcher::core::{Effect, Effects, RolloutState};
use rollout_watcher::model::{DeploymentId, ServiceArn, Timestamp};
use serde_json::json;

use super::plan::{Ending, Pause, Verdict};
use super::source::HookView;
use crate::{render, replay};

/// Where the loop reports.
pub trait Report {
    /// The followed deployment is known.
    fn start(
        &mut self,
        service: &ServiceArn,
        deployment: &DeploymentId,
        task_definition: Option<&str>,
        created: Option<Timestamp>,
    ) -> std::io::Result<()>;
    /// The state machine's effects of one round.
    fn effects(&mut self, effects: &Effects) -> std::io::Result<()>;
    /// A newly known lifecycle stage.
    fn stage(&mut self, stage: &str, at: Timestamp) -> std::io::Result<()>;
    /// A PAUSE hook awaits action.
    fn pause(&mut self, pause: &Pause, at: Timestamp) -> std::io::Result<()>;
    /// A pause announced before ended (its hook's status now).
    fn pause_ended(&mut self, hook: &HookView, at: Timestamp) -> std::io::Result<()>;
    /// A service event message of ECS (text only).
    fn service_event(&mut self, at: Timestamp, message: &str) -> std::io::Result<()>;
    /// Something about the wait itself (throttling, a missing permission).
    fn note(&mut self, at: Timestamp, text: &str) -> std::io::Result<()>;
    /// The verdict.
    fn end(&mut self, ending: &Ending) -> std::io::Result<()>;
}

/// Who the output is about.
#[derive(Default)]
struct Subject {
    service: Option<ServiceArn>,
    deployment: Option<DeploymentId>,
    origin: Option<Timestamp>,
}

impl Subject {
    fn concerns(&self, e: &Effect) -> bool {
        match e {
            Effect::Transition(t) => Some(&t.deployment_id) == self.deployment.as_ref(),
            Effect::Stage(s) => s.deployment_id.is_none() || s.deployment_id == self.deployment,
            // `wait` prints a pause itself, with its commands (see `pause`).
            Effect::Alert(a) if a.alert == rollout_watcher::core::AlertName::DeploymentPaused => {
                false
            }
            Effect::Alert(a) => a.deployment_id.is_none() || a.deployment_id == self.deployment,
            Effect::Metric(m) => {
                let of = self
                    .service
                    .as_ref()
                    .and_then(|s| metric_deployment(&m.dedup_key, s));
                of.is_none_or(|d| Some(d) == self.deployment.as_ref().map(DeploymentId::as_str))
            }
        }
    }
}

/// The deployment a data point is about, from its dedup key
/// (`{service}|{deployment}|{Name}|{occurrence}`, the policy's stable shape): `None`
/// for a point of the whole service (`-`, or a sampled one). A metric carries no
/// deployment field, and the newer deployment that supersedes the followed one has
/// its own `DeploymentStarted`, `DeploymentSucceeded`, `DeploymentDuration`.
fn metric_deployment<'k>(key: &'k str, service: &ServiceArn) -> Option<&'k str> {
    let rest = key.strip_prefix(service.as_str())?.strip_prefix('|')?;
    let deployment = rest.split('|').next()?;
    (deployment != "-").then_some(deployment)
}

/// The timeline, for people.
pub struct TextReport<W: Write> {
    out: W,
    color: bool,
    subject: Subject,
    rollback: bool,
    ran: bool,
}

impl<W: Write> TextReport<W> {
    /// Writes to `out`, coloured when `color`.
    pub fn new(out: W, color: bool) -> Self {
        Self {
            out,
            color,
            subject: Subject::default(),
            rollback: false,
            ran: false,
        }
    }

    fn line(&mut self, at: Timestamp, text: &str) -> std::io::Result<()> {
        let l = render::timeline_note(at, self.subject.origin, text, self.color);
        writeln!(self.out, "{l}")?;
        self.out.flush()
    }
}

impl<W: Write> Report for TextReport<W> {
    fn start(
        &mut self,
        service: &ServiceArn,
        deployment: &DeploymentId,
        task_definition: Option<&str>,
        created: Option<Timestamp>,
    ) -> std::io::Result<()> {
        self.subject = Subject {
            service: Some(service.clone()),
            deployment: Some(deployment.clone()),
            origin: created,
        };
        let td = task_definition
            .map(|t| format!(" ({})", rollout_watcher::model::task_definition_name(t)))
            .unwrap_or_default();
        let title = format!(
            "━━ {} ({}) · deployment {deployment}{td}",
            service.name(),
            service.cluster()
        );
        writeln!(self.out, "{}", render::heading(&title, self.color))?;
        self.out.flush()
    }

    fn effects(&mut self, effects: &Effects) -> std::io::Result<()> {
        if let Some(r) = effects
            .rollouts
            .iter()
            .find(|r| Some(&r.deployment_id) == self.subject.deployment.as_ref())
        {
            self.rollback = r.rollback_of.is_some();
            self.subject.origin = r.started_at.or(self.subject.origin);
        }
        for e in effects.items.iter().filter(|e| self.subject.concerns(e)) {
            match e {
                Effect::Transition(t) => {
                    let l = render::transition_line(
                        t,
                        self.subject.origin,
                        self.rollback,
                        self.ran,
                        self.color,
                    );
                    self.ran |= t.to == RolloutState::TasksRunning;
                    writeln!(self.out, "{l}")?;
                }
                Effect::Alert(a) => {
                    writeln!(self.out, "{}", render::timeline_alert_line(a, self.color))?
                }
                // Stages are printed from wait's own readings (`stage`).
                Effect::Metric(_) | Effect::Stage(_) => {}
            }
        }
        self.out.flush()
    }

    fn stage(&mut self, stage: &str, at: Timestamp) -> std::io::Result<()> {
        self.line(at, &format!("stage {stage}"))
    }

    fn pause(&mut self, p: &Pause, at: Timestamp) -> std::io::Result<()> {
        let expires = p
            .hook
            .expires_at
            .map_or_else(|| "unknown".to_owned(), Timestamp::to_rfc3339);
        let timeout = p.hook.timeout_action.as_deref().unwrap_or("ROLLBACK");
        self.line(
            at,
            &format!(
                "PAUSED at {}: hook {} awaits action until {expires} (then ECS does {timeout})",
                p.stage.as_deref().unwrap_or("an unknown stage"),
                p.hook.hook_id
            ),
        )?;
        writeln!(self.out, "      continue:  {}", p.command("CONTINUE"))?;
        writeln!(self.out, "      roll back: {}", p.command("ROLLBACK"))?;
        self.out.flush()
    }

    fn pause_ended(&mut self, hook: &HookView, at: Timestamp) -> std::io::Result<()> {
        self.line(at, &format!("pause hook {} {}", hook.hook_id, hook.status))
    }

    fn service_event(&mut self, at: Timestamp, message: &str) -> std::io::Result<()> {
        self.line(at, &format!("ECS: {message}"))
    }

    fn note(&mut self, at: Timestamp, text: &str) -> std::io::Result<()> {
        self.line(at, &format!("note: {text}"))
    }

    fn end(&mut self, ending: &Ending) -> std::io::Result<()> {
        let text = match (&ending.verdict, &ending.summary) {
            (Verdict::StageReached(stage), _) => format!("stage {stage} reached"),
            (Verdict::Paused(p), _) => format!(
                "paused at hook {} (exiting as --on-pause exit asks)",
                p.hook.hook_id
            ),
            (Verdict::InProgress { .. }, Some(s)) => {
                format!("--timeout passed: {}", render::verdict(s))
            }
            (Verdict::InProgress { .. }, None) => {
                "--timeout passed before ECS showed the deployment".into()
            }
            // The followed deployment is ECS's rollback (see the note above).
            (Verdict::RolledBack, Some(s)) if s.state != RolloutState::RolledBack => {
                "rolled back (ECS is rolling the service back)".into()
            }
            (_, Some(s)) => render::verdict(s),
            (v, None) => v.name().replace('_', " "),
        };
        let code = ending.verdict.exit_code();
        writeln!(
            self.out,
            "  {}",
            render::heading(&format!("verdict: {text} (exit {code})"), self.color)
        )?;
        self.out.flush()
    }
}

/// JSON Lines: `replay --format json`'s objects, plus `stage`, `pause` and a last
/// `verdict` object.
pub struct JsonReport<W: Write> {
    out: W,
    subject: Subject,
}

impl<W: Write> JsonReport<W> {
    /// Writes to `out`.
    pub fn new(out: W) -> Self {
        Self {
            out,
            subject: Subject::default(),
        }
    }

    fn put(&mut self, v: &serde_json::Value) -> std::io::Result<()> {
        writeln!(self.out, "{v}")?;
        self.out.flush()
    }
}

impl<W: Write> Report for JsonReport<W> {
    fn start(
        &mut self,
        service: &ServiceArn,
        deployment: &DeploymentId,
        _task_definition: Option<&str>,
        created: Option<Timestamp>,
    ) -> std::io::Result<()> {
        self.subject = Subject {
            service: Some(service.clone()),
            deployment: Some(deployment.clone()),
            origin: created,
        };
        Ok(())
    }

    fn effects(&mut self, effects: &Effects) -> std::io::Result<()> {
        // Stages are written from wait's own readings (`stage`), as in the text: the
        // state machine's stage effects are the same stages, and printing both gave
        // every stage twice.
        for e in effects
            .items
            .iter()
            .filter(|e| self.subject.concerns(e) && !matches!(e, Effect::Stage(_)))
        {
            writeln!(self.out, "{}", replay::effect_json(e))?;
        }
        self.out.flush()
    }

    fn stage(&mut self, stage: &str, at: Timestamp) -> std::io::Result<()> {
        let v = json!({
            "type": "stage", "service": self.subject.service, "deployment_id": self.subject.deployment,
            "stage": stage, "at": at,
        });
        self.put(&v)
    }

    fn pause(&mut self, p: &Pause, at: Timestamp) -> std::io::Result<()> {
        let v = json!({
            "type": "pause", "service": self.subject.service, "deployment_id": self.subject.deployment,
            "service_deployment_arn": p.service_deployment_arn, "hook_id": p.hook.hook_id,
            "stage": p.stage, "expires_at": p.hook.expires_at, "timeout_action": p.hook.timeout_action,
            "continue": p.command("CONTINUE"), "rollback": p.command("ROLLBACK"), "at": at,
        });
        self.put(&v)
    }

    fn pause_ended(&mut self, hook: &HookView, at: Timestamp) -> std::io::Result<()> {
        let v = json!({
            "type": "pause_ended", "service": self.subject.service, "deployment_id": self.subject.deployment,
            "hook_id": hook.hook_id, "status": hook.status, "at": at,
        });
        self.put(&v)
    }

    fn service_event(&mut self, _at: Timestamp, _message: &str) -> std::io::Result<()> {
        Ok(())
    }

    fn note(&mut self, _at: Timestamp, text: &str) -> std::io::Result<()> {
        eprintln!("rollout-watcher wait: {text}");
        Ok(())
    }

    fn end(&mut self, ending: &Ending) -> std::io::Result<()> {
        if let Some(s) = &ending.summary {
            let v = replay::rollout_json(s);
            self.put(&v)?;
        }
        let stage = match &ending.verdict {
            Verdict::StageReached(s) => Some(s.clone()),
            _ => None,
        };
        let v = json!({
            "type": "verdict", "service": self.subject.service, "deployment_id": self.subject.deployment,
            "verdict": ending.verdict.name(), "exit_code": ending.verdict.exit_code(),
            "stalled": matches!(ending.verdict, Verdict::InProgress { stalled: true }),
            "stage": stage,
        });
        self.put(&v)
    }
}
