"""The arithmetic of one cell: the terms that sum to an output cell of conv2d, pooling,
batch_norm or dropout.

What :func:`minigrad.graph.explain` returns (:class:`Explanation`) and how it is computed for
an output cell, from the recorded call's public face (inputs, attrs) and its window
geometry (:mod:`.explorer.windows`); :mod:`.grad_cells` does the same for gradient cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..numtext import num, snap, sum_text, term
from ..op import Context, op_spec
from ..tensor import Tensor
from .explorer.windows import Window
from .trace import origin

__all__ = ["Explanation", "batch_norm_stats", "dropout_scale", "elementwise_cell", "output_cell"]


def _g(x: float) -> str:
    return num(x)


def _gp(x: float) -> str:
    """A number after an operator: negatives in parentheses, "0.4*(-1)"."""
    return term(x)


@dataclass
class Explanation:
    """How one number was computed: ``sum(terms) + (bias or 0) == value``.

    ``window`` maps input names to the window's values (padding included: zeros, or -inf for
    max pooling; cells past a partial window are NaN); ``cells`` gives the window's cell codes
    (0 input, 1 padding, 2 past the padding); ``winner`` is the max-pool winner's index in
    the input; ``divisor`` an average's divisor; ``sources`` the output (or contribution)
    indices each term came from, for gradient cells; ``stats`` the named numbers of a
    normalisation (batch norm's channel ``mean``, ``var``, ``xhat``, ``weight``) or of a
    dropout cell (``p``, ``scale``); ``channels`` the input channels a grouped convolution's
    filter sees.
    """

    op: str
    index: tuple[int, ...]
    value: float
    terms: np.ndarray
    bias: float | None = None
    window: dict[str, np.ndarray] = field(default_factory=dict)
    winner: tuple[int, ...] | None = None
    divisor: int | None = None
    cells: np.ndarray | None = None
    sources: list[tuple[int, ...]] | None = None
    stats: dict[str, float] = field(default_factory=dict)
    channels: tuple[int, ...] | None = None
    text: str = ""

    def __str__(self) -> str:
        return self.text


def _index(t: Tensor, index: int | Sequence[int]) -> tuple[int, ...]:
    shape = t.shape
    if isinstance(index, (int, np.integer)):
        if not 0 <= int(index) < t.size:
            raise IndexError(f"explain: flat index {index} out of range for shape {shape}")
        return tuple(int(i) for i in np.unravel_index(int(index), shape))
    idx = tuple(int(i) for i in index)
    if len(idx) != len(shape) or any(not -s <= i < s for i, s in zip(idx, shape)):
        raise IndexError(f"explain: index {tuple(index)} does not fit shape {shape}")
    return tuple(i % s for i, s in zip(idx, shape))


def _sum_text(
    terms: list[str],
    value: float,
    bias: float | None = None,
    limit: int = 12,
    *,
    sizes: Any = None,
    scale: Any = None,
) -> str:
    """The numbers rules of :mod:`minigrad.numtext`: negatives after an operator in
    parentheses, noise around 0 written 0, long gradient sums with their largest terms first."""
    return sum_text(terms, value, bias=bias, sizes=sizes, scale=scale, limit=limit)


def _gather(a: np.ndarray, w: Window, n: int, c: Any, i: int, j: int, fill: float) -> np.ndarray:
    """The window of ``a[n, c]`` at output cell (i, j), ``fill`` in the padding, NaN past it."""
    codes = w.cells(i, j)
    r = np.clip(w.rows(i), 0, w.in_hw[0] - 1)
    q = np.clip(w.cols(j), 0, w.in_hw[1] - 1)
    vals = a[n, c][..., r[:, None], q[None, :]].astype(np.float64)
    vals = np.where(codes == 0, vals, np.where(codes == 1, fill, np.nan))
    return vals


def _node(t: Tensor) -> Context:
    """The recorded call that produced ``t`` (explain() checked there is one)."""
    ctx = origin(t)
    assert ctx is not None
    return ctx


def _input(ctx: Context, i: int) -> Tensor:
    t = ctx.inputs[i]
    assert t is not None  # a required input
    return t


def _conv(y: Tensor, idx: tuple[int, ...], w: Window) -> Explanation:
    ctx = _node(y)
    x, weight, bias = _input(ctx, 0).data, _input(ctx, 1).data, ctx.inputs[2]
    n, o, i, j = idx
    groups = int(ctx.attrs.get("groups", 1) or 1)
    cg = weight.shape[1]  # input channels per group
    first = (o // (weight.shape[0] // groups)) * cg
    chans = np.arange(first, first + cg)
    win = _gather(x, w, n, chans, i, j, 0.0)  # (Cg, kh, kw)
    codes = np.broadcast_to(w.cells(i, j), win.shape)
    k = weight[o].astype(np.float64)
    products = np.where(codes == 0, win * k, 0.0)
    keep = codes == 0
    terms = products[keep]
    b = None if bias is None else float(bias.data[o])
    parts = [f"{_gp(a)}*{_gp(c)}" for a, c in zip(win[keep], k[keep])]
    value = float(y.data[idx])
    names = op_spec(ctx.op).inputs
    scale = float(np.abs(terms).sum()) + (0.0 if b is None else abs(b))
    text = _sum_text(parts, value, b, scale=scale)
    if groups != 1:  # the filter reads only its group's input channels
        text = f"filter {o} (group {o // (weight.shape[0] // groups)} of {groups}) sees input "
        text += f"channels {first}..{first + cg - 1}: " + _sum_text(parts, value, b, scale=scale)
    return Explanation(
        "conv2d",
        idx,
        value,
        terms,
        b,
        {names[0]: win, names[1]: k},
        cells=w.cells(i, j),
        channels=tuple(int(c) for c in chans),
        text=text,
    )


def _batch_norm(y: Tensor, idx: tuple[int, ...]) -> Explanation:
    """Channel statistics, the normalised value, then scale and shift."""
    ctx = _node(y)
    x = _input(ctx, 0).data
    c = idx[1]
    eps = float(ctx.attrs["eps"])
    training = bool(ctx.attrs["training"])
    channel = np.take(x, c, axis=1).astype(np.float64)  # every value of channel c in the batch
    if training:
        mean, var = float(channel.mean()), float(channel.var())
        where = f"over the batch's {channel.size} values of channel {c}"
    else:
        mean = float(_input(ctx, 1).data[c])
        var = float(_input(ctx, 2).data[c])
        where = f"running statistics of channel {c}"
    xv = float(x[idx])
    xhat = (xv - mean) / np.sqrt(var + eps)
    weight, bias = ctx.inputs[3], ctx.inputs[4]
    wv = 1.0 if weight is None else float(weight.data[c])
    bv = None if bias is None else float(bias.data[c])
    value = float(y.data[idx])
    text = (
        f"mean {_g(mean)}, variance {_g(var)} ({where}); normalised: ({_g(xv)} - {_gp(mean)}) "
        f"/ sqrt({_g(var)} + {_g(eps)}) = {_g(xhat)}; scale and shift: {_g(xhat)}*{_gp(wv)}"
        + (f" + {_gp(bv)}" if bv is not None else "")
        + f" = {_g(value)}"
    )
    stats = {"mean": mean, "var": var, "eps": eps, "xhat": float(xhat), "weight": wv}
    return Explanation("batch_norm", idx, value, np.array([xhat * wv]), bv,
                       {op_spec(ctx.op).inputs[0]: np.array([xv])}, stats=stats,
                       text=text)  # fmt: skip


def dropout_scale(ctx: Context, y: Tensor) -> np.ndarray:
    """The factor a dropout call multiplied each element by: 0 where dropped, 1/(1-p) where
    kept (1 everywhere in eval); read back from the output when backward freed the mask."""
    x = _input(ctx, 0).data
    p = float(ctx.attrs["p"])
    if not ctx.freed:
        return np.broadcast_to(np.asarray(ctx.saved_arrays[0], dtype=np.float64), x.shape)
    if not ctx.attrs["training"]:
        return np.ones(x.shape)
    keep = (y.data != 0) | (x == 0)
    return np.where(keep, 1.0 / (1.0 - p) if p < 1 else 0.0, 0.0)


def batch_norm_stats(ctx: Context) -> dict[str, Any]:
    """Per channel: the ``mean`` and ``var`` a batch_norm call normalised with (the batch's in
    training, the running statistics in eval), ``eps``, ``weight`` and ``bias`` (None when
    absent), all in float64 lists."""
    x = _input(ctx, 0).data
    if ctx.attrs["training"]:
        axes = tuple(a for a in range(x.ndim) if a != 1)
        xs = x.astype(np.float64)
        mean, var = xs.mean(axis=axes), xs.var(axis=axes)
    else:
        mean = _input(ctx, 1).data.astype(np.float64)
        var = _input(ctx, 2).data.astype(np.float64)
    w, b = ctx.inputs[3], ctx.inputs[4]
    return {
        "training": bool(ctx.attrs["training"]),
        "eps": float(ctx.attrs["eps"]),
        "mean": [float(v) for v in mean],
        "var": [float(v) for v in var],
        "weight": None if w is None else [float(v) for v in w.data],
        "bias": None if b is None else [float(v) for v in b.data],
    }


def _dropout(y: Tensor, idx: tuple[int, ...]) -> Explanation:
    """Kept (and scaled by 1/(1-p)) or dropped; the window is the sample's mask."""
    ctx = _node(y)
    x = _input(ctx, 0).data
    p = float(ctx.attrs["p"])
    scale = dropout_scale(ctx, y)
    s = float(scale[idx])
    xv, value = float(x[idx]), float(y.data[idx])
    state = "kept" if s != 0 else "dropped"
    why = f"1/(1 - {_g(p)})" if s not in (0.0, 1.0) else ("identity" if s == 1.0 else "mask 0")
    text = f"{state}: {_g(xv)}*{_gp(s)} ({why}) = {_g(value)}"
    sample = scale[idx[:2]] if scale.ndim > 2 else scale[idx[:1]]  # the mask as a picture
    name = op_spec(ctx.op).inputs[0]
    return Explanation("dropout", idx, value, np.array([xv * s]),
                       window={name: np.array([xv]), "mask": sample}, stats={"p": p, "scale": s},
                       text=text)  # fmt: skip


def _pool(y: Tensor, idx: tuple[int, ...], w: Window) -> Explanation:
    ctx = _node(y)
    x = _input(ctx, 0).data
    kind = w.kind
    if kind.startswith("global"):
        n, c = idx
        i = j = 0
        win = x[n, c].astype(np.float64)
        codes = np.zeros(win.shape, dtype=int)
        r0 = c0 = 0
    else:
        n, c, i, j = idx
        win = _gather(x, w, n, c, i, j, -np.inf if kind == "max" else 0.0)
        codes = w.cells(i, j)
        r0, c0 = int(w.rows(i)[0]), int(w.cols(j)[0])
    value = float(y.data[idx])
    inside = win[codes == 0]
    name = op_spec(ctx.op).inputs[0]
    e = Explanation(ctx.name, idx, value, inside, window={name: win}, cells=codes)
    if kind.endswith("max"):
        # ties: the first maximum in row-major order; NaN wins as in PyTorch
        flat = np.where(codes == 0, win, -np.inf).ravel()
        nan = np.flatnonzero(np.isnan(flat))
        k = int(nan[0]) if nan.size else int(np.argmax(flat))
        p, q = divmod(k, win.shape[1])
        dr, dc = (1, 1) if kind.startswith("global") else w.dilation
        e.winner = (n, c, r0 + p * dr, c0 + q * dc)
        e.terms = np.array([flat[k]])
        e.text = f"max of {inside.size} values = {_g(value)} (winner at {e.winner[2:]})"
    elif kind.endswith("avg"):
        d = int(inside.size) if kind.startswith("global") else w.divisor(i, j)
        e.divisor = d
        e.terms = inside / d
        whole = _sum_text([_gp(v) for v in inside], value * d, scale=np.abs(inside).sum())
        sums, _, _ = whole.rpartition(" = ")
        e.text = f"({sums}) / {d} = {_g(snap(value, np.abs(inside).sum() / d))}"
    else:
        e.text = _sum_text([_gp(v) for v in inside], value, scale=np.abs(inside).sum())
    return e


def output_cell(t: Tensor, idx: tuple[int, ...], w: Window) -> Explanation:
    """Explain output cell ``idx`` of ``t`` (made by a conv or pooling call with window ``w``).

    >>> import numpy as np, minigrad as mg
    >>> from minigrad.graph.explorer.windows import window_of
    >>> y = mg.ops.max_pool2d(mg.tensor(np.arange(4.0).reshape(1, 1, 2, 2), requires_grad=True), 2)
    >>> output_cell(y, (0, 0, 0, 0), window_of(origin(y))).value
    3.0
    """
    return _conv(t, idx, w) if w.kind == "conv" else _pool(t, idx, w)


def elementwise_cell(t: Tensor, idx: tuple[int, ...]) -> Explanation:
    """Explain output cell ``idx`` of batch_norm (the channel's statistics, the normalised
    value, scale and shift) or dropout (kept and scaled, or dropped)."""
    ctx = _node(t)
    return _batch_norm(t, idx) if ctx.name == "batch_norm" else _dropout(t, idx)
