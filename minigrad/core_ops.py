"""Built-in primitives. Each backward is written with minigrad ops, so it can be drawn and
differentiated again (double backward).

Broadcasting follows numpy; the engine sums broadcast gradients back to each input's shape
and casts them to its dtype, so a backward here returns the plain mathematical gradient.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from .autograd import apply
from .op import Context, Op
from .tensor import Tensor, as_tensor

__all__ = [
    "abs",
    "astype",
    "clip",
    "concatenate",
    "exp",
    "expand",
    "getitem",
    "log",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "pad",
    "reshape",
    "sqrt",
    "stack",
    "sum",
    "sum_to",
    "transpose",
    "where",
]

_builtin_abs, _builtin_max, _builtin_min, _builtin_sum = abs, max, min, sum


def _const(arr: np.ndarray) -> Tensor:
    return Tensor._make_const(arr)


def _broadcast_error(name: str, a: np.ndarray, b: np.ndarray) -> ValueError:
    return ValueError(
        f"{name}: shapes {a.shape} and {b.shape} cannot be broadcast together "
        "(trailing dimensions must be equal or 1)"
    )


def _broadcast(name: str, fn: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        return fn(a, b)
    except ValueError:
        raise _broadcast_error(name, a, b) from None


def _norm_axis(axis: Any, ndim: int, name: str) -> tuple[int, ...] | None:
    if axis is None:
        return None
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer, tuple, list)):
        raise TypeError(
            f"{name}: axis must be an int or a tuple of ints, got {type(axis).__name__} {axis!r}"
        )
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for a in axes:
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            raise TypeError(
                f"{name}: axis must be an int or a tuple of ints, got {axis!r} "
                f"(holding {type(a).__name__})"
            )
    if ndim == 0:
        # as in PyTorch, a 0-d tensor accepts axis 0 or -1 and reduces over nothing
        bad = [a for a in axes if a not in (0, -1)]
        if bad:
            raise ValueError(f"{name}: axis {bad[0]} is out of range for a 0-D tensor")
        return ()
    out = []
    for a in axes:
        if not -ndim <= a < _builtin_max(ndim, 1):
            raise ValueError(f"{name}: axis {a} is out of range for a {ndim}-D tensor")
        out.append(int(a) % _builtin_max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: axis {axis!r} repeats an axis of a {ndim}-D tensor")
    return tuple(out)


# --------------------------------------------------------------------------- arithmetic


class Add(Op):
    name = "add"
    _core = True
    formula = "da = dy, db = dy"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        try:  # inline rather than through _broadcast: this is the hottest path
            return a + b
        except ValueError:
            raise _broadcast_error("add", a, b) from None

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return grad, grad


class Sub(Op):
    name = "sub"
    _core = True
    formula = "da = dy, db = -dy"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        try:  # inline rather than through _broadcast: this is the hottest path
            return a - b
        except ValueError:
            raise _broadcast_error("sub", a, b) from None

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Op):
    name = "mul"
    _core = True
    formula = "da = dy * b, db = dy * a"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
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


class Div(Op):
    name = "div"
    _core = True
    formula = "da = dy / b, db = -dy * a / b**2"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        try:  # inline rather than through _broadcast: this is the hottest path
            return a / b
        except ValueError:
            raise _broadcast_error("div", a, b) from None

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad / b if need_a else None), (-grad * a / (b * b) if need_b else None)


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


class Pow(Op):
    """``x ** y`` with a tensor exponent."""

    name = "pow"
    _core = True
    formula = "dx = dout * y * x**(y - 1), dy = dout * x**y * log(x)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, y: np.ndarray) -> np.ndarray:
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
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return grad * out


class Log(Op):
    name = "log"
    _core = True
    formula = "dx = dy / x"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad / x


class Sqrt(Op):
    name = "sqrt"
    _core = True
    formula = "dx = dy / (2 * sqrt(x))"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return grad / (out * 2.0)


class Abs(Op):
    """|x|; the gradient at 0 is 0 (sign(0) = 0)."""

    name = "abs"
    _core = True
    formula = "dx = dy * sign(x)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return grad * _const(np.sign(ctx.saved_arrays[0]))


class Clip(Op):
    """Clamp to [min, max]; the gradient passes where min <= x <= max (boundaries included)."""

    name = "clip"
    _core = True
    formula = "dx = dy * (min <= x <= max)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, min: Any = None, max: Any = None) -> np.ndarray:
        if min is None and max is None:
            raise ValueError("clip: at least one of min and max must be given")
        if min is not None and max is not None and min > max:
            raise ValueError(f"clip: min={min} is greater than max={max}")
        ctx.save_for_backward(x)
        return np.clip(x, min, max).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        x = ctx.saved_arrays[0]
        lo, hi = ctx.attrs["min"], ctx.attrs["max"]
        keep = np.ones(x.shape, dtype=bool)
        if lo is not None:
            keep &= x >= lo
        if hi is not None:
            keep &= x <= hi
        return grad * _const(keep.astype(grad.dtype))


def _tie_split(ctx: Context, grad: Tensor, wins: Any) -> tuple:
    """Gradient of an elementwise maximum/minimum: ties split it evenly (as PyTorch does)."""
    a, b = ctx.saved_arrays
    share = (wins(a, b) + 0.5 * (a == b)).astype(grad.dtype)
    return grad * _const(share), grad * _const(1 - share)


class Maximum(Op):
    name = "maximum"
    _core = True
    formula = "da = dy * ((a > b) + (a == b) / 2), db = dy - da"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return _broadcast("maximum", np.maximum, a, b)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return _tie_split(ctx, grad, np.greater)


class Minimum(Op):
    name = "minimum"
    _core = True
    formula = "da = dy * ((a < b) + (a == b) / 2), db = dy - da"

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return _broadcast("minimum", np.minimum, a, b)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return _tie_split(ctx, grad, np.less)


class Where(Op):
    """Pick from ``a`` where ``cond`` is true, else from ``b`` (``cond`` gets no gradient)."""

    name = "where"
    _core = True
    formula = "da = where(cond, dy, 0), db = where(cond, 0, dy)"

    @staticmethod
    def forward(ctx: Context, cond: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if cond.dtype != np.bool_:
            raise TypeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}")
        try:
            return np.where(cond, a, b)
        except ValueError:
            raise ValueError(
                f"where: shapes {cond.shape}, {a.shape} and {b.shape} cannot be broadcast together"
            ) from None

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        cond = ctx.inputs[0]
        zero = as_tensor(0.0, like=grad)
        _, need_a, need_b = ctx.needs_input_grad
        return (
            None,
            where(cond, grad, zero) if need_a else None,
            where(cond, zero, grad) if need_b else None,
        )


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


def _swap_last(ndim: int) -> tuple[int, ...]:
    return (*range(ndim - 2), ndim - 1, ndim - 2)


# --------------------------------------------------------------------------- reductions


def _unreduce(
    grad: Tensor, in_shape: tuple[int, ...], axes: tuple[int, ...] | None, keepdims: bool
) -> Tensor:
    """Bring a reduction's output gradient back to the input's shape (reshape, then expand)."""
    if not keepdims and axes is not None:
        kept = [1 if i in axes else n for i, n in enumerate(in_shape)]
        grad = grad.reshape(tuple(kept))
    return expand(grad, in_shape)  # a full reduction's 0-d gradient broadcasts as it is


class Sum(Op):
    name = "sum"
    _core = True
    formula = "dx = broadcast(dy, x.shape)"

    @staticmethod
    def forward(
        ctx: Context, x: np.ndarray, *, axis: Any = None, keepdims: bool = False
    ) -> np.ndarray:
        # ufunc.reduce is np.sum without its Python-level dispatch (same result and dtype)
        return np.add.reduce(x, axis=_norm_axis(axis, x.ndim, "sum"), keepdims=keepdims)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        x = ctx.inputs[0]
        axes = _norm_axis(ctx.attrs["axis"], x.ndim, "sum")
        return _unreduce(grad, x.shape, axes, ctx.attrs["keepdims"])


class Mean(Op):
    name = "mean"
    _core = True
    formula = "dx = broadcast(dy, x.shape) / n"

    @staticmethod
    def forward(
        ctx: Context, x: np.ndarray, *, axis: Any = None, keepdims: bool = False
    ) -> np.ndarray:
        axes = _norm_axis(axis, x.ndim, "mean")
        if x.size == 0:
            raise ValueError(f"mean: cannot take the mean of an empty tensor of shape {x.shape}")
        if x.dtype in (np.float32, np.float64):
            count = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
            return np.add.reduce(x, axis=axes, keepdims=keepdims) / x.dtype.type(count)
        return np.mean(x, axis=axes, keepdims=keepdims)  # float16 accumulates wider, ints -> float

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        x = ctx.inputs[0]
        axes = _norm_axis(ctx.attrs["axis"], x.ndim, "mean")
        count = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
        return _unreduce(grad, x.shape, axes, ctx.attrs["keepdims"]) / float(count)


def _extremum(ctx: Context, reduce: Any, x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    """Forward of the max/min reductions; saves x and the kept-dims result for backward."""
    name = ctx.name
    axes = _norm_axis(axis, x.ndim, name)
    if x.size == 0:
        raise ValueError(f"{name}: cannot reduce an empty tensor of shape {x.shape}")
    out = reduce(x, axis=axes, keepdims=True)
    ctx.save_for_backward(x, out)
    return out if keepdims else (out.reshape(()) if axes is None else np.squeeze(out, axes))


def _extremum_backward(ctx: Context, grad: Tensor) -> Tensor:
    """Ties share the gradient evenly (as PyTorch's amax/amin)."""
    x, out = ctx.saved_arrays
    axes = _norm_axis(ctx.attrs["axis"], x.ndim, ctx.name)
    mask = x == out
    share = (mask / mask.sum(axis=axes, keepdims=True)).astype(grad.dtype)
    return _unreduce(grad, x.shape, axes, ctx.attrs["keepdims"]) * _const(share)


class Max(Op):
    name = "max"
    _core = True
    formula = "dx = broadcast(dy) * (x == max) / count(x == max)"

    @staticmethod
    def forward(
        ctx: Context, x: np.ndarray, *, axis: Any = None, keepdims: bool = False
    ) -> np.ndarray:
        return _extremum(ctx, np.max, x, axis, keepdims)

    backward = staticmethod(_extremum_backward)


class Min(Op):
    name = "min"
    _core = True
    formula = "dx = broadcast(dy) * (x == min) / count(x == min)"

    @staticmethod
    def forward(
        ctx: Context, x: np.ndarray, *, axis: Any = None, keepdims: bool = False
    ) -> np.ndarray:
        return _extremum(ctx, np.min, x, axis, keepdims)

    backward = staticmethod(_extremum_backward)


# --------------------------------------------------------------------------- shape


class Reshape(Op):
    name = "reshape"
    _core = True
    formula = "dx = reshape(dy, x.shape)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, shape: tuple[int, ...]) -> np.ndarray:
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) "
                f"into shape {tuple(shape)}"
            ) from None

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return grad.reshape(ctx.inputs[0].shape)


