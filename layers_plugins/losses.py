"""log_loss (binary, on probabilities) and the reduction helpers every loss shares.

The class losses (cross_entropy, nll_loss) are in ``losses_classes``, the binary loss on
logits in ``losses_logits``. All reduce with ``reduction="mean"`` (default), ``"sum"`` or
``"none"`` (per-element losses), as PyTorch's losses do. Each backward is written with
minigrad operations, so it can be differentiated again (``create_graph=True``). Dtypes: the
probabilities and logits are float16, float32 or float64 (integer, bool and complex ones raise
``TypeError`` naming the op, see ``layers_plugins._dtypes``) and the loss has their dtype;
log_loss labels may be float, integer or bool, class indices are integers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import Context, Op, Tensor, as_tensor, clip, log

from ._dtypes import check_float

__all__ = ["LogLoss", "check_reduction", "reduce_loss", "scale_grad"]

_REDUCTIONS = ("mean", "sum", "none")


def check_reduction(name: str, reduction: Any) -> None:
    """Raise ``ValueError`` naming the loss unless ``reduction`` is "mean", "sum" or "none".

    >>> check_reduction("nll_loss", "avg")
    Traceback (most recent call last):
    ...
    ValueError: nll_loss: reduction must be one of 'mean', 'sum', 'none', got 'avg'
    """
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"{name}: reduction must be one of 'mean', 'sum', 'none', got {reduction!r}"
        )


def reduce_loss(name: str, loss: np.ndarray, reduction: str) -> np.ndarray:
    """Apply ``reduction`` to per-element losses, keeping their dtype.

    >>> reduce_loss("log_loss", np.array([1.0, 2.0], dtype=np.float32), "mean")
    array(1.5, dtype=float32)
    """
    if reduction == "none":
        return np.asarray(loss)  # a 0-d input gives a numpy scalar here
    if reduction == "sum":
        return np.asarray(loss.sum(), dtype=loss.dtype)
    if loss.size == 0:
        raise ValueError(
            f"{name}: cannot take the mean over an empty batch (shape {loss.shape}); "
            "use reduction='sum' or 'none'"
        )
    return np.asarray(loss.mean(), dtype=loss.dtype)


def scale_grad(grad: Tensor, reduction: str, count: int) -> Tensor:
    """The incoming gradient of the reduced loss, per element (broadcasts against it).

    >>> import minigrad as mg
    >>> scale_grad(mg.tensor(1.0), "mean", 4).item()
    0.25
    """
    return grad / float(count) if reduction == "mean" else grad


def _as_dtype(t: Tensor, dtype: np.dtype) -> Tensor:
    """``t`` in ``dtype``: a differentiable cast for floats, a constant for ints and bools."""
    if t.dtype == dtype:
        return t
    if t.dtype.kind in "fc":
        return t.astype(dtype)
    return as_tensor(t.data.astype(dtype))


def _describe_range(a: np.ndarray) -> str:
    if np.isnan(a).any():
        return "NaN values"
    return f"values in [{a.min():.6g}, {a.max():.6g}]"


# --------------------------------------------------------------------------- log_loss


def _clip_bounds(eps: float, dtype: np.dtype) -> tuple[float, float]:
    """[eps, 1 - eps] as values of ``dtype``; 1 - eps is kept below 1 (log(1 - p) finite)."""
    lo = dtype.type(eps)
    hi = dtype.type(1 - eps)
    if hi >= 1:
        hi = np.nextafter(dtype.type(1), dtype.type(0))
    return float(lo), float(hi)


class LogLoss(Op):
    """Binary log loss (binary cross entropy) of probabilities ``p`` against targets ``y``.

    ``loss = -(y * log(p) + (1 - y) * log(1 - p))`` per element, with ``p`` first clipped
    to ``[eps, 1 - eps]`` so that a confident wrong answer costs a large but finite loss.

    Parameters
    ----------
    p : Tensor
        Probabilities in [0, 1] (for example the output of ``mg.ops.sigmoid``), any shape,
        float16, float32 or float64.
    target : Tensor
        Same shape as ``p`` (no broadcasting): 0/1 labels or soft labels in [0, 1]. Integer
        and bool labels are accepted. It gets a gradient only if it requires one:
        ``d loss / d y = log(1 - p) - log(p)``.
    eps : float, default 1e-7
        Clipping margin, ``0 < eps < 0.5``.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"`` returns the per-element losses with the shape of ``p``.

    Returns
    -------
    Tensor
        A scalar (``"mean"``, ``"sum"``) or per-element losses (``"none"``), in ``p``'s dtype.

    Notes
    -----
    Clipping has the gradient of ``mg.clip``: where ``p`` lies outside ``[eps, 1 - eps]``
    the gradient with respect to ``p`` is 0 (at the bounds themselves it passes).
    PyTorch's ``binary_cross_entropy`` instead clamps the logarithms at -100; the two
    agree for ``p`` inside ``[eps, 1 - eps]``.

    Examples
    --------
    >>> import minigrad as mg
    >>> round(mg.ops.log_loss(mg.tensor([0.98]), mg.tensor([1.0])).item(), 4)
    0.0202
    >>> mg.ops.log_loss(mg.tensor([0.5, 0.9]), mg.tensor([1.0, 0.0]), reduction="none").data
    array([0.6931472, 2.302585 ], dtype=float32)
    """

    name = "log_loss"
    formula = (
        "dp = g * (p - y) / (p * (1 - p)) (0 where p was clipped); "
        "dy = g * (log(1 - p) - log(p)); g = dloss (/ size for mean)"
    )

    @staticmethod
    def forward(
        ctx: Context,
        p: np.ndarray,
        target: np.ndarray,
        *,
        eps: float = 1e-7,
        reduction: str = "mean",
    ) -> np.ndarray:
        check_reduction("log_loss", reduction)
        if not 0 < eps < 0.5:
            raise ValueError(f"log_loss: eps must satisfy 0 < eps < 0.5, got {eps!r}")
        if p.shape != target.shape:
            raise ValueError(
                f"log_loss: p has shape {p.shape} but target has shape {target.shape}; "
                "they must match"
            )
        check_float("log_loss", "p", p)
        if target.dtype.kind not in "biuf":
            raise TypeError(
                f"log_loss: target has dtype {target.dtype}; labels must be real numbers "
                "(float, integer or bool) in [0, 1]"
            )
        if p.size and not ((p >= 0) & (p <= 1)).all():
            raise ValueError(
                f"log_loss: p must hold probabilities in [0, 1], got {_describe_range(p)} "
                "(apply mg.ops.sigmoid to scores first)"
            )
        y = target.astype(p.dtype, copy=False)
        if y.size and not ((y >= 0) & (y <= 1)).all():
            raise ValueError(
                f"log_loss: target must hold labels in [0, 1], got {_describe_range(y)}"
            )
        lo, hi = _clip_bounds(eps, p.dtype)
        ctx.save_for_backward(p, target)
        pc = np.clip(p, lo, hi)
        loss = -(y * np.log(pc) + (1 - y) * np.log1p(-pc))
        return reduce_loss("log_loss", loss, reduction)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        p, target = ctx.saved_tensors
        lo, hi = _clip_bounds(ctx.attrs["eps"], p.dtype)
        g = scale_grad(grad, ctx.attrs["reduction"], p.size)
        pc = clip(p, lo, hi)  # differentiable: second derivatives see the clipping too
        gp = gy = None
        if ctx.needs_input_grad[0]:
            y = _as_dtype(target, p.dtype)
            inside = as_tensor(((p.data >= lo) & (p.data <= hi)).astype(p.dtype))
            # d/dp -(y log p + (1 - y) log(1 - p)) = (p - y) / (p (1 - p)), zero where clipped
            gp = g * (pc - y) / (pc * (1 - pc)) * inside
        if ctx.needs_input_grad[1]:
            gy = g * (log(1 - pc) - log(pc))
        return gp, gy

    @staticmethod
    def sample_inputs() -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        """Float64 probabilities away from the clipping bounds, soft float64 targets."""
        p = np.array([[0.2, 0.7, 0.9], [0.45, 0.05, 0.6]])
        y = np.array([[0.1, 0.9, 0.8], [0.3, 0.2, 0.95]])
        return [((p, y), {}), ((p, y), {"reduction": "sum"}), ((p, y), {"reduction": "none"})]
