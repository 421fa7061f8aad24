# rollout-watcher: one entry point per job. `make test` is what CI runs.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo walkthrough test sim-events test-infra-checks check-moto-partiql test-apply test-infra-side terraform-check test-setup browser-setup screenshots lint build-bins test-rust test-infra test-fuzz fuzz bench package package-arm64 package-x86 package-setup publish

## The first thing to run: simulated rollouts through the watcher, as text.
demo:
	cargo run --release -- demo

## The deployed handler on this machine: a simulated rollout through the built
## bootstrap against the AWS emulator, then the alerts read back from a queue
## subscribed to the topic (docs/running-locally.md). Needs python3 and Rust only:
## the emulator's venv, not the rest of `make test`'s set-up (no browser).
walkthrough: $(VENV)/.installed
	@scripts/walkthrough.sh

## Everything CI checks, installing what the tests need (moto, checkov, ...). The Rust
## tests and the module's side (its checks, then the Terraform apply/destroy
## scenarios against moto, which mostly wait on the emulator) run side by side, each
## target's output kept together. The Terraform checks must run here, never skip:
## terraform and the provider mirror are looked for first (terraform-check), and
## REQUIRE_TERRAFORM=1 makes the tests fail rather than skip without them.
## `make test REQUIRE_TERRAFORM=0` skips them on a machine without Terraform (never CI).
REQUIRE_TERRAFORM ?= 1
export REQUIRE_TERRAFORM

test: test-setup terraform-check lint build-bins sim-events
	$(MAKE) --no-print-directory -j2 --output-sync=target test-rust test-infra-side
	$(MAKE) --no-print-directory test-fuzz

## A Python virtual environment with the pinned AWS emulator (moto) and the
## Terraform checks' tools. Idempotent: re-runs only when the pins change.
test-setup: $(VENV)/.installed browser-setup

## Headless Chromium for the browser tests (cli/tests/browser.rs) and `make
## screenshots`, from Debian's packages, with the fonts the pages are drawn in.
## Idempotent and instant when chromium is already on PATH.
browser-setup:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-dejavu-core; }
	@command -v chromium >/dev/null 2>&1 || { echo "chromium did not install" >&2; exit 1; }

# checkov pins packaging<24 and replaces python-hcl2's module: it gets its own venv.
$(VENV)/.installed: infra/tests/requirements.txt infra/tests/requirements-checkov.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r infra/tests/requirements.txt
	python3 -m venv $(VENV)/checkov
	$(VENV)/checkov/bin/pip install --quiet -r infra/tests/requirements-checkov.txt
	touch $@

## The README's pictures (docs/img/demo-success.png, docs/img/demo-zero-running.png):
## the demo's happy rollout and its zero-running one, as headless Chromium draws them.
screenshots: browser-setup
	cargo build -p rollout-watcher-cli
	scripts/screenshots.sh target/debug/rollout-watcher docs/img

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
test-infra: sim-events test-infra-checks

## Where the Terraform checks find terraform (TERRAFORM or PATH) and the AWS
## provider mirror (TF_PLUGIN_DIR, default /opt/tf-plugins): fails at once, naming
## what is missing, unless REQUIRE_TERRAFORM=0.
terraform-check: test-setup
	@if [ "$(REQUIRE_TERRAFORM)" = 0 ]; then echo "REQUIRE_TERRAFORM=0: the Terraform checks may skip"; \
	else $(PY) infra/tests/tfbinary.py; fi

## The infra half of `make test`: the quick checks first, then the apply/destroy
## scenarios, in sequence (beside the Rust tests).
test-infra-side:
	$(MAKE) --no-print-directory test-infra-checks
	$(MAKE) --no-print-directory test-apply

## The simulated scenarios the module's EventBridge patterns must route, written
## before the parallel part of `make test` (cargo test may relink the binary):
## rolling ones and ECS-native ones (blue/green, linear, canary, lifecycle hooks).
SIM_SCENARIOS := success health-check-rollback bad-image zero-running superseded stalled \
	blue-green blue-green-paused canary linear hook-rollback
