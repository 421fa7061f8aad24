# rollout-watcher: one entry point per job. `make test` is what CI runs.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo walkthrough test test-setup lint build-bins test-rust test-infra test-fuzz fuzz bench package package-x86 package-setup

## The first thing to run: simulated rollouts through the watcher, as text.
demo:
	cargo run --release -- demo

## The deployed handler on this machine: a simulated rollout through the built
## bootstrap against the AWS emulator, then the alerts read back from a queue
## subscribed to the topic (docs/running-locally.md). Needs python3 and Rust only.
walkthrough: test-setup
	@scripts/walkthrough.sh

## Everything CI checks, installing what the tests need (moto, checkov, ...).
test: test-setup lint build-bins test-rust test-infra test-fuzz

## A Python virtual environment with the pinned AWS emulator (moto) and the
## Terraform checks' tools. Idempotent: re-runs only when the pins change.
test-setup: $(VENV)/.installed

# checkov pins packaging<24 and replaces python-hcl2's module: it gets its own venv.
$(VENV)/.installed: infra/tests/requirements.txt infra/tests/requirements-checkov.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r infra/tests/requirements.txt
	python3 -m venv $(VENV)/checkov
	$(VENV)/checkov/bin/pip install --quiet -r infra/tests/requirements-checkov.txt
	touch $@

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

## The bootstrap binaries, in the same (dev) profile the tests use: the tests drive
## them through a local Lambda Runtime API.
build-bins:
	cargo build --workspace --bins

test-rust:
	cargo test --workspace

## The module's checks; the EventBridge patterns also route every simulated scenario.
test-infra:
	mkdir -p target/sim
	for s in success health-check-rollback bad-image zero-running superseded stalled; do \
	  target/debug/rollout-watcher simulate --scenario $$s --seed 1 > target/sim/$$s.jsonl; done
	SIMULATED_EVENTS_DIR=target/sim $(VENV)/bin/pytest infra/tests -q

## Speed and cost figures (BENCHMARKS.md), one table: replay vs the serde_json floor,
## per-event handler time, cold start vs a minimal lambda_runtime function, zip sizes,
## peak RSS, AWS calls per event. Needs `make test-setup` (moto).
bench: test-setup
	scripts/bench.sh

## Lambda zips, arm64 (Graviton, the cheaper default):
## target/lambda/<function>/bootstrap.zip, each checked (< 5 MB, glibc <= 2.34).
## `--disable-optimizations` keeps cargo-lambda's own release flags (which include
## panic=abort) out, so the workspace's [profile.release] decides: LTO, one codegen
## unit, stripped, and panic=unwind on purpose (lambda_runtime turns a panic into an
## error response instead of a dead sandbox).
FUNCTIONS := ecs-event-handler rollout-sweeper slack-notifier
LAMBDA_BUILD = PATH="$(abspath $(VENV))/bin:$$PATH" cargo lambda build --profile lambda-release \
	--output-format zip --disable-optimizations $(addprefix -p ,$(FUNCTIONS))

package-setup: $(VENV)/.cargo-lambda

$(VENV)/.cargo-lambda: scripts/requirements-package.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet -r scripts/requirements-package.txt
	touch $@

package: package-setup
	$(LAMBDA_BUILD) --arm64 --lambda-dir target/lambda
	scripts/check-package.sh target/lambda $(FUNCTIONS)

## The same for x86_64, into target/lambda-x86_64/.
package-x86: package-setup
	$(LAMBDA_BUILD) --x86-64 --lambda-dir target/lambda-x86_64
	scripts/check-package.sh target/lambda-x86_64 $(FUNCTIONS)

## Coverage-guided fuzzing of the event decoder and the replay reader, time-boxed
## (installs cargo-fuzz itself); `make fuzz` runs longer.
test-fuzz:
	scripts/fuzz.sh 20

fuzz:
	scripts/fuzz.sh 600
