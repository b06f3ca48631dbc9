"""The shared test helpers must catch what they promise to catch."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import NumpyGradCube, WrongGrad, compare_with_torch

import minigrad as mg

torch = pytest.importorskip("torch")


def _x() -> np.ndarray:
    return np.random.default_rng(0).uniform(0.5, 1.5, (2, 3))


def test_compare_with_torch_accepts_matching_functions() -> None:
    mask = np.array([[True, False, True], [False, True, True]])
    compare_with_torch(
        lambda x, w, m: mg.where(m, mg.exp(x) * w, x * x).sum(axis=0),
        lambda x, w, m: torch.where(m, torch.exp(x) * w, x * x).sum(dim=0),
        _x(),
        _x()[::-1].copy(),
        mask,  # a constant: passed unchanged, never differentiated
    )


def test_compare_with_torch_catches_a_wrong_first_derivative() -> None:
    from minigrad.autograd import call_op

    with pytest.raises(AssertionError, match=r"first order: gradient of input 0"):
        compare_with_torch(lambda x: call_op(WrongGrad, x), lambda x: x * x, _x())


def test_compare_with_torch_catches_a_backward_outside_the_graph() -> None:
    from minigrad.autograd import call_op

    ours = lambda x: call_op(NumpyGradCube, x)  # noqa: E731
    compare_with_torch(ours, lambda x: x**3, _x(), order=1)  # first order is right
    with pytest.raises(AssertionError, match="second order"):
        compare_with_torch(ours, lambda x: x**3, _x(), order=2)


def test_compare_with_torch_checks_every_dtype_asked_for() -> None:
    with pytest.raises(AssertionError, match=r"\(float32\) output 0: dtype float64"):
        compare_with_torch(
            lambda x: mg.tensor(x.data.astype(np.float64)) * 2, lambda x: x * 2, _x()
        )
    compare_with_torch(lambda x: x * 2, lambda x: x * 2, _x(), dtypes=("float64",))
