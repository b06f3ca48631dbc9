"""The explorer: one offline HTML page to see a step of a computation, cell by cell.

``explore(loss)`` describes the forward and backward graphs (the page lays them out with
the dagre library it carries, so no Graphviz program is needed), runs the engine's own
backward traversal once under an observer (nothing is freed or accumulated), and writes
everything into one HTML file with plain JavaScript: click a node for its values and
gradient as heatmaps, click an output cell of conv2d or a pooling op for its arithmetic,
replay the backward pass step by step, see NaNs, dead ReLUs and gradient norms.

>>> import minigrad as mg
>>> x = mg.tensor([1.0, -2.0], requires_grad=True, name="x")
>>> ex = mg.graph.explore((x * x).sum())
>>> ex.html.startswith("<!DOCTYPE html>"), "<script src" in ex.html, "<link" in ex.html
(True, False, False)
>>> ex.save("out/step.html")            # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...tensor import Tensor
from ..dot_text import visible
from ..drawing import check_node_count
from ..render import _check_options, _fitting_data
from ..trace import Trace, record
from .page import inline_html, render_page
from .payload import graph_payload
from .picture import graph_picture

__all__ = ["Explorer", "explore"]

# the page has its own title: a drawing's title would be repeated in every cluster
_DRAW_OPTIONS = ("rankdir", "max_nodes", "max_values", "clusters")

#: how to make room for a larger graph (``n``: its node count after folding)
SIZE_HINT = (
    "pass max_nodes={n} (CLI: --max-nodes {n}) to lay it out anyway, or explore a smaller "
    "part of the computation (a block's output instead of the whole loss)"
)


class Explorer:
    """One explorer page: ``.html`` is the text, ``.save(path)`` writes it, and Jupyter shows
    it inline (in an ``<iframe srcdoc>``, which also works in nbconvert HTML and VS Code).

    A notebook also keeps ``.picture``, a static SVG of the page (the network view of the
    first sample, or the loss curve), for viewers that run no scripts."""

    def __init__(
        self, html: str, title: str = "minigrad explorer", picture: str | None = None
    ) -> None:
        self.html = html
        self.title = visible(title)  # a name's lone surrogate cannot be written as UTF-8
        self.picture = picture

    def save(self, path: str | os.PathLike) -> str:
        """Write the page (folders are created); returns the path."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(self.html, encoding="utf-8")
        return str(out)

    def _repr_html_(self) -> str:
        return inline_html(self.html, self.title)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        bundle = {"text/html": self._repr_html_(), "text/plain": repr(self)}
        if self.picture:
            bundle["image/svg+xml"] = self.picture
        return bundle

    def __repr__(self) -> str:
        return f"<Explorer {self.title!r}: {len(self.html.encode('utf-8')):,} bytes>"


def explore(
    t: Tensor,
    backward: bool = True,
    classes: Sequence[str] | None = None,
    quiz: bool = False,
    **options: Any,
) -> Explorer:
    """The explorer page for the computation that produced ``t`` (before or after backward).

    The page opens on the network view: the input and one column per layer (the model's
    modules by display name, or the ``mg.ops`` calls from the input to ``t``), every
    channel of a feature map as a picture, dense units as bars, and with a cross-entropy or
    log loss the probabilities, the predicted class and the true label; ``classes`` names
    the classes. ``quiz=True`` opens in predict-then-reveal mode. A forward computed
    without ``requires_grad`` works too (it has no backward to show).

    Options: ``samples`` (how many batch samples the pictures keep, default 2),
    ``max_elements`` (per array, after that a stride subsamples it, default 16384),
    ``title``, and the drawing options ``rankdir``, ``max_nodes``, ``max_values``,
    ``clusters`` (see :func:`minigrad.graph.draw`). ``backward=False`` leaves out the
    backward view and the step-through.

    Size: ``max_nodes`` (default 2000 per view, as for ``draw``) bounds what the page lays
    out: a larger graph is folded as :func:`~minigrad.graph.draw` folds it, and one that
    folding cannot bring under the cap is refused at once with
    :class:`~minigrad.graph.GraphTooLargeError`, before any work (pass a larger
    ``max_nodes`` to lay it out anyway).
    """
    if not isinstance(t, Tensor):
        raise TypeError(f"explore: expected a minigrad Tensor, got {type(t).__name__}")
    known = {"samples", "max_elements", "title", *_DRAW_OPTIONS}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(
            f"explore() got unknown option(s) {unknown}; valid options are {sorted(known)}"
        )
    shape = "scalar" if t.ndim == 0 else str(tuple(t.shape))
    title = options.get("title") or f"minigrad explorer: {t.name or 'output'}, {shape} {t.dtype}"
    draw_options = {k: options[k] for k in _DRAW_OPTIONS if k in options}
    walked = record(t, backward=False)  # the size check needs the structure only
    _check_size(t, backward, draw_options, walked)
    extra: dict[str, Any] = {k: options[k] for k in ("samples", "max_elements") if k in options}
    if classes is not None:
        classes = [str(c) for c in classes]
    trace = record(t, backward, walked=walked)
    payload = {
        "graph": graph_payload(t, backward, trace=trace, classes=classes, **extra, **draw_options)
    }
    payload["graph"]["quiz"] = bool(quiz)
    return Explorer(render_page(payload, title), title, graph_picture(payload["graph"], title))


def _check_size(t: Tensor, backward: bool, draw_options: dict[str, Any], walked: Trace) -> None:
    """Refuse up front a graph whose drawings would stay above ``max_nodes`` after folding:
    counting takes a graph build, laying out and drawing thousands of nodes would keep the
    page busy for minutes."""
    opts = _check_options({**draw_options, "show_values": False})
    for mode, what in ((False, "the forward graph"), (True, "the backward graph")):
        if mode and not (backward and t.requires_grad):
            continue
        n = len(_fitting_data(t, mode, opts, walked).nodes)
        check_node_count(n, opts["max_nodes"], "explore()", what, hint=SIZE_HINT.format(n=n))
