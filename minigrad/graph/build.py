"""Graph data for drawings and analysis, gathered in one place.

Building is separate from drawing. The jobs live in their own modules, and this one
offers them together (``from minigrad.graph.build import build, node_facts``):

- :mod:`~minigrad.graph.data`: :class:`Node`, :class:`Edge`, :class:`GraphData`, the walk;
- :mod:`~minigrad.graph.forward` and :mod:`~minigrad.graph.backward`: the two views, the
  second reading gradient values from the engine's own traversal;
- :mod:`~minigrad.graph.views` and :mod:`~minigrad.graph.fold`: views that fold the graph
  (ops only, one node per module, runs of the same op);
- :mod:`~minigrad.graph.facts` and :mod:`~minigrad.graph.export`: the facts users analyse
  (:func:`node_facts`, :func:`edge_facts`) and :func:`to_networkx`;
- :mod:`~minigrad.graph.assemble`: :func:`build`, one view's data.

:mod:`minigrad.graph.render` turns the same data into Graphviz.

>>> import minigrad as mg
>>> x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
>>> [n.kind for n in build((x * x).sum()).nodes]
['tensor', 'op', 'tensor', 'op', 'tensor']
"""

from __future__ import annotations

from .assemble import build
from .backward import add_gradients, build_backward, gradients, observe_backward
from .data import (
    MAX_VALUES,
    Builder,
    Edge,
    GraphData,
    Node,
    dtype_name,
    gc_paused,
    leaf_role,
    leaf_scopes,
    values_freed,
    walk,
)
from .export import to_networkx
from .facts import (
    array_summary,
    edge_facts,
    node_facts,
    same_value,
    shown_attrs,
    summary_cache,
    to_plain,
)
from .forward import build_forward, mark_stale_grads
from .views import collapse, hide_tensors

# the names these had when they lived here
_gc_paused = gc_paused
_walk = walk

__all__ = [
    "MAX_VALUES",
    "Builder",
    "Edge",
    "GraphData",
    "Node",
    "add_gradients",
    "array_summary",
    "build",
    "build_backward",
    "build_forward",
    "collapse",
    "dtype_name",
    "edge_facts",
    "gc_paused",
    "gradients",
    "hide_tensors",
    "leaf_role",
    "leaf_scopes",
    "mark_stale_grads",
    "node_facts",
    "observe_backward",
    "same_value",
    "shown_attrs",
    "summary_cache",
    "to_networkx",
    "to_plain",
    "values_freed",
    "walk",
]
