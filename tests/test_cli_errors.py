"""Bad command lines get one clear line on stderr and exit status 2, never a traceback."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

from minigrad.cli import main

SCRIPT = """import minigrad as mg
x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
loss = (x * x).sum()
"""


@pytest.fixture
def files(tmp_path):
    (tmp_path / "model.py").write_text(SCRIPT)
    (tmp_path / "model.txt").write_text(SCRIPT)
    (tmp_path / "folder").mkdir()
    (tmp_path / "afile").write_text("")
    return tmp_path


def run(args, capsys):
    """(exit status, stderr) of one command line run in-process."""
    try:
        code = main([str(a) for a in args])
    except SystemExit as e:  # argparse's own errors
        code = e.code
    return code, capsys.readouterr().err


def one_line_error(code, err, *needles):
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


CASES = {
    "explore --out is a directory": (
        ["explore", "{d}/model.py", "--out", "{d}/folder"],
        ["is a directory", "file name of the page"],
    ),
    "explore --out under a file": (
        ["explore", "{d}/model.py", "--out", "{d}/afile/page.html"],
        ["afile is a file, not a folder"],
    ),
    "draw --out is a file": (
        ["draw", "{d}/model.py", "--out", "{d}/afile"],
        ["--out", "afile is a file", "folder"],
    ),
    "draw --out under a file": (
        ["draw", "{d}/model.py", "--out", "{d}/afile/sub"],
        ["afile is a file, not a folder"],
    ),
    "draw --max-nodes -5": (
        ["draw", "{d}/model.py", "--out", "{d}/o", "--max-nodes", "-5"],
        ["--max-nodes", "positive integer", "-5"],
    ),
    "draw --max-nodes 0": (
        ["draw", "{d}/model.py", "--out", "{d}/o", "--max-nodes", "0"],
        ["--max-nodes", "positive integer"],
    ),
    "explore --samples -3": (
        ["explore", "{d}/model.py", "--out", "{d}/p.html", "--samples", "-3"],
        ["--samples", "positive integer", "-3"],
    ),
    "explore a .txt script": (
        ["explore", "{d}/model.txt", "--out", "{d}/p.html"],
        ["model.txt is not a Python script (.py) or an ONNX model (.onnx)"],
    ),
    "draw a .txt script": (
        ["draw", "{d}/model.txt", "--out", "{d}/o"],
        ["model.txt is not a Python script (.py) or an ONNX model (.onnx)"],
    ),
    "explore a directory": (
        ["explore", "{d}/folder", "--out", "{d}/p.html"],
        ["folder is a directory, not a Python script"],
    ),
    "draw a directory": (
        ["draw", "{d}/folder", "--out", "{d}/o"],
        ["folder is a directory, not a Python script"],
    ),
    "explore a missing script": (
        ["explore", "{d}/nope.py", "--out", "{d}/p.html"],
        ["no such script", "nope.py"],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_arguments_are_one_line_and_exit_2(files, capsys, case):
    args, needles = CASES[case]
    code, err = run([a.format(d=files) for a in args], capsys)
    one_line_error(code, err, *needles)
    assert not (files / "o").exists() and not (files / "p.html").exists()  # nothing written


@pytest.mark.parametrize("command", ["explore", "draw"])
def test_an_unwritable_output_is_one_line_and_exit_2(files, capsys, monkeypatch, command):
    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(pathlib.Path, "write_text", refuse)
    out = files / ("p.html" if command == "explore" else "o")
    code, err = run([command, files / "model.py", "--out", out], capsys)
    one_line_error(code, err, "cannot write", "Permission denied")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_folder_is_one_line_and_exit_2(files, capsys):
    locked = files / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, err = run(["explore", files / "model.py", "--out", locked / "p.html"], capsys)
    finally:
        locked.chmod(0o700)
    one_line_error(code, err, "cannot write", "Permission denied")


def test_the_real_command_prints_no_traceback(files):
    """The same through ``python -m minigrad``: stderr is one line, the status 2."""
    for args in (
        ["draw", files / "model.py", "--out", files / "afile"],
        ["explore", files / "model.py", "--out", files / "p.html", "--samples", "-3"],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "minigrad", *map(str, args)], capture_output=True, text=True
        )
        one_line_error(proc.returncode, proc.stderr)


def test_good_arguments_still_work(files, capsys):
    code, _ = run(
        ["explore", files / "model.py", "--out", files / "p.html", "--samples", "1"], capsys
    )
    assert code == 0 and (files / "p.html").exists()
