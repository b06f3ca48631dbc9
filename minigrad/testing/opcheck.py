"""``opcheck``: the Op contract as the engine enforces it, then the gradient checks.

>>> import minigrad as mg
>>> from minigrad.testing import opcheck
>>> class Twice(mg.Op):
...     @staticmethod
...     def forward(ctx, x):
...         return 2 * x
...     @staticmethod
...     def backward(ctx, grad):
...         return grad * 2
>>> bool(opcheck(Twice, mg.randn(3)))
True
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..autograd import call_op, no_grad
from ..gradients import check_grad_dtype
from ..graph.trace import producer
from ..op import Op, op_spec
from ..tensor import Tensor
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["OpcheckResult", "OpcheckWarning", "opcheck"]


class OpcheckWarning(UserWarning):
    """opcheck checked less than asked (for instance first order only), and says why."""


@dataclass(frozen=True)
class OpcheckResult:
    """What :func:`opcheck` checked. Always true (failures raise :class:`GradcheckError`).

    ``orders``: the derivative orders compared with finite differences (``(1, 2)``, ``(1,)``
    or ``()``); ``notes``: what was skipped or fitted, and why.
    """

    op: str
    orders: tuple[int, ...]
    notes: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return True


def opcheck(
    op_class: type[Op] | Callable[..., Any],
    *inputs: Any,
    check_gradients: bool = True,
    check_double_backward: bool = True,
    **attrs: Any,
) -> OpcheckResult:
    """Check an op against the contract, then its gradients; returns an :class:`OpcheckResult`.

    ``op_class`` is the Op subclass or its op function (``mg.ops.relu``, whose ``.op`` is the
    class); ``inputs`` are arrays or Tensors and ``attrs`` the op's keyword attributes, as in
    ``opcheck(mg.ops.softmax, x, axis=0)``.

    - ``forward`` returns an ndarray, is deterministic and does not change its inputs;
    - ``backward`` returns one gradient per input (None allowed only where no gradient is
      needed) that the engine accepts: the input's shape or a broadcast of it, a floating
      dtype (complex for complex inputs; another float precision is cast, as at run time;
      complex for a real input or an integer gradient is an error, as at run time), and it
      does not change the inputs;
    - with float64 copies of the inputs: :func:`gradcheck`, and :func:`gradgradcheck` unless
      ``check_double_backward=False`` or backward returns plain numpy arrays (allowed for
      first-order use: opcheck then warns with :class:`OpcheckWarning` that it checked first
      order only and why, and says so in ``result.notes``).

    >>> import minigrad as mg
    >>> from minigrad.testing import opcheck
    >>> class Square(mg.Op):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (x,) = ctx.saved_tensors
    ...         return grad * 2 * x
    >>> opcheck(Square, mg.randn(2, 3)).orders
    (1, 2)
    """
    op_class = _op_class(op_class)
    name = op_spec(op_class).name
    # fresh leaves (copies), so the check never touches the caller's tensors
    tensors = [
        None if t is None else Tensor(t.data if isinstance(t, Tensor) else t) for t in inputs
    ]
    for t in tensors:
        if t is not None and t.dtype.kind == "f":
            t.requires_grad = True
    out, before = _check_forward(name, op_class, tensors, attrs)
    if producer(out) is None:
        return OpcheckResult(name, ())
    notes = _check_backward(name, op_class, out, tensors, before)
    if not check_gradients:
        return OpcheckResult(name, (), tuple(notes))
    orders = _check_gradients(name, op_class, tensors, attrs, notes, check_double_backward)
    return OpcheckResult(name, orders, tuple(notes))


def _op_class(op: Any) -> type[Op]:
    """The Op subclass behind ``op``: the class itself, or an op function's ``.op``."""
    if isinstance(op, type) and issubclass(op, Op):
        return op
    cls = getattr(op, "op", None)
    if isinstance(cls, type) and issubclass(cls, Op):
        return cls
    what = f"class {op.__qualname__}" if isinstance(op, type) else repr(op)
    raise TypeError(
        f"opcheck: expected an Op subclass (class Swish(mg.Op): ...) or an op function such "
        f"as mg.ops.relu, got {what}; to check any other function of Tensors, use "
        "gradcheck(fn, *inputs) and gradgradcheck(fn, *inputs)"
    )


