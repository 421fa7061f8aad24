"""(6) `make publish` (scripts/publish.py) uploads every zip with its hash, the
layout the module reads with lambda_package.s3_bucket, against moto's S3."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest

from motoserver import aws_env, moto_server
from tfsource import REPO

PUBLISH = REPO / "scripts" / "publish.py"
FUNCTIONS = ("ecs-event-handler", "rollout-sweeper", "slack-notifier")


@pytest.fixture(scope="module")
def endpoint():
    with moto_server() as url:
        yield url


@pytest.fixture
def s3(endpoint, request):
    client = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    bucket = request.node.name.replace("_", "-")[:60]
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    return client, bucket


def build(root: Path, arch: str, functions=FUNCTIONS) -> dict[str, Path]:
    """Zips laid out as `make package` writes them, each with distinct content."""
    paths = {}
    for function in functions:
        path = root / function / "bootstrap.zip"
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("bootstrap", f"#!/bin/sh\n# {arch} {function}\n")
        paths[function] = path
    return paths


def publish(endpoint: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | aws_env(endpoint)
    return subprocess.run([sys.executable, str(PUBLISH), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def b64sha256(path: Path) -> str:
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


def test_both_architectures_are_uploaded_with_their_hashes(endpoint, s3, tmp_path):
    client, bucket = s3
    built = {"arm64": build(tmp_path / "target" / "lambda", "arm64"), "x86_64": build(tmp_path / "target" / "lambda-x86_64", "x86_64")}

    result = publish(endpoint, "--bucket", bucket, "--prefix", "rollout-watcher/1.0.0/", cwd=tmp_path)
    assert result.returncode == 0, result.stderr

    keys = {o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert len(keys) == 12, sorted(keys)
    for arch, zips in built.items():
        for function, path in zips.items():
            key = f"rollout-watcher/1.0.0/{arch}/{function}/bootstrap.zip"
            assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == path.read_bytes()
            digest = client.get_object(Bucket=bucket, Key=f"{key}.base64sha256")
            # text/plain: data "aws_s3_object" returns the body of text objects only.
            assert digest["ContentType"] == "text/plain"
            assert digest["Body"].read().decode() == b64sha256(path), f"{key}: hash is not the zip's base64 SHA-256"
            assert f"s3://{bucket}/{key}" in result.stdout


def test_a_new_build_changes_only_its_own_hash(endpoint, s3, tmp_path):
    client, bucket = s3
    zips = build(tmp_path / "lambda", "arm64")
    assert publish(endpoint, "--bucket", bucket, "arm64=lambda", cwd=tmp_path).returncode == 0
    before = {f: client.get_object(Bucket=bucket, Key=f"arm64/{f}/bootstrap.zip.base64sha256")["Body"].read() for f in FUNCTIONS}

    with zipfile.ZipFile(zips["rollout-sweeper"], "w") as archive:
        archive.writestr("bootstrap", "#!/bin/sh\n# rebuilt\n")
    assert publish(endpoint, "--bucket", bucket, "arm64=lambda", cwd=tmp_path).returncode == 0
    after = {f: client.get_object(Bucket=bucket, Key=f"arm64/{f}/bootstrap.zip.base64sha256")["Body"].read() for f in FUNCTIONS}

    assert after["rollout-sweeper"] != before["rollout-sweeper"]
    assert after["rollout-sweeper"].decode() == b64sha256(zips["rollout-sweeper"])
    assert {f: after[f] for f in ("ecs-event-handler", "slack-notifier")} == {f: before[f] for f in ("ecs-event-handler", "slack-notifier")}


def test_an_architecture_not_built_is_skipped_with_a_note(endpoint, s3, tmp_path):
    client, bucket = s3
    build(tmp_path / "target" / "lambda", "arm64")
    result = publish(endpoint, "--bucket", bucket, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "x86_64: no target/lambda-x86_64/ (not built), skipped" in result.stderr
    keys = {o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys and all(k.startswith("arm64/") for k in keys), sorted(keys)


def test_a_missing_zip_fails_before_anything_is_uploaded(endpoint, s3, tmp_path):
    client, bucket = s3
    build(tmp_path / "target" / "lambda", "arm64", functions=("ecs-event-handler", "rollout-sweeper"))
    result = publish(endpoint, "--bucket", bucket, cwd=tmp_path)
    assert result.returncode != 0
    assert "target/lambda/slack-notifier/bootstrap.zip: missing (run `make package`)" in result.stderr
    assert client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_nothing_built_is_an_error(endpoint, tmp_path):
    result = publish(endpoint, "--bucket", "unused", cwd=tmp_path)
    assert result.returncode != 0 and "nothing to upload" in result.stderr and "make package" in result.stderr


@pytest.mark.parametrize("prefix", ["no-trailing-slash", "/leading/"])
def test_a_prefix_the_module_would_reject_is_refused(endpoint, tmp_path, prefix):
    build(tmp_path / "target" / "lambda", "arm64")
    result = publish(endpoint, "--bucket", "unused", "--prefix", prefix, cwd=tmp_path)
    assert result.returncode == 2 and "must be empty or end with '/'" in result.stderr


def test_make_publish_asks_for_a_bucket():
    result = subprocess.run(["make", "-s", "publish"], cwd=REPO, capture_output=True, text=True, timeout=60, env={**os.environ, "BUCKET": ""})
    assert result.returncode != 0 and "usage: make publish BUCKET=" in result.stderr, result.stderr
