"""The first stage of every inspection: what the engine recorded, forward and backward.

Outside the engine, this is the one module that reads a Tensor's node: :func:`producer` (and
:func:`origin`, which also finds a forward-only call) is how the rest of :mod:`minigrad.graph`,
the ONNX exporter and ``opcheck`` get it. Everything else reads nodes through their read-only
public face (``op``, ``name``, ``inputs``, ``attrs``, ``saved``, ``output``, ``scope``,
``needs_input_grad``, ``generation``, ``seq``) and builds on the data made here:

- :func:`walk`: the recorded nodes reachable from a tensor, in creation order (iterative,
  linear in the graph's size), and each node's output;
- :func:`watch`: the engine's own backward pass, watched: every step, contribution and sum in
  its order (:class:`Trace`). It runs :func:`minigrad.autograd.traverse` (the one loop
  ``backward()`` uses) with ``retain_graph=True, accumulate=False, hooks=False``: nothing is
  freed, nothing lands in ``.grad``, no user hook runs. The backward drawing reads its
  gradients from a Trace, and the explorer replays its events one by one.

>>> import minigrad as mg
>>> x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
>>> y = (x * x).sum()
>>> nodes, outputs = walk(y)
>>> [c.name for c in nodes], watch(y, nodes).status
(['mul', 'sum'], 'computed')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd import BackwardObserver, traverse
from ..op import Context
from ..tensor import Tensor

__all__ = ["Event", "Trace", "edge_grads", "producer", "record", "walk", "watch"]


def producer(t: Tensor) -> Context | None:
    """The node (op call) that produced ``t``; None for a leaf.

    >>> import minigrad as mg
    >>> x = mg.tensor([1.0, 2.0], requires_grad=True)
    >>> producer(x * 2).name, producer(x)
    ('mul', None)
    """
    return t._node


def walk(root: Tensor) -> tuple[list[Context], dict[Context, Tensor]]:
    """Every recorded node reachable from ``root`` in creation order, and each one's output.

    A node keeps its output only through a weak reference, so outputs are collected from the
    consumers' ``inputs`` tuples (and ``root`` itself) as the walk meets them. A ``root``
    computed from inputs that do not require grad is walked through its forward-only calls.
    """
    forward_only = root._node is None
    # no input required grad: the calls kept for inspectors (see explain)
    start = getattr(root, "_origin", None) if forward_only else root._node
    if start is None:
        return [], {}
    outputs: dict[Context, Tensor] = {start: root}
    stack = [start]
    while stack:
        ctx = stack.pop()
        for t in ctx.inputs:
            if t is None:
                continue
            c = t._node if not forward_only else getattr(t, "_origin", None)
            if c is not None and c not in outputs:
                outputs[c] = t
                stack.append(c)
    # seq is a global creation counter: sorting by it is a topological order, the same one
    # every time the same program runs
    return sorted(outputs, key=lambda c: c.seq), outputs


def origin(t: Tensor) -> Context | None:
    """The call that produced ``t``: its recorded node, or else the forward-only call kept
    when none of its inputs required grad (see :func:`minigrad.autograd.apply`); None for a
    leaf the user made."""
    return t._node if t._node is not None else getattr(t, "_origin", None)


@dataclass
class Event:
    """One thing the engine did: "seed", "step" (a node's backward ran), "accumulate" (a
    gradient was added to a running sum) or "leaf" (a leaf's final gradient)."""

    kind: str
    index: int  # the engine's step index (-1 for seeds)
    node: Context | None = None
    tensor: Tensor | None = None
    grad: np.ndarray | None = None  # step: incoming gradient; leaf/seed: the gradient
    input_grads: tuple[np.ndarray | None, ...] = ()
    contribution: np.ndarray | None = None
    total: np.ndarray | None = None


@dataclass
class Trace:
    """What one watched pass produced, plus why it could not run (``status``)."""

    status: str  # "computed", "off", "freed" or "unavailable: <reason>"
    # the forward walk (:func:`record` fills these): the nodes in creation order, their outputs
    nodes: list[Context] = field(default_factory=list)
    outputs: dict[Context, Tensor] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    totals: dict[int, np.ndarray] = field(default_factory=dict)  # id(tensor) -> gradient
    # id(tensor) -> every gradient sent to it, in order: (who, array, sending node, input position)
    contributions: dict[int, list[tuple[str, np.ndarray, Context | None, int]]] = field(
        default_factory=dict
    )


def _arr(g: Any) -> np.ndarray:
    return g.data if isinstance(g, Tensor) else np.asarray(g)


def _maybe(g: Any) -> np.ndarray | None:
    return None if g is None else _arr(g)


class _Recorder(BackwardObserver):
    def __init__(self, trace: Trace) -> None:
        self.trace = trace

    def _send(self, t: Tensor, g: np.ndarray, who: str, node: Context | None, pos: int) -> None:
        self.trace.contributions.setdefault(id(t), []).append((who, g, node, pos))

    def seed(self, root: Tensor, grad: Tensor) -> None:
        g = _arr(grad)
        self.trace.events.append(Event("seed", -1, tensor=root, grad=g))
        self.trace.totals[id(root)] = g
        self._send(root, g, "seed", None, -1)

    def step(self, index: int, node: Context, grad: Tensor, input_grads: list) -> None:
        g = _arr(grad)
        ins = tuple(_maybe(x) for x in input_grads)
        out = node.output
        self.trace.events.append(
            Event("step", index, node=node, tensor=out, grad=g, input_grads=ins)
        )
        if out is not None:
            self.trace.totals[id(out)] = g
        for pos, (t, gi) in enumerate(zip(node.inputs, ins)):
            if t is not None and gi is not None:
                self._send(t, gi, f"{node.name} backward (input {pos})", node, pos)

    def accumulate(self, index: int, target: Any, contribution: Tensor, total: Tensor) -> None:
        t = target.output if isinstance(target, Context) else target
        node = target if isinstance(target, Context) else None
        self.trace.events.append(
            Event(
                "accumulate",
                index,
                node=node,
                tensor=t,
                contribution=_arr(contribution),
                total=_arr(total),
            )
        )

    def leaf(self, tensor: Tensor, grad: Tensor) -> None:
        g = _arr(grad)
        self.trace.events.append(Event("leaf", -1, tensor=tensor, grad=g))
        self.trace.totals[id(tensor)] = g


def watch(root: Tensor, ctxs: list[Context]) -> Trace:
    """Run the engine's traversal from ``root`` and record it (``ctxs``: the graph's nodes)."""
    if not root.requires_grad:
        return Trace("off")
    if any(c.freed for c in ctxs):
        return Trace("freed")
    trace = Trace("computed")
    try:
        # NaN and Inf are what the page is there to show: no floating-point warnings
        with np.errstate(all="ignore"):
            _traverse(root, trace)
    except Exception as e:  # an op whose backward fails: the page still shows structure
        stepped = {ev.node for ev in trace.events if ev.kind == "step"}
        order = sorted(ctxs, key=lambda c: (-c.generation, -c.seq))  # the engine's order
        name = next((c.name for c in order if c not in stepped), "?")
        return Trace(f"unavailable: op '{name}' backward raised {type(e).__name__}: {e}")
    return trace


def record(root: Tensor, backward: bool = True, walked: Trace | None = None) -> Trace:
    """The one traversal of an inspection: the forward walk from ``root`` and, with
    ``backward``, the engine's backward pass watched (else the Trace's status is "off").
    ``walked``: a Trace of ``root`` recorded without the backward pass, whose walk is reused.

    >>> import minigrad as mg
    >>> x = mg.tensor([1.0, 2.0], requires_grad=True)
    >>> rec = record((x * x).sum())
    >>> [c.name for c in rec.nodes], [ev.kind for ev in rec.events]
    (['mul', 'sum'], ['seed', 'step', 'step', 'accumulate', 'leaf'])
    """
    nodes, outputs = walk(root) if walked is None else (walked.nodes, walked.outputs)
    trace = watch(root, nodes) if backward else Trace("off")
    trace.nodes, trace.outputs = nodes, outputs
    return trace


def edge_grads(trace: Trace) -> dict[tuple[Context, int], np.ndarray]:
    """The gradient each step sent along each (node, input position) edge."""
    out: dict[tuple[Context, int], np.ndarray] = {}
    for ev in trace.events:
        if ev.kind == "step" and ev.node is not None:
            for i, g in enumerate(ev.input_grads):
                if g is not None:
                    out[(ev.node, i)] = g
    return out


def _traverse(root: Tensor, trace: Trace) -> None:
    traverse(
        [root],
        # a non-scalar root starts from ones, as the drawings assume
        [None if root.size == 1 else np.ones(root.shape, dtype=root.dtype)],
        retain_graph=True,
        accumulate=False,
        hooks=False,
        observer=_Recorder(trace),
    )
