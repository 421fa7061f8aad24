//! Hostile and broken events. Each one is refused with an error that names its field,
//! or accepted and ignored by rule; none panics, and none changes what the watcher
//! has stored about a service: after it, the next good event alerts exactly as it
//! would have without it.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

macro_rules! sample {
    ($name:literal) => {
        include_str!(concat!("../../../tests/fixtures/samples/", $name, ".json"))
    };
}

#[path = "../support/keys.rs"]
mod keys;
mod shape;
mod values;
mod world;
