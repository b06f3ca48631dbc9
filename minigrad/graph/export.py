"""networkx export: the graph of a tensor as a ``networkx.MultiDiGraph`` with every fact.

A view of the graph data :func:`.build.build` makes from one :class:`.trace.Trace`: one walk of
the graph and at most one backward pass of the engine per call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..tensor import Tensor
from .build import build
from .data import gc_paused
from .node_facts import edge_facts, node_facts, summary_cache
from .trace import Trace

if TYPE_CHECKING:
    import networkx

__all__ = ["to_networkx"]


def to_networkx(
    t: Tensor,
    backward: bool | str = False,
    *,
    grads: Mapping[Tensor, Any] | None = None,
    values: bool = True,
    collapse: bool = False,
    show_tensors: bool = True,
    trace: Trace | None = None,
) -> networkx.MultiDiGraph:
    """The graph of ``t`` as a networkx MultiDiGraph, for analysis.

    Forward (``backward=False``): tensor and op nodes, one edge per argument (attribute
    ``arg`` = its position), so ``x * x`` has two parallel edges, plus one edge from each op
    to its output. Node attributes: ``kind`` ("tensor" | "op"), ``op``, ``attrs``, ``shape``,
    ``dtype``, ``name``, ``role`` ("input", "parameter", "constant", "intermediate",
    "output", or the kind for other nodes), ``scope``, ``plugin``, ``grad_shape``; tensors
    also carry ``value`` (small) or ``min``/``mean``/``max``, and after backward ``grad_norm``
    and ``grad`` (small). Backward (``backward=True``): "seed", "backward", "accumulate" and
    "grad" nodes; each edge carries the gradient flowing along it (``grad_shape``,
    ``grad_norm``, ``grad``); ``G.graph["values"]`` says whether the values could be computed
    ("computed", "freed", "off" or "unavailable: ..."). ``backward="both"`` gives the
    forward graph plus a reversed "gradient" edge along each differentiable edge (what
    ``draw(t, both=True)`` shows). Node ids follow traversal order.

    ``grads`` maps tensors to gradients you collected yourself (shown when the graph's saved
    state was freed); ``values=False`` skips recomputing gradient values; ``collapse`` and
    ``show_tensors`` give the same views as :func:`minigrad.graph.draw`. ``trace``: what
    :func:`minigrad.graph.trace.record` recorded from ``t``, so that several views of one
    computation share one walk and one backward pass (without it, one is recorded here).

    >>> import minigrad as mg
    >>> x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    >>> G = mg.graph.to_networkx(x * x)      # x -mul-> y: two parallel edges x -> mul
    >>> sorted(d["arg"] for _, _, d in G.in_edges("op1", data=True))
    [0, 1]
    """
    import networkx as nx

    data = build(
        t,
        backward,
        values=values,
        grads=grads,
        collapse_scopes=collapse,
        show_tensors=show_tensors,
        trace=trace,
    )
    G = nx.MultiDiGraph(view=data.view, values=data.values)
    with gc_paused(), summary_cache():
        G.add_nodes_from((n.id, node_facts(n)) for n in data.nodes)
        G.add_edges_from((e.src.id, e.dst.id, edge_facts(e)) for e in data.edges)
    return G
