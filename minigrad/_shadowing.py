"""Detect a folder named ``minigrad`` that hides the installed package.

Run from the folder above a clone (``cd ..; minigrad/.venv/bin/python -m minigrad demo``),
Python finds the clone's folder first on ``sys.path`` (the current folder comes first). It has
no ``__init__.py``, so ``import minigrad`` gives an empty namespace package, while submodules
such as ``minigrad.cli`` still come from the installed package: the command starts, then fails
far away (``cannot import name 'Context' from 'minigrad' (unknown location)``). The command
line and the plugin loader ask :func:`shadowing_message` and say what happened instead.

>>> shadowing_message() is None   # imported normally, nothing is shadowed
True
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["shadowing_message"]


def shadowing_message() -> str | None:
    """What shadows the installed minigrad package, and what to do; None when nothing does."""
    package = sys.modules.get("minigrad")
    if package is None or getattr(package, "__file__", None) is not None:
        return None
    folders = [str(p) for p in getattr(package, "__path__", ())]
    if not folders:
        return None
    folder = folders[0]
    real = os.path.realpath(folder)
    shown = folder if real == folder else f"{folder} (a link to {real})"
    installed = Path(__file__).resolve().parent
    if (Path(folder) / "minigrad" / "__init__.py").is_file():  # a clone: its package is inside
        fix = f"run from inside the clone (cd {folder}) or from a folder with no 'minigrad' in it"
    else:
        fix = f"run from a folder with no 'minigrad' in it, or rename {folder}"
    return (
        f"the folder {shown} shadows the installed minigrad package at {installed}: it has no "
        "__init__.py, and Python looks in the current folder (or the script's) first, so "
        f"'import minigrad' found that folder, an empty namespace package. To fix: {fix}"
    )
