"""Shared setup for the infra/ checks: make tfsource importable."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def pytest_terminal_summary(terminalreporter):
    """How long each Terraform apply/destroy scenario took (test_apply.py)."""
    module = sys.modules.get("test_apply")
    durations = getattr(module, "DURATIONS", None)
    if durations:
        terminalreporter.write_sep("-", "apply/destroy scenarios (seconds)")
        for name, seconds in sorted(durations.items(), key=lambda item: -item[1]):
            terminalreporter.write_line(f"{seconds:7.1f}  {name}")
