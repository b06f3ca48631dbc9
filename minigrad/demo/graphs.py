"""Drawings of one training step: the forward and the backward graph, as DOT text and SVG,
and the explorer page of that step."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import graph
from ..graph.explorer import explore
from ..tensor import Tensor

__all__ = ["GRAPHVIZ_HINT", "graphviz_note", "write_step_graphs"]

GRAPHVIZ_HINT = (
    "install the Graphviz 'dot' program to turn them into SVG: "
    "'sudo apt-get install graphviz' (Debian/Ubuntu), 'brew install graphviz' (macOS), "
    "'conda install graphviz', or see https://graphviz.org/download/; "
    "then run 'dot -Tsvg FILE.dot -o FILE.svg'"
)
"""How to get the Graphviz binary, printed when rendering SVG is not possible."""


def graphviz_note(files: dict[str, Path]) -> str:
    """The line the demo prints when only the DOT text of the graphs could be written."""
    dots = ", ".join(str(files[k]) for k in ("forward_graph_dot", "backward_graph_dot"))
    return (
        f"Graphviz is not installed: wrote the graphs as DOT text ({dots}) and no explorer "
        f"page; {GRAPHVIZ_HINT}"
    )


def write_step_graphs(
    model: Any,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    x: np.ndarray,
    y: np.ndarray,
    out_dir: str | os.PathLike[str],
    prefix: str = "",
    title: str = "one training step",
    page_prefix: str | None = None,
    classes: Sequence[str] | None = None,
) -> tuple[dict[str, Path], bool]:
    """Draw the forward and the backward graph of one training step on the batch (x, y).

    Runs the model and the loss, writes ``{prefix}forward_graph.dot`` and
    ``{prefix}backward_graph.dot`` (DOT text, no Graphviz binary needed) and, when the
    Graphviz ``dot`` program is installed, the matching ``.svg`` files. The backward graph
    shows the gradient values of this step (recomputed by the drawing, before any
    ``backward()``); no ``.grad`` is touched and the model is unchanged.

    With Graphviz, also writes ``{page_prefix}explorer.html`` (``page_prefix`` defaults to
    ``prefix``), the explorer page of the step
    (:func:`minigrad.graph.explore`). Returns the written files by role ("forward_graph",
    "backward_graph", "forward_graph_dot", "backward_graph_dot", "explorer") and whether
    Graphviz was missing.

    >>> files, missing = write_step_graphs(model, loss_fn, x[:4], y[:4], "out")   # doctest: +SKIP
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    images, labels = Tensor(x), Tensor(y)
    images.name, labels.name = "images", "labels"
    loss = loss_fn(model(images), labels)
    loss.name = "loss"
    files: dict[str, Path] = {}
    missing = False
    # the backward graph is drawn before backward() runs, while the saved state is still there
    for role, backward in (("forward_graph", False), ("backward_graph", True)):
        view = "backward" if backward else "forward"
        digraph = graph.draw(loss, backward=backward, title=f"{title}: {view}")
        dot_path = out / f"{prefix}{role}.dot"
        dot_path.write_text(digraph.source, encoding="utf-8")
        files[f"{role}_dot"] = dot_path
        if missing:
            continue
        svg_path = out / f"{prefix}{role}.svg"
        try:
            graph.render(digraph, svg_path, format="svg")
        except graph.GraphvizNotFoundError:
            missing = True
            continue
        files[role] = svg_path
    if not missing:  # the explorer page of the same step; its layout is Graphviz's too
        page = explore(loss, classes=classes, title=title)
        pages = prefix if page_prefix is None else page_prefix
        files["explorer"] = Path(page.save(out / f"{pages}explorer.html"))
    return files, missing
