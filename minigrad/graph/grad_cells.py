"""Gradient cells: the terms that sum to one element of the gradient an op sends to an input.

For ``y = conv2d(x, weight, bias)`` with output gradient ``dy`` (indices as in the forward):

- ``dweight[o, c, p, q] = sum_{n, i, j} dy[n, o, i, j] * x[n, c, i*sh + p*dh - top, ...]``
- ``dx[n, c, h, w] = sum_{o, p, q} dy[n, o, i, j] * weight[o, c, p, q]`` over the output cells
  ``(i, j)`` whose window put tap ``(p, q)`` on ``(h, w)``
- ``dbias[o] = sum_{n, i, j} dy[n, o, i, j]``

For pooling, ``dx[n, c, h, w]`` sums ``dy`` over the windows that hold ``(h, w)``: only those
where it won (max pooling, ties to the first maximum), divided by each window's divisor
(average), or as is (sum). Padding cells contribute nothing, so they are left out.
Used through ``mg.graph.explain(y, index, wrt=..., grad=...)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..op import op_spec
from ..tensor import Tensor
from .cells import Explanation, _g, _gp, _index, _node, _pool, _sum_text
from .explorer.windows import Window

__all__ = ["explain_grad", "window_map"]


def _grad_array(t: Tensor, grad: Any) -> np.ndarray:
    if grad is None:
        if t.grad is None:
            raise ValueError(
                "explain(wrt=...): pass grad= (the gradient of the op's output), or call "
                "retain_grad() on the output before backward()"
            )
        grad = t.grad
    g = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=np.float64)
    if g.shape != t.shape:
        raise ValueError(f"explain: grad has shape {g.shape}, the output has shape {t.shape}")
    return g


Cells = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def window_map(w: Window) -> Cells:
    """Every (output cell, tap) pair that reads an input cell: arrays i, j, p, q, r, c.

    ``r, c`` are the input row/column read by tap ``(p, q)`` of output cell ``(i, j)``;
    padding and clipped cells are dropped.
    """
    oh, ow = w.out_hw
    i, j, p, q = np.meshgrid(
        np.arange(oh), np.arange(ow), np.arange(w.kernel[0]), np.arange(w.kernel[1]), indexing="ij"
    )
    r = i * w.stride[0] - w.pad[0] + p * w.dilation[0]
    c = j * w.stride[1] - w.pad[2] + q * w.dilation[1]
    ok = (r >= 0) & (r < w.in_hw[0]) & (c >= 0) & (c < w.in_hw[1])
    return i[ok], j[ok], p[ok], q[ok], r[ok], c[ok]  # type: ignore[return-value]


def _which(t: Tensor, wrt: int | str) -> tuple[int, str]:
    ctx = _node(t)
    names = op_spec(ctx.op).inputs
    if isinstance(wrt, str):
        if wrt not in names:
            raise ValueError(f"explain: op '{ctx.name}' has inputs {names}, not {wrt!r}")
        return names.index(wrt), wrt
    if not 0 <= int(wrt) < len(names):
        raise ValueError(f"explain: op '{ctx.name}' has {len(names)} inputs, not {wrt}")
    return int(wrt), names[int(wrt)]


def explain_grad(t: Tensor, w: Window, wrt: int | str, grad: Any, index: Any) -> Explanation:
    """Element ``index`` of the gradient that ``t``'s op sends to input ``wrt``."""
    ctx = _node(t)
    pos, name = _which(t, wrt)
    x = ctx.inputs[pos]
    if x is None:
        raise ValueError(f"explain: input {name!r} of op '{ctx.name}' was not given")
    idx = _index(x, index)
    g = _grad_array(t, grad)
    op = f"{ctx.name} backward ({name})"
    if w.kind == "conv":
        return _conv_grad(ctx, w, pos, idx, g, op)
    if pos != 0:
        raise ValueError(f"explain: op '{ctx.name}' sends a gradient only to its input")
    if w.kind.startswith("global"):
        return _global_grad(t, w, idx, g, op)
    n, c, h, wc = idx
    i, j, _, _, r, cc = window_map(w)
    hit = (r == h) & (cc == wc)
    outs: list[tuple[int, ...]] = []
    share: list[float] = []
    for oi, oj in sorted(set(zip(i[hit].tolist(), j[hit].tolist()))):
        if w.kind == "max":
            if _pool(t, (n, c, oi, oj), w).winner != idx:
                continue
            s = 1.0
        elif w.kind == "avg":
            s = 1.0 / w.divisor(oi, oj)
        else:
            s = 1.0
        outs.append((n, c, oi, oj))
        share.append(s)
    terms = np.array([g[o] * s for o, s in zip(outs, share)], dtype=np.float64)
    return _grad_result(op, idx, terms, outs, [g[o] for o in outs], share)


