"""Argument checks shared by the subcommands: one clear line on stderr, exit status 2.

Each ``check_*`` returns None when the argument is usable, else the message to print after
the command's name. They look before any work is done, so a typo does not cost a script run.

>>> check_script("no/such/model.py")
'no such script: no/such/model.py'
>>> positive_int("3")
3
"""

from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path

from ..serialization import file_kind

__all__ = ["check_out_dir", "check_out_file", "check_script", "positive_int", "write_error"]

#: what a script argument may be: a Python file or an ONNX model
SCRIPT_SUFFIXES = (".py", ".onnx")


def positive_int(text: str) -> int:
    """An argparse ``type`` for counts: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _kind(path: Path) -> str | None:
    """'a directory', 'a file', 'a named pipe'... for an existing path; None when missing."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None  # missing (a file in the way of its folder is reported by the caller)
    except OSError as e:
        return f"unreadable ({e.strerror})"
    return "a file" if stat.S_ISREG(mode) else file_kind(mode)


def check_script(script: str | os.PathLike) -> str | None:
    """A readable ``.py`` script or ``.onnx`` model, or why not."""
    path = Path(script)
    kind = _kind(path)
    if kind is None:
        return f"no such script: {path}"
    if kind != "a file":
        return f"{path} is {kind}, not a Python script (.py) or an ONNX model (.onnx)"
    if path.suffix.lower() not in SCRIPT_SUFFIXES:
        return (
            f"{path} is not a Python script (.py) or an ONNX model (.onnx); rename it if it is one"
        )
    return None


def _parent_problem(path: Path) -> str | None:
    """Why the folders above ``path`` cannot hold it (a file in the way), or None."""
    for parent in path.parents:
        kind = _kind(parent)
        if kind is None:
            continue
        if kind != "a directory":
            return f"{parent} is {kind}, not a folder"
        return None
    return None


def check_out_file(out: str | os.PathLike, what: str = "the page") -> str | None:
    """``--out`` for one file to write: not a directory, no file in the way of its folder."""
    path = Path(out)
    kind = _kind(path)
    if kind == "a directory":
        return (
            f"--out {path} is a directory; give the file name of {what}, "
            f"e.g. --out {path / 'page.html'}"
        )
    if kind not in (None, "a file"):
        return f"--out {path} is {kind}; give the file name of {what}"
    problem = _parent_problem(path)
    return f"cannot write --out {path}: {problem}" if problem else None


def check_out_dir(out: str | os.PathLike, what: str = "the files") -> str | None:
    """``--out`` for a folder to write several files into."""
    path = Path(out)
    kind = _kind(path)
    if kind not in (None, "a directory"):
        return f"--out {path} is {kind}; {what} go into a folder: give a folder path"
    problem = _parent_problem(path)
    return f"cannot write into --out {path}: {problem}" if problem else None


def write_error(path: str | os.PathLike, err: OSError) -> str:
    """One line for a failed write: the path and the system's reason, no traceback."""
    reason = err.strerror or type(err).__name__
    return f"cannot write {err.filename or path}: {reason}"
