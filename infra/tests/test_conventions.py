"""(8) The conventions of issue 17, read off the parsed module (python-hcl2):

- no count or for_each depends on a value that may be unknown at plan time (an
  ARN the caller creates in the same configuration, a resource attribute);
  booleans such as create_kms_key and create_sns_topic decide instead;
- every resource is switched off by `create`;
- names of account-wide resources (IAM roles, the dashboard, the Amazon Q
  channel) carry the region, and fit IAM's 64 characters;
- every role takes role_path and role_permissions_boundary;
- the inputs a team expects are there, validated, with full-sentence messages;
- packages come from a directory the caller names or from S3, never from a
  default inside the module's source;
- defaults a new account can apply and destroy: no reserved concurrency, no
  table deletion protection; the complete example's secret has no recovery
  window;
- a `lambda` subscription gets its aws_lambda_permission;
- the Makefile builds both architectures and publishes, and `make test` runs
  the apply/destroy scenarios and fails without terraform or its mirror.
"""

from __future__ import annotations

import re

import pytest

from tfsource import INFRA, REPO, blocks, locals_map, unquote

REFERENCE = re.compile(r"\b(var|local|data|aws_[a-z0-9_]+)\.([A-Za-z0-9_]+)(?:\.([A-Za-z0-9_]+))?")

# Inputs that may be unknown at plan time: ARNs and names a caller typically
# creates in the same configuration.
MAYBE_UNKNOWN_INPUTS = {"var.kms_key_arn", "var.sns_topic_arn", "var.lambda_package.s3_bucket", "var.lambda_package.s3_key_prefix"}
# Data sources Terraform reads during plan (they depend on nothing).
PLAN_TIME_DATA = {"data.aws_region.current", "data.aws_partition.current", "data.aws_caller_identity.current"}


def references(expression: str) -> set[str]:
    found = set()
    for kind, name, attribute in REFERENCE.findall(expression):
        if kind == "var" and name == "lambda_package" and attribute:
            found.add(f"var.{name}.{attribute}")
        elif kind == "data":
            found.add(f"data.{name}.{attribute}")
        else:
            found.add(f"{kind}.{name}")
    return found


def closure(expression: str, locals_text: dict[str, str]) -> set[str]:
    """Every var, data source and resource an expression depends on, through locals."""
    seen: set[str] = set()
    pending = references(expression)
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        if ref.startswith("local."):
            name = ref.split(".", 1)[1]
            assert name in locals_text, f"unknown {ref}"
            pending |= references(locals_text[name])
    return seen


@pytest.fixture(scope="module")
def locals_text() -> dict[str, str]:
    return {name: str(value) for name, value in locals_map().items()}


def counted(kind: str):
    for path, name, body in blocks(kind):
        for meta in ("count", "for_each"):
            if meta in body:
                yield path, name, meta, str(body[meta])


def test_no_count_or_for_each_depends_on_a_value_unknown_at_plan(locals_text):
    problems, checked = [], 0
    for kind in ("resource", "data"):
        for path, name, meta, expression in counted(kind):
            checked += 1
            deps = closure(expression, locals_text)
            unknown = sorted(
                d for d in deps if d in MAYBE_UNKNOWN_INPUTS or d.startswith("aws_") or (d.startswith("data.") and d not in PLAN_TIME_DATA)
            )
            if unknown:
                problems.append(f"{path.name} {kind} {name}: {meta} depends on {unknown}")
    assert checked >= 40
    assert not problems, "counts that cannot be planned when these are created in the same configuration:\n" + "\n".join(problems)


def test_the_key_and_the_topic_are_decided_by_booleans():
    main = locals_map()
    assert main["create_kms_key"] == "${var.create && var.create_kms_key}"
    assert main["create_sns_topic"] == "${var.create && var.create_sns_topic}"
    for _, name, meta, expression in counted("resource"):
        if name in ("aws_kms_key.this", "aws_kms_alias.this"):
            assert expression == "${local.create_kms_key ? 1 : 0}", (name, expression)
        if name in ("aws_sns_topic.this", "aws_sns_topic_policy.this"):
            assert expression == "${local.create_sns_topic ? 1 : 0}", (name, expression)


