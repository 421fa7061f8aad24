//! Shared test support: the local AWS emulator and a fake Lambda Runtime API.