class Transpose(Op):
    name = "transpose"
    _core = True
    formula = "dx = transpose(dy, inverse(axes))"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, axes: tuple[int, ...] | None = None) -> np.ndarray:
        if axes is not None and sorted(a % _builtin_max(x.ndim, 1) for a in axes) != list(
            range(x.ndim)
        ):
            raise ValueError(
                f"transpose: axes {tuple(axes)} are not a permutation of a {x.ndim}-D tensor's axes"
            )
        return np.transpose(x, axes)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        axes = ctx.attrs["axes"]
        if axes is None:
            return grad.transpose()
        n = len(axes)
        return grad.transpose(tuple(int(i) for i in np.argsort([a % n for a in axes])))


class Expand(Op):
    """Broadcast to a larger shape (numpy's broadcast_to); the gradient sums back."""

    name = "expand"
    _core = True
    formula = "dx = sum_to(dy, x.shape)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, shape: tuple[int, ...]) -> np.ndarray:
        try:
            if np.prod(shape) <= 65536:
                # for small arrays a filled copy is ~8x cheaper than numpy's broadcast_to view
                out = np.empty(shape, dtype=x.dtype)
                out[...] = x
                return out
            return np.broadcast_to(x, shape)
        except ValueError:
            raise ValueError(
                f"expand: cannot broadcast shape {x.shape} to {tuple(shape)}"
            ) from None

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return sum_to(grad, ctx.inputs[0].shape)