def test_every_resource_is_switched_off_by_create(locals_text):
    ungated = []
    for path, name, body in blocks("resource"):
        meta = body.get("count", body.get("for_each"))
        if meta is None or "var.create" not in closure(str(meta), locals_text):
            ungated.append(f"{path.name} {name}")
    assert not ungated, "resources that `create = false` would still create:\n" + "\n".join(ungated)


def test_account_wide_names_carry_the_region(locals_text):
    resources = {name: body for _, name, body in blocks("resource")}
    for name in ("aws_iam_role.this", "aws_iam_role.scheduler", "aws_iam_role.chatbot"):
        assert unquote(resources[name]["name"]).startswith("${local.role_name_prefix}-"), (name, resources[name]["name"])
    assert unquote(locals_text["role_name_prefix"]) == "${var.name}-${local.region}"
    assert unquote(resources["aws_cloudwatch_dashboard.this"]["dashboard_name"]) == "${var.name}-${local.region}"
    assert "${var.name}-${local.region}" in str(resources["aws_chatbot_slack_channel_configuration.this"]["configuration_name"])

    # <name>-<region>-<suffix> within IAM's 64 characters for the longest name
    # the variable allows and the longest region names.
    name_limit = int(re.search(r"\{0,(\d+)\}", str(next(b for _, n, b in blocks("variable") if n == "name")["validation"][0]["condition"])).group(1)) + 1
    suffixes = [unquote(s) for s in locals_map()["function_role_suffixes"].values()] + ["scheduler", "chatbot"]
    longest_region = len("ap-southeast-2")
    assert name_limit + 1 + longest_region + 1 + max(map(len, suffixes)) <= 64


def test_every_role_takes_path_and_boundary():
    roles = [(name, body) for _, name, body in blocks("resource") if name.startswith("aws_iam_role.")]
    assert len(roles) == 3
    for name, body in roles:
        assert body.get("path") == "${var.role_path}" and body.get("permissions_boundary") == "${var.role_permissions_boundary}", name


EXPECTED_INPUTS = {
    "create", "create_kms_key", "kms_key_arn", "create_sns_topic", "sns_topic_arn", "role_path",
    "role_permissions_boundary", "lambda_package", "table_deletion_protection", "kms_key_deletion_window_days",
}
VALIDATED = {
    "log_level", "tracing_mode", "sweep_schedule", "lambda_package", "role_path", "role_permissions_boundary",
    "sns_topic_arn", "kms_key_arn", "chatbot_slack", "kms_key_deletion_window_days", "subscriptions", "functions",
}


def test_inputs_teams_expect_exist_and_are_validated():
    variables = {name: body for _, name, body in blocks("variable")}
    assert EXPECTED_INPUTS <= set(variables), sorted(EXPECTED_INPUTS - set(variables))
    unvalidated = sorted(n for n in VALIDATED if not variables[n].get("validation"))
    assert not unvalidated, f"inputs without a validation: {unvalidated}"
    for name in VALIDATED:
        for validation in variables[name]["validation"]:
            message = unquote(validation["error_message"])
            assert message[0].isupper() and message.endswith(".") and len(message.split()) >= 6, f"{name}: {message!r} is not a full sentence"


@pytest.mark.parametrize(
    "name, allowed",
    [
        ("log_level", ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]),
        ("tracing_mode", ["PassThrough", "Active"]),
    ],
)
def test_enumerated_inputs_accept_exactly_their_values(name, allowed):
    body = next(b for _, n, b in blocks("variable") if n == name)
    condition = str(body["validation"][0]["condition"])
    assert re.findall(r'"([A-Za-z]+)"', condition) == allowed, condition
    assert unquote(body["default"]) in allowed


def sweep_schedule_regex() -> re.Pattern:
    body = next(b for _, n, b in blocks("variable") if n == "sweep_schedule")
    condition = str(body["validation"][0]["condition"])
    pattern = re.search(r'regex\("(.*)", var\.sweep_schedule\)', condition).group(1)
    return re.compile(pattern.replace("\\\\", "\\"))


