"""Loss modules: thin wrappers over the plugin ops ``log_loss``, ``cross_entropy``,
``nll_loss`` and ``binary_cross_entropy_with_logits``.

>>> import minigrad as mg
>>> loss = mg.nn.CrossEntropyLoss()
>>> loss
CrossEntropyLoss(reduction='mean')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor, as_tensor
from .module import Module

__all__ = ["BCEWithLogitsLoss", "CrossEntropyLoss", "LogLoss", "NLLLoss"]

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(owner: str, reduction: str) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{owner}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    return reduction


def _ops() -> Any:
    from ..plugins import ops

    return ops


class LogLoss(Module):
    """Binary log loss (cross-entropy) of probabilities ``p`` against 0/1 targets.

    ``-(y log p + (1 - y) log(1 - p))``, with ``p`` clipped to ``[eps, 1 - eps]``; the mean over
    elements by default (``reduction`` "mean", "sum" or "none"). Feed it sigmoid outputs.

    >>> import minigrad as mg
    >>> mg.nn.LogLoss()(mg.tensor([0.5, 0.5]), mg.tensor([0.0, 1.0])).shape
    ()
    """

    def __init__(self, eps: float = 1e-7, reduction: str = "mean") -> None:
        super().__init__()
        if not 0.0 <= eps < 0.5:
            raise ValueError(f"LogLoss: eps must be in [0, 0.5), got {eps!r}")
        self.eps = float(eps)
        self.reduction = _check_reduction("LogLoss", reduction)

    def forward(self, p: Any, target: Any) -> Tensor:
        return _ops().log_loss(p, target, eps=self.eps, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"eps={self.eps}, reduction={self.reduction!r}"


def _options(weight: Tensor | None, ignore_index: int, label_smoothing: float | None) -> str:
    parts = []
    if weight is not None:
        parts.append(f"weight={tuple(weight.shape)}")
    if ignore_index != -100:
        parts.append(f"ignore_index={ignore_index}")
    if label_smoothing:
        parts.append(f"label_smoothing={label_smoothing}")
    return "".join(p + ", " for p in parts)


def _class_weight(owner: str, weight: Any) -> Tensor | None:
    if weight is None:
        return None
    w = as_tensor(weight)
    if w.ndim != 1:
        raise ValueError(f"{owner}: weight must be 1-D, one value per class, got shape {w.shape}")
    return w.detach()


def _ignore_index(owner: str, ignore_index: Any) -> int:
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(f"{owner}: ignore_index must be an int, got {ignore_index!r}")
    return int(ignore_index)


class CrossEntropyLoss(Module):
    """Multi-class cross-entropy of raw scores (logits) ``(N, C)`` against class indices ``(N,)``.

    Combines log_softmax and the negative log-likelihood (``mg.ops.cross_entropy``); the mean
    over the batch by default (``reduction`` "mean", "sum" or "none"). As PyTorch's: ``weight``
    (C,) weighs each class (the mean then divides by the summed weights of the targets),
    positions whose target is ``ignore_index`` count for nothing, and ``label_smoothing`` mixes
    the one-hot target with the uniform distribution.

    >>> import minigrad as mg
    >>> logits = mg.tensor([[2.0, 0.0], [0.0, 2.0]])
    >>> mg.nn.CrossEntropyLoss()(logits, mg.tensor([0, 1])).shape
    ()
    >>> mg.nn.CrossEntropyLoss(mg.tensor([1.0, 2.0]), label_smoothing=0.1)
    CrossEntropyLoss(weight=(2,), label_smoothing=0.1, reduction='mean')
    """

    weight: Tensor | None  # a buffer

    def __init__(
        self,
        weight: Any = None,
        *,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__()
        # a buffer, as in PyTorch: in state_dict when given
        self.register_buffer("weight", _class_weight("CrossEntropyLoss", weight))
        self.ignore_index = _ignore_index("CrossEntropyLoss", ignore_index)
        self.reduction = _check_reduction("CrossEntropyLoss", reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing!r}"
            )
        self.label_smoothing = float(label_smoothing)

    def forward(self, logits: Any, target: Any) -> Tensor:
        return _ops().cross_entropy(
            logits,
            target,
            self.weight,
            ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing,
            reduction=self.reduction,
        )

    def extra_repr(self) -> str:
        text = _options(self.weight, self.ignore_index, self.label_smoothing)
        return text + f"reduction={self.reduction!r}"


class NLLLoss(Module):
    """Negative log-likelihood of log-probabilities ``(N, C)`` against class indices
    (``mg.ops.nll_loss``), with PyTorch's ``weight``, ``ignore_index`` and ``reduction``.

    >>> import minigrad as mg
    >>> mg.nn.NLLLoss()(mg.tensor([[-0.5, -1.0]]), mg.tensor([1])).item()
    1.0
    """

    weight: Tensor | None  # a buffer

    def __init__(
        self, weight: Any = None, *, ignore_index: int = -100, reduction: str = "mean"
    ) -> None:
        super().__init__()
        self.register_buffer("weight", _class_weight("NLLLoss", weight))
        self.ignore_index = _ignore_index("NLLLoss", ignore_index)
        self.reduction = _check_reduction("NLLLoss", reduction)

    def forward(self, log_probs: Any, target: Any) -> Tensor:
        return _ops().nll_loss(
            log_probs,
            target,
            self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
        )

    def extra_repr(self) -> str:
        return _options(self.weight, self.ignore_index, None) + f"reduction={self.reduction!r}"


class BCEWithLogitsLoss(Module):
    """Binary cross-entropy of raw scores against targets in [0, 1], fused with the sigmoid and
    stable for any score (``mg.ops.binary_cross_entropy_with_logits``); ``pos_weight`` weighs
    the positive term, one value per class.

    >>> import minigrad as mg
    >>> round(mg.nn.BCEWithLogitsLoss()(mg.tensor([0.0]), mg.tensor([1.0])).item(), 4)
    0.6931
    """

    pos_weight: Tensor | None  # a buffer

    def __init__(self, *, reduction: str = "mean", pos_weight: Any = None) -> None:
        super().__init__()
        self.reduction = _check_reduction("BCEWithLogitsLoss", reduction)
        pos = None if pos_weight is None else as_tensor(pos_weight).detach()
        self.register_buffer("pos_weight", pos)

    def forward(self, logits: Any, target: Any) -> Tensor:
        return _ops().binary_cross_entropy_with_logits(
            logits, target, self.pos_weight, reduction=self.reduction
        )

    def extra_repr(self) -> str:
        text = "" if self.pos_weight is None else f"pos_weight={tuple(self.pos_weight.shape)}, "
        return text + f"reduction={self.reduction!r}"
