"""Finite-difference checks of first and second derivatives (double backward).

>>> import minigrad as mg
>>> from minigrad.testing import gradcheck
>>> gradcheck(lambda t: (t * t).sum(), mg.randn(3, dtype="float64", requires_grad=True))
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd import call_op, grad
from ..op import Op
from ..tensor import Tensor, new_tensor

__all__ = ["LEAVES_GRAPH_HINT", "GradcheckError", "gradcheck", "gradgradcheck"]

FIRST = "first order"
SECOND = "second order (double backward)"
#: what a second-order failure most often means, and what to do about it
LEAVES_GRAPH_HINT = (
    "Likely cause: the backward leaves the graph: it computes with numpy arrays (.data, "
    "np.* functions) or with saved intermediates, which come back from ctx.saved_tensors as "
    "constants, so create_graph=True records no dependence on the inputs. Fix: write "
    "backward with minigrad operations (mg.exp, *, +, ...) on ctx.saved_tensors (inputs and "
    "output) and grad, recomputing intermediates from the inputs."
)


class GradcheckError(AssertionError):
    """A gradient or contract check failed; the message says where and by how much.

    ``order`` is 1 (first derivatives), 2 (second derivatives, double backward) or None (a
    contract check); ``input_index`` the input at fault, where known.
    """

    def __init__(
        self, message: str, *, order: int | None = None, input_index: int | None = None
    ) -> None:
        super().__init__(message)
        self.order = order
        self.input_index = input_index


def as_function(fn: Any, who: str) -> Callable[..., Any]:
    """``fn`` itself, or for an Op class the function that runs it through the engine."""
    if isinstance(fn, type) and issubclass(fn, Op):
        op_class = fn
        return lambda *xs: call_op(op_class, *xs)
    if not callable(fn):
        raise TypeError(
            f"{who}: expected a function of Tensors (mg.ops.relu, a lambda) or an Op class, "
            f"got {type(fn).__name__}"
        )
    return fn


def _outputs(result: Any) -> list[Tensor]:
    if isinstance(result, Tensor):
        return [result]
    return [r for r in result if isinstance(r, Tensor)]


def _diff_inputs(inputs: tuple, who: str) -> list[int]:
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError(f"{who}: no input requires grad; pass Tensors with requires_grad=True")
    for i in diff:
        if inputs[i].dtype != np.float64:
            raise ValueError(
                f"{who}: input {i} has dtype {inputs[i].dtype}; finite differences need "
                "float64 inputs (create them with dtype='float64')"
            )
    return diff


def _compare(fn, inputs, diff, label, describe, eps, atol, rtol, max_full_size, seed) -> None:
    """Raise GradcheckError where ``fn``'s analytic gradients differ from finite differences."""
    order = 2 if label.startswith("gradgradcheck") else 1
    rng = np.random.default_rng(seed)
    outs = _outputs(fn(*inputs))
    vs = [rng.standard_normal(o.shape).astype(o.dtype) for o in outs]
    live = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
    try:
        analytic: tuple[Tensor | None, ...] = (None,) * len(diff)
        if live:
            cot = [new_tensor(v) for _, v in live]
            targets = [inputs[i] for i in diff]
            analytic = grad([o for o, _ in live], targets, cot, allow_unused=True)
    except Exception as e:
        raise GradcheckError(
            f"{label}: {SECOND if order == 2 else FIRST}: computing the gradients raised "
            f"{type(e).__name__}: {e}",
            order=order,
        ) from e

    def phi(i: int, value: np.ndarray) -> float:
        # grad mode stays on: fn may itself differentiate (gradgradcheck)
        args = [Tensor(value, requires_grad=True) if k == i else t for k, t in enumerate(inputs)]
        res = _outputs(fn(*args))
        return float(sum(np.sum(v * r.data.astype(np.float64)) for v, r in zip(vs, res)))

    for i, g in zip(diff, analytic):
        x = inputs[i].data
        a = np.zeros(x.shape) if g is None else g.data.astype(np.float64)
        if x.size <= max_full_size:
            problem = _full_difference(phi, i, x, a, eps, atol, rtol)
        else:
            problem = _directional_difference(phi, i, x, a, eps, atol, rtol, rng)
        if problem:
            raise GradcheckError(f"{label}: {describe(i)} {problem}", order=order, input_index=i)


def _full_difference(phi, i, x, a, eps, atol, rtol) -> str | None:
    numeric = np.zeros(x.shape)
    flat = x.reshape(-1)
    for k in range(x.size):
        plus, minus = flat.copy(), flat.copy()
        plus[k] += eps
        minus[k] -= eps
        numeric.reshape(-1)[k] = (
            phi(i, plus.reshape(x.shape)) - phi(i, minus.reshape(x.shape))
        ) / (2 * eps)
    err = np.abs(a - numeric)
    bad = err > atol + rtol * np.abs(numeric)
    if not bad.any():
        return None
    worst = np.unravel_index(int(np.argmax(err - rtol * np.abs(numeric))), x.shape)
    return (
        f"does not match finite differences at {tuple(int(j) for j in worst)}: analytic "
        f"{a[worst]:.8g}, numeric {numeric[worst]:.8g}; {int(bad.sum())} of {x.size} elements "
        f"differ (max abs error {err.max():.3g}, atol={atol}, rtol={rtol})"
    )


