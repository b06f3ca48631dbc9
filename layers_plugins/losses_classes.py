"""Class losses: cross_entropy (on logits) and nll_loss (on log-probabilities), as PyTorch's.

Both take class indices, optional per-class ``weight``, an ``ignore_index`` whose positions
contribute nothing, and ``reduction`` "mean" (default), "sum" or "none". With a weight, the
mean is PyTorch's weighted mean: ``sum_n w[y_n] loss_n / sum_n w[y_n]`` over the positions that
are not ignored (so it is NaN when every position is ignored, as in PyTorch).

``cross_entropy`` also takes ``label_smoothing`` ``eps``: the target becomes ``(1 - eps)`` on
the true class plus ``eps / C`` on every class, i.e. ``loss = (1 - eps) * nll +
eps / C * sum_k -w[k] log p[k]``, normalised by the same weighted count as the nll term.

Both backwards are written with minigrad operations: cross_entropy's is
``(softmax(z) * Q - q) * g`` with ``q`` the (smoothed, weighted) target distribution and
``Q = sum_k q``, so it can be differentiated again; nll_loss's is ``-q * g``. The indices get
no gradient; the class weight gets one (PyTorch gives none), also differentiable.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from minigrad import Context, Op, Tensor, as_tensor, exp, log

from ._args import Samples
from ._dtypes import check_float
from .losses import check_reduction

__all__ = ["CrossEntropy", "NLLLoss"]


def _check_scores(name: str, what: str, scores: np.ndarray) -> None:
    if scores.ndim < 2:
        raise ValueError(
            f"{name}: {what} must have shape (N, C) (or (N, C, d1, ...)), got shape "
            f"{scores.shape}; for a single sample use {what}.reshape((1, -1))"
        )
    check_float(name, what, scores)


def _class_targets(
    name: str,
    scores: np.ndarray,
    target: np.ndarray,
    weight: np.ndarray | None,
    ignore_index: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check the target (and weight); return (kept mask, safe indices, w[y] * kept).

    ``safe`` replaces ignored positions by class 0, so that gathers never go out of range.
    """
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"{name}: ignore_index must be an int, got {ignore_index!r}")
    if target.dtype.kind not in "iu":
        extra = ""
        if name == "cross_entropy":
            extra = f" (or class probabilities of the logits' shape {scores.shape})"
        raise TypeError(
            f"{name}: target must hold class indices of an integer dtype, got {target.dtype}"
            + (f" of shape {target.shape}{extra}" if extra else "")
        )
    expected = (scores.shape[0], *scores.shape[2:])
    if target.shape != expected:
        raise ValueError(
            f"{name}: target has shape {target.shape} but {_what(name)} of shape "
            f"{scores.shape} need a target of shape {expected} (one class index per sample)"
        )
    n_classes = scores.shape[1]
    kept = target != ignore_index
    bad = kept & ((target < 0) | (target >= n_classes))
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name}: target holds class index {int(target[where])} at position {where}, "
            f"outside [0, {n_classes}) for {_what(name)} with C={n_classes} classes"
            + (f" (and it is not ignore_index={ignore_index})" if ignore_index != -100 else "")
        )
    safe = np.where(kept, target, 0)
    if weight is None:
        wy = kept.astype(scores.dtype)
    else:
        _check_weight(name, scores, weight)
        wy = weight[safe] * kept
    return kept, safe, wy


def _check_weight(name: str, scores: np.ndarray, weight: np.ndarray) -> None:
    """A (C,) float class weight of the scores' dtype, or an error naming the op."""
    n_classes = scores.shape[1]
    if weight.shape != (n_classes,):
        raise ValueError(
            f"{name}: weight has shape {weight.shape} but {_what(name)} of shape "
            f"{scores.shape} have C={n_classes} classes; expected shape ({n_classes},)"
        )
    check_float(name, "weight", weight)
    if weight.dtype != scores.dtype:
        raise TypeError(
            f"{name}: weight has dtype {weight.dtype} but {_what(name)} have dtype "
            f"{scores.dtype}; give both the same dtype"
        )


