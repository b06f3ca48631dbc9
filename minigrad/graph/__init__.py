"""See a computation: its forward graph, its backward pass, and gradients of gradients.

>>> import minigrad as mg
>>> x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
>>> loss = (x * x).sum()
>>> G = mg.graph.to_networkx(loss)                 # data, for networkx analysis
>>> G.number_of_nodes(), G.number_of_edges()       # x, mul, x*x, sum, loss; 2 args + 2 outputs
(5, 5)
>>> fwd = mg.graph.draw(loss)                      # a graphviz.Digraph (shows inline in Jupyter)
>>> bwd = mg.graph.draw(loss, backward=True)       # gradients, with values (before backward())
>>> mg.graph.render(loss, "out/loss.svg")          # doctest: +SKIP

- :func:`to_networkx` builds a ``networkx.MultiDiGraph`` (one edge per argument).
- :func:`draw` returns a Graphviz drawing; its ``.source`` (DOT text) needs no binary.
- :func:`render` writes SVG/PNG/PDF and a ``.dot`` file, and explains a missing Graphviz.
- :mod:`minigrad.graph.style` holds the colours, shapes and label formatting.

The package is one pipeline. :mod:`.trace` is the only module that reads what the engine
recorded (a tensor's node, the engine's backward pass, watched); :mod:`.build` turns that into
graph data (:mod:`.data`: nodes and edges; :mod:`.forward`, :mod:`.backward`, :mod:`.views`,
:mod:`.shrink`), and the views read the data: DOT (:mod:`.dot`, :mod:`.labels`,
:mod:`.dot_text`, :mod:`.render`), networkx (:mod:`.export`, :mod:`.node_facts`), the explorer
page (:mod:`.explorer`), explain (:mod:`.explain`, :mod:`.cells`, :mod:`.grad_cells`) and the
recorder's timeline (:mod:`.recorder`).
"""

from __future__ import annotations

from . import style
from .cells import Explanation
from .explain import explain  # eager: the submodule would shadow the function
from .export import to_networkx
from .render import GraphDrawing, GraphTooLargeError, GraphvizNotFoundError, draw, render

# the explorer page and the training recorder load on first use
_LAZY = {
    "explore": "minigrad.graph.explorer",
    "Explorer": "minigrad.graph.explorer",
    "Recorder": "minigrad.graph.recorder",
    "Playground": "minigrad.graph.playground_widget",
}


def __getattr__(name: str) -> object:
    import importlib

    if name not in _LAZY:
        raise AttributeError(f"module 'minigrad.graph' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    # the public names, the lazy ones included, without importing them (tab completion)
    return sorted(__all__)


__all__ = [
    "Explanation",
    "Explorer",
    "GraphDrawing",
    "Recorder",
    "GraphTooLargeError",
    "GraphvizNotFoundError",
    "Playground",
    "draw",
    "explain",
    "explore",
    "render",
    "style",
    "to_networkx",
]