def _check_gradients(name, op_class, tensors, attrs, notes, double) -> tuple[int, ...]:
    """gradcheck, then gradgradcheck unless skipped (and why); returns the orders checked."""
    wide = [
        Tensor(t.data.astype(np.float64), requires_grad=True)
        if t is not None and t.dtype.kind == "f"
        else t
        for t in tensors
    ]

    def fn(*xs: Any) -> Tensor:
        return call_op(op_class, *xs, **attrs)

    plain = [n for n in notes if n.startswith("checked first order only")]
    if plain and double:
        warnings.warn(f"opcheck({name}): {plain[0]}", OpcheckWarning, stacklevel=3)
    checks = [(1, gradcheck)] + ([(2, gradgradcheck)] if double and not plain else [])
    for order, check in checks:
        try:
            check(fn, *wide)
        except GradcheckError as e:
            raise GradcheckError(
                f"opcheck({name}): {e}", order=order, input_index=e.input_index
            ) from e
    return tuple(order for order, _ in checks)


def _check_forward(name: str, op_class: type[Op], tensors: list, attrs: dict) -> tuple:
    """Determinism and no in-place writes; returns ``(output, arrays before the call)``."""
    before = [None if t is None else t.data.copy() for t in tensors]
    out1 = _call_checking_writes(name, op_class, tensors, attrs)
    _check_unchanged(name, "forward", tensors, before)
    out2 = _call_checking_writes(name, op_class, tensors, attrs)
    if out1.shape != out2.shape or not np.array_equal(out1.data, out2.data, equal_nan=True):
        raise GradcheckError(f"opcheck({name}): forward is not deterministic on the same inputs")
    needs = any(t is not None and t.requires_grad for t in tensors)
    if producer(out1) is None and out1.dtype.kind == "f" and needs:
        raise GradcheckError(f"opcheck({name}): the call was not recorded for backward")
    return out1, before


def _check_backward(
    name: str, op_class: type[Op], out: Tensor, tensors: list, before: list
) -> list[str]:
    """What backward returns, under the engine's rules; returns notes (fitted, first order)."""
    node = producer(out)
    assert node is not None  # opcheck returns early for calls that were not recorded
    g = Tensor(np.random.default_rng(0).standard_normal(out.shape), dtype=out.dtype)
    with no_grad():
        raw = op_class.backward(node, g)
    raw = raw if isinstance(raw, (tuple, list)) else (raw,)
    if len(raw) != len(node.inputs):
        raise GradcheckError(
            f"opcheck({name}): backward returned {len(raw)} gradient(s) for "
            f"{len(node.inputs)} input(s)"
        )
    notes: list[str] = []
    for k, (t, gk, need) in enumerate(zip(node.inputs, raw, node.needs_input_grad)):
        if not need:
            continue
        if gk is None:
            raise GradcheckError(
                f"opcheck({name}): backward returned None for input {k}, which needs a gradient"
            )
        notes.extend(_check_one_gradient(name, k, t, gk))
    _check_unchanged(name, "backward", tensors, before)
    if any(not isinstance(gk, Tensor) and gk is not None for gk in raw):
        notes.append(
            "checked first order only: backward returns numpy arrays (not minigrad Tensors), "
            "which is fine for first-order gradients but cannot be differentiated again, so "
            "the second-order (double backward) check was skipped. To support it, write "
            "backward with minigrad operations on ctx.saved_tensors and grad."
        )
    return notes


def _check_one_gradient(name: str, k: int, t: Any, gk: Any) -> list[str]:
    """The engine's rule for one gradient (see minigrad.autograd): error or notes."""
    arr = gk.data if isinstance(gk, Tensor) else np.asarray(gk)
    if arr.dtype.kind not in "biufc":
        raise GradcheckError(
            f"opcheck({name}): backward returned {type(gk).__name__} for input {k}"
        )
    try:
        check_grad_dtype(name, k, arr.dtype, t.dtype)
    except TypeError as e:
        raise GradcheckError(f"opcheck({name}): {e}", input_index=k) from e
    if arr.shape != t.shape:
        try:
            ok = np.broadcast_shapes(arr.shape, t.shape) == arr.shape
        except ValueError:
            ok = False
        if not ok:
            raise GradcheckError(
                f"opcheck({name}): gradient for input {k} has shape {arr.shape}; expected the "
                f"input's shape {t.shape} (or a broadcast of it, which the engine sums back)",
                input_index=k,
            )
    if arr.dtype != t.dtype:
        return [
            f"gradient for input {k} has dtype {arr.dtype} for an input of dtype {t.dtype}; "
            "the engine casts it (same kind, no information lost)"
        ]
    return []


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


def _check_unchanged(name: str, phase: str, tensors: list, before: list) -> None:
    for k, (t, b) in enumerate(zip(tensors, before)):
        if t is not None and not np.array_equal(t.data, b, equal_nan=True):
            raise GradcheckError(f"opcheck({name}): {phase} modified input {k} in place")
