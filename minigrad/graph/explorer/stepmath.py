"""Each backward step written as its formula with one element's real numbers.

For a step of op ``f`` the element is the output cell with the largest gradient sent on
(the largest ``|dy|`` when shapes differ); each gradient the step sends is written at the
matching input cell (the same index when shapes agree, else the input cell with the
largest gradient), for example
``drelu: dx[0, 3] = dy * (x > 0) = 0.31 * 1 = 0.31``. The numbers are the engine's: ``dy``
and the sent gradients come from its own traversal, the inputs from the forward.

>>> import numpy as np, minigrad as mg
>>> x = mg.tensor([[-1.0, 2.0]], requires_grad=True)
>>> from minigrad.graph.trace import watch
>>> loss = (mg.ops.relu(x) * 3.0).sum()
>>> ev = [e for e in watch(loss, []).events if e.kind == "step" and e.node.name == "relu"][0]
>>> step_math(ev)
['dx[0, 1] = dy * (x > 0) = 3 * 1 = 3']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...numtext import num, sum_text, term
from ...op import op_spec
from .windows import window_of

__all__ = ["PLAIN", "fmt", "plain_words", "step_lines", "step_math"]


def fmt(x: Any) -> str:
    """A number as the page writes it: 4 significant digits; float noise around 0 is 0."""
    v = float(x)
    return num(0.0 if abs(v) < 1e-12 else v, 4)


def _p(x: Any) -> str:
    """After an operator: negatives in parentheses (the rules of :mod:`.numtext`)."""
    v = float(x)
    return term(0.0 if abs(v) < 1e-12 else v, 4)


def _idx(i: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(k) for k in i) + "]" if i else ""


def _arg(a: np.ndarray) -> tuple[int, ...]:
    a = np.asarray(a)
    if a.ndim == 0:
        return ()
    flat = np.abs(np.nan_to_num(a.astype(np.float64), nan=np.inf)).ravel()
    return tuple(int(k) for k in np.unravel_index(int(np.argmax(flat)), a.shape))


def _val(t: Any, idx: tuple[int, ...]) -> float | None:
    if t is None or getattr(t, "values_freed", False):
        return None
    return float(np.asarray(t.data)[idx])


Rule = Callable[[Any, np.ndarray, tuple[int, ...], int, tuple[int, ...], float], str | None]


def _elementwise(text: Callable[[Any, float, tuple[int, ...]], str | None]) -> Rule:
    def rule(ctx: Any, dy: np.ndarray, oi: tuple, pos: int, ii: tuple, g: float) -> str | None:
        if ii != oi:
            return None
        body = text(ctx, float(dy[oi]), ii)
        return None if body is None else f"{body} = {fmt(g)}"

    return rule


def _relu(ctx: Any, d: float, i: tuple) -> str | None:
    x = _val(ctx.inputs[0], i)
    return None if x is None else f"dy * (x > 0) = {fmt(d)} * {int(x > 0)}"


def _sigmoid(ctx: Any, d: float, i: tuple) -> str | None:
    out = ctx.output
    s = _val(out, i)
    return None if s is None else f"dy * s * (1 - s) = {fmt(d)} * {fmt(s)} * (1 - {fmt(s)})"


def _tanh(ctx: Any, d: float, i: tuple) -> str | None:
    t = _val(ctx.output, i)
    return None if t is None else f"dy * (1 - t²) = {fmt(d)} * (1 - {_p(t)}²)"


def _mul(ctx: Any, dy: np.ndarray, oi: tuple, pos: int, ii: tuple, g: float) -> str | None:
    other = ctx.inputs[1 - pos]
    if ii != oi or other is None or np.asarray(other.data).shape != dy.shape:
        return None
    b = float(np.asarray(other.data)[oi])
    return f"dy * {'b' if pos == 0 else 'a'} = {fmt(dy[oi])} * {_p(b)} = {fmt(g)}"


def _add(ctx: Any, dy: np.ndarray, oi: tuple, pos: int, ii: tuple, g: float) -> str:
    sign = "-" if ctx.name == "sub" and pos == 1 else ""
    if ii == oi:
        return f"{sign}dy = {fmt(g)}"
    return f"{sign}dy summed over the axes it was broadcast along = {fmt(g)}"


def _matmul(ctx: Any, dy: np.ndarray, oi: tuple, pos: int, ii: tuple, g: float) -> str | None:
    a, b = ctx.inputs[0], ctx.inputs[1]
    if a is None or b is None or dy.ndim != 2 or a.ndim != 2 or b.ndim != 2:
        return None
    A, B = np.asarray(a.data, np.float64), np.asarray(b.data, np.float64)
    if pos == 0:  # da[n, k] = sum_m dy[n, m] * b[k, m]
        n, k = ii
        terms = list(zip(dy[n].astype(np.float64), B[k]))
        name = "dy[n, m] * b[k, m]"
    else:  # db[k, m] = sum_n a[n, k] * dy[n, m]
        k, m = ii
        terms = list(zip(A[:, k], dy[:, m].astype(np.float64)))
        name = "a[n, k] * dy[n, m]"
    terms.sort(key=lambda t: -abs(t[0] * t[1]))
    shown = " + ".join(f"{_p(u)}*{_p(v)}" for u, v in terms[:3])
    more = f" + {len(terms) - 3} more terms" if len(terms) > 3 else ""
    return f"Σ {name} = {shown}{more} = {fmt(g)}"


def _cross_entropy(
    ctx: Any, dy: np.ndarray, oi: tuple, pos: int, ii: tuple, g: float
) -> str | None:
    logits, target = ctx.inputs[0], ctx.inputs[1]
    if pos != 0 or logits is None or target is None or logits.ndim != 2:
        return None
    z = np.asarray(logits.data, np.float64)[ii[0]]
    p = np.exp(z - z.max())
    p = float(p[ii[1]] / p.sum())
    y = int(int(np.asarray(target.data)[ii[0]]) == ii[1])
    mean = ctx.attrs.get("reduction", "mean") == "mean"
    n = logits.shape[0]
    scale = float(dy.reshape(-1)[0]) if dy.size == 1 else 1.0
    div = f" / {n}" if mean else ""
    mul = "" if abs(scale - 1.0) < 1e-12 else f" * {_p(scale)}"
    nums = f"({fmt(p)} - {y}){mul}{div}"
    return f"(p - y){mul}{div} = {nums} = {fmt(g)}   (p = softmax of the logits)"


def _log_loss(ctx: Any, dy: np.ndarray, oi: tuple, pos: int, ii: tuple, g: float) -> str | None:
    p_t, y_t = ctx.inputs[0], ctx.inputs[1]
    if pos != 0 or p_t is None or y_t is None:
        return None
    p, y = float(np.asarray(p_t.data)[ii]), float(np.asarray(y_t.data)[ii])
    mean = ctx.attrs.get("reduction", "mean") == "mean"
    div = f" / {p_t.size}" if mean and p_t.size > 1 else ""
    nums = f"({fmt(p)} - {fmt(y)}) / ({fmt(p)} * (1 - {fmt(p)})){div}"
    return f"(p - y) / (p (1 - p)){div} = {nums} = {fmt(g)}"


def _conv(ctx: Any, dy: np.ndarray, oi: tuple, pos: int, ii: tuple, g: float) -> str:
    words = (
        "Σ dy * w over the outputs whose window covers this input cell (the output gradient "
        "convolved with the flipped kernel)",
        "Σ dy * x over every sample and window position (dy sliding over x)",
        "Σ dy over every sample and position of this output channel",
    )[min(pos, 2)]
    terms = _conv_terms(ctx, dy, pos, ii, g)
    return f"{words} = {terms}" if terms else f"{words} = {fmt(g)}"


def _conv_terms(ctx: Any, dy: np.ndarray, pos: int, ii: tuple, g: float) -> str | None:
    """One gradient cell of a conv2d call as its 3 largest terms, then how many more."""
    from ..grad_cells import _conv_grad  # the graph package imports this module first

    w = window_of(ctx)
    if (
        w is None
        or w.kind != "conv"
        or any(t is None or getattr(t, "values_freed", False) for t in ctx.inputs[:2])
    ):
        return None
    e = _conv_grad(ctx, w, pos, tuple(ii), np.asarray(dy, np.float64), "")
    if pos == 2:
        parts = [_p(v) for v in e.terms]
    else:
        a, b = e.window["grad"].ravel(), e.window["x" if pos == 1 else "weight"].ravel()
        parts = [f"{_p(u)}*{_p(v)}" for u, v in zip(a, b)]
    return sum_text(parts, g, sizes=e.terms, keep=3, limit=3, digits=4)


def _pool(ctx: Any, dy: np.ndarray, oi: tuple, pos: int, ii: tuple, g: float) -> str:
    if "max" in ctx.name:
        if g == 0:
            return "0: this cell is the maximum of no window, no gradient reaches it"
        return f"dy of the window(s) this cell won = {fmt(g)}"
    return f"Σ dy / (window size) over the windows covering this cell = {fmt(g)}"


def _same(ctx: Any, dy: np.ndarray, oi: tuple, pos: int, ii: tuple, g: float) -> str:
    return f"dy, moved back to the input's shape = {fmt(g)}"


def _sum(ctx: Any, dy: np.ndarray, oi: tuple, pos: int, ii: tuple, g: float) -> str:
    x = ctx.inputs[0]
    if ctx.name == "mean" and x is not None and dy.size == 1:
        n = round(float(dy.reshape(-1)[0]) / g) if g else x.size
        return f"dy / n = {fmt(dy.reshape(-1)[0])} / {n} = {fmt(g)}"
    return f"dy, copied to every element that was summed = {fmt(g)}"


#: one sentence in plain words for an op's backward, shown on its derivative card
PLAIN: dict[str, str] = {
    "conv2d": (
        "The names in the formula are convolutions too: the gradient of a convolution with "
        "respect to its input is a convolution of the output gradient with the flipped kernel "
        "(conv_transpose2d); with respect to its weight it is the output gradient sliding over "
        "the input, summed over samples and positions (conv2d_weight); the bias gets the output "
        "gradient summed over every sample and position."
    ),
    "max_pool2d": (
        "Only the largest value of each window went forward, so only it gets that window's "
        "gradient; every other cell gets 0."
    ),
    "avg_pool2d": (
        "Every cell of a window gets the window's gradient divided by the number of cells "
        "that were averaged."
    ),
    "relu": "The gradient passes where the input was positive and stops (0) where it was not.",
    "sigmoid": "The gradient is scaled by the slope of the sigmoid, s * (1 - s), at most 0.25.",
    "tanh": "The gradient is scaled by the slope of tanh, 1 - t², at most 1.",
    "matmul": (
        "Each input's gradient is the output gradient multiplied by the other input, "
        "transposed: one dot product per element."
    ),
    "add": "Addition sends the gradient unchanged to both inputs (summed over broadcast axes).",
    "sub": "Subtraction sends the gradient to the first input and its negative to the second.",
    "mul": "Each input's gradient is the output gradient times the other input.",
    "cross_entropy": (
        "With the softmax inside the loss, the gradient for each logit is the predicted "
        "probability minus the true one (1 for the label, 0 elsewhere), divided by the batch "
        "size for a mean."
    ),
    "log_loss": (
        "p is the predicted probability and y the target; dp is the gradient for p. Here dy "
        "is the gradient for the target y, and g the gradient arriving from the loss's output."
    ),
    "reshape": "Only the shape changed: the gradient is reshaped back.",
    "flatten": "Only the shape changed: the gradient is reshaped back.",
    "transpose": "Only the order of the axes changed: the gradient is transposed back.",
    "sum": "Every element that was summed gets the output gradient, unchanged.",
    "mean": "Every element that was averaged gets the output gradient divided by their number.",
    "dropout": "Dropped elements get 0; kept elements get the gradient times 1/(1 - p).",
    "batch_norm": (
        "Each element moved the channel's mean and variance too, so its gradient is dy "
        "scaled by weight / sigma, minus the channel's mean gradient and a share along xhat."
    ),
}


def plain_words(op: str) -> str | None:
    """One sentence in plain words for op ``op``'s backward, or None.

    >>> plain_words("relu")
    'The gradient passes where the input was positive and stops (0) where it was not.'
    """
    return PLAIN.get(op)


RULES: dict[str, Rule] = {
    "relu": _elementwise(_relu),
    "sigmoid": _elementwise(_sigmoid),
    "tanh": _elementwise(_tanh),
    "mul": _mul,
    "add": _add,
    "sub": _add,
    "matmul": _matmul,
    "cross_entropy": _cross_entropy,
    "log_loss": _log_loss,
    "conv2d": _conv,
    "max_pool2d": _pool,
    "avg_pool2d": _pool,
    "reshape": _same,
    "flatten": _same,
    "transpose": _same,
    "sum": _sum,
    "mean": _sum,
}


def step_math(ev: Any) -> list[str]:
    """One line per gradient a backward step sends: ``d<input><index> = formula = numbers``."""
    return [line for line, _, _ in step_lines(ev)]


def step_lines(ev: Any) -> list[tuple[str, float, str | None]]:
    """Per gradient a backward step sends: its line (as :func:`step_math`), the engine's
    value at that element, and the line with that value hidden (``= ?``, for predicting it
    first), or None when the line cannot be worked out by hand (a sum shown in part)."""
    ctx = ev.node
    dy = np.asarray(ev.grad)
    oi = _arg(dy)
    # an element whose gradient goes on (relu: one where x > 0): the largest sent gradient
    # of the first input that has dy's shape
    same = [np.asarray(g) for g in ev.input_grads if g is not None]
    same = [g for g in same if g.shape == dy.shape and np.any(g != 0)]
    if same:
        oi = _arg(same[0])
    names = op_spec(ctx.op).inputs
    rule = RULES.get(ctx.name)
    lines: list[tuple[str, float, str | None]] = []
    for pos, gi in enumerate(ev.input_grads):
        if gi is None:
            continue
        gi = np.asarray(gi)
        ii = oi if gi.shape == dy.shape else _arg(gi)
        g = float(gi[ii]) if gi.ndim else float(gi)
        name = names[pos] if pos < len(names) else f"arg{pos}"
        body = None
        try:
            body = rule(ctx, dy, oi, pos, ii, g) if rule is not None else None
        except (IndexError, ValueError, TypeError):
            body = None
        if body is None:
            formula = getattr(ctx.op, "formula", None)
            body = fmt(g) + (f"   ({formula})" if formula else "")
        line = f"d{name}{_idx(ii)} = {body}"
        result = f"= {fmt(g)}"
        cut = line.rfind(result)
        whole = cut > 0 and "more terms" not in line and "..." not in line
        hidden = line[:cut] + "= ?" + line[cut + len(result) :] if whole else None
        lines.append((line, g, hidden))
    return lines
