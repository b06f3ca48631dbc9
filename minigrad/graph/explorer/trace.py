"""The engine's own backward pass, watched: every step, contribution and sum, in its order.

:func:`watch` runs :func:`minigrad.autograd.traverse` (the one loop ``backward()`` uses) with
``retain_graph=True, accumulate=False, hooks=False``: nothing is freed, nothing lands in
``.grad``, no user hook runs. An observer records what the engine reports. The page replays
these events one by one; their gradients are the numbers it shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ... import autograd
from ...op import Context
from ...tensor import Tensor

__all__ = ["Event", "Trace", "watch"]


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

    status: str  # "computed", "freed" or "unavailable: <reason>"
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


class _Recorder(getattr(autograd, "BackwardObserver", object)):  # type: ignore[misc]
    def __init__(self, trace: Trace) -> None:
        self.trace = trace

    def _send(self, t: Tensor, g: np.ndarray, who: str, node: Context | None, pos: int) -> None:
        self.trace.contributions.setdefault(id(t), []).append((who, g, node, pos))

    def seed(self, root: Tensor, grad: Tensor) -> None:
        g = _arr(grad)
        self.trace.events.append(Event("seed", -1, tensor=root, grad=g))
        self.trace.totals[id(root)] = g
        self._send(root, g, "seed", None, -1)

    def step(self, index: int, node: Context, grad: Tensor, input_grads: tuple) -> None:
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
    if not hasattr(autograd, "traverse") or not hasattr(autograd, "BackwardObserver"):
        return Trace("unavailable: this minigrad has no backward observer")
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
        return Trace(f"unavailable: backward raised {type(e).__name__}: {e}")
    return trace


def _traverse(root: Tensor, trace: Trace) -> None:
    autograd.traverse(
        [root],
        # a non-scalar root starts from ones, as the drawings assume
        [None if root.size == 1 else np.ones(root.shape, dtype=root.dtype)],
        retain_graph=True,
        accumulate=False,
        hooks=False,
        observer=_Recorder(trace),
    )
