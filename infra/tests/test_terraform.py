"""Terraform's own checks, where a terraform binary and the AWS provider exist.

They need terraform and an AWS provider mirror (tfbinary.py says where they are
looked for): skipped, saying so, where they are missing, and failing instead
with REQUIRE_TERRAFORM=1, as `make test` sets it. They work on a copy of infra/
in a temporary directory, so nothing is written to the repository.

- `terraform fmt -check` on every file;
- `terraform validate` of the module and both examples against the provider
  schema (catches a misspelt argument, which nothing else here can);
- `terraform test` (tests/module.tftest.hcl, mocked provider): environment
  variables, patterns, filter policies, alarms and input validation as
  Terraform itself evaluates them;
- the cluster-filtered patterns Terraform renders equal the mirror that
  test_routing.py routes through moto.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from test_routing import PATTERNS, with_cluster_filter
from tfbinary import PLUGIN_DIR, TERRAFORM, requires_terraform
from tfsource import INFRA

pytestmark = requires_terraform()

ENV = {
    **os.environ,
    "CHECKPOINT_DISABLE": "1",
    "TF_IN_AUTOMATION": "1",
    "TF_INPUT": "0",
    "TF_CLI_CONFIG_FILE": os.devnull,
}


def terraform(*args: str, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([TERRAFORM, *args], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout)


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"terraform {' '.join(result.args[1:])} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("terraform")
    shutil.copytree(INFRA, root / "infra", ignore=shutil.ignore_patterns(".terraform*", "__pycache__", ".pytest_cache"))
    for name in ("ecs-event-handler", "rollout-sweeper", "slack-notifier"):
        target = root / "zips" / name
        target.mkdir(parents=True)
        with zipfile.ZipFile(target / "bootstrap.zip", "w") as archive:
            archive.writestr("bootstrap", "#!/bin/sh\n")
    return root


def init(directory: Path) -> None:
    ok(terraform("init", "-backend=false", f"-plugin-dir={PLUGIN_DIR}", "-no-color", cwd=directory))


def test_fmt():
    result = terraform("fmt", "-check", "-recursive", "-diff", "-no-color", str(INFRA), cwd=INFRA)
    assert result.returncode == 0, f"terraform fmt would change:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("directory", [".", "examples/minimal", "examples/complete"])
def test_validate(workdir, directory):
    path = workdir / "infra" / directory
    init(path)
    ok(terraform("validate", "-no-color", cwd=path))


def test_terraform_test(workdir):
    path = workdir / "infra"
    init(path)
    package = f'lambda_package={{local_dir="{(workdir / "zips").as_posix()}"}}'
    output = ok(terraform("test", "-no-color", f"-var={package}", cwd=path, timeout=600))
    assert "0 failed" in output, output


def test_rendered_cluster_filter_is_the_one_routed(workdir):
    clusters = ["arn:aws:ecs:us-west-2:111122223333:cluster/default", "arn:aws:ecs:eu-west-1:999999999999:cluster/other"]
    root = workdir / "console"
    root.mkdir(exist_ok=True)
    (root / "main.tf").write_text(
        'module "watcher" {\n'
        f'  source         = "{(workdir / "infra").as_posix()}"\n'
        f'  lambda_package = {{ local_dir = "{(workdir / "zips").as_posix()}" }}\n'
        f"  cluster_arns   = {json.dumps(clusters)}\n"
        "}\n"
    )
    init(root)
    result = subprocess.run(
        [TERRAFORM, "console", "-no-color"],
        cwd=root,
        env={**ENV, "AWS_REGION": "eu-west-1"},
        input="jsonencode(module.watcher.event_patterns)\n",
        capture_output=True,
        text=True,
        timeout=300,
    )
    rendered = json.loads(json.loads(ok(result).strip().splitlines()[-1]))
    mirror = with_cluster_filter(PATTERNS, clusters)
    assert {k: json.loads(v) for k, v in rendered.items()} == {k: json.loads(v) for k, v in mirror.items()}
