//! One EventBridge ECS event through the watcher: the ecs-event-handler's job when
//! EventBridge invokes it directly. The per-event step it shares with the batch is
//! in `step`; decoding and the event's log line are here, for both.

use serde_json::Value;

use crate::core::{Effect, Effects};
use crate::model::{EcsEvent, Input, InputKind, Interpreted, ModelError, ServiceArn};
use crate::ports::{Clock, Ports};
use crate::record::ServiceRecord;

use super::commit::{Committed, Write, finished};
use super::deliver::Delivered;
use super::step::Lookups;
use super::{HandlerError, Outcome, Watcher};

/// An event that decoded and passed the clock check.
pub(super) enum Accepted {
    /// One the state machine takes.
    Use(Input),
    /// One the watcher does not follow (its log line is written).
    Ignore,
}

/// Why an event cannot be used: the field at fault, and its service when known.
pub(super) struct Rejected {
    pub(super) error: ModelError,
    pub(super) service: Option<ServiceArn>,
}

/// What an event's log line says of its write: the event's own write (one event per
/// invocation); in a batch, the service's one write, on its last event's line.
pub(super) struct Written<'a> {
    pub(super) done: &'a Committed,
    pub(super) delivered: &'a Delivered,
    pub(super) attempt: u32,
}

impl<P: Ports> Watcher<P> {
    /// Handles one EventBridge event. `invocation` identifies the caller (the Lambda
    /// request id): it owns the outbox entries it claims.
    pub async fn handle(&self, event: &Value, invocation: &str) -> Result<Outcome, HandlerError> {
        self.handle_decoded(EcsEvent::from_value(event), invocation)
            .await
    }

    /// [`Self::handle`] from the event's JSON text as Lambda delivers it: decoded in
    /// one pass, where a `Value` is parsed, then printed again for the decoder
    /// (about a tenth of the bootstrap's CPU per event).
    pub async fn handle_json(
        &self,
        event: &str,
        invocation: &str,
    ) -> Result<Outcome, HandlerError> {
        self.handle_decoded(EcsEvent::from_json(event), invocation)
            .await
    }

    async fn handle_decoded(
        &self,
        event: Result<EcsEvent, ModelError>,
        invocation: &str,
    ) -> Result<Outcome, HandlerError> {
        let input = match self.accept(event, None) {
            Ok(Accepted::Use(input)) => input,
            Ok(Accepted::Ignore) => {
                return Ok(Outcome {
                    status: "ignored",
                    ..Outcome::default()
                });
            }
            Err(r) => {
                let service = r.service.as_ref().map(tracing::field::display);
                tracing::warn!(error = %r.error, service, outcome = "rejected", "event");
                self.count_rejected(1).await;
                return Err(r.error.into());
            }
        };
        let service = input.service.clone();
        let mut lookups = Lookups::default();
        let mut fresh = None;
        for attempt in 1..=self.config.max_attempts {
            let mut rec = match fresh.take() {
                Some(rec) => rec,
                None => self.load_or_new(&service).await?,
            };
            let expected = rec.revision;
            let before = finished(&rec.state);
            let (effects, changed) = self.step(&mut rec, &input, &mut lookups, true).await;
            match self
                .commit(&mut rec, expected, &effects, changed, &before, invocation)
                .await?
            {
                Write::Done(done) => {
                    return self
                        .finish(rec, &input, &effects, done, invocation, attempt)
                        .await;
                }
                Write::Lost(stored) => {
                    tracing::debug!(service = %service, attempt, "conflict, re-applying");
                    self.back_off(attempt, invocation).await;
                    fresh = Some(*stored);
                }
            }
        }
        Err(HandlerError::Conflict {
            service: service.to_string(),
            attempts: self.config.max_attempts,
        })
    }

