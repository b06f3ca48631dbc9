"""``python -m minigrad draw SCRIPT.py --out DIR``: draw a script's forward and backward graphs.

``python -m minigrad draw MODEL.onnx --out DIR`` draws an ONNX model instead: the sum of its
outputs on a seeded example input (``minigrad.onnx.example_loss``; needs ``onnx``).

The script is run (like ``python SCRIPT.py`` but with ``__name__`` set to
``"__minigrad_draw__"``, so an ``if __name__ == "__main__":`` block does not run) and must
leave a Tensor named ``loss``, or define a function ``loss()`` (or ``main()``) that returns
one. Written to DIR: ``forward.dot``, ``backward.dot``, ``forward.<fmt>``, ``backward.<fmt>``.

Exit codes: 0 done, 1 the script raised, 2 no loss found, bad arguments (a script that is not
a .py or .onnx file, an ``--out`` that is a file) or an output that cannot be written, 3 the
Graphviz ``dot`` program is missing (the .dot files are still written).
"""

from __future__ import annotations

import argparse
import runpy
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from ._checks import check_out_dir, check_script, positive_int, write_error

__all__ = ["add_parser", "find_loss", "run"]

_FORMATS = ("svg", "png", "pdf")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``draw`` subcommand."""
    p = subparsers.add_parser(
        "draw",
        help="draw a script's forward and backward graphs",
        description=(
            "Run SCRIPT.py and draw the graph of its `loss` (a Tensor variable, or a function "
            "loss() or main() returning one): forward and backward, as .dot and images."
        ),
    )
    p.add_argument(
        "script",
        metavar="SCRIPT.py",
        help="Python file that defines `loss`, or an ONNX model (MODEL.onnx: the sum of its "
        "outputs on a seeded example input is drawn)",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--format", choices=_FORMATS, default="svg", help="image format (svg)")
    p.add_argument(
        "--rankdir", choices=("TB", "LR", "BT", "RL"), default="TB", help="layout direction"
    )
    p.add_argument("--collapse", action="store_true", help="one node per nn module / name_scope")
    p.add_argument(
        "--max-nodes",
        type=positive_int,
        default=None,
        help="size cap of each drawing (default 2000); larger graphs are drawn folded",
    )
    p.add_argument(
        "--strict", action="store_true", help="refuse graphs above --max-nodes instead of folding"
    )
    p.set_defaults(func=run)
    return p


def find_loss(namespace: dict[str, Any]) -> Any:
    """The loss Tensor a script's globals provide: ``loss`` (Tensor or function), or ``main()``.

    Returns None when there is none.

    >>> import minigrad as mg
    >>> find_loss({"loss": mg.tensor(1.0)}).item()
    1.0
    """
    from minigrad.tensor import Tensor

    for key in ("loss", "main"):
        value = namespace.get(key)
        if isinstance(value, Tensor):
            return value
        if callable(value):
            result = value()
            if isinstance(result, Tensor):
                return result
    return None


def _script_loss(script: Path) -> tuple[Any, int]:
    """Run a script and find its loss; returns (loss or None, exit code when None)."""
    sys.path.insert(0, str(script.resolve().parent))
    try:
        namespace = runpy.run_path(str(script), run_name="__minigrad_draw__")
        loss = find_loss(namespace)
    except SystemExit as e:
        print(f"minigrad draw: {script} called exit({e.code})", file=sys.stderr)
        return None, 1
    except Exception:
        traceback.print_exc()
        print(f"minigrad draw: {script} raised an error (traceback above)", file=sys.stderr)
        return None, 1
    finally:
        sys.path.remove(str(script.resolve().parent))
    if loss is None:
        print(
            f"minigrad draw: {script} defines no loss. Leave a Tensor in a variable named "
            "`loss`, or define a function `loss()` (or `main()`) that returns one.",
            file=sys.stderr,
        )
        return None, 2
    return loss, 0


def _onnx_loss(path: Path) -> tuple[Any, int]:
    """The sum of an ONNX model's outputs on a seeded example input (needs ``onnx``)."""
    try:
        import onnx  # noqa: F401  (only to say clearly what is missing)

        from minigrad.onnx import example_loss
    except ImportError:
        print(
            "minigrad draw: drawing an ONNX model needs the onnx package: "
            'pip install "minigrad-cnn[onnx]"',
            file=sys.stderr,
        )
        return None, 2
    try:
        return example_loss(path), 0
    except Exception as e:
        print(f"minigrad draw: cannot run {path}: {type(e).__name__}: {e}", file=sys.stderr)
        return None, 1


def run(args: argparse.Namespace) -> int:
    """Run the script (or an ONNX model), draw its loss, write the files; returns the exit code."""
    from minigrad import graph
    from minigrad.graph.render import LAYOUT_TIMEOUT

    script = Path(args.script)
    problem = check_script(script) or check_out_dir(args.out, "the drawings")
    if problem:
        print(f"minigrad draw: {problem}", file=sys.stderr)
        return 2
    if script.suffix.lower() == ".onnx":
        loss, code = _onnx_loss(script)
    else:
        loss, code = _script_loss(script)
    if loss is None:
        return code
    out = Path(args.out)
    options: dict[str, Any] = {
        "rankdir": args.rankdir,
        "collapse": args.collapse,
        "strict": args.strict,
    }
    if args.max_nodes is not None:
        options["max_nodes"] = args.max_nodes
    try:
        # both drawings are built before rendering, so the backward one still has the
        # graph's saved state and shows gradient values
        drawings = {
            "forward": graph.draw(loss, **options),
            "backward": graph.draw(loss, backward=True, **options),
        }
    except graph.GraphTooLargeError as e:
        print(f"minigrad draw: {e} (use --collapse or --max-nodes)", file=sys.stderr)
        return 2
    written = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, drawing in drawings.items():
            (out / f"{name}.dot").write_text(drawing.source, encoding="utf-8")
        deadline = time.monotonic() + LAYOUT_TIMEOUT  # for both drawings together
        for name, drawing in drawings.items():
            left = max(deadline - time.monotonic(), 0.1)
            try:
                target = out / f"{name}.{args.format}"
                written.append(graph.render(drawing, target, args.format, layout_timeout=left))
            except graph.GraphvizNotFoundError as e:
                print(f"minigrad draw: {e}", file=sys.stderr)
                print(f"minigrad draw: wrote {out / 'forward.dot'} and {out / 'backward.dot'}")
                return 3
            except graph.GraphTooLargeError as e:
                print(f"minigrad draw: {e} (CLI: --max-nodes, --collapse)", file=sys.stderr)
                return 2
            except RuntimeError as e:  # dot crashed or was killed
                print(f"minigrad draw: {e}", file=sys.stderr)
                return 1
    except OSError as e:
        print(f"minigrad draw: {write_error(out, e)}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    return 0
