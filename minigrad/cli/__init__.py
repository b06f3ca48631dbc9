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
import sys

_SUBCOMMANDS = ("demo", "plugins", "draw", "explore", "playground")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m minigrad",
        description="minigrad: a small autodiff framework you can see.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _SUBCOMMANDS:
        importlib.import_module(f"minigrad.cli.{name}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)
