# rollout-watcher: one entry point per job. `make test` is what CI runs.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test test-setup lint build-bins test-rust test-infra bench package

## The first thing to run: simulated rollouts through the watcher, as text.
demo:
	cargo run --release -- demo

## Everything CI checks, installing what the tests need (moto, checkov, ...).
test: test-setup lint build-bins test-rust test-infra

## A Python virtual environment with the pinned AWS emulator (moto) and the
## Terraform checks' tools. Idempotent: re-runs only when the pins change.
test-setup: $(VENV)/.installed

$(VENV)/.installed: infra/tests/requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r infra/tests/requirements.txt
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

test-infra:
	$(VENV)/bin/pytest infra/tests -q

## Speed figures (release profile): replay throughput vs the serde_json floor.
bench:
	cargo bench -p rollout-watcher-cli --bench replay
