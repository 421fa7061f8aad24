"""A moto server of its own on a free loopback port, for the tests that need
one (routing events, publishing to S3, applying the module).

The server binds port 0 itself and the port is read back from its log ("Running
on http://127.0.0.1:PORT"): no port is picked here and released for the server
to take, so two servers started at once (the apply scenarios run three at a
time, beside the Rust tests' own local servers) can never race for one. Every
server started is recorded in STARTED, so that a test can check that each was
stopped.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from typing import Iterator

import pytest

RUNNING_ON = re.compile(rb"Running on http://127\.0\.0\.1:(\d+)")


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the thread that started it ends
    (a killed pytest, a CI timeout), so that no server outlives the tests."""
    if sys.platform == "linux":
        import ctypes
        import signal

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Started:
    url: str
    process: subprocess.Popen


STARTED: list[Started] = []


def _wait_for_port(server: subprocess.Popen, log, deadline: float) -> int:
    """The port the server bound, from its log, once it says so."""
    while True:
        log.seek(0)
        text = log.read()
        match = RUNNING_ON.search(text)
        if match:
            return int(match.group(1))
        if server.poll() is not None:
            pytest.fail(f"moto_server exited with {server.returncode}: {text.decode(errors='replace')[-2000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"moto_server named no port within 60 s: {text.decode(errors='replace')[-2000:]}")
        time.sleep(0.05)


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """Start `python -m moto.server` on 127.0.0.1; yield its URL; stop it."""
    # The server logs every request to stderr: into a file, never an unread
    # pipe, which fills after a few hundred requests and then blocks the server.
    log = tempfile.NamedTemporaryFile(prefix="moto-", suffix=".log")
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"],
        stdout=subprocess.DEVNULL,
        stderr=log,
        preexec_fn=_die_with_parent,
    )
    try:
        deadline = time.monotonic() + 60
        with open(log.name, "rb") as reader:
            port = _wait_for_port(server, reader, deadline)
        url = f"http://127.0.0.1:{port}"
        STARTED.append(Started(url, server))
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=1).read()
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"moto_server on {url} exited with {server.returncode}")
                if time.monotonic() > deadline:
                    pytest.fail(f"moto_server on {url} did not answer within 60 s")
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def still_running() -> list[str]:
    """Servers started here that have not exited."""
    return [f"{s.url} (pid {s.process.pid})" for s in STARTED if s.process.poll() is None]


def aws_env(endpoint: str, region: str = "eu-west-1") -> dict[str, str]:
    """Environment for an AWS client (boto3, the Terraform provider) talking to moto only."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "NO_PROXY": "127.0.0.1,localhost",
    }
