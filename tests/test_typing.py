"""A static type checker accepts user code written with the tour's API (Tensor is fully typed)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

USER_SCRIPT = Path(__file__).parent / "typing_user" / "tour.py"


def test_tour_script_runs() -> None:
    out = subprocess.run(
        [sys.executable, str(USER_SCRIPT)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr


def test_mypy_accepts_the_tour_script() -> None:
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (pip install mypy, part of the dev extra)")
    command = [sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir", "/dev/null"]
    command += ["--follow-imports=silent", "--hide-error-context", str(USER_SCRIPT)]
    out = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).parent.parent,
    )
    assert out.returncode == 0, out.stdout + out.stderr