class SumTo(Op):
    """Sum a broadcast array back down to ``shape`` (the adjoint of expand)."""

    name = "sum_to"
    _core = True
    formula = "dx = expand(dy, x.shape)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, shape: tuple[int, ...]) -> np.ndarray:
        lead = x.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1
        )
        out = x.sum(axis=axes, keepdims=True) if axes else x
        return out.reshape(shape)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return expand(grad, ctx.inputs[0].shape)


class AsType(Op):
    """Cast between float dtypes; the gradient is cast back."""

    name = "astype"
    _core = True
    formula = "dx = astype(dy, x.dtype)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, dtype: Any) -> np.ndarray:
        return x.astype(dtype)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return astype(grad, ctx.inputs[0].dtype)


def _norm_index(index: Any) -> Any:
    """Turn Tensors inside an index into arrays and bool masks into integer arrays."""
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for it in items:
        if isinstance(it, Tensor):
            it = it.data
        if isinstance(it, list):
            it = np.asarray(it)
        if isinstance(it, np.ndarray) and it.dtype == np.bool_:
            out.extend(np.nonzero(it))
            continue
        out.append(it)
    return tuple(out)


def _is_basic(index: tuple) -> bool:
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in index)


class GetItem(Op):
    """``x[index]``: basic slicing and integer-array indexing."""

    name = "getitem"
    _core = True
    formula = "dx = index_add(zeros(x.shape), index, dy)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, index: Any) -> np.ndarray:
        try:
            return x[index]
        except IndexError as e:
            raise IndexError(
                f"getitem: index {index!r} is invalid for shape {x.shape}: {e}"
            ) from None

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return apply(IndexAdd, (grad,), {"index": ctx.attrs["index"], "shape": ctx.inputs[0].shape})


