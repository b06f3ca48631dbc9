"""Loss modules: thin wrappers over the plugin ops ``log_loss`` and ``cross_entropy``.

>>> import minigrad as mg
>>> loss = mg.nn.CrossEntropyLoss()
>>> loss
CrossEntropyLoss(reduction='mean')
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .module import Module

__all__ = ["CrossEntropyLoss", "LogLoss"]

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


class CrossEntropyLoss(Module):
    """Multi-class cross-entropy of raw scores (logits) ``(N, C)`` against class indices ``(N,)``.

    Combines log_softmax and the negative log-likelihood; the mean over the batch by default
    (``reduction`` "mean", "sum" or "none").

    >>> import minigrad as mg
    >>> logits = mg.tensor([[2.0, 0.0], [0.0, 2.0]])
    >>> mg.nn.CrossEntropyLoss()(logits, mg.tensor([0, 1])).shape
    ()
    """

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = _check_reduction("CrossEntropyLoss", reduction)

    def forward(self, logits: Any, target: Any) -> Tensor:
        return _ops().cross_entropy(logits, target, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"
