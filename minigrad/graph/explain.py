"""The arithmetic behind one number: an output cell of conv2d, pooling, batch_norm or dropout,
or a gradient cell.

``explain(y, index)`` reads the recorded call that produced ``y`` and writes out how
``y[index]`` was computed, with the real numbers: its input window (padding included), the
products or values that were added, the bias, the max-pool winner, the average's divisor.
With ``wrt=`` it explains a cell of the gradient the op's backward sends to one of its
inputs (given the output's gradient ``grad``): the terms that sum to it.
:func:`from_contributions` explains a tensor used k times: its gradient is the sum of k
contributions.

>>> import numpy as np, minigrad as mg
>>> img = mg.tensor(np.arange(9.0).reshape(1, 1, 3, 3), requires_grad=True)
>>> e = mg.graph.explain(mg.ops.max_pool2d(img, 2, stride=1), (0, 0, 0, 0))
>>> e.value, e.winner
(4.0, (0, 0, 1, 1))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor
from .cells import Explanation, _gp, _index, _sum_text, elementwise_cell, output_cell
from .data import values_freed
from .explorer.windows import WINDOW_OPS, window_of
from .grad_cells import explain_grad
from .trace import origin

__all__ = ["Explanation", "explain", "from_contributions"]


def explain(
    t: Tensor,
    index: int | Sequence[int],
    *,
    wrt: int | str | None = None,
    grad: Any = None,
) -> Explanation:
    """Explain element ``index`` of ``t``, the output of conv2d, a pooling op, batch_norm
    (the channel's mean and variance, the normalised value, scale and shift) or dropout (kept
    and scaled, or dropped; ``window["mask"]`` is the sample's mask as a picture).

    Works on a forward computed without ``requires_grad`` too (a learner's first conv);
    under ``no_grad`` no op call is kept, and it says so.

    With ``wrt`` (an input name such as ``"weight"`` or ``"x"``, or its position), explain
    element ``index`` of the gradient the op sends to that input instead, given ``grad``,
    the gradient of ``t`` (default: ``t.grad``, kept by ``t.retain_grad()``).

    >>> import numpy as np, minigrad as mg
    >>> x = mg.tensor(np.ones((1, 1, 3, 3)))
    >>> k = mg.tensor(np.full((1, 1, 2, 2), 0.5))       # no requires_grad needed
    >>> print(mg.graph.explain(mg.ops.conv2d(x, k), (0, 0, 0, 0)))
    1*0.5 + 1*0.5 + 1*0.5 + 1*0.5 = 2
    """
    if not isinstance(t, Tensor):
        raise TypeError(f"explain: expected a minigrad Tensor, got {type(t).__name__}")
    ctx = origin(t)
    if ctx is None:
        raise ValueError(
            "explain: this tensor was not produced by a recorded op: it is a leaf, or it "
            "was computed under no_grad (which records no op calls, to save time and "
            "memory); compute it outside no_grad and explain the output of conv2d or a "
            "pooling op"
        )
    freed = [
        what
        for what, v in [("output", t), *((f"input {i}", x) for i, x in enumerate(ctx.inputs))]
        if v is not None and values_freed(v)
    ]
    if freed:  # zero-byte stand-ins: any sum written from them would be made up
        raise ValueError(
            f"explain: the values of this {ctx.name} call's {' and '.join(freed)} were freed "
            "by backward(); call explain before loss.backward(), or use "
            "loss.backward(retain_graph=True)"
        )
    if wrt is None and ctx.name in ("batch_norm", "dropout"):  # elementwise: no window
        return elementwise_cell(t, _index(t, index))
    w = window_of(ctx)
    if w is None:
        raise ValueError(
            f"explain: op '{ctx.name}' has no window to explain; supported ops: "
            f"{', '.join(WINDOW_OPS)}, batch_norm, dropout"
        )
    if wrt is not None:  # index is then an index into that input (and its gradient)
        return explain_grad(t, w, wrt, grad, index)
    return output_cell(t, _index(t, index), w)


def from_contributions(
    contributions: Sequence[Any], index: int | Sequence[int], names: Sequence[str] | None = None
) -> Explanation:
    """A gradient that is the sum of k contributions (a tensor used k times), at ``index``.

    >>> e = from_contributions([np.array([1.0, 2.0]), np.array([0.5, 0.5])], 1)
    >>> e.terms.tolist(), e.value
    ([2.0, 0.5], 2.5)
    """
    arrays = [np.asarray(c.data if isinstance(c, Tensor) else c) for c in contributions]
    if not arrays:
        raise ValueError("from_contributions: no contributions given")
    shape = arrays[0].shape
    if isinstance(index, (int, np.integer)):
        idx = tuple(int(i) for i in np.unravel_index(int(index), shape))
    else:
        idx = tuple(int(i) for i in index)
    terms = np.array([a[idx] for a in arrays], dtype=np.float64)
    total = np.sum(arrays, axis=0)[idx]
    labels = list(names) if names is not None else [f"use {k + 1}" for k in range(len(arrays))]
    parts = [f"{_gp(v)} ({lab})" for v, lab in zip(terms, labels)]
    return Explanation(
        "accumulate",
        idx,
        float(total),
        terms,
        sources=[(k,) for k in range(len(arrays))],
        text=_sum_text(parts, float(total), scale=float(np.abs(terms).sum())),
    )