class IndexAdd(Op):
    """Scatter ``grad`` into zeros of ``shape`` at ``index``, summing repeated positions."""

    name = "index_add"
    _core = True
    formula = "dg = dy[index]"

    @staticmethod
    def forward(ctx: Context, g: np.ndarray, *, index: Any, shape: tuple[int, ...]) -> np.ndarray:
        out = np.zeros(shape, dtype=g.dtype)
        if _is_basic(index):
            out[index] = g  # a basic index selects each position at most once
        else:
            np.add.at(out, index, g)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return apply(GetItem, (grad,), {"index": ctx.attrs["index"]})


class Concatenate(Op):
    name = "concatenate"
    _core = True
    formula = "dx_i = dy[the slice of x_i along axis]"

    @staticmethod
    def forward(ctx: Context, *arrays: np.ndarray, axis: int = 0) -> np.ndarray:
        try:
            return np.concatenate(arrays, axis=axis)
        except (ValueError, np.exceptions.AxisError) as e:
            raise ValueError(
                f"concatenate: cannot join shapes {[a.shape for a in arrays]} "
                f"along axis {axis}: {e}"
            ) from None

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        axis = ctx.attrs["axis"] % grad.ndim
        grads, start = [], 0
        for t, need in zip(ctx.inputs, ctx.needs_input_grad):
            stop = start + t.shape[axis]
            index = (slice(None),) * axis + (slice(start, stop),)
            grads.append(grad[index] if need else None)
            start = stop
        return tuple(grads)


class Stack(Op):
    name = "stack"
    _core = True
    formula = "dx_i = dy[i along axis]"

    @staticmethod
    def forward(ctx: Context, *arrays: np.ndarray, axis: int = 0) -> np.ndarray:
        try:
            return np.stack(arrays, axis=axis)
        except (ValueError, np.exceptions.AxisError) as e:
            raise ValueError(
                f"stack: cannot stack shapes {[a.shape for a in arrays]} along axis {axis}: {e}"
            ) from None

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        axis = ctx.attrs["axis"] % grad.ndim
        return tuple(
            grad[(slice(None),) * axis + (i,)] if need else None
            for i, need in enumerate(ctx.needs_input_grad)
        )


