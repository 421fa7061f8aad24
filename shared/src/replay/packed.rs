//! A service's state held as its stored form, deflated, while the service is idle.
//!
//! `replay` holds a state for every service it has seen: over a month of a busy
//! account, thousands of them, each about 11 KB in memory once it holds a few days
//! of rollouts and tasks. Most services are idle most of the time, and what an idle
//! one needs is only to be itself again when its next event comes. Its stored form
//! (the JSON the deployed functions keep in their item) deflated is about half that,
//! in one allocation instead of hundreds. Packing is exact: the times the stored
//! item leaves out ([`ServiceState::forgotten_times`]) travel alongside, so a state
//! unpacked behaves as the one never packed.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::core::ServiceState;
use crate::model::{Millis, ServiceArn, Timestamp};

/// Deflate's level: 1, its fastest. A state is packed each time its service goes
/// idle and decoded each time it wakes, while the bytes saved by a higher level
/// count only while it sleeps. (Not compared with other levels on these streams:
/// packing is off in `replay`, see [`Packing`](super::Packing).)
const LEVEL: u8 = 1;

/// Why a state could not be packed or unpacked. The bytes are the watcher's own, so
/// any of these is a bug; it still reaches the caller, naming the service.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// The state did not encode as JSON.
    #[error("{service}: the state did not encode")]
    Encode {
        /// The service.
        service: ServiceArn,
        /// The encoder's error.
        #[source]
        source: serde_json::Error,
    },
    /// The packed bytes did not inflate.
    #[error("{service}: the packed state did not inflate ({status})")]
    Inflate {
        /// The service.
        service: ServiceArn,
        /// What the inflater said.
        status: String,
    },
    /// The inflated bytes did not decode as a state.
    #[error("{service}: the packed state did not decode")]
    Decode {
        /// The service.
        service: ServiceArn,
        /// The decoder's error.
        #[source]
        source: serde_json::Error,
    },
}

/// What is encoded: the stored item's state and the times it leaves out.
#[derive(Serialize)]
struct Form<'a> {
    state: &'a ServiceState,
    forgotten_at: Vec<Option<i64>>,
}

#[derive(Deserialize)]
struct OwnedForm {
    state: ServiceState,
    forgotten_at: Vec<Option<i64>>,
}

/// One service's state, live or packed.
#[derive(Debug)]
pub(super) enum Held {
    /// Decoded. Boxed: a state is several hundred bytes inline, and a hash table
    /// keeps a quarter of its slots free.
    Live(Box<ServiceState>),
    /// Encoded and deflated.
    Packed(Box<[u8]>),
}

impl Held {
    /// A state as it is.
    pub(super) fn new(state: ServiceState) -> Self {
        Self::Live(Box::new(state))
    }

    /// The state, to change: unpacked in place if it was packed.
    pub(super) fn live(&mut self, service: &ServiceArn) -> Result<&mut ServiceState, PackError> {
        if let Self::Packed(bytes) = self {
            *self = Self::Live(Box::new(unpack(bytes, service)?));
        }
        match self {
            Self::Live(state) => Ok(state),
            Self::Packed(_) => unreachable!("unpacked just above"),
        }
    }

    /// The state, to read: a packed one is decoded for the caller and stays packed.
    pub(super) fn read(&self, service: &ServiceArn) -> Result<Cow<'_, ServiceState>, PackError> {
        match self {
            Self::Live(state) => Ok(Cow::Borrowed(state)),
            Self::Packed(bytes) => unpack(bytes, service).map(Cow::Owned),
        }
    }

    /// The state, letting go of the holder.
    pub(super) fn into_state(self, service: &ServiceArn) -> Result<ServiceState, PackError> {
        match self {
            Self::Live(state) => Ok(*state),
            Self::Packed(bytes) => unpack(&bytes, service),
        }
    }

    /// Packs a live state whose service's clock is at least `idle` behind `latest`.
    /// A state with no clock yet (only a configuration) stays live.
    pub(super) fn pack_if_idle(
        &mut self,
        service: &ServiceArn,
        latest: Timestamp,
        idle: Millis,
    ) -> Result<(), PackError> {
        if let Self::Live(state) = self
            && state.clock().is_some_and(|c| latest.since(c) >= idle)
        {
            *self = Self::Packed(pack(state, service)?);
        }
        Ok(())
    }

    /// Packs a live state again (one unpacked only to be ticked or configured).
    pub(super) fn repack(&mut self, service: &ServiceArn) -> Result<(), PackError> {
        if let Self::Live(state) = self {
            *self = Self::Packed(pack(state, service)?);
        }
        Ok(())
    }

    /// Whether it is packed.
    pub(super) fn is_packed(&self) -> bool {
        matches!(self, Self::Packed(_))
    }
}

