"""Arithmetic: + - * / ** and unary functions, matrix product.

Each ``backward`` is written with minigrad ops on Tensors, so it can be drawn and differentiated
again. The arithmetic of every training step (+ - * / neg exp log sqrt @) also has an
``_array_backward``: the same formula on numpy arrays, which the engine runs instead in a
first-order backward (nothing is differentiated again there), saving the recorded op calls;
tests check that the two agree bit for bit. Like the engine's loop it serves, an
``_array_backward`` reads the context's private slots (``_saved``, ``_needs_input_grad``)
rather than its public face, to save a property call per step. Broadcasting follows numpy;
the engine sums broadcast gradients back to each input's shape and casts them to its dtype,
so a backward here returns the plain mathematical gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import apply
from ..op import Context, Op
from ..tensor import Tensor, as_tensor
from ._common import (
    _binary,
    _broadcast,
    _broadcast_error,
    _const,
    _floating,
    _promote,
    _sum_to_array,
)
from .select import where
from .shape import sum_to

__all__ = [
    "abs",
    "add",
    "div",
    "exp",
    "log",
    "matmul",
    "mul",
    "neg",
    "pow",
    "sqrt",
    "sub",
]


class Add(Op):
    name = "add"
    _core = True
    formula = "da = dy, db = dy"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if a.dtype is not b.dtype:
            a, b = _promote(a, b)
        try:  # inline rather than through _broadcast: this is the hottest path
            return a + b
        except ValueError:
            raise _broadcast_error("add", a, b) from None

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return grad, grad

    @staticmethod
    def _array_backward(ctx: Context, grad: np.ndarray) -> tuple:
        return grad, grad


class Sub(Op):
    name = "sub"
    _core = True
    formula = "da = dy, db = -dy"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if a.dtype is not b.dtype:
            a, b = _promote(a, b)
        try:  # inline rather than through _broadcast: this is the hottest path
            return a - b
        except ValueError:
            raise _broadcast_error("sub", a, b) from None

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return grad, (-grad if ctx.needs_input_grad[1] else None)

    @staticmethod
    def _array_backward(ctx: Context, grad: np.ndarray) -> tuple:
        return grad, (np.negative(grad) if ctx._needs_input_grad[1] else None)


class Mul(Op):
    name = "mul"
    _core = True
    formula = "da = dy * b, db = dy * a"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if a.dtype is not b.dtype:
            a, b = _promote(a, b)
        ctx.save_for_backward(a, b)
        try:  # inline rather than through _broadcast: this is the hottest path
            return a * b
        except ValueError:
            raise _broadcast_error("mul", a, b) from None

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)

    @staticmethod
    def _array_backward(ctx: Context, grad: np.ndarray) -> tuple:
        a, b = ctx._saved  # type: ignore[misc]
        need_a, need_b = ctx._needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(Op):
    name = "div"
    _core = True
    formula = "da = dy / b, db = -dy * (a / b) / b"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if a.dtype is not b.dtype or a.dtype.kind not in "fc":
            a, b = _promote(a, b)
            a, b = _floating(a), _floating(b)  # int / int is a float32 quotient, as in PyTorch
        ctx.save_for_backward(a, b)
        try:  # inline rather than through _broadcast: this is the hottest path
            return a / b
        except ValueError:
            raise _broadcast_error("div", a, b) from None

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        # -dy * (a / b) / b, not -dy * a / (b * b): b * b overflows or underflows where the
        # quotient does not (float16 a = b = 1e-4 gave -inf); the same order as PyTorch
        return (grad / b if need_a else None), (-grad * (a / b / b) if need_b else None)

    @staticmethod
    def _array_backward(ctx: Context, grad: np.ndarray) -> tuple:
        a, b = ctx._saved  # type: ignore[misc]
        need_a, need_b = ctx._needs_input_grad
        return (grad / b if need_a else None), (-grad * (a / b / b) if need_b else None)


class Neg(Op):
    name = "neg"
    _core = True
    formula = "dx = -dy"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        return np.negative(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return -grad

    @staticmethod
    def _array_backward(ctx: Context, grad: np.ndarray) -> tuple:
        return (np.negative(grad),)


class Pow(Op):
    """``x ** y`` with a tensor exponent."""

    name = "pow"
    _core = True
    formula = "dx = dout * y * x**(y - 1), dy = dout * x**y * log(x)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        if x.dtype is not y.dtype:
            x, y = _promote(x, y)
        out = _broadcast("pow", np.power, x, y)
        ctx.save_for_backward(x, y, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        x, y, out = ctx.saved_tensors
        gx = gy = None
        if ctx.needs_input_grad[0]:
            # d/dx x^y = y x^(y-1); taken as 0 where y == 0, even at x == 0 (as PyTorch does)
            with np.errstate(divide="ignore", invalid="ignore"):
                gx = grad * y * x ** (y - 1)
            y_zero = y.data == 0
            if y_zero.any():
                gx = where(_const(np.broadcast_to(y_zero, gx.shape)), as_tensor(0.0, like=gx), gx)
        if ctx.needs_input_grad[1]:
            # d/dy x^y = x^y log x; taken as 0 where x == 0 and y >= 0 (as PyTorch does)
            zero = (x.data == 0) & (y.data >= 0)
            safe_x = where(_const(zero), as_tensor(1.0, like=x), x)
            gy = where(_const(zero), as_tensor(0.0, like=grad), grad * out * log(safe_x))
        return gx, gy


class PowScalar(Op):
    """``x ** c`` with a constant exponent ``c``."""

    name = "pow"
    _core = True
    formula = "dx = dy * c * x**(c - 1)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, exponent: float) -> np.ndarray:
        if type(exponent) is float:  # an integer tensor ** 0.5 is computed in floating point
            x = _floating(x)
        ctx.save_for_backward(x)
        return np.power(x, np.asarray(exponent, dtype=x.dtype))

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        c = ctx.attrs["exponent"]
        if c == 0:
            return grad * 0.0
        if c == 1:
            return grad
        return grad * (c * x ** (c - 1))


class Exp(Op):
    name = "exp"
    _core = True
    formula = "dx = dy * exp(x)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        out = np.exp(_floating(x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return grad * out

    @staticmethod
    def _array_backward(ctx: Context, grad: np.ndarray) -> tuple:
        (out,) = ctx._saved  # type: ignore[misc]
        return (grad * out,)


class Log(Op):
    name = "log"
    _core = True
    formula = "dx = dy / x"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        x = _floating(x)
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad / x

    @staticmethod
    def _array_backward(ctx: Context, grad: np.ndarray) -> tuple:
        (x,) = ctx._saved  # type: ignore[misc]
        return (grad / x,)


class Sqrt(Op):
    name = "sqrt"
    _core = True
    formula = "dx = dy / (2 * sqrt(x))"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            out = np.sqrt(_floating(x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return grad / (out * 2.0)

    @staticmethod
    def _array_backward(ctx: Context, grad: np.ndarray) -> tuple:
        (out,) = ctx._saved  # type: ignore[misc]
        return (grad / (out * 2.0),)


class Abs(Op):
    """|x|; the gradient at 0 is 0 (sign(0) = 0), and at NaN too (as PyTorch's sgn)."""

    name = "abs"
    _core = True
    formula = "dx = dy * sign(x)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        x = ctx.saved_arrays[0]
        # sign(x) with NaN -> 0 (np.sign gives NaN there; PyTorch's abs' is 0)
        return grad * _const(np.subtract(x > 0, x < 0, dtype=grad.dtype))


class MatMul(Op):
    """Matrix product with numpy's rules: 1-D operands, batched and broadcast leading dims."""

    name = "matmul"
    _core = True
    formula = "da = dy @ b.T, db = a.T @ dy"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(
                f"matmul: operands must be at least 1-D, got shapes {a.shape} and {b.shape}"
            )
        k_a = a.shape[-1]
        k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if k_a != k_b:
            raise ValueError(
                f"matmul: shapes {a.shape} and {b.shape} do not match: the last dimension of "
                f"the first ({k_a}) must equal the {'only' if b.ndim == 1 else 'second-to-last'} "
                f"dimension of the second ({k_b})"
            )
        try:
            if a.ndim > 2 and b.ndim > 2:  # batch dimensions on both sides (4 us: not always)
                np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise ValueError(
                f"matmul: batch dimensions of {a.shape} and {b.shape} cannot be broadcast together"
            ) from None
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        a, b = ctx.saved_tensors
        # promote 1-D operands to matrices so one formula covers every case
        a2 = a.reshape((1, *a.shape)) if a.ndim == 1 else a
        b2 = b.reshape((*b.shape, 1)) if b.ndim == 1 else b
        g = grad
        if a.ndim == 1:
            g = g.reshape((*g.shape[:-1], 1, g.shape[-1]) if b.ndim > 1 else (1, *g.shape))
        if b.ndim == 1:
            g = g.reshape((*g.shape, 1))
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = sum_to(g @ b2.transpose(_swap_last(b2.ndim)), a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            gb = sum_to(a2.transpose(_swap_last(a2.ndim)) @ g, b2.shape).reshape(b.shape)
        return ga, gb

    @staticmethod
    def _array_backward(ctx: Context, grad: np.ndarray) -> tuple:
        a, b = ctx._saved  # type: ignore[misc]
        a2 = a.reshape((1, *a.shape)) if a.ndim == 1 else a
        b2 = b.reshape((*b.shape, 1)) if b.ndim == 1 else b
        g = grad
        if a.ndim == 1:
            g = g.reshape((*g.shape[:-1], 1, g.shape[-1]) if b.ndim > 1 else (1, *g.shape))
        if b.ndim == 1:
            g = g.reshape((*g.shape, 1))
        ga = gb = None
        if ctx._needs_input_grad[0]:
            ga = _sum_to_array(g @ b2.transpose(_swap_last(b2.ndim)), a2.shape).reshape(a.shape)
        if ctx._needs_input_grad[1]:
            gb = _sum_to_array(a2.transpose(_swap_last(a2.ndim)) @ g, b2.shape).reshape(b.shape)
        return ga, gb


def _swap_last(ndim: int) -> tuple[int, ...]:
    return (*range(ndim - 2), ndim - 1, ndim - 2)


# --------------------------------------------------------------------------- functions


def add(a: Any, b: Any) -> Tensor:
    """``a + b`` with numpy broadcasting."""
    if type(a) is Tensor and type(b) is Tensor:
        return apply(Add, (a, b), {})
    return _binary(Add, a, b)


def sub(a: Any, b: Any) -> Tensor:
    """``a - b`` with numpy broadcasting."""
    if type(a) is Tensor and type(b) is Tensor:
        return apply(Sub, (a, b), {})
    return _binary(Sub, a, b)


def mul(a: Any, b: Any) -> Tensor:
    """``a * b`` with numpy broadcasting."""
    if type(a) is Tensor and type(b) is Tensor:
        return apply(Mul, (a, b), {})
    return _binary(Mul, a, b)


def div(a: Any, b: Any) -> Tensor:
    """``a / b`` with numpy broadcasting."""
    if type(a) is Tensor and type(b) is Tensor:
        return apply(Div, (a, b), {})
    return _binary(Div, a, b)


def neg(x: Any) -> Tensor:
    """``-x``."""
    return apply(Neg, (as_tensor(x),), {})


def pow(x: Any, y: Any) -> Tensor:
    """``x ** y``; a Python number exponent is an attribute (one input, no exponent gradient)."""
    if isinstance(x, Tensor) and isinstance(y, (int, float)) and not isinstance(y, bool):
        return apply(PowScalar, (x,), {"exponent": y})
    return _binary(Pow, x, y)


def exp(x: Any) -> Tensor:
    """Elementwise e**x. ``mg.exp(mg.tensor([0.0]))`` -> tensor([1.])"""
    return apply(Exp, (as_tensor(x),), {})


def log(x: Any) -> Tensor:
    """Elementwise natural logarithm. ``mg.log(mg.tensor([1.0]))`` -> tensor([0.])"""
    return apply(Log, (as_tensor(x),), {})


def sqrt(x: Any) -> Tensor:
    """Elementwise square root. ``mg.sqrt(mg.tensor([4.0]))`` -> tensor([2.])"""
    return apply(Sqrt, (as_tensor(x),), {})


def abs(x: Any) -> Tensor:
    """Elementwise |x| (gradient 0 at 0). ``mg.abs(mg.tensor([-2.0]))`` -> tensor([2.])"""
    return apply(Abs, (as_tensor(x),), {})


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product (batched, broadcasting), as numpy's ``@``."""
    return _binary(MatMul, a, b)