def _pad_widths(pad_width: Any, shape: tuple[int, ...]) -> np.ndarray:
    """numpy's pad_width forms ((b, a) per axis, (b, a), or one int) as an (ndim, 2) array."""
    try:
        widths = np.asarray(pad_width)
        if (
            widths.dtype.kind not in "iu"
            or widths.ndim > 2
            or widths.shape[-1:]
            not in (
                (),
                (1,),
                (2,),
            )
        ):
            raise ValueError
        return np.broadcast_to(widths.astype(np.int64), (len(shape), 2))
    except ValueError:
        raise ValueError(
            f"pad: pad_width {pad_width!r} does not fit a {len(shape)}-D tensor of shape "
            f"{shape}: expected one (before, after) pair of ints per axis ({len(shape)} pairs), "
            "one pair for every axis, or one int"
        ) from None


class Pad(Op):
    """Constant padding; ``pad_width`` as numpy's ((before, after), ...) per axis."""

    name = "pad"
    _core = True
    formula = "dx = dy[the unpadded window]"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, pad_width: Any, value: float = 0.0) -> np.ndarray:
        widths = _pad_widths(pad_width, x.shape)
        if (widths < 0).any():
            raise ValueError(f"pad: pad widths must be >= 0, got {pad_width!r}")
        return np.pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        x = ctx.inputs[0]
        widths = _pad_widths(ctx.attrs["pad_width"], x.shape)
        return grad[tuple(slice(int(b), int(b) + n) for (b, _), n in zip(widths, x.shape))]


# --------------------------------------------------------------------------- functions


def _binary(op: type[Op], a: Any, b: Any) -> Tensor:
    if type(a) is Tensor and type(b) is Tensor:
        return apply(op, (a, b), {})
    if isinstance(a, Tensor):
        return apply(op, (a, as_tensor(b, like=a)), {})
    b = as_tensor(b)
    return apply(op, (as_tensor(a, like=b), b), {})


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


