"""dropout: zero each element with probability ``p`` in training, scale the rest by 1/(1 - p).

The mask is drawn from the generator ``mg.manual_seed`` seeds (through ``mg.rand``), so a seeded
run drops the same elements every time. It is saved for the backward pass (the graph inspector
and the explorer show it): the gradient is the incoming gradient times the same scaled mask,
which is linear in the gradient and so differentiable again. Outside training (or with
``p = 0``) the op is the identity; with ``p = 1`` everything is zeroed, as in PyTorch.
"""

from __future__ import annotations

import numbers

import numpy as np

import minigrad as mg
from minigrad import Context, Op, Tensor, as_tensor

from ._args import Samples
from ._dtypes import check_float

__all__ = ["Dropout"]


class Dropout(Op):
    """Inverted dropout: ``x * mask / (1 - p)`` with ``mask`` ~ Bernoulli(1 - p), in training.

    Parameters
    ----------
    x : Tensor
        Any shape; float16, float32 or float64 (kept in the output).
    p : float in [0, 1], default 0.5
        The probability that an element is zeroed.
    training : bool, default True
        False: return ``x`` unchanged (what ``model.eval()`` selects through ``nn.Dropout``).

    Notes
    -----
    The saved scaled mask (0 or ``1/(1 - p)`` per element) is the derivative:
    ``dx = dy * mask``. The expected value of the output is ``x``.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.manual_seed(0)
    >>> mg.ops.dropout(mg.ones(8), p=0.5).data
    array([2., 0., 0., 0., 2., 2., 2., 2.], dtype=float32)
    >>> mg.ops.dropout(mg.ones(3), p=0.5, training=False).data
    array([1., 1., 1.], dtype=float32)
    """

    name = "dropout"
    formula = "dx = dy * mask / (1 - p), mask the elements kept in the forward pass"

    @staticmethod
    def forward(
        ctx: Context, x: np.ndarray, *, p: float = 0.5, training: bool = True
    ) -> np.ndarray:
        check_float("dropout", "x", x)
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout: p must be a probability in [0, 1], got {p!r}")
        if not isinstance(training, (bool, np.bool_)):
            raise TypeError(f"dropout: training must be True or False, got {training!r}")
        if not training or p == 0:
            scale = np.ones(x.shape, dtype=x.dtype)
        elif p == 1:
            scale = np.zeros(x.shape, dtype=x.dtype)
        else:
            keep = mg.rand(*x.shape, dtype=np.float64).data >= p  # P(keep) = 1 - p
            scale = keep.astype(x.dtype) / x.dtype.type(1 - p)
        ctx.save_for_backward(scale)
        return np.asarray(x * scale)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (scale,) = ctx.saved_arrays
        return grad * as_tensor(scale)

    @staticmethod
    def sample_inputs() -> Samples:
        """Float64 inputs with the deterministic settings (opcheck calls the op repeatedly and
        needs the same output each time): evaluation, p = 0 and p = 1 in training. The random
        masks are checked in the tests by reseeding before every call."""
        x = np.array([[-1.5, -0.4, 0.3, 1.1], [0.8, 2.1, -0.7, 0.2]])
        return [
            ((x,), {"p": 0.5, "training": False}),
            ((x,), {"p": 0.0}),
            ((x,), {"p": 1.0}),
        ]