def _what(name: str) -> str:
    return "logits" if name == "cross_entropy" else "log_probs"


def _reduce(name: str, loss: np.ndarray, wy: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "none":
        return np.asarray(loss)
    total = loss.sum(dtype=loss.dtype)
    if reduction == "sum":
        return np.asarray(total, dtype=loss.dtype)
    if loss.size == 0:
        raise ValueError(
            f"{name}: cannot take the mean over an empty batch (shape {loss.shape}); "
            "use reduction='sum' or 'none'"
        )
    with np.errstate(invalid="ignore", divide="ignore"):  # all ignored: NaN, as PyTorch
        return np.asarray(total / wy.sum(dtype=loss.dtype), dtype=loss.dtype)


def _class_axis(a: np.ndarray, ndim: int) -> np.ndarray:
    """(C,) -> (1, C, 1, ...) to broadcast against (N, C, d1, ...)."""
    return a.reshape((1, -1) + (1,) * (ndim - 2))


def _backward(
    ctx: Context,
    grad: Tensor,
    scores: Tensor,
    target: np.ndarray,
    weight: Tensor | None,
    eps: float | None,
) -> tuple[Tensor, None, Tensor | None]:
    """Gradients of cross_entropy (``eps`` >= 0) or nll_loss (``eps`` None) for scores and weight.

    With ``coef[n, k] = ((1 - eps) [k == y_n] + eps / C) * kept[n]`` (``[k == y_n] * kept[n]``
    for nll_loss) the loss at position n is ``L_n = -sum_k coef[n, k] w[k] log_probs[n, k]``,
    and the mean divides by ``D = sum_n w[y_n] kept[n]``. Everything that depends on the
    weight is built from the weight Tensor, so every gradient can be differentiated again.
    """
    x = scores.data
    ndim, n_classes = x.ndim, x.shape[1]
    kept = target != ctx.attrs["ignore_index"]
    safe = np.where(kept, target, 0)
    onehot = np.expand_dims(safe, 1) == _class_axis(np.arange(n_classes), ndim)
    coef = onehot * np.expand_dims(kept, 1)
    if eps:
        coef = (1 - eps) * coef + (eps / n_classes) * np.expand_dims(kept, 1)
    coef_t = as_tensor(coef.astype(x.dtype))
    w_b = None if weight is None else weight.reshape(_class_axis(np.arange(n_classes), ndim).shape)
    q = coef_t if w_b is None else coef_t * w_b
    reduction = ctx.attrs["reduction"]
    count = coef_t  # only for the type checker; replaced below where used
    if reduction == "none":
        g = grad.reshape((target.shape[0], 1, *target.shape[1:]))
    elif reduction == "sum":
        g = grad
    else:
        picked = np.bincount(safe[kept].ravel(), minlength=n_classes).astype(x.dtype)
        count = as_tensor(picked)
        d = float(kept.sum()) if weight is None else (weight * count).sum()
        g = grad / d
    if eps is None:  # nll_loss: linear in the log-probabilities
        gx = -q * g
    else:
        big_q = q.sum(axis=1, keepdims=True)
        gx = (_softmax_classes(scores) * big_q - q) * g
    gw = None
    if weight is not None and ctx.needs_input_grad[2]:
        lp = scores if eps is None else _log_softmax_classes(scores)
        a = -(coef_t * lp)  # (N, C, d...): the loss per unit of class weight
        others = tuple(i for i in range(ndim) if i != 1)
        if reduction == "none":
            gw = (a * g).sum(axis=others)
        elif reduction == "sum":
            gw = a.sum(axis=others) * grad
        else:
            assert w_b is not None  # a weight was given
            total = (a * w_b).sum()
            gw = (a.sum(axis=others) - count * (total / d)) * g
    return gx, None, gw


def _log_softmax_classes(logits: Tensor) -> Tensor:
    """log_softmax over axis 1 with core ops (differentiable in the backward graph)."""
    shifted = logits - as_tensor(logits.data.max(axis=1, keepdims=True))
    return shifted - log(exp(shifted).sum(axis=1, keepdims=True))


def _softmax_classes(logits: Tensor) -> Tensor:
    """softmax over axis 1 with core ops, so it is differentiable in the backward graph."""
    shift = as_tensor(logits.data.max(axis=1, keepdims=True))
    e = exp(logits - shift)
    return e / e.sum(axis=1, keepdims=True)


def _probability_forward(
    ctx: Context,
    logits: np.ndarray,
    target: np.ndarray,
    weight: np.ndarray | None,
    ignore_index: Any,
    reduction: str,
) -> np.ndarray:
    """cross_entropy against class probabilities (PyTorch's float targets of the logits'
    shape): ``loss[n] = -sum_k w[k] q[n, k] log p[n, k]``, ``q = (1 - eps) t + eps / C``; the
    mean divides by the number of positions (not by weights), and nothing is ignored."""
    name = "cross_entropy"
    check_float(name, "target", target)
    if ignore_index != -100:
        raise ValueError(
            f"{name}: ignore_index={ignore_index} applies to class indices only; the target "
            f"holds class probabilities (float, shape {target.shape}), as PyTorch refuses too"
        )
    n_classes = logits.shape[1]
    if weight is not None:
        _check_weight(name, logits, weight)
    eps = float(ctx.attrs["label_smoothing"])
    shifted = logits - logits.max(axis=1, keepdims=True)
    with np.errstate(under="ignore"):
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    q = (1 - eps) * target + eps / n_classes
    if weight is not None:
        q = q * _class_axis(weight, logits.ndim)
    loss = np.asarray(-(q * log_probs).sum(axis=1), dtype=np.result_type(logits, target))
    ctx.save_for_backward(logits, target, weight)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.asarray(loss.sum(), dtype=loss.dtype)
    if loss.size == 0:
        raise ValueError(f"{name}: cannot take the mean over an empty batch (shape {loss.shape})")
    return np.asarray(loss.mean(), dtype=loss.dtype)


def _probability_backward(
    ctx: Context, grad: Tensor, logits: Tensor, target: Tensor, weight: Tensor | None, eps: float
) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
    """Gradients for probability targets, all minigrad ops (differentiable again):
    logits ``(softmax * sum_k q - q) * g``, target ``-(1 - eps) w log_softmax * g``, weight
    ``-sum(q_unweighted * log_softmax * g)`` per class."""
    nd, n_classes = logits.ndim, logits.shape[1]
    reduction = ctx.attrs["reduction"]
    if reduction == "none":
        g = grad.reshape((logits.shape[0], 1, *logits.shape[2:]))
    elif reduction == "sum":
        g = grad
    else:
        g = grad / float(logits.size // n_classes)
    q0 = target * (1 - eps) + eps / n_classes
    w_b = None if weight is None else weight.reshape((1, -1) + (1,) * (nd - 2))
    q = q0 if w_b is None else q0 * w_b
    need_z, need_t, need_w = ctx.needs_input_grad
    gz = gt = gw = None
    if need_z:
        gz = (_softmax_classes(logits) * q.sum(axis=1, keepdims=True) - q) * g
    if need_t or need_w:
        lp = _log_softmax_classes(logits)
        if need_t:
            per = lp * g * -(1 - eps)
            gt = per if w_b is None else per * w_b
        if need_w:
            others = tuple(i for i in range(nd) if i != 1)
            gw = -(q0 * lp * g).sum(axis=others)
    return gz, gt, gw


class CrossEntropy(Op):
    """Multi-class cross entropy of raw scores (logits) against class indices.

    ``loss[n] = -w[y_n] * log_softmax(logits, axis=1)[n, y_n]``, fused and numerically
    stable: pass the logits, not softmax probabilities.

    Parameters
    ----------
    logits : Tensor
        (N, C) class scores, float16, float32 or float64; also (N, C, d1, d2, ...) as in
        PyTorch, for a class per position (for example per pixel).
    target : Tensor
        (N,) class indices in ``[0, C)`` of an integer dtype; (N, d1, d2, ...) for
        higher-dimensional logits. Gets no gradient. Or, as in PyTorch, class probabilities:
        a float tensor of the logits' shape (soft labels, mixup); it is then differentiable,
        the mean divides by the number of positions and nothing can be ignored.
    weight : Tensor, optional
        (C,) a weight per class, the logits' dtype (PyTorch's ``weight``). It gets a gradient
        if it requires one (PyTorch gives none).
    ignore_index : int, default -100
        Positions whose target is this index add nothing, not even to the mean's count.
    label_smoothing : float in [0, 1], default 0.0
        Mixes the one-hot target with the uniform distribution (see the module notes).
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"`` divides by the number of kept positions (by their summed class weights
        with ``weight``); ``"none"`` returns the losses with the target's shape (0 where
        ignored).

    Returns
    -------
    Tensor
        A scalar (``"mean"``, ``"sum"``) or per-sample losses (``"none"``), in the logits' dtype.

    Notes
    -----
    The gradient with respect to the logits is ``(softmax(logits) * Q - q) * g`` with
    ``q[n, k] = (1 - eps) w[y_n] [k == y_n] + eps / C w[k]`` (0 for ignored positions),
    ``Q = sum_k q`` and ``g`` the incoming gradient (divided by the weighted count for
    ``"mean"``); the softmax is recomputed with minigrad ops, so it can be differentiated again.

    Examples
    --------
    >>> import minigrad as mg
    >>> logits = mg.zeros(2, 4)                      # uniform scores over C = 4 classes
    >>> round(mg.ops.cross_entropy(logits, mg.tensor([0, 3])).item(), 4)   # log(4)
    1.3863
    >>> round(mg.ops.cross_entropy(logits, mg.tensor([0, -100])).item(), 4)  # one ignored
    1.3863
    >>> w = mg.tensor([1.0, 0.0, 0.0, 3.0])
    >>> mg.ops.cross_entropy(logits, mg.tensor([0, 3]), w, reduction="none").data
    array([1.3862944, 4.158883 ], dtype=float32)
    """

    name = "cross_entropy"
    formula = (
        "dlogits = (softmax(logits) * sum(q) - q) * dloss, q = smoothed weighted onehot(target)"
    )

    @staticmethod
    def forward(
        ctx: Context,
        logits: np.ndarray,
        target: np.ndarray,
        weight: np.ndarray | None = None,
        *,
        ignore_index: int = -100,
        label_smoothing: float = 0.0,
        reduction: str = "mean",
    ) -> np.ndarray:
        name = "cross_entropy"
        check_reduction(name, reduction)
        _check_scores(name, "logits", logits)
        if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real):
            raise TypeError(f"{name}: label_smoothing must be a number, got {label_smoothing!r}")
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing!r}")
        if target.dtype.kind == "f" and target.shape == logits.shape:
            return _probability_forward(ctx, logits, target, weight, ignore_index, reduction)
        kept, safe, wy = _class_targets(name, logits, target, weight, ignore_index)
        shifted = logits - logits.max(axis=1, keepdims=True)
        with np.errstate(under="ignore"):  # exp of very negative scores is simply 0
            log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        picked = np.squeeze(np.take_along_axis(log_probs, np.expand_dims(safe, 1), axis=1), 1)
        loss = -(wy * picked)
        eps = logits.dtype.type(label_smoothing)
        if label_smoothing:
            w = 1 if weight is None else _class_axis(weight, logits.ndim)
            smooth = -(log_probs * w).sum(axis=1) * kept
            loss = (1 - eps) * loss + eps / logits.shape[1] * smooth
        loss = np.asarray(loss, dtype=logits.dtype)
        ctx.save_for_backward(logits, target, weight)
        return _reduce(name, loss, wy, reduction)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
        logits, target, weight = ctx.saved_tensors[:3]
        eps = float(ctx.attrs["label_smoothing"])
        if target.dtype.kind == "f":
            return _probability_backward(ctx, grad, logits, target, weight, eps)
        return _backward(ctx, grad, logits, target.data, weight, eps)

    @staticmethod
    def sample_inputs() -> Samples:
        """Float64 logits (N=3, C=4) with int64 class indices: each reduction, a class weight,
        an ignored position, label smoothing, and (N, C, d) logits."""
        logits = np.array([[0.5, -1.0, 2.0, 0.1], [1.5, 0.3, -0.7, -2.0], [0.0, 1.0, 0.2, 0.4]])
        target = np.array([2, 0, 3], dtype=np.int64)
        weight = np.array([0.5, 1.0, 2.0, 1.5])
        spatial = np.array([[[0.3, -0.2], [1.1, 0.4], [-0.5, 0.9]]])  # (1, 3, 2)
        return [
            ((logits, target), {}),
            ((logits, target), {"reduction": "sum"}),
            ((logits, target), {"reduction": "none"}),
            ((logits, target, weight), {"label_smoothing": 0.2}),
            ((logits, np.array([2, -100, 1], dtype=np.int64), weight), {}),
            ((spatial, np.array([[1, 2]], dtype=np.int64)), {"label_smoothing": 0.1}),
        ]


