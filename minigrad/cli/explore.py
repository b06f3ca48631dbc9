"""``python -m minigrad explore SCRIPT.py --out FILE.html``: the explorer page of a script's loss.

The script runs as for ``draw`` (``__name__`` is ``"__minigrad_draw__"``) and must leave a
Tensor named ``loss``, or define ``loss()`` (or ``main()``) returning one. A path ending in
``.onnx`` is loaded as a model instead and explored on an example input.

Exit codes: 0 done, 1 the script raised, 2 no loss found, bad arguments (a script that is not
a .py or .onnx file, an ``--out`` that is a directory) or a page that cannot be written, 3 the
Graphviz ``dot`` program is missing.
"""

from __future__ import annotations

import argparse
import runpy
import sys
import traceback
from pathlib import Path
from typing import Any

from ._checks import check_out_file, check_script, positive_int, write_error
from .draw import find_loss

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``explore`` subcommand."""
    p = subparsers.add_parser(
        "explore",
        help="write the explorer page (one offline HTML file) of a script's loss",
        description=(
            "Run SCRIPT.py (or load MODEL.onnx) and write one offline HTML page to explore "
            "its loss: forward and backward graphs, values, gradients, window arithmetic, "
            "the engine's backward steps."
        ),
    )
    p.add_argument("script", metavar="SCRIPT.py", help="Python file that defines `loss`, or .onnx")
    p.add_argument("--out", required=True, metavar="FILE.html", help="the page to write")
    p.add_argument("--samples", type=positive_int, default=2, help="batch samples shown (2)")
    p.add_argument(
        "--rankdir", choices=("TB", "LR", "BT", "RL"), default="TB", help="layout direction"
    )
    p.add_argument(
        "--max-nodes",
        type=positive_int,
        default=None,
        help="size cap of each view (default 2000); larger graphs are folded, and refused "
        "when folding cannot bring them under it",
    )
    p.set_defaults(func=run)
    return p


def _script_loss(script: Path) -> Any:
    sys.path.insert(0, str(script.resolve().parent))
    try:
        return find_loss(runpy.run_path(str(script), run_name="__minigrad_draw__"))
    finally:
        sys.path.remove(str(script.resolve().parent))


def _onnx_loss(path: Path) -> Any:
    try:
        from minigrad import onnx as mg_onnx
    except ImportError as e:
        raise RuntimeError(
            f"exploring {path} needs the onnx package: pip install 'minigrad-cnn[onnx]' ({e})"
        ) from e
    example = getattr(mg_onnx, "example_loss", None)
    if example is None:
        raise RuntimeError("this minigrad's ONNX support has no example_loss(path)")
    return example(str(path))


def run(args: argparse.Namespace) -> int:
    """Run the script (or load the model), build the page, write it; returns the exit code."""
    from minigrad import graph
    from minigrad.graph import explorer  # noqa: F401  (graph.explorer.explore, typed)

    script = Path(args.script)
    problem = check_script(script) or check_out_file(args.out)
    if problem:
        print(f"minigrad explore: {problem}", file=sys.stderr)
        return 2
    try:
        loss = _onnx_loss(script) if script.suffix.lower() == ".onnx" else _script_loss(script)
    except SystemExit as e:
        print(f"minigrad explore: {script} called exit({e.code})", file=sys.stderr)
        return 1
    except Exception:
        traceback.print_exc()
        print(f"minigrad explore: {script} raised an error (traceback above)", file=sys.stderr)
        return 1
    if loss is None:
        print(
            f"minigrad explore: {script} defines no loss. Leave a Tensor in a variable named "
            "`loss`, or define a function `loss()` (or `main()`) that returns one.",
            file=sys.stderr,
        )
        return 2
    options: dict[str, Any] = {"samples": args.samples, "rankdir": args.rankdir}
    if args.max_nodes is not None:
        options["max_nodes"] = args.max_nodes
    try:
        ex = graph.explorer.explore(loss, **options)
    except graph.GraphvizNotFoundError as e:
        print(f"minigrad explore: {e}", file=sys.stderr)
        return 3
    except graph.GraphTooLargeError as e:
        print(f"minigrad explore: {e}", file=sys.stderr)
        return 2
    try:
        path = ex.save(args.out)
    except OSError as e:
        print(f"minigrad explore: {write_error(args.out, e)}", file=sys.stderr)
        return 2
    print(f"wrote {path} ({len(ex.html.encode('utf-8')) / 1e6:.2f} MB)")
    return 0
