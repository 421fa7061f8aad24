//! Every command sample in the README and in `docs/` is the program's real output.
//!
//! A sample is a ```` ```console ```` block: lines starting with `$ ` are commands, the
//! lines after each are what it prints on stdout. Each `rollout-watcher` command is
//! run from the workspace root as a user would after `cargo install --path cli` (the
//! binary under test first on `PATH`, no colour), and its output must equal the
//! sample's; `echo $?` prints the previous command's exit code. `make walkthrough`
//! has its own test (`walkthrough.rs`). Any other command in a console block fails
//! this test, so no sample goes unchecked.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// One command of a sample and the output written under it.
struct Sample {
    file: String,
    line: usize,
    command: String,
    expected: String,
}

/// Every sample of a Markdown file.
fn samples(file: &Path) -> Vec<Sample> {
    let text = std::fs::read_to_string(file).unwrap();
    let name = file.strip_prefix(root()).unwrap().display().to_string();
    let mut all: Vec<Sample> = Vec::new();
    let mut in_block = false;
    for (i, line) in text.lines().enumerate() {
        if !in_block {
            in_block = line == "```console";
            continue;
        }
        if line == "```" {
            in_block = false;
        } else if let Some(command) = line.strip_prefix("$ ") {
            all.push(Sample {
                file: name.clone(),
                line: i + 1,
                command: command.to_owned(),
                expected: String::new(),
            });
        } else if let Some(s) = all.last_mut() {
            s.expected.push_str(line);
            s.expected.push('\n');
        } else {
            panic!("{name}:{}: output before any `$ ` command", i + 1);
        }
    }
    all
}

fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

#[test]
fn every_command_sample_is_real_output() {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_rollout-watcher"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut checked = 0;
    for file in markdown_files() {
        let mut last_code = None;
        for s in samples(&file) {
            let at = format!("{}:{}", s.file, s.line);
            if s.command == "make walkthrough" {
                continue;
            }
            let got = if s.command == "echo $?" {
                format!("{}\n", last_code.expect("echo $? after a command"))
            } else {
                assert!(
                    s.command.starts_with("rollout-watcher "),
                    "{at}: `{}` is not a command this test can check",
                    s.command
                );
                let out = Command::new("bash")
                    .args(["-c", &s.command])
                    .current_dir(root())
                    .env("PATH", &path)
                    .env("NO_COLOR", "1")
                    .output()
                    .unwrap();
                last_code = out.status.code();
                String::from_utf8(out.stdout).unwrap()
            };
            assert_eq!(
                got.trim_end(),
                s.expected.trim_end(),
                "{at}: `{}` prints something else than the sample",
                s.command
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 4,
        "the demo, replay and audit samples: {checked} checked"
    );
}
