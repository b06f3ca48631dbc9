"""The network view's data: the learner's CNN as layers, from the input to the loss.

A layer is one of the model's modules (its display name, ``conv1``, ``relu1``, ``fc1``: the
scope its ops were recorded in, so a Linear's transpose, matmul and add are one layer), or,
for a computation written with ``mg.ops`` calls, one op. Only the ops on the path from the
input to the output count: a weight's transpose is part of its layer, not a column.

Each layer points at tensors and calls of the graph payload by key (the page shows their
values; the conv and pooling calls carry the window the page slides), so the numbers are the
ones every other view shows. With a cross-entropy (or log) loss the softmax probabilities
(computed by the engine's own ``softmax``), the predicted class and the true label of each
kept sample come along, named by ``classes``.

>>> import numpy as np, minigrad as mg
>>> x = mg.tensor(np.ones((1, 1, 4, 4)))
>>> y = mg.ops.relu(mg.ops.conv2d(x, mg.tensor(np.ones((2, 1, 3, 3)))))
>>> [layer["name"] for layer in network_layers(y)]
['conv2d', 'relu']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ... import ops
from ...autograd import no_grad
from ...op import Context
from ...tensor import Tensor
from ..data import values_freed
from ..trace import Trace, walk
from . import encode

__all__ = ["network_json", "network_layers"]

LOSSES = ("cross_entropy", "log_loss")
_KINDS = (
    ("conv", ("conv2d", "conv_transpose2d")),
    ("pool", ("max_pool2d", "avg_pool2d", "sum_pool2d", "global_max_pool2d", "global_avg_pool2d")),
    ("loss", LOSSES),
    ("softmax", ("softmax", "log_softmax")),
    ("dense", ("matmul",)),
    ("activation", ("relu", "sigmoid", "tanh", "leaky_relu", "gelu")),
    ("flatten", ("reshape", "flatten")),
)
_WINDOWED = _KINDS[0][1] + _KINDS[1][1]  # the calls whose window the page slides
_ELEMENTWISE = ("batch_norm", "dropout")  # the calls whose cells the page explains one by one


def _kind(ops: Sequence[str]) -> str:
    for kind, names in _KINDS:
        if any(o in names for o in ops):
            return kind
    return "op"


def _input_of(ctxs: list[Context], outputs: dict[Context, Tensor]) -> Tensor | None:
    """The computation's input: the largest leaf that requires no grad and is no loss target."""
    made = {id(t) for t in outputs.values()}
    targets = {id(c.inputs[1]) for c in ctxs if c.name in LOSSES and len(c.inputs) > 1}
    best: Tensor | None = None
    for c in ctxs:
        for t in c.inputs:
            if t is None or id(t) in made or id(t) in targets or t._requires_grad:
                continue
            if t.ndim == 0:
                continue
            if best is None or (t.ndim, t.size) > (best.ndim, best.size):
                best = t
    return best


def network_layers(root: Tensor, trace: Trace | None = None) -> list[dict[str, Any]]:
    """The layers from the input to ``root``: ``name``, ``kind``, ``ops``, ``ctxs``, ``output``
    (a Tensor), ``main`` (the conv/pool call whose window the page can slide, or None),
    ``cells`` (the batch_norm or dropout call a layer without ``main`` ends in, or None).
    ``trace``: what :func:`..trace.record` recorded from ``root``, whose walk is reused."""
    ctxs, outputs = (trace.nodes, trace.outputs) if trace is not None else walk(root)
    x = _input_of(ctxs, outputs)
    if x is None:
        return []
    reached = {id(x)}
    path = []
    for c in ctxs:  # creation order is a topological order
        if any(t is not None and id(t) in reached for t in c.inputs):
            path.append(c)
            reached.add(id(outputs[c]))
    groups: list[tuple[str | None, list[Context]]] = []
    for c in path:
        scope = c.scope
        if scope is not None and groups and groups[-1][0] == scope:
            groups[-1][1].append(c)
        else:
            groups.append((scope, [c]))
    layers = []
    used: dict[str, int] = {}
    for scope, group in groups:
        ops = [c.name for c in group]
        kind = _kind(ops)
        if scope is not None:
            name = scope.replace("/", ".")
        else:
            base = "loss" if kind == "loss" else ("flatten" if kind == "flatten" else ops[0])
            used[base] = used.get(base, 0) + 1
            name = base if used[base] == 1 else f"{base} {used[base]}"
        main = next((c for c in group if c.name in _WINDOWED), None)
        # a layer that ends in batch_norm or dropout: its cells are explained elementwise
        cells = group[-1] if main is None and group[-1].name in _ELEMENTWISE else None
        layers.append(
            {
                "name": name,
                "kind": kind,
                "ops": ops,
                "ctxs": group,
                "output": outputs[group[-1]],
                "main": main,
                "cells": cells,
                "input": x,
            }
        )
    return layers