def clip(x: Any, min: Any = None, max: Any = None) -> Tensor:
    """Clamp values to [min, max]. ``mg.clip(mg.tensor([-1.0, 5.0]), 0, 1)`` -> tensor([0., 1.])"""
    return apply(Clip, (as_tensor(x),), {"min": min, "max": max})


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum (ties split the gradient). ``mg.maximum(x, 0.0)`` is a ReLU."""
    return _binary(Maximum, a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum (ties split the gradient)."""
    return _binary(Minimum, a, b)


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``cond`` else ``b``. ``mg.where(x > 0, x, 0.0)``"""
    cond = as_tensor(cond)
    if isinstance(a, Tensor):
        b = as_tensor(b, like=a)
    else:
        b = as_tensor(b)
        a = as_tensor(a, like=b)
    return apply(Where, (cond, a, b), {})


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product (batched, broadcasting), as numpy's ``@``."""
    return _binary(MatMul, a, b)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` (all axes by default)."""
    return apply(Sum, (as_tensor(x),), {"axis": axis, "keepdims": keepdims})


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (all axes by default)."""
    return apply(Mean, (as_tensor(x),), {"axis": axis, "keepdims": keepdims})


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Maximum over ``axis``; tied maxima share the gradient evenly."""
    return apply(Max, (as_tensor(x),), {"axis": axis, "keepdims": keepdims})


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Minimum over ``axis``; tied minima share the gradient evenly."""
    return apply(Min, (as_tensor(x),), {"axis": axis, "keepdims": keepdims})


def _shape_arg(shape: tuple) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def reshape(x: Any, *shape: Any) -> Tensor:
    """Reshape (one dimension may be -1). ``mg.reshape(x, 2, 3)`` or ``x.reshape((2, 3))``"""
    return apply(Reshape, (as_tensor(x),), {"shape": _shape_arg(shape)})


def transpose(x: Any, *axes: Any) -> Tensor:
    """Permute axes (reverse them by default), as numpy's ``transpose``."""
    ax = _shape_arg(axes) if axes else None
    return apply(Transpose, (as_tensor(x),), {"axes": ax})


def expand(x: Any, *shape: Any) -> Tensor:
    """Broadcast to ``shape`` without copying; the gradient sums back."""
    x = as_tensor(x)
    shape = _shape_arg(shape)
    if shape == x.shape:
        return x
    return apply(Expand, (x,), {"shape": shape})


def sum_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum a broadcast tensor down to ``shape`` (the engine's broadcast reduction)."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return apply(SumTo, (x,), {"shape": shape})


def astype(x: Tensor, dtype: Any) -> Tensor:
    """Cast to another dtype (differentiable between float dtypes)."""
    dtype = np.dtype(dtype)
    if x.dtype == dtype:
        return x
    return apply(AsType, (x,), {"dtype": dtype})


def getitem(x: Any, index: Any) -> Tensor:
    """``x[index]`` with basic slices and integer (or bool) arrays."""
    return apply(GetItem, (as_tensor(x),), {"index": _norm_index(index)})


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis. ``mg.concatenate([a, b], axis=1)``"""
    if isinstance(tensors, Tensor) or not len(tensors):
        raise ValueError("concatenate: expected a non-empty sequence of tensors")
    return apply(Concatenate, tuple(as_tensor(t) for t in tensors), {"axis": axis})


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along a new axis. ``mg.stack([a, b])``"""
    if isinstance(tensors, Tensor) or not len(tensors):
        raise ValueError("stack: expected a non-empty sequence of tensors")
    return apply(Stack, tuple(as_tensor(t) for t in tensors), {"axis": axis})


def pad(x: Any, pad_width: Any, value: float = 0.0) -> Tensor:
    """Pad with a constant; ``pad_width`` as numpy's (per axis ``(before, after)``)."""
    return apply(Pad, (as_tensor(x),), {"pad_width": pad_width, "value": value})


def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` into one.

    ``x.flatten(1)`` turns (N, C, H, W) into (N, C*H*W).
    """
    x = as_tensor(x)
    nd = _builtin_max(x.ndim, 1)
    s, e = start_dim % nd, end_dim % nd
    if s > e:
        raise ValueError(
            f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {x.shape}"
        )
    shape = (*x.shape[:s], int(np.prod(x.shape[s : e + 1])), *x.shape[e + 1 :])
    return x.reshape(shape) if x.ndim else x.reshape((1,))


# --------------------------------------------------------------------------- Tensor methods


def _compare(fn: Any) -> Any:
    def method(self: Tensor, other: Any) -> Tensor:
        o = other.data if isinstance(other, Tensor) else other
        try:
            return Tensor._make_const(fn(self.data, o))
        except ValueError:
            raise ValueError(
                f"comparison: shapes {self.shape} and {np.shape(o)} cannot be broadcast together"
            ) from None

    return method


def _operator(op: type[Op], reflected: bool = False) -> Any:
    if reflected:

        def method(a: Tensor, b: Any) -> Tensor:
            return apply(op, (as_tensor(b, like=a), a), {})
    else:

        def method(a: Tensor, b: Any) -> Tensor:
            if type(b) is not Tensor:
                b = as_tensor(b, like=a)
            return apply(op, (a, b), {})

    method.__name__ = f"__{'r' if reflected else ''}{op.name}__"
    return method


def _install_methods() -> None:
    T = Tensor
    for name, op in [
        ("add", Add),
        ("sub", Sub),
        ("mul", Mul),
        ("truediv", Div),
        ("matmul", MatMul),
    ]:
        setattr(T, f"__{name}__", _operator(op))
        setattr(T, f"__r{name}__", _operator(op, reflected=True))
    T.__neg__ = lambda a: apply(Neg, (a,), {})
    T.__pos__ = lambda a: a

    def __pow__(a: Tensor, b: Any) -> Tensor:
        if isinstance(b, (int, float)) and not isinstance(b, bool):
            return apply(PowScalar, (a,), {"exponent": b})
        return _binary(Pow, a, b)

    T.__pow__ = __pow__
    T.__rpow__ = lambda a, b: _binary(Pow, b, a)
    for name, fn in [
        ("__lt__", operator.lt),
        ("__le__", operator.le),
        ("__gt__", operator.gt),
        ("__ge__", operator.ge),
        ("__eq__", operator.eq),
        ("__ne__", operator.ne),
    ]:
        setattr(T, name, _compare(fn))
    T.__getitem__ = getitem
    for fn in (exp, log, sqrt, abs, clip, sum, mean, max, min, reshape, transpose, expand, flatten):
        setattr(T, fn.__name__, fn)
    T.permute = transpose
    T.broadcast_to = expand
    T.T = property(lambda a: transpose(a))
    T.astype = astype
    T.sum_to = sum_to


_install_methods()
