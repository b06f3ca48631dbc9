"""``python -m minigrad ...`` as a shell runs it: a closed output pipe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run_with_closed_stdout(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run ``python -m minigrad ARGS`` with stdout a pipe whose reading end is already closed."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # as `... | head` after head has exited: every write fails with EPIPE
    try:
        return subprocess.run(
            [sys.executable, "-m", "minigrad", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            text=True,
            timeout=300,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    "args",
    [
        ["plugins", "list", "--formulas"],
        ["plugins", "list"],
        ["plugins", "check", "relu"],
        ["--help"],
        ["demo", "--help"],
    ],
    ids=" ".join,
)
def test_a_closed_output_pipe_ends_the_command_quietly(args, tmp_path):
    proc = _run_with_closed_stdout(args, tmp_path)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "BrokenPipeError" not in proc.stderr, proc.stderr
    assert proc.returncode in (0, 141), proc.stderr


def test_the_same_command_with_an_open_pipe_prints_its_table(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "minigrad", "plugins", "list", "--formulas"],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].split()[:2] == ["NAME", "STATUS"]
    assert "relu" in proc.stdout
