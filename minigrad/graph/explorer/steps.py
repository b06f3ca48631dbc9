"""The backward view's numbers and the step-through, from the engine's events.

Each backward-view edge gets the gradient the engine sent along it (a step's gradient for
one input, the seed, or a running sum's total); each event becomes one step of the
slider, naming the nodes it touched and the edges it lit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data import GraphData, Node
from ..trace import Trace
from . import encode
from .stepmath import step_lines

__all__ = ["backward_grads", "steps_json"]


def _index(data: GraphData) -> tuple[dict, dict, dict, Node | None]:
    by_ctx: dict[Any, Node] = {}
    acc: dict[int, Node] = {}
    ends: dict[int, Node] = {}
    seed = None
    for n in data.nodes:
        if n.kind == "backward" and n.ctx is not None:
            by_ctx[n.ctx] = n
        elif n.kind == "accumulate" and n.tensor is not None:
            acc[id(n.tensor)] = n
        elif n.kind == "grad" and n.tensor is not None:
            ends[id(n.tensor)] = n
        elif n.kind == "seed":
            seed = n
    return by_ctx, acc, ends, seed


def backward_grads(data: GraphData, trace: Trace) -> dict[int, np.ndarray]:
    """id(edge) -> the gradient the engine sent along it."""
    steps = {e.node: e for e in trace.events if e.kind == "step"}
    out: dict[int, np.ndarray] = {}
    for e in data.edges:
        g = None
        if e.src.kind == "seed" and e.tensor is not None:
            g = trace.totals.get(id(e.tensor))
        elif e.src.kind == "backward" and e.arg is not None:
            ev = steps.get(e.src.ctx)
            if ev is not None and e.arg < len(ev.input_grads):
                g = ev.input_grads[e.arg]
        elif e.src.kind == "accumulate" and e.tensor is not None:
            g = trace.totals.get(id(e.tensor))
        if g is not None:
            out[id(e)] = g
    return out


def steps_json(data: GraphData, trace: Trace, reg: Any) -> list[dict[str, Any]]:
    """One entry per engine event, in the engine's order: what the slider replays."""
    by_ctx, acc, ends, seed = _index(data)
    out_edges: dict[str, list[int]] = {}
    into: dict[str, list[int]] = {}
    for i, e in enumerate(data.edges):
        out_edges.setdefault(e.src.id, []).append(i)
        into.setdefault(e.dst.id, []).append(i)
    uses: dict[int, int] = {}
    seen: dict[int, int] = {}
    for ev in trace.events:
        if ev.kind == "accumulate" and ev.tensor is not None:
            uses[id(ev.tensor)] = uses.get(id(ev.tensor), 1) + 1
    steps = []
    for ev in trace.events:
        t = ev.tensor
        entry: dict[str, Any] = {"kind": ev.kind, "index": ev.index, "tensor": reg.tensor(t)}
        node = None
        if ev.kind == "seed":
            node = seed
            entry["grad"] = encode.stats(ev.grad)
        elif ev.kind == "step":
            node = by_ctx.get(ev.node)
            entry["call"] = reg.call(ev.node)
            entry["grad"] = encode.stats(ev.grad)
            entry["input_grads"] = [encode.stats(g) for g in ev.input_grads]
            lines = step_lines(ev)  # the formula with one element's numbers
            entry["math"] = [line for line, _, _ in lines]
            entry["math_values"] = [encode.num(v) for _, v, _ in lines]  # the engine's
            entry["math_quiz"] = [hidden for _, _, hidden in lines]  # the value as "?"
        elif ev.kind == "accumulate" and t is not None:
            node = acc.get(id(t))
            k = seen[id(t)] = seen.get(id(t), 1) + 1
            entry.update(
                contribution=encode.stats(ev.contribution),
                total=encode.stats(ev.total),
                of=[k, uses.get(id(t), k)],
            )
        elif ev.kind == "leaf" and t is not None:
            node = ends.get(id(t))
            entry["grad"] = encode.stats(ev.grad)
        entry["node"] = None if node is None else node.id
        lit: list[int] = []
        if node is not None and ev.kind in ("seed", "step"):
            lit = out_edges.get(node.id, [])
        elif node is not None and ev.kind == "leaf":
            lit = into.get(node.id, [])
        entry["edges"] = lit
        steps.append(entry)
    return steps
