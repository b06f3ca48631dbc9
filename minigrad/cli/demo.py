"""``python -m minigrad demo [xo|digits]``: train a small CNN and write pictures of it.

    python -m minigrad demo                     X vs O, pictures in out/demo
    python -m minigrad demo digits              LeNet-style CNN on the 8x8 digits
    python -m minigrad demo --out DIR --epochs N --seed S
    python -m minigrad demo --quick             few epochs on little data (for tests)

The work is done by :func:`minigrad.demo.run`. Exit code 0 on success (without matplotlib or
tqdm the demo still trains and writes its graphs, and says what it skipped), 1 when the task
cannot run (digits without scikit-learn: the message lists everything missing and one pip
command) or an argument is invalid.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ._checks import positive_int

__all__ = ["add_parser", "main"]


def main(args: argparse.Namespace) -> int:
    """Run the demo chosen by the parsed arguments; returns the exit code."""
    from minigrad import demo

    try:
        demo.run(  # checks the extras before any work, so nothing half-done is left behind
            args.task,
            out_dir=Path(args.out),
            epochs=args.epochs,
            seed=args.seed,
            quick=args.quick,
            progress=not args.no_progress,
        )
    except demo.MissingExtraError as err:
        print(f"minigrad demo {args.task}: {err}", file=sys.stderr)
        return 1
    except ValueError as err:
        print(f"minigrad demo {args.task}: {err}", file=sys.stderr)
        return 1
    return 0


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``demo`` subcommand.

    >>> import argparse
    >>> sub = argparse.ArgumentParser().add_subparsers()
    >>> add_parser(sub).parse_args(["digits", "--quick"]).task
    'digits'
    """
    from minigrad.demo import DEFAULT_OUT, TASKS

    parser = subparsers.add_parser(
        "demo",
        help="train a small CNN (X vs O, or digits) and write pictures of it",
        description=(
            "Train a small CNN and write pictures: the forward and backward graphs of one "
            "training step, the learned filters, the loss curve, and feature maps (xo) or a "
            "confusion matrix (digits), and the trained weights (.npz). The pictures need "
            "matplotlib and the progress bar tqdm (the extra 'demo'); without them the demo "
            "runs and skips those. digits needs scikit-learn (the extra 'digits')."
        ),
    )
    parser.add_argument(
        "task",
        nargs="?",
        default=TASKS[0],
        choices=TASKS,
        help="xo: X vs O on 9x9 images (default); digits: a LeNet-style CNN on 8x8 digits",
    )
    parser.add_argument(
        "--out",
        default=str(DEFAULT_OUT),
        metavar="DIR",
        help=f"output folder (default: {DEFAULT_OUT})",
    )
    parser.add_argument(
        "--epochs",
        type=positive_int,
        default=None,
        metavar="N",
        help="training epochs (default: 8 for xo, 40 for digits, 4 with --quick)",
    )
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    parser.add_argument(
        "--quick", action="store_true", help="a few epochs on a little data (for tests)"
    )
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="hide the progress bar (it is shown only when stdout and stderr are terminals)",
    )
    parser.set_defaults(func=main)
    return parser
