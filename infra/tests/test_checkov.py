"""(2) checkov passes on the module and its examples with no failed check, and
every skipped check says why, inline, next to the resource it concerns.

The examples are scanned too (checkov follows their `source = "../.."`), so the
module is also checked with the richer inputs a real root module passes.
checkov lives in its own virtualenv (see requirements-checkov.txt); set
$CHECKOV to use another binary. --skip-download keeps the run offline: it only
drops the Prisma Cloud guideline links from the report.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tfsource import INFRA, REPO, all_tf_files

SKIP_COMMENT = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?")


def checkov_binary() -> str:
    candidates = [os.environ.get("CHECKOV"), str(REPO / ".venv" / "checkov" / "bin" / "checkov"), shutil.which("checkov")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.fail(
        "checkov not found. Install it with:\n"
        "  python3 -m venv .venv/checkov && .venv/checkov/bin/pip install -r infra/tests/requirements-checkov.txt\n"
        "or point $CHECKOV at a checkov binary."
    )


def test_checkov_has_no_failed_check():
    command = [checkov_binary(), "-d", "infra", "--framework", "terraform", "--quiet", "--compact", "--skip-download"]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    report = result.stdout + "\n" + "\n".join(line for line in result.stderr.splitlines() if "WARNI" not in line)
    summary = re.search(r"Passed checks: (\d+), Failed checks: (\d+), Skipped checks: (\d+)", result.stdout)
    assert summary, f"checkov printed no summary (exit {result.returncode}):\n{report}"
    passed, failed, skipped = map(int, summary.groups())
    assert failed == 0 and result.returncode == 0, f"checkov: {failed} failed check(s):\n{report}"
    assert passed > 100, f"checkov passed only {passed} checks: did it scan the module?\n{report}"


def test_every_checkov_skip_is_justified():
    unjustified = []
    skips = 0
    for path in all_tf_files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = SKIP_COMMENT.search(line)
            if not match:
                continue
            skips += 1
            check, reason = match.group(1), (match.group(2) or "").strip()
            if not re.fullmatch(r"CKV2?_AWS_\d+", check) or len(reason) < 30:
                unjustified.append(f"{path.relative_to(INFRA)}:{number}: {line.strip()}")
    assert not unjustified, "each #checkov:skip=CKV_...:reason needs a real reason:\n" + "\n".join(unjustified)
    assert skips > 0