def _global_grad(t: Tensor, w: Window, idx: tuple[int, ...], g: np.ndarray, op: str) -> Explanation:
    """Global pooling: x[n, c, h, w] gets dy[n, c] / (H*W) (average), or all of it if it won."""
    n, c = idx[0], idx[1]
    if w.kind.endswith("avg"):
        outs: list[tuple[int, ...]] = [(n, c)]
        share = [1.0 / (w.in_hw[0] * w.in_hw[1])]
    elif _pool(t, (n, c), w).winner == idx:
        outs, share = [(n, c)], [1.0]
    else:
        outs, share = [], []
    terms = np.array([g[o] * s for o, s in zip(outs, share)])
    return _grad_result(op, idx, terms, outs, [g[o] for o in outs], share)


def _grad_result(
    op: str,
    idx: tuple[int, ...],
    terms: np.ndarray,
    outs: list,
    dys: list,
    share: list,
) -> Explanation:
    parts = []
    for o, dy, s in zip(outs, dys, share):
        parts.append(f"{_gp(dy)} (dy{list(o)})" if s == 1.0 else f"{_gp(dy)}/{_g(1 / s)}")
    value = float(terms.sum()) if terms.size else 0.0
    text = _sum_text(parts, value, sizes=terms)
    return Explanation(op, idx, value, terms, sources=outs, text=text)


def _conv_grad(
    ctx: Any, w: Window, pos: int, idx: tuple[int, ...], g: np.ndarray, op: str
) -> Explanation:
    x = ctx.inputs[0].data.astype(np.float64)
    k = ctx.inputs[1].data.astype(np.float64)
    i, j, p, q, r, c = window_map(w)
    if pos == 2:  # bias: every output cell of channel o
        o = idx[0]
        terms = g[:, o].ravel()
        outs = [
            tuple(int(v) for v in np.unravel_index(f, g[:, o].shape)) for f in range(terms.size)
        ]
        value = float(terms.sum())
        text = _sum_text([_gp(v) for v in terms], value, sizes=terms)
        return Explanation(op, idx, value, terms, sources=outs, text=text)
    if pos == 1:  # weight[o, c, p, q]: dy[n, o, i, j] * x[n, c, r, c'] over n and the cells
        o, ch, pp, qq = idx
        sel = (p == pp) & (q == qq)
        dy = g[:, o][:, i[sel], j[sel]]  # (N, cells)
        xs = x[:, ch][:, r[sel], c[sel]]
        terms = (dy * xs).ravel()
        ns = np.repeat(np.arange(g.shape[0]), int(sel.sum()))
        outs = [
            (int(n), o, int(a), int(b))
            for n, a, b in zip(ns, np.tile(i[sel], g.shape[0]), np.tile(j[sel], g.shape[0]))
        ]
        parts = [f"{_gp(a)}*{_gp(b)}" for a, b in zip(dy.ravel(), xs.ravel())]
        value = float(terms.sum())  # the largest terms first, then "+ N more terms"
        return Explanation(
            op,
            idx,
            value,
            terms,
            window={"grad": dy, "x": xs},
            sources=outs,
            text=_sum_text(parts, value, sizes=terms),
        )
    n, ch, h, wc = idx  # x[n, c, h, w]: every (o, tap) that read it
    sel = (r == h) & (c == wc)
    dy = g[n][:, i[sel], j[sel]]  # (O, hits)
    ks = k[:, ch][:, p[sel], q[sel]]
    terms = (dy * ks).ravel()
    outs = [(n, int(o), int(a), int(b)) for o in range(g.shape[1]) for a, b in zip(i[sel], j[sel])]
    parts = [f"{_gp(a)}*{_gp(b)}" for a, b in zip(dy.ravel(), ks.ravel())]
    value = float(terms.sum())
    return Explanation(
        op,
        idx,
        value,
        terms,
        window={"grad": dy, "weight": ks},
        sources=outs,
        text=_sum_text(parts, value, sizes=terms),
    )
