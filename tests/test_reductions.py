"""Sums over several axes that include the batch axis 0 (the conv bias gradient's
``axis=(0, 2, 3)``) add the batch rows first: same values, dtype and shape as numpy's."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

AXES = [(0, 2), (0, 2, 3), (3, 0), (0, 1, 3), (1, 2), (0,)]


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int8", "bool", "complex64"])
@pytest.mark.parametrize("axes", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_sum_over_batch_and_other_axes_matches_numpy(dtype, axes, keepdims) -> None:
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((5, 3, 4, 6)) * 4).astype(dtype)
    got = mg.tensor(x).sum(axis=axes, keepdims=keepdims).data
    want = np.sum(x, axis=axes, keepdims=keepdims)
    assert got.dtype == want.dtype and got.shape == want.shape
    if x.dtype.kind != "f" and x.dtype.kind != "c":
        np.testing.assert_array_equal(got, want)
        return
    # both within float rounding of the exact sum (relative to the sum of magnitudes)
    wide = x.astype(np.complex128 if x.dtype.kind == "c" else np.float64)
    exact = np.sum(wide, axis=axes, keepdims=keepdims)
    scale = np.sum(np.abs(wide), axis=axes, keepdims=keepdims)
    bound = 8 * np.finfo(x.dtype).eps * scale
    assert np.all(np.abs(got - exact) <= bound)
    assert np.all(np.abs(want - exact) <= bound)


def test_sum_of_a_transposed_view_matches_numpy() -> None:
    x = np.random.default_rng(1).standard_normal((4, 5, 6)).transpose(2, 0, 1)  # not contiguous
    got = mg.tensor(x).sum(axis=(0, 2)).data
    np.testing.assert_allclose(got, x.sum(axis=(0, 2)), rtol=1e-12)


def test_batch_first_order_is_as_accurate_as_numpys_on_a_bias_gradient() -> None:
    g = np.random.default_rng(2).random((64, 6, 24, 24), dtype=np.float32)
    exact = g.astype(np.float64).sum(axis=(0, 2, 3))
    ours = np.abs(mg.tensor(g).sum(axis=(0, 2, 3)).data - exact).max()
    numpys = np.abs(np.add.reduce(g, axis=(0, 2, 3)) - exact).max()
    assert ours <= 2 * numpys


def test_mean_over_batch_and_plane_matches_numpy() -> None:
    x = np.random.default_rng(3).standard_normal((7, 2, 3, 5)).astype(np.float32)
    got = mg.tensor(x).mean(axis=(0, 2, 3), keepdims=True).data
    want = x.mean(axis=(0, 2, 3), keepdims=True)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_a_broadcast_bias_gradient_is_summed_back_like_numpy() -> None:
    rng = np.random.default_rng(4)
    x = mg.tensor(rng.standard_normal((5, 3, 4, 6)).astype(np.float32))
    b = mg.tensor(rng.standard_normal((1, 3, 1, 1)).astype(np.float32), requires_grad=True)
    g = rng.standard_normal((5, 3, 4, 6)).astype(np.float32)
    (x + b).backward(mg.tensor(g))
    assert b.grad.shape == (1, 3, 1, 1) and b.grad.dtype == np.float32
    np.testing.assert_allclose(b.grad.data, g.sum(axis=(0, 2, 3), keepdims=True), rtol=1e-5)