fn pack(state: &ServiceState, service: &ServiceArn) -> Result<Box<[u8]>, PackError> {
    let form = Form {
        state,
        forgotten_at: state
            .forgotten_times()
            .into_iter()
            .map(|t| t.map(Timestamp::as_millis))
            .collect(),
    };
    let json = serde_json::to_vec(&form).map_err(|source| PackError::Encode {
        service: service.clone(),
        source,
    })?;
    Ok(miniz_oxide::deflate::compress_to_vec(&json, LEVEL).into_boxed_slice())
}

fn unpack(bytes: &[u8], service: &ServiceArn) -> Result<ServiceState, PackError> {
    let json = miniz_oxide::inflate::decompress_to_vec(bytes).map_err(|e| PackError::Inflate {
        service: service.clone(),
        status: format!("{:?}", e.status),
    })?;
    let form: OwnedForm = serde_json::from_slice(&json).map_err(|source| PackError::Decode {
        service: service.clone(),
        source,
    })?;
    let mut state = form.state;
    let times: Vec<Option<Timestamp>> = form
        .forgotten_at
        .into_iter()
        .map(|t| t.map(Timestamp::from_millis))
        .collect();
    state.restore_forgotten_times(&times);
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arn() -> ServiceArn {
        ServiceArn::parse("arn:aws:ecs:eu-west-1:123456789012:service/c/web").unwrap()
    }

    #[test]
    fn bytes_that_are_not_a_packed_state_are_an_error_naming_the_service() {
        let garbage = Held::Packed(vec![1, 2, 3].into_boxed_slice());
        let err = garbage.read(&arn()).unwrap_err();
        assert!(matches!(err, PackError::Inflate { .. }), "{err:?}");
        assert!(err.to_string().contains("service/c/web"), "{err}");

        let not_a_state = miniz_oxide::deflate::compress_to_vec(b"{\"state\":1}", LEVEL);
        let err = Held::Packed(not_a_state.into_boxed_slice())
            .into_state(&arn())
            .unwrap_err();
        assert!(matches!(err, PackError::Decode { .. }), "{err:?}");
    }

    #[test]
    fn a_state_packs_only_once_its_service_is_idle_long_enough_and_comes_back_whole() {
        let settings = crate::core::Settings::default();
        let t = Timestamp::parse("2026-03-02T10:00:00Z").unwrap();
        let mut held = Held::new(ServiceState::new(arn()));
        // no clock yet: nothing says how long it has been idle
        held.pack_if_idle(&arn(), t, Millis(0)).unwrap();
        assert!(!held.is_packed());
        let _ = held.live(&arn()).unwrap().tick(t, &settings);
        let before = held.read(&arn()).unwrap().into_owned();

        held.pack_if_idle(&arn(), t.plus(Millis(59_999)), Millis(60_000))
            .unwrap();
        assert!(!held.is_packed(), "idle 59.999 s of 60");
        held.pack_if_idle(&arn(), t.plus(Millis(60_000)), Millis(60_000))
            .unwrap();
        assert!(held.is_packed(), "idle 60 s of 60");
        assert_eq!(*held.read(&arn()).unwrap(), before);
        assert!(held.is_packed(), "reading leaves it packed");
        assert_eq!(*held.live(&arn()).unwrap(), before);
        assert!(!held.is_packed());
    }
}