@pytest.mark.parametrize("expression", ["rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(12 hours)", "cron(* * * * ? *)", "cron(0/5 8-18 ? * MON-FRI *)"])
def test_sweep_schedule_accepts_scheduler_syntax(expression):
    assert sweep_schedule_regex().fullmatch(expression), expression


@pytest.mark.parametrize("expression", ["rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(30 seconds)", "every minute", "cron(* * * * *)", "at(2026-12-01T00:00:00)"])
def test_sweep_schedule_rejects_what_scheduler_would(expression):
    assert not sweep_schedule_regex().fullmatch(expression), expression


def test_packages_come_from_the_caller_or_s3():
    body = next(b for _, n, b in blocks("variable") if n == "lambda_package")
    assert "default" not in body, "lambda_package must be required: no default pointing into the module's source"
    conditions = " ".join(str(v["condition"]) for v in body["validation"])
    assert "fileexists(" in conditions, "a missing local_dir must fail validation, naming make package"
    assert "make package" in " ".join(unquote(v["error_message"]) for v in body["validation"])
    hashes = next(b for _, name, b in blocks("data") if name == "aws_s3_object.package_hash")
    assert unquote(hashes["key"]) == "${local.package_keys[each.key]}.base64sha256"


def test_defaults_a_new_account_can_apply_and_destroy():
    variables = {name: body for _, name, body in blocks("variable")}
    assert variables["table_deletion_protection"]["default"] is False
    functions_type = (INFRA / "variables.tf").read_text().split('variable "functions" {', 1)[1].split("validation", 1)[0]
    assert functions_type.count("reserved_concurrent_executions = optional(number)") == 3, "reserved concurrency must default to null (unreserved)"
    secret = next(b for _, name, b in blocks("resource", [INFRA / "examples" / "complete" / "main.tf"]) if name == "aws_secretsmanager_secret.slack_webhook")
    assert secret["recovery_window_in_days"] == "${var.secret_recovery_window_in_days}"
    example_vars = {name: body for _, name, body in blocks("variable", [INFRA / "examples" / "complete" / "variables.tf"])}
    assert example_vars["secret_recovery_window_in_days"]["default"] == 0
    assert example_vars["table_deletion_protection"]["default"] is False


def test_lambda_subscriptions_get_their_permission():
    resources = {name: body for _, name, body in blocks("resource")}
    permission = resources["aws_lambda_permission.subscriptions"]
    assert permission["for_each"] == "${local.lambda_subscriptions}"
    assert unquote(permission["principal"]) == "sns.amazonaws.com" and permission["source_arn"] == "${local.topic_arn}"
    assert locals_map()["lambda_subscriptions"] == '${{for key, s in local.subscriptions : key => s if s.protocol == "lambda"}}'
    assert "${aws_lambda_permission.subscriptions}" in resources["aws_sns_topic_subscription.this"]["depends_on"]


def test_makefile_packages_both_architectures_and_publishes():
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^package: package-arm64 package-x86$", makefile, re.M)
    assert "rustup target add $(RUST_TARGETS)" in makefile and "aarch64-unknown-linux-gnu x86_64-unknown-linux-gnu" in makefile
    assert re.search(r"^publish: ", makefile, re.M) and "scripts/publish.py" in makefile


def test_make_test_runs_the_apply_check_and_requires_terraform():
    """CI runs `make test`: the apply/destroy scenarios are part of it, beside the
    Rust tests, and a machine without terraform or the mirror fails it at once."""
    makefile = (REPO / "Makefile").read_text()
    test_line = re.search(r"^test: (.*)$", makefile, re.M)
    assert test_line and "terraform-check" in test_line.group(1).split(), "make test must look for terraform first"
    assert re.search(r"^\t\$\(MAKE\) .*-j2 .*test-rust test-infra-side$", makefile, re.M), "the infra side must run beside the Rust tests"
    side = makefile.split("\ntest-infra-side:\n", 1)[1].split("\n\n", 1)[0]
    assert side.index("test-infra-checks") < side.index("test-apply"), side
    assert "REQUIRE_TERRAFORM ?= 1" in makefile and "export REQUIRE_TERRAFORM" in makefile
    assert "$(PY) infra/tests/tfbinary.py" in makefile