def _directional_difference(phi, i, x, a, eps, atol, rtol, rng) -> str | None:
    # large inputs (convolution weights): three random directions instead of every element
    for _ in range(3):
        u = rng.standard_normal(x.shape)
        numeric = (phi(i, x + eps * u) - phi(i, x - eps * u)) / (2 * eps)
        analytic = float(np.sum(a * u))
        if abs(analytic - numeric) > atol * np.sqrt(x.size) + rtol * abs(numeric):
            return f"along a random direction: analytic {analytic:.8g}, numeric {numeric:.8g}"
    return None


def gradcheck(
    fn: Callable[..., Any],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    max_full_size: int = 512,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Compare ``fn``'s analytic gradients (first order) with float64 central differences.

    ``fn`` is any function of Tensors: an op function such as ``mg.ops.relu``, an Op class
    (run through the engine), or a lambda; give an op its attributes with
    ``functools.partial(mg.ops.softmax, axis=0)``. Every Tensor input that requires grad must
    be float64. ``fn`` may return one Tensor or a sequence; a fixed random cotangent ``v``
    reduces the outputs to ``sum(v * out)``.
    Inputs with at most ``max_full_size`` elements are checked element by element; larger
    ones along three random directions (cheap for big tensors such as convolution weights).

    Returns True, or raises :class:`GradcheckError` naming the order, the input, the worst
    element and both values (returns False instead with ``raise_exception=False``).

    >>> import minigrad as mg
    >>> gradcheck(lambda t: mg.exp(t).sum(), mg.randn(2, dtype="float64", requires_grad=True))
    True
    """
    fn = as_function(fn, "gradcheck")
    diff = _diff_inputs(inputs, "gradcheck")

    def describe(i: int) -> str:
        return f"{FIRST}: gradient of input {i} (shape {inputs[i].shape})"

    try:
        _compare(fn, inputs, diff, "gradcheck", describe, eps, atol, rtol, max_full_size, seed)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(
    fn: Callable[..., Any],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Check second derivatives (double backward): gradcheck of ``grad(fn, create_graph=True)``.

    The first-order gradients (with a fixed random cotangent, itself an input) must be
    recorded as minigrad ops, and their gradients must match finite differences. A failure
    says "second order (double backward)", which input (or which output's incoming gradient)
    is at fault, and the likely cause: a backward that leaves the graph. ``fn`` is what
    :func:`gradcheck` takes: an op function (``mg.ops.tanh``), an Op class or a lambda.

    >>> import minigrad as mg
    >>> gradgradcheck(lambda t: mg.exp(t).sum(), mg.randn(2, dtype="float64", requires_grad=True))
    True
    """
    fn = as_function(fn, "gradgradcheck")
    try:
        _second_order(fn, inputs, eps, atol, rtol, seed)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _second_order(fn, inputs, eps, atol, rtol, seed) -> None:
    diff = _diff_inputs(inputs, "gradgradcheck")
    rng = np.random.default_rng(seed + 1)
    outs = [o for o in _outputs(fn(*inputs)) if o.requires_grad]
    vs = [Tensor(rng.standard_normal(o.shape), dtype=o.dtype, requires_grad=True) for o in outs]
    n = len(inputs)

    def first_order(*args: Any) -> tuple[Tensor, ...]:
        xs, cot = args[:n], args[n:]
        res = [o for o in _outputs(fn(*xs)) if o.requires_grad]
        if not res:
            return ()
        gs = grad(res, [xs[i] for i in diff], list(cot), create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None and g.requires_grad)

    if not first_order(*inputs, *vs):
        raise GradcheckError(
            f"gradgradcheck: {SECOND}: the first-order gradients do not depend on the inputs "
            "(the backward pass was not recorded as minigrad ops). A linear function has a "
            f"zero second derivative and gives this too; otherwise: {LEAVES_GRAPH_HINT}",
            order=2,
        )
    cut = _inputs_cut_from_gradients(first_order, inputs, vs, diff)

    def describe(i: int) -> str:
        if i >= n:
            return (
                f"{SECOND}: derivative of the first-order gradients with respect to the "
                f"incoming gradient of output {i - n} (backward must be recorded as minigrad "
                "ops on grad, not on grad.data)"
            )
        where = f"{SECOND}: derivative of the first-order gradients with respect to input {i}"
        return f"{where} (shape {inputs[i].shape})"

    try:
        args = (*inputs, *vs)
        _compare(first_order, args, [*diff, *range(n, n + len(vs))], "gradgradcheck", describe,
                 eps, atol, rtol, 512, seed)  # fmt: skip
    except GradcheckError as e:
        i = e.input_index
        why = LEAVES_GRAPH_HINT
        if i is not None and i in cut:
            why = why.replace(
                "Likely cause:",
                f"Cause (confirmed: the recorded first-order gradients do not depend on input "
                f"{i} at all, though they do numerically):",
            )
        raise GradcheckError(f"{e} {why}", order=2, input_index=i) from e


def _inputs_cut_from_gradients(first_order, inputs, vs, diff) -> set[int]:
    """Differentiable inputs the recorded first-order gradients do not depend on at all."""
    try:
        gs = first_order(*inputs, *vs)
        total = sum(g.sum() for g in gs)
        back = grad(total, [inputs[i] for i in diff], allow_unused=True)
    except Exception:  # a backward that cannot be differentiated: reported by the check
        return set()
    return {i for i, b in zip(diff, back) if b is None}
