#!/usr/bin/env bash
# The local walk-through (docs/running-locally.md; `make walkthrough`): a simulated
# rollout through the real ecs-event-handler binary, against a local AWS emulator,
# ending with the alerts it published, read back from an SQS queue subscribed to the
# alert topic. No AWS account; nothing leaves 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

# 1. The function's bootstrap binary (dev profile), and the events: a rolling
#    deployment of demo-cluster/web that completes (what `rollout-watcher demo` shows
#    first).
cargo build --quiet -p ecs-event-handler -p rollout-watcher-cli
#    Where cargo put them: target/debug, unless CARGO_TARGET_DIR or a cargo config
#    (build.target-dir) moves the target directory.
bin="$(cargo metadata --format-version 1 --no-deps |
  $PY -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/debug"
mkdir -p target
"$bin/rollout-watcher" simulate --scenario success > target/walkthrough-events.jsonl

# 2. The AWS emulator (moto, through the tests' launcher, which answers the batched
#    state writes moto cannot run) on a free loopback port, and the SDK pointed at it.
#    Both region variables: boto3 and aws-cli v1 read AWS_DEFAULT_REGION, the Rust
#    SDK and aws-cli v2 read AWS_REGION.
port=$($PY scripts/walkthrough.py free-port)
.venv/bin/python tests/support/moto_server.py -H 127.0.0.1 -p "$port" > target/walkthrough-moto.log 2>&1 &
moto=$!
trap 'kill $moto' EXIT
export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_REGION=eu-west-1 \
  AWS_DEFAULT_REGION=eu-west-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
  AWS_EC2_METADATA_DISABLED=true

# 3. What the Terraform module would create: the state table, the alert topic with a
#    queue subscribed to it, and the ECS service the events are about.
$PY scripts/walkthrough.py setup

# 4. The function, run as Lambda runs it (a local Runtime API hands it one event per
#    invocation, as EventBridge does).
$PY scripts/walkthrough.py invoke "$bin/ecs-event-handler" target/walkthrough-events.jsonl

# 5. The alerts, as a subscriber receives them.
$PY scripts/walkthrough.py alerts
