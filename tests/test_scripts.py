"""scripts/setup.sh: a rerun with everything in place is silent and changes nothing."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"


def _set_up_already() -> bool:
    """This process runs in the clone's .venv and setup.sh would find nothing to do."""
    stamp = VENV / ".minigrad-installed"
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    return (
        Path(sys.prefix).resolve() == VENV.resolve()
        and stamp.is_file()
        and stamp.read_text().strip() == want
        and importlib.util.find_spec("torch") is not None
        and shutil.which("dot") is not None
        and shutil.which("chromium") is not None
    )


def test_a_rerun_of_setup_prints_nothing():
    if not _set_up_already():
        pytest.skip("needs the clone's own .venv, set up (torch, graphviz and chromium present)")
    stamp = VENV / ".minigrad-installed"
    before = stamp.stat().st_mtime_ns
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "setup.sh")],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""
    assert stamp.stat().st_mtime_ns == before  # nothing was installed again
