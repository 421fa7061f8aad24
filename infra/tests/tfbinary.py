"""Where the Terraform checks find terraform and the AWS provider.

The project's machines cannot download Terraform or providers, so the checks
use what the machine image already has: `terraform` from $TERRAFORM or PATH,
and a provider mirror in $TF_PLUGIN_DIR (default /opt/tf-plugins), laid out as
registry.terraform.io/hashicorp/aws/<version>/<os_arch>/, given to `terraform
init -plugin-dir`.

Run by hand without them, the Terraform checks are skipped, saying what is
missing. With REQUIRE_TERRAFORM=1 (as `make test`, hence CI, sets it) a missing
binary or mirror stops the run at collection with that same message instead:
CI must never pass by skipping the apply/destroy check.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

TERRAFORM = os.environ.get("TERRAFORM") or shutil.which("terraform")
PLUGIN_DIR = Path(os.environ.get("TF_PLUGIN_DIR", "/opt/tf-plugins"))
HAVE_PROVIDER = (PLUGIN_DIR / "registry.terraform.io" / "hashicorp" / "aws").is_dir()
MISSING = None if TERRAFORM and HAVE_PROVIDER else (
    f"needs terraform (found: {TERRAFORM}; set TERRAFORM or PATH) and an AWS provider mirror in {PLUGIN_DIR} "
    f"(found: {HAVE_PROVIDER}; set TF_PLUGIN_DIR)"
)
REQUIRED = os.environ.get("REQUIRE_TERRAFORM", "") not in ("", "0")


def requires_terraform() -> pytest.MarkDecorator:
    """The mark for a module of Terraform checks: skip where terraform or the
    mirror is missing, unless REQUIRE_TERRAFORM says they must run."""
    if MISSING and REQUIRED:
        raise pytest.UsageError(f"REQUIRE_TERRAFORM is set but the Terraform checks cannot run: {MISSING}")
    return pytest.mark.skipif(MISSING is not None, reason=MISSING or "")


if __name__ == "__main__":
    # `make test` asks first, so that a machine without them fails in a second,
    # not after the Rust build.
    import sys

    if MISSING:
        sys.exit(f"The Terraform checks cannot run: {MISSING}. Run with REQUIRE_TERRAFORM=0 to skip them (never on CI).")
    print(f"terraform: {TERRAFORM}; AWS provider mirror: {PLUGIN_DIR}")
