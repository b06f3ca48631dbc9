"""softmax and log_softmax along one axis.

Both subtract the maximum along the axis before exponentiating, so any finite input works
(``softmax([1000, 1000])`` is ``[0.5, 0.5]``). Each backward is written with minigrad
operations on the saved output, so it can be differentiated again (``create_graph=True``).
Dtypes: float16, float32 or float64 in, the same dtype out; integer, bool and complex inputs
raise ``TypeError`` naming the op (see ``layers_plugins._dtypes``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import Context, Op, Tensor, exp

from ._dtypes import check_float

__all__ = ["LogSoftmax", "Softmax"]


def _shifted(name: str, x: np.ndarray, axis: Any) -> tuple[np.ndarray, int | None]:
    """Check ``x`` and ``axis``; return ``x`` minus its maximum along the axis, and the axis."""
    check_float(name, "x", x)
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name}: axis must be an int, got {axis!r}")
    if x.ndim == 0:
        # as in PyTorch: a scalar is one entry along axis 0 (or -1): softmax 1, log_softmax 0
        if axis not in (0, -1):
            raise ValueError(
                f"{name}: axis {axis} is out of range for a 0-D input; expected 0 or -1"
            )
        return np.asarray(x - x), None
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(
            f"{name}: axis {axis} is out of range for a {x.ndim}-D input of shape {x.shape}; "
            f"expected -{x.ndim} <= axis < {x.ndim}"
        )
    axis = int(axis) % x.ndim
    if x.shape[axis] == 0:
        raise ValueError(f"{name}: axis {axis} of the input of shape {x.shape} is empty")
    return x - x.max(axis=axis, keepdims=True), axis


class Softmax(Op):
    """Softmax along ``axis``: ``exp(x) / sum(exp(x), axis)``.

    Parameters
    ----------
    x : Tensor
        Any shape; float16, float32 or float64 (kept in the output). A 0-D input is one
        entry along axis 0 or -1 (its softmax is 1, as in PyTorch).
    axis : int, default -1
        The axis whose entries are turned into probabilities (``axis=1`` for the class
        scores of an (N, C) batch).

    Returns
    -------
    Tensor
        Same shape as ``x``; entries in [0, 1] that sum to 1 along ``axis``.

    Notes
    -----
    Numerically stable: the maximum along ``axis`` is subtracted first, which does not
    change the result. The backward pass is ``s * (g - sum(g * s, axis))`` with ``s`` the
    saved output.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.ops.softmax(mg.tensor([[0.0, 0.0], [1000.0, 1000.0]])).data
    array([[0.5, 0.5],
           [0.5, 0.5]], dtype=float32)
    """

    name = "softmax"
    formula = "dx = s * (dy - sum(dy * s, axis)), s = softmax(x, axis)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, axis: int = -1) -> np.ndarray:
        shifted, ax = _shifted("softmax", x, axis)
        with np.errstate(under="ignore"):  # exp of very negative entries is simply 0
            e = np.exp(shifted)
        out = e / e.sum(axis=ax, keepdims=True)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (s,) = ctx.saved_tensors  # the output Tensor: keeps double backward connected
        axis = ctx.attrs["axis"]
        return s * (grad - (grad * s).sum(axis=axis, keepdims=True))

    @staticmethod
    def sample_inputs() -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        """Small float64 inputs, softmax over the last and the first axis."""
        x = np.array([[0.5, -1.0, 2.0, 0.1], [1.5, 0.3, -0.7, -2.0], [0.0, 1.0, 0.2, 0.4]])
        return [((x,), {}), ((x,), {"axis": 0})]


class LogSoftmax(Op):
    """Logarithm of the softmax along ``axis``: ``x - log(sum(exp(x), axis))``.

    Parameters
    ----------
    x : Tensor
        Any shape; float16, float32 or float64 (kept in the output). A 0-D input is one
        entry along axis 0 or -1 (its log_softmax is 0, as in PyTorch).
    axis : int, default -1
        The axis to normalise over.

    Returns
    -------
    Tensor
        Same shape as ``x``; ``exp`` of it sums to 1 along ``axis``.

    Notes
    -----
    Computed as ``(x - max) - log(sum(exp(x - max)))``, so it stays finite and accurate
    where ``log(softmax(x))`` would give ``-inf``. The backward pass is
    ``g - exp(out) * sum(g, axis)`` with ``out`` the saved output.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.ops.log_softmax(mg.tensor([0.0, 0.0])).data
    array([-0.6931472, -0.6931472], dtype=float32)
    """

    name = "log_softmax"
    formula = "dx = dy - exp(y) * sum(dy, axis), y = log_softmax(x, axis)"

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, *, axis: int = -1) -> np.ndarray:
        shifted, ax = _shifted("log_softmax", x, axis)
        with np.errstate(under="ignore"):
            out = shifted - np.log(np.exp(shifted).sum(axis=ax, keepdims=True))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors  # the output Tensor
        axis = ctx.attrs["axis"]
        return grad - exp(out) * grad.sum(axis=axis, keepdims=True)

    @staticmethod
    def sample_inputs() -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        """Small float64 inputs, normalised over the last and the first axis."""
        x = np.array([[0.5, -1.0, 2.0, 0.1], [1.5, 0.3, -0.7, -2.0], [0.0, 1.0, 0.2, 0.4]])
        return [((x,), {}), ((x,), {"axis": 0})]
