"""The page's data for one computation: graphs to lay out, tensors, op calls, backward steps.

Everything is computed here, once, from the engine's objects: the drawings' node ids
(``t0``, ``op1``, ``bw3`` ...) key the nodes; tensors and op calls get their own keys
(``T0``, ``C0`` ...) so forward and backward nodes share one copy of each array; the
backward steps are the events of the engine's own traversal (:mod:`.trace`).
"""

from __future__ import annotations

import importlib.metadata
from typing import Any

import numpy as np

from ...op import Context, op_spec
from ...tensor import Tensor
from ..build import build
from ..data import GraphData, Node, leaf_role
from ..node_facts import shown_attrs, to_plain
from ..trace import Trace, origin, producer, record
from . import encode
from .layout import drawing_json
from .network import network_json
from .overlays import health
from .stepmath import plain_words
from .steps import backward_grads, steps_json
from .windows import window_of

__all__ = ["graph_payload"]


def _version(plugin: str | None) -> str | None:
    if not plugin:
        return None
    dist, _, version = plugin.partition(" ")  # "name" or "name version"
    if version:
        return version
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _freed(t: Tensor) -> bool:
    return bool(getattr(t, "values_freed", False))


class _Registry:
    """Keys tensors and calls, and encodes each array once."""

    def __init__(self, root: Tensor, trace: Trace, samples: int, max_elements: int) -> None:
        self.root, self.trace = root, trace
        self.samples, self.max_elements = samples, max_elements
        self.tensors: dict[int, tuple[str, Tensor]] = {}
        self.calls: dict[Context, str] = {}
        self.order: dict[Context, int] = {}
        self.out: dict[str, Any] = {"tensors": {}, "calls": {}}
        self.pending: list[tuple[dict[str, Any], Context]] = []

    def flush(self) -> None:
        """Key the calls that contributions name (a loop, so any depth of graph works)."""
        while self.pending:
            item, node = self.pending.pop()
            item["call"] = self.call(node)

    def view(self, a: np.ndarray, batch: bool) -> dict[str, Any]:
        return encode.tensor_view(a, self.samples if batch else 1 << 30, self.max_elements)

    def tensor(self, t: Tensor | None) -> str | None:
        if t is None:
            return None
        hit = self.tensors.get(id(t))
        if hit is not None:
            return hit[0]
        key = f"T{len(self.tensors)}"
        self.tensors[id(t)] = (key, t)
        # made by an op call: a recorded one, or (for a forward-only root) a forward-only one
        made = producer(t) is not None or (producer(self.root) is None and origin(t) is not None)
        role = ("output" if t is self.root else "intermediate") if made else leaf_role(t)
        batch = role != "parameter"
        entry: dict[str, Any] = {
            "name": t.name,
            "role": role,
            "shape": list(t.shape),
            "dtype": t.dtype.name,
            "op": t.op,
            "freed": _freed(t),
        }
        if not _freed(t):
            entry.update(stats=encode.stats(t.data), hist=encode.histogram(t.data))
            entry["value"] = self.view(t.data, batch)
        g = self.trace.totals.get(id(t))
        if g is None and t.grad is not None:
            g = t.grad.data
            entry["grad_from"] = ".grad"
        if g is not None:
            entry.update(grad=self.view(g, batch), grad_stats=encode.stats(g))
            entry["grad_hist"] = encode.histogram(g)
        sent = self.trace.contributions.get(id(t), [])
        if len(sent) > 1:  # used k times: the k contributions the engine summed
            entry["contributions"] = []
            for who, a, node, pos in sent:
                item = {
                    "from": who,
                    "call": None,
                    "input": pos,
                    "grad": self.view(a, batch),
                    "stats": encode.stats(a),
                }
                entry["contributions"].append(item)
                if node is not None:  # keyed later: calling call() here would recurse down
                    self.pending.append((item, node))  # a long chain, one frame per op
        self.out["tensors"][key] = entry
        return key

    def call(self, ctx: Context) -> str:
        key = self.calls.get(ctx)
        if key is not None:
            return key
        key = self.calls[ctx] = f"C{len(self.calls)}"
        spec = op_spec(ctx.op)
        saved = ctx.saved
        win = window_of(ctx)
        entry = {
            "op": ctx.name,
            "attrs": encode.json_safe({k: to_plain(v) for k, v in ctx.attrs.items()}),
            "shown": sorted(shown_attrs(ctx)),
            "scope": ctx.scope,
            "plugin": (ctx.op.plugin or "").partition(" ")[0] or None,
            "version": _version(ctx.op.plugin),
            "formula": getattr(ctx.op, "formula", None),
            "plain": plain_words(ctx.name),  # the formula's jargon in one sentence
            "generation": ctx.generation,
            "order": self.order.get(ctx),  # recording order within this graph
            "inputs": [
                {
                    "name": spec.inputs[i] if i < len(spec.inputs) else f"arg{i}",
                    "tensor": self.tensor(t),
                    "needs_grad": bool(need),
                }
                for i, (t, need) in enumerate(zip(ctx.inputs, ctx.needs_input_grad))
            ],
            "output": self.tensor(ctx.output),
            "freed": bool(ctx.freed),
            "saved": None if saved is None else [_saved_json(a) for a in saved],
            "window": None if win is None else win.to_json(),
        }
        from ..cells import batch_norm_stats, dropout_scale  # cells imports this package

        if ctx.name == "batch_norm" and ctx.inputs[0] is not None and not _freed(ctx.inputs[0]):
            entry["norm"] = batch_norm_stats(ctx)  # the page writes out each cell's arithmetic
            g = self.trace.totals.get(id(ctx.output)) if ctx.output is not None else None
            if g is not None:  # and each input-gradient cell's: per-channel means over the batch
                entry["norm"].update(_norm_grad_means(ctx.inputs[0].data, g, entry["norm"]))
        x, y = ctx.inputs[0], ctx.output
        if (
            ctx.name == "dropout"
            and x is not None
            and y is not None
            and not (_freed(x) or _freed(y))
        ):
            entry["mask"] = self.view(dropout_scale(ctx, y), True)  # 0 or 1/(1-p) per element
        self.out["calls"][key] = entry
        return key


