"""More checks of the numpy kernels: the column layouts, reused scratch memory, caching.

The kernels choose a column layout from the geometry ("flat", "wide" or "exact") and reuse
per-thread scratch buffers between calls; none of that may change a result. References are a
direct numpy implementation (one einsum per kernel offset) and, where installed, PyTorch.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from layers_plugins import _kernels as K
from layers_plugins._kernels import columns as columns_module
from layers_plugins._kernels import scratch as scratch_module
from layers_plugins._kernels.geometry import conv2d_geometry, conv2d_padding, pair

# ---------------------------------------------------------------------------------------------
# A direct reference: one einsum per kernel offset over the zero-padded input
# ---------------------------------------------------------------------------------------------


def _windows(xp, i, j, g):
    sh, sw = g.stride
    dh, dw = g.dilation
    r, c = i * dh, j * dw
    return xp[:, :, r : r + sh * (g.oh - 1) + 1 : sh, c : c + sw * (g.ow - 1) + 1 : sw]


def ref_conv2d(x, w, stride=1, padding=0, dilation=1):
    g = conv2d_geometry(x.shape, w.shape, stride, padding, dilation)
    top, bottom, left, right = g.padding
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    y = np.zeros(g.out_shape, dtype=np.result_type(x, w))
    for i in range(g.kh):
        for j in range(g.kw):
            y += np.einsum("nchw,oc->nohw", _windows(xp, i, j, g), w[:, :, i, j])
    return y


def ref_conv_transpose2d(grad, w, x_hw, stride=1, padding=0, dilation=1):
    x_shape = (grad.shape[0], w.shape[1], *x_hw)
    g = conv2d_geometry(x_shape, w.shape, stride, padding, dilation)
    top, bottom, left, right = g.padding
    dxp = np.zeros((g.n, g.c, g.h + top + bottom, g.w + left + right), np.result_type(grad, w))
    for i in range(g.kh):
        for j in range(g.kw):
            _windows(dxp, i, j, g)[...] += np.einsum("nohw,oc->nchw", grad, w[:, :, i, j])
    return dxp[:, :, top : top + g.h, left : left + g.w]


def ref_conv2d_weight(x, grad, w_shape, stride=1, padding=0, dilation=1):
    g = conv2d_geometry(x.shape, w_shape, stride, padding, dilation)
    top, bottom, left, right = g.padding
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    dw = np.zeros(w_shape, dtype=np.result_type(x, grad))
    for i in range(g.kh):
        for j in range(g.kw):
            dw[:, :, i, j] = np.einsum("nohw,nchw->oc", grad, _windows(xp, i, j, g))
    return dw


def check_all(x, w, grad, rtol=1e-10, **attrs):
    """conv2d and both gradients against the reference (float64 inputs)."""
    np.testing.assert_allclose(K.conv2d(x, w, **attrs), ref_conv2d(x, w, **attrs), rtol=rtol)
    hw = x.shape[2:]
    np.testing.assert_allclose(
        K.conv_transpose2d(grad, w, hw, **attrs),
        ref_conv_transpose2d(grad, w, hw, **attrs),
        rtol=rtol,
        atol=1e-12,
    )
    np.testing.assert_allclose(
        K.conv2d_weight(x, grad, w.shape, **attrs),
        ref_conv2d_weight(x, grad, w.shape, **attrs),
        rtol=rtol,
        atol=1e-12,
    )


def arrays(seed, x_shape, w_shape, **attrs):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    g = conv2d_geometry(x_shape, w_shape, **attrs)
    return x, w, rng.standard_normal(g.out_shape)


# ---------------------------------------------------------------------------------------------
# Layouts
# ---------------------------------------------------------------------------------------------

# One geometry per layout, and the corners of each: (x shape, w shape, attributes, layout).
LAYOUT_CASES = [
    ((2, 3, 12, 12), (4, 3, 5, 5), {}, "wide"),  # LeNet's "valid" layers
    ((2, 1, 9, 7), (2, 1, 3, 2), {"padding": (1, 0)}, "wide"),  # padded rows, not columns
    ((1, 2, 6, 9), (3, 2, 2, 3), {"padding": (2, 1, 0, 3)}, "wide"),  # asymmetric padding
    ((2, 2, 8, 8), (3, 2, 3, 3), {"dilation": (2, 3)}, "wide"),
    ((1, 1, 5, 5), (1, 1, 5, 5), {}, "wide"),  # a single window
    ((1, 2, 4, 7), (2, 2, 4, 1), {}, "flat"),  # a one-column kernel keeps the width
    ((2, 3, 8, 8), (4, 3, 3, 3), {"padding": 1}, "flat"),
    ((1, 2, 7, 6), (2, 2, 4, 4), {"padding": "same"}, "flat"),  # uneven "same" padding
    ((2, 3, 9, 8), (2, 3, 3, 3), {"stride": 2, "padding": 1}, "exact"),
    ((1, 2, 10, 7), (3, 2, 2, 3), {"stride": (3, 1), "dilation": (1, 2)}, "exact"),
]


@pytest.mark.parametrize("x_shape,w_shape,attrs,layout", LAYOUT_CASES)
def test_every_layout_matches_the_reference(x_shape, w_shape, attrs, layout):
    g = conv2d_geometry(x_shape, w_shape, **attrs)
    assert columns_module.column_layout(g) == layout
    x, w, grad = arrays(0, x_shape, w_shape, **attrs)
    check_all(x, w, grad, **attrs)


@pytest.mark.parametrize("x_shape,w_shape,attrs,layout", LAYOUT_CASES)
def test_small_chunks_match_one_chunk(x_shape, w_shape, attrs, layout, monkeypatch):
    x, w, grad = arrays(1, (5, *x_shape[1:]), w_shape, **attrs)
    whole = (
        K.conv2d(x, w, **attrs),
        K.conv_transpose2d(grad, w, x.shape[2:], **attrs),
        K.conv2d_weight(x, grad, w.shape, **attrs),
    )
    monkeypatch.setattr(columns_module, "CHUNK_BYTES", 1)  # one sample per chunk
    monkeypatch.setattr(columns_module, "WIDE_CHUNK_BYTES", 1)
    np.testing.assert_allclose(K.conv2d(x, w, **attrs), whole[0], rtol=1e-12)
    np.testing.assert_allclose(K.conv_transpose2d(grad, w, x.shape[2:], **attrs), whole[1])
    np.testing.assert_allclose(K.conv2d_weight(x, grad, w.shape, **attrs), whole[2], rtol=1e-12)


def test_wide_layout_with_an_infinite_weight_matches_the_reference():
    # The wide layout computes dropped columns as weight @ 0; an infinite weight must not turn
    # them into NaN in cells that the exact computation leaves finite.
    _, w, grad = arrays(2, (2, 2, 9, 9), (3, 2, 3, 3))
    w[1, 0, 2, 1] = np.inf
    dx = K.conv_transpose2d(grad, w, (9, 9))
    expected = ref_conv_transpose2d(grad, w, (9, 9))
    np.testing.assert_array_equal(np.isfinite(dx), np.isfinite(expected))
    finite = np.isfinite(expected)
    assert finite.any() and not finite.all()
    np.testing.assert_allclose(dx[finite], expected[finite], rtol=1e-10)


def test_wide_layout_with_an_infinite_input_matches_the_reference():
    x, w, grad = arrays(3, (2, 2, 9, 9), (3, 2, 3, 3))
    x[0, 1, 4, 8] = np.inf  # the last column: only some windows and offsets read it
    y = K.conv2d(x, w)
    np.testing.assert_array_equal(np.isfinite(y), np.isfinite(ref_conv2d(x, w)))
    dw = K.conv2d_weight(x, grad, w.shape)
    expected = ref_conv2d_weight(x, grad, w.shape)
    finite = np.isfinite(expected)
    assert finite.any() and not finite.all()
    np.testing.assert_array_equal(np.isfinite(dw), finite)
    np.testing.assert_allclose(dw[finite], expected[finite], rtol=1e-10)


def test_non_contiguous_and_mixed_dtype_inputs():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 8, 10, 2)).transpose(0, 3, 2, 1)[:, :, ::-1]  # (3, 2, 10, 8)
    w = rng.standard_normal((4, 2, 3, 3)).astype(np.float32)
    y = K.conv2d(x, w, padding=(0, 1))
    assert y.dtype == np.float64  # numpy's promotion: float64 with float32
    np.testing.assert_allclose(y, ref_conv2d(x, w.astype(np.float64), padding=(0, 1)))
    grad = rng.standard_normal(y.shape)[..., ::-1]
    np.testing.assert_allclose(
        K.conv2d_weight(x, grad, w.shape, padding=(0, 1)),
        ref_conv2d_weight(x, grad, w.shape, padding=(0, 1)),
        rtol=1e-10,
    )


def test_integer_input_gives_floats():
    x = np.arange(2 * 1 * 6 * 6, dtype=np.int16).reshape(2, 1, 6, 6)
    w = np.ones((1, 1, 3, 3), dtype=np.int16)
    y = K.conv2d(x, w)
    assert y.dtype == np.float32  # int16 fits float32 exactly; int64 would give float64
    np.testing.assert_array_equal(y, ref_conv2d(x.astype(np.float32), w.astype(np.float32)))


# ---------------------------------------------------------------------------------------------
# Scratch memory: reused between calls, never shared with results
# ---------------------------------------------------------------------------------------------


def test_calls_with_changing_shapes_reuse_scratch_correctly():
    # Each call grows or shrinks the scratch buffers the previous one left; every result must
    # stay as computed, whatever runs after it.
    rng = np.random.default_rng(5)
    results = []
    for n, c, h, w_, k, attrs in [
        (4, 3, 12, 12, 5, {}),
        (1, 1, 6, 6, 3, {"padding": 1}),
        (8, 6, 16, 16, 3, {"stride": 2, "padding": 1}),
        (2, 2, 7, 9, 4, {"dilation": 2, "padding": (3, 3)}),
        (4, 3, 12, 12, 5, {}),
    ]:
        x = rng.standard_normal((n, c, h, w_))
        w = rng.standard_normal((3, c, k, k))
        y = K.conv2d(x, w, **attrs)
        grad = rng.standard_normal(y.shape)
        dx = K.conv_transpose2d(grad, w, (h, w_), **attrs)
        dw = K.conv2d_weight(x, grad, w.shape, **attrs)
        pooled, offsets = K.max_pool2d(x, 3, 2, 1, ceil_mode=True)
        back = K.max_pool2d_backward(pooled, offsets, (h, w_), 3, 2, 1, ceil_mode=True)
        results.append((x, w, grad, attrs, y, dx, dw, pooled, back))
    for x, w, grad, attrs, y, dx, dw, pooled, back in results:
        np.testing.assert_allclose(y, ref_conv2d(x, w, **attrs), rtol=1e-10)
        hw = x.shape[2:]
        np.testing.assert_allclose(dx, ref_conv_transpose2d(grad, w, hw, **attrs), rtol=1e-10)
        np.testing.assert_allclose(dw, ref_conv2d_weight(x, grad, w.shape, **attrs), rtol=1e-10)
        np.testing.assert_array_equal(pooled, K.max_pool2d(x, 3, 2, 1, ceil_mode=True)[0])
        # Every window's maximum lands on one cell of the input: the sums agree.
        np.testing.assert_allclose(back.sum(), pooled.sum())


def test_threads_get_their_own_scratch():
    rng = np.random.default_rng(6)
    inputs = [rng.standard_normal((6, 3, 14, 14)) for _ in range(4)]
    w = rng.standard_normal((5, 3, 5, 5))
    expected = [ref_conv2d(x, w) for x in inputs]
    results: dict[int, list[np.ndarray]] = {}
    errors = []

    def work(k: int) -> None:
        try:
            results[k] = [K.conv2d(inputs[k], w) for _ in range(20)]
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k, ys in results.items():
        for y in ys:
            np.testing.assert_allclose(y, expected[k], rtol=1e-10)


def test_scratch_is_uninitialised_reused_memory_of_the_right_shape():
    scratch_module.release()
    a = scratch_module.scratch((3, 4), np.float32, slot=99)
    a[...] = 7
    b = scratch_module.scratch((2, 5), np.float64, slot=99)  # grows the slot
    assert b.shape == (2, 5) and b.dtype == np.float64 and b.flags.c_contiguous
    assert b.ctypes.data % 64 == 0
    c = scratch_module.scratch((2, 2), np.float32, slot=99)  # fits: same memory
    assert np.shares_memory(b, c)
    again = scratch_module.scratch((3, 4), np.float32, slot=99)  # a's shape, after the growth
    assert np.shares_memory(again, b) and not np.shares_memory(again, a)
    assert scratch_module.scratch((3, 4), np.float32, slot=99) is again  # kept for reuse
    big = scratch_module.scratch((scratch_module.SCRATCH_MAX_BYTES // 8 + 1,), np.float64, 99)
    assert not np.shares_memory(big, c)  # above the limit: a fresh array
    scratch_module.release()


# ---------------------------------------------------------------------------------------------
# Geometry cache
# ---------------------------------------------------------------------------------------------


def test_geometry_cache_keeps_validation():
    x = np.ones((1, 1, 5, 5))
    w = np.ones((1, 1, 3, 3))
    K.conv2d(x, w, stride=1)  # cached for stride 1 ...
    with pytest.raises(TypeError, match="stride must be an int or a pair of ints, got True"):
        K.conv2d(x, w, stride=True)  # ... but True is still refused
    with pytest.raises(TypeError, match="stride"):
        K.conv2d(x, w, stride=[1, 1.0])
    assert pair([2, 3], "stride") == (2, 3)
    # A list and a tuple give the same answer; an unhashable padding is validated each time.
    np.testing.assert_array_equal(K.conv2d(x, w, padding=[1, 0]), K.conv2d(x, w, padding=(1, 0)))
    assert conv2d_padding([1, 2], (3, 3)) == (1, 1, 2, 2)
    g1 = conv2d_geometry((2, 3, 8, 8), (4, 3, 3, 3), 1, 1, 1)
    assert conv2d_geometry((2, 3, 8, 8), (4, 3, 3, 3), 1, 1, 1) is g1
    assert conv2d_geometry((2, 3, 8, 8), (4, 3, 3, 3), 1, 1, np.int64(1)) == g1
    with pytest.raises(ValueError, match="conv2d: input has 3 channels"):
        conv2d_geometry((2, 3, 8, 8), (4, 2, 3, 3))
    with pytest.raises(ValueError, match="conv2d: input has 3 channels"):
        conv2d_geometry((2, 3, 8, 8), (4, 2, 3, 3))  # errors are not cached away


def test_pool_geometry_cache_keeps_validation():
    x = np.ones((1, 1, 4, 4))
    K.max_pool2d(x, 2)
    with pytest.raises(TypeError, match="kernel_size"):
        K.max_pool2d(x, True)
    out, _ = K.max_pool2d(x, [2, 2])
    assert out.shape == (1, 1, 2, 2)


# ---------------------------------------------------------------------------------------------
# Against PyTorch, on the shapes the benchmark uses (float32)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "x_shape,w_shape,padding",
    [((8, 1, 28, 28), (6, 1, 5, 5), 0), ((8, 6, 12, 12), (16, 6, 5, 5), 0)],
)
def test_lenet_layers_float32_match_torch(x_shape, w_shape, padding):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = (rng.standard_normal(w_shape) * 0.2).astype(np.float32)
    b = rng.standard_normal(w_shape[0]).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    yt = torch.nn.functional.conv2d(xt, wt, torch.tensor(b), padding=padding)
    grad = rng.standard_normal(tuple(yt.shape)).astype(np.float32)
    yt.backward(torch.tensor(grad))
    y = K.conv2d(x, w, b, padding=padding)
    dx = K.conv_transpose2d(grad, w, x_shape[2:], padding=padding)
    dw = K.conv2d_weight(x, grad, w_shape, padding=padding)
    assert y.dtype == dx.dtype == dw.dtype == np.float32
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dw, wt.grad.numpy(), rtol=1e-4, atol=1e-3)


# ---------------------------------------------------------------------------------------------
# Max pooling over tiling windows (the input is rearranged into contiguous slices first)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kernel", [2, (2, 3), (3, 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tiled_max_pool_ties_nan_and_infinities_match_torch(kernel, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    x = np.round(rng.standard_normal((2, 3, 6, 6)))  # many ties
    x[rng.random(x.shape) < 0.1] = np.nan
    x[rng.random(x.shape) < 0.1] = -np.inf
    x[rng.random(x.shape) < 0.05] = np.inf
    x = x.astype(dtype)
    kh, kw = pair(kernel, "kernel_size")
    x[0, 0, :kh, :kw] = -np.inf  # a window of -inf only
    xt = torch.tensor(x, requires_grad=True)
    yt, it = torch.nn.functional.max_pool2d(xt, kernel, return_indices=True)
    yt.backward(torch.ones_like(yt))
    out, offsets = K.max_pool2d(x, kernel)
    np.testing.assert_array_equal(out, yt.detach().numpy())
    oh = np.arange(out.shape[2])[:, None]
    ow = np.arange(out.shape[3])[None, :]
    index = (oh * kh + offsets // kw) * x.shape[3] + ow * kw + offsets % kw
    np.testing.assert_array_equal(index, it.numpy())
    dx = K.max_pool2d_backward(np.ones_like(out), offsets, x.shape[2:], kernel)
    np.testing.assert_array_equal(dx, xt.grad.numpy())


def test_tiled_max_pool_result_does_not_share_scratch():
    rng = np.random.default_rng(9)
    a, b = rng.standard_normal((2, 2, 3, 8, 8))
    out_a, off_a = K.max_pool2d(a, 2)
    saved = out_a.copy(), off_a.copy()
    K.max_pool2d(b, 2)  # reuses the rearranged-input scratch
    np.testing.assert_array_equal(out_a, saved[0])
    np.testing.assert_array_equal(off_a, saved[1])
    np.testing.assert_array_equal(out_a, a.reshape(2, 3, 4, 2, 4, 2).max(axis=(3, 5)))
