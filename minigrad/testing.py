"""Checks for op authors: finite-difference gradient checks and the Op contract.

>>> import minigrad as mg
>>> from minigrad.testing import gradcheck, gradgradcheck
>>> x = mg.randn(3, dtype="float64", requires_grad=True)
>>> gradcheck(lambda t: (t * t).sum(), x)
True
>>> gradgradcheck(lambda t: (t * t * t).sum(), x)
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .autograd import call_op, grad, no_grad
from .op import Op, op_spec
from .tensor import Tensor

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck", "opcheck"]


class GradcheckError(AssertionError):
    """A gradient or contract check failed; the message says where and by how much."""


def _outputs(result: Any) -> list[Tensor]:
    if isinstance(result, Tensor):
        return [result]
    return [r for r in result if isinstance(r, Tensor)]


def _fail(message: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(message)
    return False


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
    """Compare ``fn``'s analytic gradients with float64 central differences.

    Every Tensor input that requires grad must be float64. ``fn`` may return one Tensor or a
    sequence; a fixed random cotangent ``v`` reduces the outputs to ``sum(v * out)``.
    Inputs with at most ``max_full_size`` elements are checked element by element; larger
    ones along three random directions (cheap for big tensors such as convolution weights).

    Returns True, or raises :class:`GradcheckError` naming the input, the worst element and
    both values (returns False instead with ``raise_exception=False``).
    """
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError("gradcheck: no input requires grad; pass Tensors with requires_grad=True")
    for i in diff:
        if inputs[i].dtype != np.float64:
            raise ValueError(
                f"gradcheck: input {i} has dtype {inputs[i].dtype}; finite differences need "
                "float64 inputs (create them with dtype='float64')"
            )
    rng = np.random.default_rng(seed)
    outs = _outputs(fn(*inputs))
    vs = [rng.standard_normal(o.shape).astype(o.dtype) for o in outs]
    live = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
    if live:
        analytic = grad(
            [o for o, _ in live],
            [inputs[i] for i in diff],
            [Tensor._make_const(v) for _, v in live],
            allow_unused=True,
        )
    else:
        analytic = (None,) * len(diff)

    def phi(values: dict[int, np.ndarray]) -> float:
        # grad mode stays on: fn may itself differentiate (gradgradcheck)
        args = [
            Tensor(values[i], requires_grad=True) if i in values else t
            for i, t in enumerate(inputs)
        ]
        res = _outputs(fn(*args))
        return float(sum(np.sum(v * r.data.astype(np.float64)) for v, r in zip(vs, res)))

    for i, g in zip(diff, analytic):
        x = inputs[i].data
        a = np.zeros(x.shape) if g is None else g.data.astype(np.float64)
        if x.size <= max_full_size:
            numeric = np.zeros(x.shape)
            flat = x.reshape(-1)
            for k in range(x.size):
                plus, minus = flat.copy(), flat.copy()
                plus[k] += eps
                minus[k] -= eps
                numeric.reshape(-1)[k] = (
                    phi({i: plus.reshape(x.shape)}) - phi({i: minus.reshape(x.shape)})
                ) / (2 * eps)
            err = np.abs(a - numeric)
            bad = err > atol + rtol * np.abs(numeric)
            if bad.any():
                k = np.unravel_index(int(np.argmax(err - rtol * np.abs(numeric))), x.shape)
                return _fail(
                    f"gradcheck: gradient of input {i} (shape {x.shape}) does not match finite "
                    f"differences at {tuple(int(j) for j in k)}: analytic {a[k]:.8g}, numeric "
                    f"{numeric[k]:.8g}; {int(bad.sum())} of {x.size} elements differ "
                    f"(max abs error {err.max():.3g}, atol={atol}, rtol={rtol})",
                    raise_exception,
                )
        else:
            for _ in range(3):
                u = rng.standard_normal(x.shape)
                numeric_d = (phi({i: x + eps * u}) - phi({i: x - eps * u})) / (2 * eps)
                analytic_d = float(np.sum(a * u))
                if abs(analytic_d - numeric_d) > atol * np.sqrt(x.size) + rtol * abs(numeric_d):
                    return _fail(
                        f"gradcheck: gradient of input {i} (shape {x.shape}) along a random "
                        f"direction: analytic {analytic_d:.8g}, numeric {numeric_d:.8g}",
                        raise_exception,
                    )
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
    """Check second derivatives: gradcheck of ``grad(fn, create_graph=True)``.

    The first-order gradients (with a fixed random cotangent) must themselves be
    differentiable, and their gradients must match finite differences.
    """
    rng = np.random.default_rng(seed + 1)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    outs = _outputs(fn(*inputs))
    vs = [
        Tensor(rng.standard_normal(o.shape), dtype=o.dtype, requires_grad=True)
        for o in outs
        if o.requires_grad
    ]
    n = len(inputs)

    def first_order(*args: Any) -> tuple[Tensor, ...]:
        xs, cot = args[:n], args[n:]
        res = [o for o in _outputs(fn(*xs)) if o.requires_grad]
        if not res:
            return ()
        gs = grad(res, [xs[i] for i in diff], list(cot), create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None and g.requires_grad)

    if not first_order(*inputs, *vs):
        return _fail(
            "gradgradcheck: the first-order gradients do not depend on the inputs "
            "(the backward pass was not recorded as minigrad ops)",
            raise_exception,
        )
    return gradcheck(
        first_order,
        *inputs,
        *vs,
        eps=eps,
        atol=atol,
        rtol=rtol,
        seed=seed,
        raise_exception=raise_exception,
    )


def opcheck(
    op_class: type[Op],
    *inputs: Any,
    check_gradients: bool = True,
    check_double_backward: bool = True,
    **attrs: Any,
) -> bool:
    """Check an op against the contract, then its gradients.

    - ``forward`` returns an ndarray, is deterministic and does not change its inputs;
    - ``backward`` returns one gradient per input, each with the input's shape and dtype
      (None allowed only where no gradient is needed), and does not change the inputs;
    - with float64 copies of the inputs: :func:`gradcheck`, and :func:`gradgradcheck` unless
      ``check_double_backward=False``.

    >>> import minigrad as mg
    >>> from minigrad.testing import opcheck
    >>> from minigrad.core_ops import Mul
    >>> opcheck(Mul, mg.randn(2, 3), mg.randn(2, 3))
    True
    """
    name = op_spec(op_class).name
    # fresh leaves (copies), so the check never touches the caller's tensors
    tensors = [
        None if t is None else Tensor(t.data if isinstance(t, Tensor) else t) for t in inputs
    ]
    for t in tensors:
        if t is not None and t.dtype.kind == "f":
            t.requires_grad = True
    before = [None if t is None else t.data.copy() for t in tensors]
    out1 = _call_checking_writes(name, op_class, tensors, attrs)
    _check_unchanged(name, "forward", tensors, before)
    out2 = _call_checking_writes(name, op_class, tensors, attrs)
    if out1.shape != out2.shape or not np.array_equal(out1.data, out2.data, equal_nan=True):
        raise GradcheckError(f"opcheck({name}): forward is not deterministic on the same inputs")
    node = out1._node
    if node is None:
        if any(t is not None and t.requires_grad for t in tensors) and out1.dtype.kind == "f":
            raise GradcheckError(f"opcheck({name}): the call was not recorded for backward")
        return True
    g = Tensor(np.random.default_rng(0).standard_normal(out1.shape), dtype=out1.dtype)
    with no_grad():
        raw = op_class.backward(node, g)
    raw = raw if isinstance(raw, (tuple, list)) else (raw,)
    if len(raw) != len(node.inputs):
        raise GradcheckError(
            f"opcheck({name}): backward returned {len(raw)} gradient(s) for "
            f"{len(node.inputs)} input(s)"
        )
    for k, (t, gk, need) in enumerate(zip(node.inputs, raw, node.needs_input_grad)):
        if not need:
            continue
        if gk is None:
            raise GradcheckError(
                f"opcheck({name}): backward returned None for input {k}, which needs a gradient"
            )
        arr = gk.data if isinstance(gk, Tensor) else np.asarray(gk)
        if arr.shape != t.shape or arr.dtype != t.dtype:
            raise GradcheckError(
                f"opcheck({name}): gradient for input {k} has shape {arr.shape} and dtype "
                f"{arr.dtype}; expected the input's shape {t.shape} and dtype {t.dtype}"
            )
    _check_unchanged(name, "backward", tensors, before)
    if not check_gradients:
        return True
    wide = [
        Tensor(t.data.astype(np.float64), requires_grad=True)
        if t is not None and t.dtype.kind == "f"
        else t
        for t in tensors
    ]

    def fn(*xs: Any) -> Tensor:
        return call_op(op_class, *xs, **attrs)

    gradcheck(fn, *wide)
    if check_double_backward:
        gradgradcheck(fn, *wide)
    return True


def _check_unchanged(name: str, phase: str, tensors: list, before: list) -> None:
    for k, (t, b) in enumerate(zip(tensors, before)):
        if t is not None and not np.array_equal(t.data, b, equal_nan=True):
            raise GradcheckError(f"opcheck({name}): {phase} modified input {k} in place")


def _call_checking_writes(name: str, op_class: type[Op], tensors: list, attrs: dict) -> Tensor:
    """Call the op; a forward writing into its (read-only) input arrays is a contract break."""
    try:
        return call_op(op_class, *tensors, **attrs)
    except ValueError as e:
        if "read-only" not in str(e):
            raise
        raise GradcheckError(
            f"opcheck({name}): forward modified an input in place ({e}); forward must not "
            "write into its input arrays: compute into a new array (x = x * 2, not x *= 2)"
        ) from e
