"""The divisor's gradient of ``a / b`` over the whole range of each float dtype.

``d(a/b)/db = -g * a / b**2`` computed as written squares b first: b*b overflows for large b
and underflows (to 0, or to a subnormal that keeps few digits) for small b, although the
gradient itself is an ordinary number. Computed as ``-g * (a / b) / b`` (PyTorch's order) it
stays finite wherever the true value is, first order and through ``create_graph=True``."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import minigrad as mg

DTYPES = [np.float16, np.float32, np.float64]


def _magnitudes(dtype: type) -> list[float]:
    """Tiny (subnormal), small, ordinary and huge operands of ``dtype``."""
    fi = np.finfo(dtype)
    tiny, huge = float(fi.smallest_normal), float(fi.max)
    return [
        float(fi.smallest_subnormal) * 8,
        tiny,
        tiny * 64,
        float(np.sqrt(tiny)),
        1e-4 if dtype is np.float16 else 1e-23 if dtype is np.float32 else 1e-160,
        0.37,
        1.0,
        3.0,
        float(np.sqrt(huge)) * 2,
        huge / 16,
        huge,
    ]


def _grid(dtype: type) -> tuple[np.ndarray, np.ndarray]:
    m = _magnitudes(dtype)
    pairs = list(itertools.product(m + [-v for v in m[:3]], m))
    a = np.array([p[0] for p in pairs], dtype=dtype)
    b = np.array([p[1] for p in pairs], dtype=dtype)
    return a, b


def _ours(a: np.ndarray, b: np.ndarray, create_graph: bool) -> tuple[np.ndarray, np.ndarray]:
    ta = mg.tensor(a, requires_grad=True)
    tb = mg.tensor(b, requires_grad=True)
    with np.errstate(all="ignore"):
        ga, gb = mg.grad((ta / tb).sum(), [ta, tb], create_graph=create_graph)
    return ga.data, gb.data


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("create_graph", [False, True], ids=["first-order", "create_graph"])
def test_divisor_gradient_is_finite_where_the_true_value_is(dtype: type, create_graph: bool):
    a, b = _grid(dtype)
    _, gb = _ours(a, b, create_graph)
    # the true value, computed in extended precision (exponents to +-4900: no overflow)
    true = -a.astype(np.longdouble) / np.square(b.astype(np.longdouble))
    fi = np.finfo(dtype)
    representable = np.abs(true) <= float(fi.max)
    bad = representable & ~np.isfinite(gb)
    assert not bad.any(), (
        f"{np.dtype(dtype).name}: non-finite divisor gradient for a={a[bad][:4]}, b={b[bad][:4]}"
    )
    # and it is close to the true value where that is a normal number of the dtype
    normal = representable & (np.abs(true) >= float(fi.smallest_normal))
    np.testing.assert_allclose(
        gb[normal].astype(np.float64), true[normal].astype(np.float64), rtol=4 * float(fi.eps)
    )


def test_float16_tiny_operands_by_hand():
    a = mg.tensor(np.array([1e-4], dtype=np.float16), requires_grad=True)
    b = mg.tensor(np.array([1e-4], dtype=np.float16), requires_grad=True)
    (a / b).sum().backward()
    # -1 * (1e-4 / 1e-4) / 1e-4 = -1e4 (to float16's precision); b * b first gave -inf
    np.testing.assert_allclose(b.grad.data, [-1e4], rtol=1e-3)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("create_graph", [False, True], ids=["first-order", "create_graph"])
def test_gradients_equal_pytorch_over_the_range(dtype: type, create_graph: bool):
    torch = pytest.importorskip("torch")
    a, b = _grid(dtype)
    ga, gb = _ours(a, b, create_graph)
    ta = torch.tensor(a, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    ea, eb = torch.autograd.grad((ta / tb).sum(), [ta, tb], create_graph=create_graph)
    # the same operations in the same order, each rounded to the dtype: the same bits
    np.testing.assert_array_equal(ga, ea.detach().numpy())
    np.testing.assert_array_equal(gb, eb.detach().numpy())


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_second_derivatives_equal_pytorch_over_the_range(dtype: type):
    torch = pytest.importorskip("torch")
    m = np.array(_magnitudes(dtype)[2:-2], dtype=dtype)  # second derivatives ~ a / b**3
    a, b = (x.reshape(-1) for x in np.meshgrid(m, m))
    ta, tb = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
    with np.errstate(all="ignore"):
        _, gb = mg.grad((ta / tb).sum(), [ta, tb], create_graph=True)
        ours = mg.grad(gb.sum(), [ta, tb])
    pa, pb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    _, eb = torch.autograd.grad((pa / pb).sum(), [pa, pb], create_graph=True)
    theirs = torch.autograd.grad(eb.sum(), [pa, pb])
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.data, t.numpy(), rtol=4 * float(np.finfo(dtype).eps))
