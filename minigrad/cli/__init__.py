"""The ``python -m minigrad`` command line: one subcommand per module of this package.

Each subcommand module exposes ``add_parser(subparsers)``, which registers its parser and
sets ``func`` (called with the parsed arguments, returning an exit code).

    python -m minigrad demo [xo|digits]      train a small CNN and write pictures
    python -m minigrad plugins list|check    the registered plugin ops
    python -m minigrad draw SCRIPT.py        draw a script's forward and backward graphs
    python -m minigrad explore SCRIPT.py     one offline HTML page to explore a script's loss
    python -m minigrad playground SCRIPT.py  the live playground page, served on 127.0.0.1
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import NoReturn

_SUBCOMMANDS = ("demo", "plugins", "draw", "explore", "playground")


class _Parser(argparse.ArgumentParser):
    """An argument error is one line on stderr (no usage block) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m minigrad",
        description="minigrad: a small autodiff framework you can see.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _SUBCOMMANDS:
        importlib.import_module(f"minigrad.cli.{name}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    When the reader of the output goes away (``python -m minigrad plugins list | head``), the
    command stops quietly with status 141, as a program ended by SIGPIPE does, instead of a
    BrokenPipeError traceback.
    """
    try:
        code = _run(argv)
        sys.stdout.flush()  # here, not at interpreter exit, so a closed pipe is caught
    except BrokenPipeError:
        _discard_stdout()
        return 128 + 13  # 128 + SIGPIPE, what shells show for `yes | head`
    return code


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor
        pass


def _run(argv: list[str] | None) -> int:
    from minigrad._shadowing import shadowing_message

    shadowed = shadowing_message()
    if shadowed:  # nothing below can work: say why, instead of failing far away
        print(f"python -m minigrad: {shadowed}", file=sys.stderr)
        return 1
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)
