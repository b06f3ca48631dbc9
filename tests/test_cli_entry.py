"""``python -m minigrad ...`` as a shell runs it: a closed output pipe, a shadowing folder."""

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


# ------------------------------------------------------------------ a folder named minigrad


def _shadowing_layout(tmp_path: Path, kind: str) -> Path:
    """tmp_path/minigrad: a link to this clone (as `cd ..` above a clone), or an empty folder."""
    folder = tmp_path / "minigrad"
    if kind == "link to the clone":
        folder.symlink_to(ROOT, target_is_directory=True)
    else:
        folder.mkdir()
    probe = subprocess.run(
        [sys.executable, "-c", "import minigrad; print(minigrad.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if probe.stdout.strip() != "None":  # a regular (non-editable) install wins over the folder
        pytest.skip("this installation of minigrad cannot be shadowed by a folder")
    return folder


@pytest.mark.parametrize("kind", ["link to the clone", "empty folder"])
def test_a_shadowing_folder_is_named_with_the_package_it_hides(tmp_path, kind):
    folder = _shadowing_layout(tmp_path, kind)
    proc = subprocess.run(
        [sys.executable, "-m", "minigrad", "demo", "--quick", "--out", str(tmp_path / "out")],
        cwd=tmp_path,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr, proc.stderr
    message = " ".join(proc.stderr.split())
    assert f"the folder {folder}" in message
    assert f"shadows the installed minigrad package at {ROOT / 'minigrad'}" in message
    if kind == "link to the clone":
        assert f"a link to {ROOT}" in message
        assert f"cd {folder}" in message
    else:
        assert f"rename {folder}" in message
    assert not (tmp_path / "out").exists()  # stopped before doing anything


def test_the_plugin_loader_blames_the_shadowing_folder_not_the_plugin(tmp_path):
    folder = _shadowing_layout(tmp_path, "link to the clone")
    code = (
        "import minigrad.plugins as plugins\n"
        "try:\n"
        "    plugins.ops.conv2d\n"
        "except plugins.PluginLoadError as e:\n"
        "    print(e)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "cannot load op 'conv2d'" in proc.stdout
    assert f"the folder {folder}" in proc.stdout and "shadows the installed" in proc.stdout
    assert "reinstall" not in proc.stdout
