//! `rollout-watcher demo`, byte for byte: the demo is what a new user sees first and
//! what the README shows, and it runs the whole library (simulate, decode, the state
//! machine, the alert words, the timeline), so any change in what the watcher says
//! shows up here before it reaches anyone's pager.
//!
//! On an intended change, regenerate the golden file and review the diff:
//! `cargo run -p rollout-watcher-cli -- demo > cli/tests/golden/demo.txt`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

#[test]
fn the_demo_prints_exactly_the_golden_file() {
    let out = Command::new(env!("CARGO_BIN_EXE_rollout-watcher"))
        .arg("demo")
        .output()
        .expect("the rollout-watcher binary runs");
    assert!(
        out.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let golden_path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/demo.txt");
    let golden = std::fs::read(golden_path).expect("cli/tests/golden/demo.txt is readable");
    if out.stdout != golden {
        let got = String::from_utf8_lossy(&out.stdout);
        let want = String::from_utf8_lossy(&golden);
        let first = got
            .lines()
            .zip(want.lines())
            .position(|(g, w)| g != w)
            .unwrap_or_else(|| got.lines().count().min(want.lines().count()));
        panic!(
            "demo output differs from {golden_path} from line {}:\n  got:  {:?}\n  want: {:?}\n\
             If the change is intended, regenerate it with \
             `cargo run -p rollout-watcher-cli -- demo > cli/tests/golden/demo.txt` and review the diff.",
            first + 1,
            got.lines().nth(first).unwrap_or("<end of output>"),
            want.lines().nth(first).unwrap_or("<end of output>"),
        );
    }
}