    /// Decodes and checks one event: a usable input, an ignored event (its line
    /// logged, with the queue's message id when it came in a batch), or the field
    /// error that makes it unusable, which the caller logs and counts. An event dated
    /// more than `max_ahead` past the wall clock is unusable: the state machine runs
    /// on event time, and one event from 9999 would move its service's clock past
    /// every deadline for good.
    pub(super) fn accept(
        &self,
        event: Result<EcsEvent, ModelError>,
        message_id: Option<&str>,
    ) -> Result<Accepted, Rejected> {
        // The id and detail-type are kept for the log line of an ignored event; the
        // rest of the event moves into the input.
        let decoded = event.and_then(|e| {
            let named = (e.id.clone(), e.detail_type.clone());
            e.into_interpreted().map(|i| (named, i))
        });
        let input = match decoded {
            Ok((_, Interpreted::Use(input))) => input,
            Ok(((id, detail_type), Interpreted::Ignore(why))) => {
                tracing::info!(event_id = id.as_deref(), message_id, detail_type = %detail_type, reason = ?why, outcome = "ignored", "event");
                return Ok(Accepted::Ignore);
            }
            Err(error) => {
                return Err(Rejected {
                    error,
                    service: None,
                });
            }
        };
        if input.time.since(self.clock.now()) > self.config.max_ahead {
            return Err(Rejected {
                error: ModelError::invalid(
                    "time",
                    "more than 15 minutes ahead of the watcher's clock",
                    &input.time.to_rfc3339(),
                ),
                service: Some(input.service),
            });
        }
        Ok(Accepted::Use(input))
    }

    /// Delivers what the write claimed, marks it sent, logs the event's line.
    async fn finish(
        &self,
        rec: ServiceRecord,
        input: &Input,
        effects: &Effects,
        done: Committed,
        invocation: &str,
        attempt: u32,
    ) -> Result<Outcome, HandlerError> {
        let (delivered, result) = self.deliver_and_settle(rec, &done, invocation).await;
        let written = Written {
            done: &done,
            delivered: &delivered,
            attempt,
        };
        log_event(input, effects, None, Some(&written));
        result?;
        Ok(Outcome {
            status: effects.outcome(),
            service: Some(input.service.to_string()),
            alerts_published: delivered.alerts,
            metrics_sent: delivered.metrics,
            attempts: attempt,
        })
    }
}

/// The one log line per event: service, deployments, transitions, alerts; what the
/// write queued and delivered (see [`Written`]); the queue's message id when it came
/// in a batch.
pub(super) fn log_event(
    input: &Input,
    effects: &Effects,
    message_id: Option<&str>,
    written: Option<&Written<'_>>,
) {
    let mut transitions = Vec::new();
    let mut alerts = Vec::new();
    let mut deployments = Vec::new();
    for e in &effects.items {
        match e {
            Effect::Transition(t) => {
                let from = t.from.map_or("new", |f| f.as_str());
                transitions.push(format!("{}:{from}->{}", t.deployment_id, t.to.as_str()));
                deployments.push(t.deployment_id.to_string());
            }
            Effect::Alert(a) => alerts.push(format!("{}:{}", a.alert.as_str(), a.status.as_str())),
            Effect::Metric(_) | Effect::Stage(_) => {}
        }
    }
    if let InputKind::Deployment(c) = &input.kind {
        deployments.push(c.deployment.to_string());
    }
    deployments.sort();
    deployments.dedup();
    tracing::info!(
        service = %input.service,
        event_id = input.event_id.as_deref(),
        message_id,
        outcome = effects.outcome(),
        deployments = %deployments.join(","),
        transitions = %transitions.join(","),
        alerts = %alerts.join(","),
        queued_alerts = written.map(|w| w.done.recorded.alerts),
        skipped_alerts = written.map(|w| w.done.recorded.skipped),
        published = written.map(|w| w.delivered.alerts),
        metrics_sent = written.map(|w| w.delivered.metrics),
        attempts = written.map(|w| w.attempt),
        "event"
    );
}

/// The longest part of a rejected body a log line carries: enough to recover any ECS
/// event, short of CloudWatch Logs' 256 KiB event limit.
const LOGGED_BODY: usize = 8 * 1024;

/// At most [`LOGGED_BODY`] bytes of `body`, cut at a character boundary.
pub(super) fn capped(body: &str) -> &str {
    &body[..body.floor_char_boundary(LOGGED_BODY.min(body.len()))]
}

#[cfg(test)]
mod tests {
    use super::{LOGGED_BODY, capped};

    #[test]
    fn a_logged_body_is_cut_at_a_character_boundary() {
        assert_eq!(capped("{}"), "{}");
        let long = "é".repeat(LOGGED_BODY);
        let cut = capped(&long);
        assert!(cut.len() <= LOGGED_BODY && cut.len() >= LOGGED_BODY - 1);
        assert!(long.starts_with(cut));
    }
}
