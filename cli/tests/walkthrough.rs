//! The local walk-through of docs/running-locally.md, run exactly as the page says
//! (`make walkthrough`): its output must be the page's sample, so the page cannot
//! drift from what the commands do. Needs python3 (the target installs moto into
//! `.venv` itself, as `make test` does) and builds the handler's bootstrap binary;
//! it fails loudly when either is missing.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;
use std::process::Command;

#[test]
fn make_walkthrough_prints_what_the_page_shows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let page = std::fs::read_to_string(root.join("docs/running-locally.md")).unwrap();
    let start = page
        .find("```console\n$ make walkthrough\n")
        .expect("docs/running-locally.md shows `make walkthrough` and its output");
    let block = &page[start + "```console\n$ make walkthrough\n".len()..];
    let expected = &block[..block.find("\n```").unwrap()];

    let out = Command::new("make")
        .args(["--no-print-directory", "walkthrough"])
        .current_dir(root)
        .output()
        .expect("running make");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "make walkthrough failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.trim_end(), expected.trim_end());
    // Nothing alarming under it: the local Runtime API used to print "Exception
    // occurred during processing of request" when the function, stopped at the end,
    // dropped its wait for a next event (every other run or so).
    let stderr = String::from_utf8_lossy(&out.stderr);
    for noise in ["Exception", "Traceback", "Error"] {
        assert!(!stderr.contains(noise), "{noise:?} on stderr:\n{stderr}");
    }
}

/// The page promises that the walk-through needs Rust and `python3` only. `make
/// walkthrough` asked for `make test`'s whole set-up, Chromium included: on a machine
/// without it, `sudo apt-get install chromium` before anything ran, and on one without
/// apt (macOS) "chromium did not install", exit 1. What make would run, without
/// running it (`make -n`), must install no browser.
#[test]
fn make_walkthrough_installs_no_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let out = Command::new("make")
        .args(["-n", "--no-print-directory", "walkthrough"])
        .current_dir(root)
        .output()
        .expect("running make -n");
    let plan = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "make -n walkthrough failed:\n{plan}");
    assert!(plan.contains("scripts/walkthrough.sh"), "{plan}");
    for browser in ["chromium", "apt-get"] {
        assert!(
            !plan.contains(browser),
            "make walkthrough would run {browser}:\n{plan}"
        );
    }
}
