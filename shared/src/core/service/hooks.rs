//! What a service deployment's stages and hooks imply, each once: a `stage` effect
//! per newly known stage, a pause that fires and resolves, a hook failure.
//!
//! Read the same way for facts joined to a rollout and for those not joined (yet):
//! a hook event's alert must not wait for a deployment event that ECS may never send.

use crate::model::{DeploymentId, Timestamp};

use super::super::native::{HookEnd, HookFact, NativeFacts};
use super::super::occurrence::{HookRef, Occurrence, Occurrences};

/// The words' view of a hook.
pub(super) fn hook_ref(h: &HookFact, arn: &str) -> HookRef {
    HookRef {
        id: h.id.clone(),
        hook_type: h.hook_type.clone(),
        stage: h.stage.clone(),
        expires_at: h.expires_at,
        timeout_action: h.timeout_action().to_owned(),
        service_deployment: arn.to_owned(),
    }
}

/// The occurrences `facts` imply that were not produced yet (`ended`: when the
/// rollout they belong to ended, which ends an open pause too).
pub(super) fn occurrences(
    facts: &mut NativeFacts,
    deployment: Option<&DeploymentId>,
    ended: Option<Timestamp>,
    out: &mut Occurrences,
) {
    for s in facts.stages.iter_mut().filter(|s| !s.reported) {
        s.reported = true;
        out.push(Occurrence::Stage {
            deployment: deployment.cloned(),
            stage: s.name.clone(),
            at: s.at,
        });
    }
    let arn = facts.arn.clone();
    for h in &mut facts.hooks {
        if let Some(at) = h.awaiting_at.filter(|_| h.is_pause())
            && h.first(HookFact::PAUSED)
        {
            out.push(Occurrence::Paused {
                deployment: deployment.cloned(),
                hook: hook_ref(h, &arn),
                at,
            });
        }
        if let Some(start) = h.awaiting_at.filter(|_| h.done & HookFact::PAUSED != 0) {
            let end = h.ended.map(|(e, t)| (Some(e), t));
            let end = end.or(ended.map(|t| (None, t.max(start))));
            if let Some((end, at)) = end
                && h.first(HookFact::PAUSE_ENDED)
            {
                out.push(Occurrence::PauseEnded {
                    deployment: deployment.cloned(),
                    hook: hook_ref(h, &arn),
                    end,
                    paused: at.since(start),
                    at,
                });
            }
        }
        let failed = match h.ended {
            Some((HookEnd::Failed, at)) => Some((HookEnd::Failed, at)),
            Some((HookEnd::TimedOut, at)) if h.rolls_back().is_some() => {
                Some((HookEnd::TimedOut, at))
            }
            _ => None,
        };
        if let Some((end, at)) = failed
            && h.first(HookFact::FAILED)
        {
            out.push(Occurrence::HookFailed {
                deployment: deployment.cloned(),
                hook: hook_ref(h, &arn),
                end,
                at,
            });
        }
    }
}