def _norm_grad_means(x: np.ndarray, g: np.ndarray, stats: dict[str, Any]) -> dict[str, Any]:
    """mean(dy) and mean(dy * xhat) per channel over the whole batch: the two numbers besides
    dy, xhat and weight / sigma that batch_norm's input gradient needs (in training)."""
    shape = [1] * x.ndim
    shape[1] = x.shape[1]
    mean = np.asarray(stats["mean"]).reshape(shape)
    sigma = np.sqrt(np.asarray(stats["var"]).reshape(shape) + stats["eps"])
    xhat = (x.astype(np.float64) - mean) / sigma
    dy = np.asarray(g, dtype=np.float64)
    axes = tuple(a for a in range(x.ndim) if a != 1)
    return {
        "dy_mean": [float(v) for v in dy.mean(axis=axes)],
        "dyxhat_mean": [float(v) for v in (dy * xhat).mean(axis=axes)],
    }


def _saved_json(a: Any) -> dict[str, Any]:
    if isinstance(a, np.ndarray):
        return {"shape": list(a.shape), "dtype": a.dtype.name, "bytes": int(a.nbytes)}
    return {"value": str(to_plain(a))}


def _label(n: Node) -> str:
    if n.kind == "module":
        return n.name or "module"
    if n.ctx is not None and n.kind in ("op", "backward"):
        return n.ctx.name + (" backward" if n.kind == "backward" else "")
    t = n.tensor
    base = (t.name if t is not None and t.name else None) or n.role
    return {"grad": f"{base}.grad", "accumulate": f"+ ({base})", "seed": "seed"}.get(n.kind, base)


