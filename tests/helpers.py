"""Helpers shared by several test files."""

import pytest

import minigrad as mg


def require_ops(*names: str) -> None:
    """Skip the calling test until the plugin ops it needs are installed."""
    for name in names:
        try:
            getattr(mg.ops, name)
        except (AttributeError, ImportError) as e:
            pytest.skip(f"plugin op mg.ops.{name} is not available ({type(e).__name__}: {e})")


# An op whose gradient is wrong (x instead of 2x): `plugins check` must report it.
WRONG_GRAD_SOURCE = """
import numpy as np
import minigrad as mg

class WrongGrad(mg.Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x  # should be 2 x

    @staticmethod
    def sample_inputs():
        return [((np.array([1.0, 2.0]),), {})]
"""
