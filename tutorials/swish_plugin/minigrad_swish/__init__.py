"""Swish, ``x * sigmoid(beta * x)``, as a minigrad plugin op.

The package's pyproject.toml declares the entry point ``swish = "minigrad_swish:Swish"`` in
the group ``"minigrad.ops"``; once installed, minigrad finds it on first use of ``mg.ops``
and imports this module when ``mg.ops.swish`` is first called:

>>> import minigrad as mg
>>> x = mg.tensor([-1.0, 0.0, 2.0], requires_grad=True)
>>> y = mg.ops.swish(x, beta=2.0)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np

import minigrad as mg

__all__ = ["Swish"]
__version__ = "0.1.0"

# Beyond |z| = 60, sigmoid(z) is 0 or 1 to float64 precision; clipping keeps exp from
# overflowing (and from warning) for very large inputs.
_LIMIT = 60.0


def _sigmoid(z: mg.Tensor) -> mg.Tensor:
    """sigmoid(z) written with minigrad ops, so it can be differentiated again."""
    return 1.0 / (1.0 + mg.exp(-mg.clip(z, -_LIMIT, _LIMIT)))


class Swish(mg.Op):
    """Swish activation, ``swish(x) = x * sigmoid(beta * x)``, elementwise.

    Parameters
    ----------
    x : Tensor
        Any shape, floating point; the output has the same shape and dtype.
    beta : float, keyword-only
        Slope of the gate; ``beta=1`` is SiLU, large ``beta`` approaches ReLU.

    Notes
    -----
    ``swish'(x) = s + beta * x * s * (1 - s)`` with ``s = sigmoid(beta * x)``. The backward
    pass recomputes ``s`` from the saved input with minigrad ops, so gradients of gradients
    (``create_graph=True``) are exact.

    Examples
    --------
    >>> import minigrad as mg
    >>> mg.register_op("swish_example", Swish)
    >>> mg.ops.swish_example(mg.tensor([0.0, 1.0])).data
    array([0.       , 0.7310586], dtype=float32)
    >>> mg.plugins.unregister_op("swish_example")
    """

    name = "swish"
    #: the derivative card: ``mg.ops.swish.formula``, shown by help() and the graph explorer
    formula = "dx = dy * (s + beta * x * s * (1 - s)), s = sigmoid(beta * x)"

    @staticmethod
    def forward(ctx: mg.Context, x: np.ndarray, *, beta: float = 1.0) -> np.ndarray:
        s = 1.0 / (1.0 + np.exp(-np.clip(beta * x, -_LIMIT, _LIMIT)))
        # save the input itself: it comes back as the input Tensor, still in the graph
        ctx.save_for_backward(x)
        return x * s

    @staticmethod
    def backward(ctx: mg.Context, grad: mg.Tensor) -> mg.Tensor:
        (x,) = ctx.saved_tensors
        beta = ctx.attrs["beta"]
        s = _sigmoid(beta * x)
        return grad * (s + beta * x * s * (1.0 - s))

    @staticmethod
    def sample_inputs() -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        """Inputs for ``python -m minigrad plugins check``: ``(args, attrs)`` pairs."""
        x = np.array([[-2.5, -0.5, 0.0, 0.7], [1.3, 3.0, -1.1, 0.2]])
        return [((x,), {}), ((x,), {"beta": 2.0}), ((np.array([4.0, -4.0]),), {"beta": 0.5})]