def _nodes_json(data: GraphData, reg: _Registry) -> dict[str, Any]:
    out = {}
    for n in data.nodes:
        entry: dict[str, Any] = {
            "kind": n.kind,
            "role": n.role,
            "scope": n.scope,
            "label": _label(n),
            "tensor": reg.tensor(n.tensor),
        }
        if n.ctx is not None:
            entry["call"] = reg.call(n.ctx)
        if n.kind == "module":
            entry["members"] = [m.id for m in n.members or []]
            entry["calls"] = list(n.calls)
        out[n.id] = entry
    return out


def _edges_json(data: GraphData, reg: _Registry, grads: dict) -> list[dict[str, Any]]:
    out = []
    for e in data.edges:
        entry: dict[str, Any] = {
            "src": e.src.id,
            "dst": e.dst.id,
            "kind": e.kind,
            "arg": e.arg,
            "tensor": reg.tensor(e.tensor),
        }
        g = grads.get(id(e))
        if g is not None:
            entry["grad"] = encode.stats(g)
        out.append(entry)
    return out


def graph_payload(
    t: Tensor,
    backward: bool = True,
    *,
    samples: int = 2,
    max_elements: int = encode.MAX_ELEMENTS,
    trace: Trace | None = None,
    drawings: bool = True,
    classes: Any = None,
    **draw_options: Any,
) -> dict[str, Any]:
    """``payload["graph"]`` for the page: see the module docstring. ``trace``: what
    :func:`..trace.record` recorded from ``t`` (recorded here when None). ``drawings=False``
    leaves the views' ``draw`` data out (None): a page that already shows this graph's
    drawings (the live playground) reuses them, since values do not change the layout."""
    # the one traversal: the forward walk and the engine's backward pass, watched; every view
    # and drawing below is built from it (its gradients are held once, for all of them)
    if trace is None:
        trace = record(t, backward=backward)
    ctxs = trace.nodes
    scoped, with_backward = any(c.scope for c in ctxs), backward and t.requires_grad
    draws: dict[str, Any] = {"forward": None, "modules": None, "backward": None}
    if drawings:
        draws["forward"] = drawing_json(t, False, draw_options, trace)
        if scoped:
            draws["modules"] = drawing_json(t, False, {**draw_options, "collapse": True}, trace)
        if with_backward:
            draws["backward"] = drawing_json(t, True, draw_options, trace)
    fwd = build(t, False, values=False, trace=trace)
    reg = _Registry(t, trace, samples, max_elements)
    reg.order = {c: i for i, c in enumerate(sorted(ctxs, key=lambda c: c.seq))}
    views: dict[str, Any] = {
        "forward": {
            "draw": draws["forward"],
            "nodes": _nodes_json(fwd, reg),
            "edges": _edges_json(fwd, reg, {}),
        }
    }
    if scoped:  # one node per module: the overview of a large network
        mods = build(t, False, values=False, collapse_scopes=True, trace=trace)
        views["modules"] = {
            "draw": draws["modules"],
            "nodes": _nodes_json(mods, reg),
            "edges": _edges_json(mods, reg, {}),
        }
    network = network_json(t, reg, samples, classes, trace)  # the first view: layers as pictures
    steps: list[dict[str, Any]] = []
    if with_backward:
        bwd = build(t, True, values=False, trace=trace)
        grads = backward_grads(bwd, trace)
        views["backward"] = {
            "draw": draws["backward"],
            "nodes": _nodes_json(bwd, reg),
            "edges": _edges_json(bwd, reg, grads),
        }
        steps = steps_json(bwd, trace, reg)
    reg.flush()
    flags = health(reg, trace, views)
    reg.flush()
    notes = {
        "computed": None,
        "off": None,
        "freed": "The graph's saved values were freed by backward() (call backward("
        "retain_graph=True), or explore before backward()): the structure and the leaves' "
        ".grad are shown, the step-through is not.",
    }
    return {
        "values": trace.status,
        "note": notes.get(trace.status, f"Gradients {trace.status}."),
        "views": views,
        "tensors": reg.out["tensors"],
        "calls": reg.out["calls"],
        "steps": steps,
        "network": network,
        "health": flags,
        "samples": samples,
    }
