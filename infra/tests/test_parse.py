"""(1) Every Terraform file under infra/ (and the .tftest.hcl tests) parses with
python-hcl2, and every event pattern is valid JSON with the shape EventBridge
accepts."""

import json

import pytest

from tfsource import INFRA, PATTERNS_DIR, all_tf_files, parse

TF_FILES = all_tf_files() + sorted(INFRA.rglob("*.tftest.hcl"))
PATTERN_FILES = sorted(PATTERNS_DIR.glob("*.json"))


def test_module_has_the_expected_layout():
    names = {p.name for p in INFRA.glob("*.tf")}
    expected = {
        "versions.tf", "variables.tf", "outputs.tf", "main.tf", "functions.tf", "events.tf",
        "storage.tf", "alerting.tf", "alarms.tf", "dashboard.tf", "iam.tf", "queues.tf",
    }
    assert expected <= names, f"missing module files: {sorted(expected - names)}"
    for example in ("minimal", "complete"):
        directory = INFRA / "examples" / example
        for required in ("versions.tf", "main.tf", "README.md"):
            assert (directory / required).is_file(), f"examples/{example}/{required} is missing"


@pytest.mark.parametrize("path", TF_FILES, ids=lambda p: str(p.relative_to(INFRA)))
def test_tf_file_parses(path):
    parsed = parse(path)
    assert parsed, f"{path} parsed to nothing"


@pytest.mark.parametrize("path", PATTERN_FILES, ids=lambda p: p.name)
def test_event_pattern_is_valid(path):
    pattern = json.loads(path.read_text())
    assert pattern.get("source") == ["aws.ecs"], f"{path.name}: must match source aws.ecs only"
    assert isinstance(pattern.get("detail-type"), list) and pattern["detail-type"], f"{path.name}: needs detail-type"

    def check(node, where):
        for key, value in node.items():
            if isinstance(value, dict):
                check(value, f"{where}.{key}")
            else:
                assert isinstance(value, list) and value, f"{path.name}: {where}.{key} must be a non-empty array"
                for item in value:
                    # Matching inside arrays of objects is not supported by moto (and
                    # costs more in EventBridge): only scalars or one-key operators.
                    assert not isinstance(item, dict) or len(item) == 1, f"{path.name}: {where}.{key} has a multi-key object"

    check(pattern, "$")