class NLLLoss(Op):
    """Negative log-likelihood of log-probabilities against class indices.

    ``loss[n] = -w[y_n] * log_probs[n, y_n]``; with ``log_probs = log_softmax(logits, 1)``
    it is ``cross_entropy(logits)``.

    Parameters
    ----------
    log_probs : Tensor
        (N, C) or (N, C, d1, ...), float16, float32 or float64 (any values are accepted, as
        in PyTorch).
    target : Tensor
        (N,) or (N, d1, ...) integer class indices in ``[0, C)``. Gets no gradient.
    weight : Tensor, optional
        (C,) a weight per class, the same dtype as ``log_probs``; differentiable.
    ignore_index : int, default -100
        Positions with this target add nothing.
    reduction : {"mean", "sum", "none"}, default "mean"
        The mean is weighted: divided by the sum of ``w[y_n]`` over kept positions.

    Notes
    -----
    Linear in ``log_probs``: the gradient is ``-w[y_n] * g`` at the picked entries, 0 elsewhere.

    Examples
    --------
    >>> import minigrad as mg
    >>> lp = mg.tensor([[-0.5, -1.0], [-2.0, -0.1]])
    >>> mg.ops.nll_loss(lp, mg.tensor([1, 0])).item()
    1.5
    """

    name = "nll_loss"
    formula = "dlog_probs = -w[target] * onehot(target) * dloss (/ sum of w[target] for mean)"

    @staticmethod
    def forward(
        ctx: Context,
        log_probs: np.ndarray,
        target: np.ndarray,
        weight: np.ndarray | None = None,
        *,
        ignore_index: int = -100,
        reduction: str = "mean",
    ) -> np.ndarray:
        name = "nll_loss"
        check_reduction(name, reduction)
        _check_scores(name, "log_probs", log_probs)
        _, safe, wy = _class_targets(name, log_probs, target, weight, ignore_index)
        picked = np.squeeze(np.take_along_axis(log_probs, np.expand_dims(safe, 1), axis=1), 1)
        loss = np.asarray(-(wy * picked), dtype=log_probs.dtype)
        ctx.save_for_backward(log_probs, target, weight)
        return _reduce(name, loss, wy, reduction)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, None, Tensor | None]:
        log_probs, target, weight = ctx.saved_tensors
        return _backward(ctx, grad, log_probs, target.data, weight, None)

    @staticmethod
    def sample_inputs() -> Samples:
        """Float64 log-probabilities (N=3, C=4): each reduction, a class weight, an ignored
        position, and (N, C, d)."""
        lp = np.log(np.array([[0.1, 0.2, 0.3, 0.4], [0.7, 0.1, 0.1, 0.1], [0.25] * 4]))
        target = np.array([2, 0, 3], dtype=np.int64)
        weight = np.array([0.5, 1.0, 2.0, 1.5])
        return [
            ((lp, target), {}),
            ((lp, target), {"reduction": "sum"}),
            ((lp, target, weight), {"reduction": "none"}),
            ((lp, np.array([2, 7, 1], dtype=np.int64), weight), {"ignore_index": 7}),
            ((np.log(np.full((1, 3, 2), 1 / 3)), np.array([[1, 2]], dtype=np.int64)), {}),
        ]