sim-events:
	mkdir -p target/sim
	for s in $(SIM_SCENARIOS); do \
	  target/debug/rollout-watcher simulate --scenario $$s --seed 1 > target/sim/$$s.jsonl; done

test-infra-checks: check-moto-partiql
	SIMULATED_EVENTS_DIR=target/sim $(VENV)/bin/pytest infra/tests -q --ignore infra/tests/test_apply.py

## The tests' moto launcher (tests/support/moto_server.py) against every rule of the
## PartiQL BatchExecuteStatement state writes it serves, through boto3.
check-moto-partiql: $(VENV)/.installed
	$(PY) scripts/moto-partiql.py

## Apply, plan again, apply again and destroy the module's scenarios and examples
## against moto with the real Terraform provider and the provider mirror, all five
## at once, each with its own moto server on a port it picked. Part of `make test`.
test-apply: test-setup
	$(VENV)/bin/pytest infra/tests/test_apply.py -q

## Speed and cost figures (BENCHMARKS.md), one table: replay vs the serde_json floor,
## per-event handler time, cold start vs a minimal lambda_runtime function, zip sizes,
## peak RSS, AWS calls per event. Needs `make test-setup` (moto).
bench: test-setup
	scripts/bench.sh

## Lambda zips for both architectures, each checked (< 5 MB, glibc <= 2.34):
## target/lambda/<function>/bootstrap.zip (arm64, Graviton, the module's default)
## and target/lambda-x86_64/<function>/bootstrap.zip. `make package-arm64` or
## `make package-x86` builds one. On a fresh machine package-setup installs
## cargo-lambda (with zig, its cross-linker, from PyPI) into the venv and the two
## Rust targets through rustup.
## `--disable-optimizations` keeps cargo-lambda's own release flags (which include
## panic=abort) out, so the workspace's [profile.release] decides: LTO, one codegen
## unit, stripped, and panic=unwind on purpose (lambda_runtime turns a panic into an
## error response instead of a dead sandbox).
FUNCTIONS := ecs-event-handler rollout-sweeper slack-notifier
RUST_TARGETS := aarch64-unknown-linux-gnu x86_64-unknown-linux-gnu
LAMBDA_BUILD = PATH="$(abspath $(VENV))/bin:$$PATH" cargo lambda build --profile lambda-release \
	--output-format zip --disable-optimizations $(addprefix -p ,$(FUNCTIONS))

package-setup: $(VENV)/.cargo-lambda
	@command -v rustup >/dev/null || { echo "make package needs rustup to add the targets $(RUST_TARGETS)" >&2; exit 1; }
	rustup target add $(RUST_TARGETS)

$(VENV)/.cargo-lambda: scripts/requirements-package.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet -r scripts/requirements-package.txt
	touch $@

package: package-arm64 package-x86

package-arm64: package-setup
	$(LAMBDA_BUILD) --arm64 --lambda-dir target/lambda
	scripts/check-package.sh target/lambda $(FUNCTIONS)

package-x86: package-setup
	$(LAMBDA_BUILD) --x86-64 --lambda-dir target/lambda-x86_64
	scripts/check-package.sh target/lambda-x86_64 $(FUNCTIONS)

## Upload the zips `make package` built, with their hashes, for the module's
## `lambda_package = { s3_bucket = BUCKET, s3_key_prefix = PREFIX }`:
## s3://BUCKET/PREFIX<arm64|x86_64>/<function>/bootstrap.zip (+ .base64sha256).
## Credentials and region from the usual AWS environment.
publish: $(VENV)/.installed
	@test -n "$(BUCKET)" || { echo "usage: make publish BUCKET=my-artifacts [PREFIX=rollout-watcher/1.0.0/]" >&2; exit 2; }
	$(PY) scripts/publish.py --bucket "$(BUCKET)" --prefix "$(PREFIX)"

## Coverage-guided fuzzing of the event decoder and the replay reader, time-boxed
## (installs cargo-fuzz itself); `make fuzz` runs longer.
test-fuzz:
	scripts/fuzz.sh 20

fuzz:
	scripts/fuzz.sh 600
