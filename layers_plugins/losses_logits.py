"""binary_cross_entropy_with_logits: the binary log loss fused with the sigmoid, as PyTorch's.

Per element, with ``sp(z) = log(1 + exp(z))`` computed as ``max(z, 0) + log1p(exp(-|z|))``
(finite for any ``z``)::

    loss = (1 - y) * x + (1 + (pos_weight - 1) * y) * sp(-x)

which is ``-(pos_weight * y * log(sigmoid(x)) + (1 - y) * log(1 - sigmoid(x)))`` without ever
forming ``log(0)``: ``x = 1000`` with ``y = 0`` costs exactly 1000.
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad import Context, Op, Tensor, abs, exp, log, maximum

from ._args import Samples
from ._dtypes import check_float
from .losses import check_reduction, reduce_loss, scale_grad

__all__ = ["BCEWithLogits"]


def _softplus_np(z: np.ndarray) -> np.ndarray:
    with np.errstate(under="ignore"):
        return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def _softplus(z: Tensor) -> Tensor:
    """log(1 + exp(z)) with core ops, finite for any z (differentiable)."""
    return maximum(z, 0.0) + log(exp(-abs(z)) + 1)


class BCEWithLogits(Op):
    """Binary cross entropy of raw scores (logits) against targets in [0, 1].

    Parameters
    ----------
    logits : Tensor
        Any shape; float16, float32 or float64.
    target : Tensor
        The same shape as ``logits`` (no broadcasting), float, with 0/1 or soft labels. It
        gets a gradient if it requires one: ``-x + (pos_weight - 1) * sp(-x)``.
    pos_weight : Tensor, optional
        Weight of the positive term, broadcast against ``logits`` along the last axes (one per
        class for (N, C) logits, as in PyTorch). It gets a gradient too: ``y * sp(-x)``.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"`` averages over every element.

    Returns
    -------
    Tensor
        A scalar, or per-element losses (``"none"``), in the logits' dtype.

    Notes
    -----
    ``dx = (1 - y) - (1 + (pos_weight - 1) y) * sigmoid(-x)`` (``sigmoid(x) - y`` without
    pos_weight), written with ``mg.ops.sigmoid`` so it can be differentiated again.

    Examples
    --------
    >>> import minigrad as mg
    >>> x, y = mg.tensor([0.0, 1000.0, -1000.0]), mg.tensor([1.0, 0.0, 0.0])
    >>> mg.ops.binary_cross_entropy_with_logits(x, y, reduction="none").tolist()
    [0.6931471824645996, 1000.0, 0.0]
    """

    name = "binary_cross_entropy_with_logits"
    formula = "dx = dy * ((1 - y) - (1 + (pos_weight - 1) * y) * sigmoid(-x))"

    @staticmethod
    def forward(
        ctx: Context,
        logits: np.ndarray,
        target: np.ndarray,
        pos_weight: np.ndarray | None = None,
        *,
        reduction: str = "mean",
    ) -> np.ndarray:
        name = "binary_cross_entropy_with_logits"
        check_reduction(name, reduction)
        check_float(name, "logits", logits)
        check_float(name, "target", target)
        if target.shape != logits.shape:
            raise ValueError(
                f"{name}: target has shape {target.shape} but logits have shape {logits.shape}; "
                "they must match"
            )
        if pos_weight is not None:
            check_float(name, "pos_weight", pos_weight)
            try:
                np.broadcast_shapes(pos_weight.shape, logits.shape)
            except ValueError:
                raise ValueError(
                    f"{name}: pos_weight of shape {pos_weight.shape} does not broadcast against "
                    f"logits of shape {logits.shape}; give one weight per class, shape "
                    f"({logits.shape[-1] if logits.ndim else 1},)"
                ) from None
        ctx.save_for_backward(logits, target, pos_weight)
        sp = _softplus_np(-logits)
        lw = 1 if pos_weight is None else 1 + (pos_weight - 1) * target
        loss = np.asarray((1 - target) * logits + lw * sp)
        if loss.shape != logits.shape:  # a pos_weight with more axes than the logits
            assert pos_weight is not None
            raise ValueError(
                f"{name}: pos_weight of shape {pos_weight.shape} would broadcast logits of "
                f"shape {logits.shape} to {loss.shape}"
            )
        return reduce_loss(name, loss.astype(np.result_type(logits, target), copy=False), reduction)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
        x, y, pw = ctx.saved_tensors
        g = scale_grad(grad, ctx.attrs["reduction"], x.size)
        need_x, need_y, need_pw = ctx.needs_input_grad
        lw = 1 if pw is None else (pw - 1) * y + 1
        gx = gy = gpw = None
        if need_x:
            gx = g * ((1 - y) - lw * mg.ops.sigmoid(-x))
        if need_y or need_pw:
            sp = _softplus(-x)
            if need_y:
                gy = g * (-x if pw is None else (pw - 1) * sp - x)
            if need_pw:
                gpw = g * y * sp
        return gx, gy, gpw

    @staticmethod
    def sample_inputs() -> Samples:
        """Float64 logits with soft targets: each reduction, and a pos_weight per class."""
        x = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]])
        y = np.array([[0.1, 0.9, 1.0], [0.0, 0.4, 0.7]])
        return [
            ((x, y), {}),
            ((x, y), {"reduction": "sum"}),
            ((x, y, np.array([0.5, 2.0, 3.0])), {"reduction": "none"}),
        ]
