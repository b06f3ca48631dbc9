"""BatchNorm2d: batch normalisation of (N, C, H, W) inputs through the ``batch_norm`` plugin op.

>>> import minigrad as mg
>>> bn = mg.nn.BatchNorm2d(3)
>>> bn
BatchNorm2d(3, eps=1e-05, momentum=0.1)
>>> bn(mg.randn(4, 3, 5, 5)).shape
(4, 3, 5, 5)
>>> int(bn.num_batches_tracked.item())
1
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .layers import _is_int, _ops
from .module import Module
from .parameter import Parameter

__all__ = ["BatchNorm2d"]


class BatchNorm2d(Module):
    """Normalise each channel of (N, C, H, W) input, then scale and shift it, as PyTorch's.

    In training (``model.train()``, the default) each channel is normalised with the batch's
    mean and (biased) variance over N, H and W, and the buffers ``running_mean`` and
    ``running_var`` (unbiased) move towards them by ``momentum`` (a cumulative average when
    ``momentum=None``); ``num_batches_tracked`` counts the batches. After ``model.eval()``
    the running statistics are used and nothing changes. The buffers are in ``state_dict()``
    (so ``mg.save`` / ``mg.load`` keep them) but are not parameters.

    Parameters: ``weight`` (C,) initialised to 1 and ``bias`` (C,) to 0 (``affine=False``:
    none). ``track_running_stats=False`` keeps no buffers and always uses batch statistics.
    Labelled ``bn1``, ``bn2``... inside an unnamed Sequential.

    >>> import minigrad as mg
    >>> bn = mg.nn.BatchNorm2d(2)
    >>> [n for n, _ in bn.named_parameters()], [n for n, _ in bn.named_buffers()]
    (['weight', 'bias'], ['running_mean', 'running_var', 'num_batches_tracked'])
    >>> _ = bn.eval()(mg.ones(1, 2, 1, 1))           # evaluation: one value per channel is fine
    """

    label_prefix = "bn"
    running_mean: Tensor  # buffers (None when track_running_stats=False)
    running_var: Tensor
    num_batches_tracked: Tensor

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        if not _is_int(num_features) or num_features <= 0:
            raise ValueError(
                f"BatchNorm2d: num_features must be a positive int, got {num_features!r}"
            )
        if not eps > 0:
            raise ValueError(f"BatchNorm2d: eps must be positive, got {eps!r}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNorm2d: momentum must be in [0, 1] or None, got {momentum!r}")
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        c = self.num_features
        self.weight = Parameter(np.ones(c, dtype=dtype)) if affine else None
        self.bias = Parameter(np.zeros(c, dtype=dtype)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(c, dtype=dtype))
            self.register_buffer("running_var", np.ones(c, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches counted."""
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def forward(self, x: Any) -> Tensor:
        shape = np.shape(x.data if isinstance(x, Tensor) else x)
        if len(shape) != 4 or shape[1] != self.num_features:
            hint = " (add a batch dimension: x.reshape(1, *x.shape))" if len(shape) == 3 else ""
            raise ValueError(
                f"{self._where()}: expected input of shape (N, {self.num_features}, H, W), "
                f"got shape {tuple(shape)}{hint}"
            )
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data[...] += 1
            if self.momentum is None:  # cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked.item())
        use_batch = self.training or not self.track_running_stats
        keep = not self.training or self.track_running_stats
        return _ops().batch_norm(
            x,
            self.running_mean if keep else None,
            self.running_var if keep else None,
            self.weight,
            self.bias,
            training=use_batch,
            momentum=momentum,
            eps=self.eps,
        )

    def extra_repr(self) -> str:
        text = f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"
        if not self.affine:
            text += ", affine=False"
        if not self.track_running_stats:
            text += ", track_running_stats=False"
        return text