def _softmax(logits: np.ndarray) -> np.ndarray:
    """The engine's softmax over the class axis (the probabilities a learner reads)."""
    with no_grad():
        return ops.softmax(Tensor(logits), axis=1).data


def _prediction(ctx: Context, samples: int, classes: Sequence[str] | None) -> dict[str, Any]:
    """Probabilities, predicted class and true label of the first ``samples`` samples."""
    p_in, y_in = ctx.inputs[0], ctx.inputs[1]
    assert p_in is not None and y_in is not None
    if ctx.name == "cross_entropy" and p_in.ndim == 2:
        probs = _softmax(p_in.data)
        labels = np.asarray(y_in.data).astype(np.int64).reshape(-1)
        how = "softmax of the logits"
    else:  # log loss: p is the probability of class 1
        p1 = np.asarray(p_in.data, dtype=np.float64).reshape(p_in.shape[0], -1)[:, :1]
        probs = np.concatenate([1 - p1, p1], axis=1).astype(p_in.dtype)
        labels = (np.asarray(y_in.data).reshape(y_in.shape[0], -1)[:, 0] >= 0.5).astype(np.int64)
        how = "p of class 1 (and 1 - p)"
    k = min(samples, probs.shape[0])
    names = list(classes) if classes is not None else [str(i) for i in range(probs.shape[1])]
    if len(names) != probs.shape[1]:
        raise ValueError(
            f"explore: classes has {len(names)} names but the loss "
            f"'{ctx.name}' has {probs.shape[1]} classes"
        )
    pk = probs[:k].astype(np.float64)
    picked = pk[np.arange(k), np.clip(labels[:k], 0, probs.shape[1] - 1)]
    return {
        "probs": encode.array(probs[:k]),
        "predicted": [int(i) for i in np.argmax(probs[:k], axis=1)],
        "label": [int(i) for i in labels[:k]],
        "sample_loss": [encode.num(-np.log(v)) if v > 0 else "Infinity" for v in picked],
        "classes": names,
        "how": how,
    }


def network_json(
    root: Tensor,
    reg: Any,
    samples: int,
    classes: Sequence[str] | None = None,
    trace: Trace | None = None,
) -> dict[str, Any] | None:
    """``payload["graph"]["network"]``: the input and the layers with the keys of their
    tensors and calls in the graph payload (``reg`` registers them), and the prediction."""
    layers = network_layers(root, trace)
    if not layers:
        return None
    out: list[dict[str, Any]] = []
    pred = None
    # backward() without retain_graph frees the values only the graph held: the maps and the
    # logits are gone (zero-byte stand-ins), so nothing is computed from them
    freed = any(values_freed(layer["output"]) for layer in layers)
    for layer in layers:
        t = layer["output"]
        entry: dict[str, Any] = {
            "name": layer["name"],
            "kind": layer["kind"],
            "ops": layer["ops"],
            "tensor": reg.tensor(t),
            "shape": list(t.shape),
            "calls": [reg.call(c) for c in layer["ctxs"]],
            "main": None if layer["main"] is None else reg.call(layer["main"]),
            "cells": None if layer["cells"] is None else reg.call(layer["cells"]),
        }
        if layer["kind"] == "loss":
            ctx = layer["ctxs"][-1]
            has_target = len(ctx.inputs) > 1 and ctx.inputs[1] is not None
            logits = ctx.inputs[0]
            if ctx.name in LOSSES and has_target and logits is not None:
                pred = None if values_freed(logits) else _prediction(ctx, samples, classes)
        out.append(entry)
    x = layers[0]["input"]
    batch = int(x.shape[0]) if x.ndim == 4 else 1
    return {
        "input": {"tensor": reg.tensor(x), "shape": list(x.shape), "name": x.name or "input"},
        "layers": out,
        "prediction": pred,
        "freed": freed,
        "samples": min(samples, batch),
        "batch": batch,
    }
