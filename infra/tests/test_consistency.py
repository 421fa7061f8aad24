"""(3) The module agrees with the code and with itself.

- every environment variable the module sets is one the function reads (its
  name appears quoted in functions/<name>/src or shared/src), every required one
  is always set, and the set matches the contract in DESIGN.md / the issue;
- every metric an alarm or the dashboard uses is a contract metric and appears
  quoted in shared/src (where the metric names are defined);
- the table's keys and index are the ones the DynamoDB adapter uses;
- every event-patterns/*.json file is read with file(), and nothing else is;
- the README tables match variables.tf and outputs.tf;
- IAM: no wildcard action; "*" as a resource only where AWS requires it, with the
  reason on the same line;
- inputs are typed, described, never `any`; outputs are described and use try().

The Rust side is written in parallel: until it exists, the code-facing tests
fail and name exactly what is missing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import render_docs
from tfsource import INFRA, PATTERNS_DIR, REPO, all_tf_files, blocks, is_literal, locals_map, module_files, parse, strings, unquote, walk

# --------------------------------------------------------------------------
# The contract (DESIGN.md and issue 4)
# --------------------------------------------------------------------------

COMMON_ENV = ["STATE_TABLE", "ALERT_TOPIC_ARN", "METRICS_SINK", "METRICS_NAMESPACE", "STALL_AFTER", "ZERO_GRACE", "NOTIFY_INFO", "ENVIRONMENT"]
ENV_CONTRACT = {
    # EVENT_DELIVERY: how much a warm sandbox remembers (docs/configuration.md).
    "ecs-event-handler": set(COMMON_ENV) | {"EVENT_DELIVERY"},
    "rollout-sweeper": set(COMMON_ENV) | {"WATCH_CLUSTERS", "SWEEP_MAX_SERVICES"},
    "slack-notifier": {"SLACK_WEBHOOK_SECRET_ARN", "SEVERITY_FILTER", "ALERT_FILTER", "METRICS_NAMESPACE", "ENVIRONMENT"},
}
REQUIRED_ENV = {
    "ecs-event-handler": {"STATE_TABLE", "ALERT_TOPIC_ARN"},
    "rollout-sweeper": {"STATE_TABLE", "ALERT_TOPIC_ARN"},
    "slack-notifier": {"SLACK_WEBHOOK_SECRET_ARN"},
}

ROLLOUT_METRICS = {
    "DeploymentStarted", "DeploymentSucceeded", "DeploymentFailed", "DeploymentRolledBack", "DeploymentStalled",
    "DeploymentDuration", "TimeToFirstRunningTask", "ZeroTaskDowntime", "HealthCheckFailures", "TaskStartFailures",
    "RunningTaskCount", "TaskCrashes", "LifecycleHookFailures", "DeploymentPausedTime",
}
WATCHER_METRICS = {"AlertsPublished", "AlertPublishFailures", "EventsRejected"}
CONTRACT_METRICS = ROLLOUT_METRICS | WATCHER_METRICS
ALARMED_METRICS = {
    "DeploymentFailed", "DeploymentRolledBack", "ZeroTaskDowntime", "RunningTaskCount", "DeploymentStalled", "LifecycleHookFailures",
    "AlertPublishFailures", "EventsRejected",
}
# Emitted only when a pause ends: an alarm could only fire after the fact (the
# deployment_paused alert says it while it waits; alarms.tf's header says why).
DASHBOARD_ONLY_METRICS = {"DeploymentPausedTime"}

TABLE_NAMES = ["pk", "sk", "due_pk", "due_at", "expires_at", "due-index", "history_month", "history_at", "history-index"]

ALERT_NAMES = [
    "deployment_started", "deployment_completed", "deployment_failed", "deployment_rolled_back",
    "health_check_failed", "task_failed_to_start", "task_start_impaired", "task_placement_failed",
    "zero_running_tasks", "deployment_stalled", "unsafe_deployment_config", "deployment_paused",
    "lifecycle_hook_failed", "task_crashed", "crash_loop",
]

# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def rust_text(*directories: Path) -> tuple[str, list[str]]:
    """All .rs text under the directories, and which of them are missing."""
    missing = [str(d.relative_to(REPO)) for d in directories if not d.is_dir()]
    text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for d in directories if d.is_dir() for p in sorted(d.rglob("*.rs")))
    return text, missing


def function_env() -> dict[str, dict[str, str]]:
    env = locals_map().get("function_env")
    assert isinstance(env, dict), "functions.tf must define local.function_env as an object literal"
    return {unquote(fn): values for fn, values in env.items() if not fn.startswith("__")}


def resource(name: str) -> dict:
    for _, full, body in blocks("resource"):
        if full == name:
            return body
    pytest.fail(f"resource {name} not found")


# --------------------------------------------------------------------------
# Environment variables
# --------------------------------------------------------------------------


def test_module_sets_exactly_the_contract_env_vars():
    env = function_env()
    assert set(env) == set(ENV_CONTRACT), f"functions in local.function_env: {sorted(env)}"
    for fn, expected in ENV_CONTRACT.items():
        names = {k for k in env[fn] if not k.startswith("__")}
        assert names == expected, f"{fn}: sets {sorted(names - expected)} beyond the contract, lacks {sorted(expected - names)}"


def test_required_env_vars_are_always_set():
    env = function_env()
    for fn, required in REQUIRED_ENV.items():
        for name in required:
            value = str(env[fn][name])
            if fn == "slack-notifier":
                # The notifier exists only with a secret; the value is its ARN.
                assert "webhook_secret_arn" in value, f"{fn}: {name} = {value}"
            else:
                # Set whenever the function exists: the table's name (null only
                # when var.create is false and there is no function either) and
                # the topic, the module's or sns_topic_arn.
                assert value in ("${try(aws_dynamodb_table.this[0].name, null)}", "${local.topic_arn}"), f"{fn}: {name} must be set unconditionally, got {value}"


def test_lambda_environment_comes_from_function_env():
    body = resource("aws_lambda_function.this")
    variables = body["environment"][0]["variables"]
    assert "local.function_env[each.key]" in variables and "v != null" in variables, variables


def test_env_vars_the_module_sets_are_read_by_the_functions():
    problems = []
    for fn, values in function_env().items():
        text, missing_dirs = rust_text(REPO / "functions" / fn / "src", REPO / "shared" / "src")
        if missing_dirs:
            problems.append(f"{fn}: no source directory {', '.join(missing_dirs)}")
        unread = sorted(name for name in values if not name.startswith("__") and f'"{name}"' not in text)
        if unread:
            problems.append(f"{fn}: the module sets {', '.join(unread)} but functions/{fn}/src and shared/src never mention " + ", ".join(f'"{n}"' for n in unread))
    assert not problems, "environment variables nobody reads:\n" + "\n".join(problems)


# --------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------

INSIGHTS = re.compile(r"SELECT\s+[A-Z]+\(\s*([A-Za-z][A-Za-z0-9]*)\s*\)")
SEARCH = re.compile(r'MetricName=\\*"([A-Za-z][A-Za-z0-9]*)\\*"')
IDENTIFIER = re.compile(r"[A-Z][A-Za-z0-9]+")


def metrics_used(path: Path) -> set[str]:
    """Metric names of our namespace used in a file: metric_name/metric
    attributes (unless in an AWS/ namespace), `metrics` lists of names, Metrics
    Insights SELECTs and SEARCH MetricName filters."""
    found: set[str] = set()
    tree = parse(path)
    for key, value, parent in walk(tree):
        if key in ("metric_name", "metric") and is_literal(value):
            namespace = unquote(parent.get("namespace", "")) if isinstance(parent, dict) else ""
            if not str(namespace).startswith("AWS/"):
                found.add(unquote(value))
        elif key == "metrics" and isinstance(value, list) and value and all(is_literal(v) for v in value):
            names = [unquote(v) for v in value]
            if all(IDENTIFIER.fullmatch(n) for n in names):
                found.update(names)
    for text in strings(tree):
        found.update(INSIGHTS.findall(text))
        found.update(SEARCH.findall(text))
    return found


def test_alarms_and_dashboard_use_only_contract_metrics():
    alarms, dashboard = metrics_used(INFRA / "alarms.tf"), metrics_used(INFRA / "dashboard.tf")
    unknown = sorted((alarms | dashboard) - CONTRACT_METRICS)
    assert not unknown, f"metrics outside the contract (typo?): {unknown}"
    assert ALARMED_METRICS <= alarms, f"alarms missing for: {sorted(ALARMED_METRICS - alarms)}"
    assert not DASHBOARD_ONLY_METRICS & alarms, f"alarms on {sorted(DASHBOARD_ONLY_METRICS & alarms)}, which say only after the fact"
    assert CONTRACT_METRICS <= dashboard, f"dashboard lacks: {sorted(CONTRACT_METRICS - dashboard)}"


def test_metrics_used_are_emitted_by_the_code():
    used = metrics_used(INFRA / "alarms.tf") | metrics_used(INFRA / "dashboard.tf")
    text, missing_dirs = rust_text(REPO / "shared" / "src")
    assert not missing_dirs, f"no {missing_dirs}"
    absent = sorted(name for name in used if f'"{name}"' not in text)
    assert not absent, "alarms/dashboard use metrics that shared/src never names: " + ", ".join(f'"{n}"' for n in absent)


# --------------------------------------------------------------------------
# State table
# --------------------------------------------------------------------------


def test_table_shape_is_the_contract():
    table = resource("aws_dynamodb_table.this")
    assert unquote(table["hash_key"]) == "pk" and unquote(table["range_key"]) == "sk"
    assert unquote(table["billing_mode"]) == "PAY_PER_REQUEST"
    attributes = {unquote(a["name"]): unquote(a["type"]) for a in table["attribute"]}
    assert attributes == {"pk": "S", "sk": "S", "due_pk": "S", "due_at": "N", "history_month": "S", "history_at": "N"}, attributes
    gsis = {unquote(g["name"]): g for g in table["global_secondary_index"]}
    assert set(gsis) == {"due-index", "history-index"}, set(gsis)
    due, history = gsis["due-index"], gsis["history-index"]
    assert (unquote(due["hash_key"]), unquote(due["range_key"]), unquote(due["projection_type"])) == ("due_pk", "due_at", "KEYS_ONLY")
    assert (unquote(history["hash_key"]), unquote(history["range_key"]), unquote(history["projection_type"])) == ("history_month", "history_at", "INCLUDE")
    assert unquote(table["ttl"][0]["attribute_name"]) == "expires_at" and table["ttl"][0]["enabled"] is True
    assert table["point_in_time_recovery"][0]["enabled"] is True
    assert table["server_side_encryption"][0]["enabled"] is True and "kms_key_arn" in table["server_side_encryption"][0]
    iam = (INFRA / "iam.tf").read_text()
    assert 'try("${aws_dynamodb_table.this[0].arn}/index/due-index", null)' in iam, "IAM must name the due-index"


def test_table_keys_are_the_ones_the_store_uses():
    text, missing_dirs = rust_text(REPO / "shared" / "src")
    assert not missing_dirs, f"no {missing_dirs}"
    absent = [name for name in TABLE_NAMES if f'"{name}"' not in text]
    assert not absent, "table keys/index the DynamoDB adapter in shared/src never names: " + ", ".join(f'"{n}"' for n in absent)


# --------------------------------------------------------------------------
# Event patterns, alerts
# --------------------------------------------------------------------------

FILE_CALL = re.compile(r'file\("\$\{path\.module\}/event-patterns/([^"]+)"\)')


def test_every_pattern_file_is_read_with_file():
    referenced = set()
    for path in module_files():
        referenced.update(FILE_CALL.findall(path.read_text()))
    present = {p.name for p in PATTERNS_DIR.glob("*.json")}
    assert referenced == present, f"unused pattern files: {sorted(present - referenced)}; missing files: {sorted(referenced - present)}"


def test_alert_names_are_the_contract_everywhere():
    assert [unquote(a) for a in locals_map()["alert_names"]] == ALERT_NAMES
    lists = re.findall(r"contains\(\[([^\]]*deployment_started[^\]]*)\]", (INFRA / "variables.tf").read_text())
    assert len(lists) == 2, "variables.tf validates alert names for subscriptions and slack_notifier"
    for found in lists:
        assert re.findall(r'"([a-z_]+)"', found) == ALERT_NAMES


def test_alert_names_are_the_ones_the_code_publishes():
    text, missing_dirs = rust_text(REPO / "shared" / "src")
    assert not missing_dirs, f"no {missing_dirs}"
    absent = [name for name in ALERT_NAMES if f'"{name}"' not in text]
    assert not absent, "the module accepts alert names that shared/src never names: " + ", ".join(f'"{n}"' for n in absent)


# --------------------------------------------------------------------------
# Lambda packaging
# --------------------------------------------------------------------------


def test_functions_are_packaged_as_agreed():
    fn = resource("aws_lambda_function.this")
    assert unquote(fn["runtime"]) == "provided.al2023" and unquote(fn["handler"]) == "bootstrap"
    assert fn["architectures"] == ["${var.architecture}"]
    # From the caller's directory or from S3 (make publish), never from a
    # default inside the module's own source.
    assert fn["filename"] == "${local.package_from_s3 ? null : local.package_zips[each.key]}"
    assert fn["s3_key"] == "${local.package_from_s3 ? local.package_keys[each.key] : null}"
    assert fn["source_code_hash"] == "${local.package_from_s3 ? trimspace(data.aws_s3_object.package_hash[each.key].body) : filebase64sha256(local.package_zips[each.key])}"
    package = locals_map()
    assert package["package_zips"] == '${{for fn in local.function_names : fn => "${coalesce(var.lambda_package.local_dir, ".")}/${fn}/bootstrap.zip"}}', package["package_zips"]
    assert package["package_keys"] == '${{for fn in local.function_names : fn => "${var.lambda_package.s3_key_prefix}${var.architecture}/${fn}/bootstrap.zip"}}', package["package_keys"]
    for path in module_files():
        assert "path.module}/../" not in path.read_text(), f"{path.name}: the module must not reach outside its own directory"
    assert unquote(fn["logging_config"][0]["log_format"]) == "JSON"
    assert "reserved_concurrent_executions" in fn and "kms_key_arn" in fn
    names = locals_map()["function_names"]
    assert all(n in names for n in ('"ecs-event-handler"', '"rollout-sweeper"', '"slack-notifier"')), names
    assert unquote(resource("aws_cloudwatch_log_group.this")["name"]) == "/aws/lambda/${var.name}-${each.key}"
    invoke = resource("aws_lambda_function_event_invoke_config.this")
    assert "function_dlq" in invoke["destination_config"][0]["on_failure"][0]["destination"]


# --------------------------------------------------------------------------
# IAM
# --------------------------------------------------------------------------


def policy_statements():
    for path in all_tf_files():
        for _, name, body in blocks("data", [path]):
            if not name.startswith("aws_iam_policy_document."):
                continue
            for statement in body.get("statement", []):
                yield path, name, statement
            for dynamic in body.get("dynamic", []):
                for label, inner in dynamic.items():
                    if unquote(label) == "statement":
                        for statement in inner.get("content", []):
                            yield path, name, statement


def test_iam_statements_have_no_wildcard_action_and_justify_star_resources():
    problems, count = [], 0
    for path, name, statement in policy_statements():
        count += 1
        where = f"{path.relative_to(INFRA)} {name} {unquote(statement.get('sid', ''))}"
        assert "not_actions" not in statement and "not_resources" not in statement, f"{where}: NotAction/NotResource"
        for action in statement.get("actions", []):
            if "*" in str(action):
                problems.append(f"{where}: wildcard action {action}")
        if '"*"' in statement.get("resources", []):
            reasons = " ".join(c.get("value", "") for c in statement.get("__comments__", []))
            if "AWS requires" not in reasons:
                problems.append(f'{where}: resource "*" without an "# AWS requires ...: reason" comment')
    assert count >= 20
    assert not problems, "\n".join(problems)


# What each DynamoDB SDK call needs in IAM. TransactWriteItems has no action of
# its own: each item inside it is authorized as its single-item action
# (DynamoDB Developer Guide, "Using IAM with DynamoDB transactions").
DYNAMODB_CALL_ACTIONS = {
    "get_item": "dynamodb:GetItem", "put_item": "dynamodb:PutItem", "update_item": "dynamodb:UpdateItem",
    "delete_item": "dynamodb:DeleteItem", "query": "dynamodb:Query", "scan": "dynamodb:Scan",
    "batch_get_item": "dynamodb:BatchGetItem", "batch_write_item": "dynamodb:BatchWriteItem",
}
PARTIQL_ACTIONS = {
    "INSERT": "dynamodb:PartiQLInsert", "UPDATE": "dynamodb:PartiQLUpdate",
    "DELETE": "dynamodb:PartiQLDelete", "SELECT": "dynamodb:PartiQLSelect",
}
DYNAMODB_TRANSACT_ACTIONS = {
    "put": "dynamodb:PutItem", "update": "dynamodb:UpdateItem", "delete": "dynamodb:DeleteItem",
    "condition_check": "dynamodb:ConditionCheckItem",
}


def test_state_table_actions_are_the_calls_the_functions_make():
    """Least privilege on the state table: the handler's and sweeper's role may make
    exactly the DynamoDB calls their store (adapters/dynamodb.rs and its batched
    writes, dynamodb_batch.rs, wired in
    shared/src/lambda) makes; the CLI's history reader (dynamodb_history.rs) runs
    with the user's own credentials (docs/history.md)."""
    adapters = REPO / "shared" / "src" / "adapters"
    store = (adapters / "dynamodb.rs").read_text() + (adapters / "dynamodb_batch.rs").read_text()
    needed = {DYNAMODB_CALL_ACTIONS[c] for c in re.findall(r"\.(\w+)\(\)\s*\n?\s*\.", store) if c in DYNAMODB_CALL_ACTIONS}
    needed |= {DYNAMODB_TRANSACT_ACTIONS[c] for c in re.findall(r"TransactWriteItem::builder\(\)\s*\.(\w+)\(", store)}
    if ".batch_execute_statement()" in store:
        # PartiQL: each statement is authorized as its kind.
        needed |= {PARTIQL_ACTIONS[kind] for kind in re.findall(r'"(INSERT|UPDATE|DELETE|SELECT) ', store)}
    assert {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"} <= needed, f"the store's calls were not found: {sorted(needed)}"
    granted = {}
    for _, name, statement in policy_statements():
        if name == "aws_iam_policy_document.rollout_state":
            for action in statement.get("actions", []):
                if unquote(action).startswith("dynamodb:"):
                    granted.setdefault(unquote(action), set()).add(unquote(statement.get("sid", "")))
    assert set(granted) == needed, (
        f"granted but never called: {sorted(set(granted) - needed)}; called but not granted: {sorted(needed - set(granted))}"
    )


def test_every_policy_comes_from_a_policy_document():
    """So that the IAM test above sees every statement the module writes."""
    for _, name, body in blocks("resource", all_tf_files()):
        for key in ("policy", "assume_role_policy"):
            if key in body:
                assert str(body[key]).startswith("${data.aws_iam_policy_document."), f"{name}.{key} = {body[key]}"


# --------------------------------------------------------------------------
# Inputs, outputs, README
# --------------------------------------------------------------------------


def test_variables_are_typed_described_and_never_any():
    for _, name, body in blocks("variable"):
        description = unquote(body.get("description", ""))
        assert description and description.endswith("."), f"variable {name}: needs a description ending with a period"
        assert "type" in body, f"variable {name}: needs a type"
        assert not re.search(r"\bany\b", str(body["type"])), f"variable {name}: `any` type"
        has_null_default = "default" in body and body["default"] is None
        if not has_null_default:
            assert body.get("nullable") is False, f"variable {name}: set nullable = false (or default it to null)"
        for validation in body.get("validation", []):
            message = unquote(validation["error_message"])
            assert message.endswith(".") and message[0].isupper(), f"variable {name}: error_message must be a full sentence"


def test_outputs_are_described_and_use_try():
    for _, name, body in blocks("output"):
        assert unquote(body.get("description", "")), f"output {name}: needs a description"
        assert str(body["value"]).startswith("${try("), f"output {name}: wrap the value in try()"


@pytest.mark.parametrize("directory", render_docs.DOC_DIRS, ids=lambda d: str(d.relative_to(REPO)))
def test_readme_tables_match_the_code(directory):
    readme = directory / "README.md"
    assert readme.is_file(), f"{readme} is missing"
    section = render_docs.readme_section(readme)
    assert section is not None, f"{readme}: no {render_docs.BEGIN} ... {render_docs.END} section"
    expected = render_docs.render(directory)
    assert section == expected, f"{readme.relative_to(REPO)} tables are stale: run .venv/bin/python infra/tests/render_docs.py"
    # And, independently of the renderer, every input and output is listed.
    text = readme.read_text()
    for _, name, _ in blocks("variable", sorted(directory.glob("*.tf"))):
        assert f'<a name="input_{name}"></a>' in text, f"{readme}: input {name} missing"
    for _, name, _ in blocks("output", sorted(directory.glob("*.tf"))):
        assert f'<a name="output_{name}"></a>' in text, f"{readme}: output {name} missing"
