"""minigrad.testing must catch wrong gradients and contract breaks, with useful messages."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import Cube, DetachedCube, WrongGrad

import minigrad as mg
from minigrad.autograd import call_op
from minigrad.testing import GradcheckError, gradcheck, gradgradcheck, opcheck


class Mutating(mg.Op):
    @staticmethod
    def forward(ctx, x):
        x *= 1.0
        x[...] = x + 1
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


class WrongDtype(mg.Op):
    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(np.float64) if grad.dtype == np.float32 else grad.astype(np.float32)


def x64(*shape: int) -> mg.Tensor:
    return mg.tensor(np.random.default_rng(0).uniform(0.5, 1.5, shape), requires_grad=True)


def test_gradcheck_accepts_a_correct_op() -> None:
    assert gradcheck(lambda t: call_op(Cube, t), x64(3, 2))
    assert gradgradcheck(lambda t: call_op(Cube, t), x64(3, 2))


def test_gradcheck_reports_input_element_and_values() -> None:
    with pytest.raises(
        GradcheckError, match=r"gradient of input 0 \(shape \(3,\)\) .* analytic .* numeric"
    ):
        gradcheck(lambda t: call_op(WrongGrad, t), x64(3))
    assert gradcheck(lambda t: call_op(WrongGrad, t), x64(3), raise_exception=False) is False


def test_gradcheck_random_direction_for_large_inputs() -> None:
    with pytest.raises(GradcheckError, match="along a random direction"):
        gradcheck(lambda t: call_op(WrongGrad, t), x64(30, 30), max_full_size=100)
    assert gradcheck(lambda t: call_op(Cube, t), x64(30, 30), max_full_size=100)


def test_gradgradcheck_catches_a_cut_backward_graph() -> None:
    assert gradcheck(lambda t: call_op(DetachedCube, t), x64(3))
    with pytest.raises(GradcheckError):
        gradgradcheck(lambda t: call_op(DetachedCube, t), x64(3))


def test_gradcheck_requires_float64() -> None:
    with pytest.raises(ValueError, match="float64"):
        gradcheck(lambda t: t * 2, mg.tensor([1.0], requires_grad=True))


def test_opcheck_accepts_a_correct_op() -> None:
    assert opcheck(Cube, np.array([0.5, 1.5], dtype=np.float32))


def test_opcheck_catches_mutation() -> None:
    with pytest.raises(GradcheckError, match="forward modified .*in place"):
        opcheck(Mutating, np.array([1.0, 2.0]))


def test_opcheck_catches_wrong_gradient_dtype() -> None:
    with pytest.raises(
        GradcheckError, match="gradient for input 0 has shape .* dtype float64.*float32"
    ):
        opcheck(WrongDtype, np.array([1.0, 2.0], dtype=np.float32))


def test_opcheck_catches_wrong_gradient_values() -> None:
    with pytest.raises(GradcheckError, match="does not match finite differences"):
        opcheck(WrongGrad, np.array([0.5, 1.5]))
