"""mg.graph.explain: the arithmetic of one output cell (and one gradient cell) of conv/pooling.

Seed: the CNN explainers' 3x3 patch and vertical-edge filter give 3.3 in the first window.
Then generated settings against PyTorch: the terms sum to the engine's output and to
PyTorch's gradients.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

PATCH = np.array([[0.8, 0.5, 0.1], [0.9, 0.4, 0.0], [0.9, 0.3, 0.1]])
FILT = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])


def seed_example() -> tuple[mg.Tensor, mg.Tensor, mg.Tensor]:
    """A 6x6 image whose top-left 3x3 patch is PATCH, and the 3x3 filter FILT."""
    img = np.zeros((6, 6))
    img[:3, :3] = PATCH
    img[3:, 3:] = 0.5
    x = mg.tensor(img.reshape(1, 1, 6, 6), name="image")
    w = mg.tensor(FILT.reshape(1, 1, 3, 3), requires_grad=True, name="filter")
    return x, w, mg.ops.conv2d(x, w)


def test_seed_first_window_is_3_3():
    _, _, y = seed_example()
    e = mg.graph.explain(y, (0, 0, 0, 0))
    assert e.value == pytest.approx(3.3)
    assert e.terms.sum() == pytest.approx(3.3)
    assert e.bias is None
    np.testing.assert_allclose(e.window["x"][0], PATCH)
    assert str(e).startswith("0.8*1 + 0.5*0 + 0.1*(-1) + 0.9*2")
    assert str(e).endswith("= 3.3")


def test_flat_index_bias_and_errors():
    x, w, _ = seed_example()
    b = mg.tensor([0.25], requires_grad=True)
    y = mg.ops.conv2d(x, w, b)
    e = mg.graph.explain(y, 0)
    assert e.bias == 0.25 and e.terms.sum() + e.bias == pytest.approx(e.value)
    assert "(bias)" in str(e)
    with pytest.raises(IndexError, match="does not fit shape"):
        mg.graph.explain(y, (0, 0, 9, 0))
    with pytest.raises(ValueError, match="op 'add' has no window"):
        mg.graph.explain(y + 1, 0)
    with pytest.raises(ValueError, match="not produced by a recorded op"):
        mg.graph.explain(x, 0)


def test_padding_cells_are_marked_and_count_as_zero():
    x, w, _ = seed_example()
    y = mg.ops.conv2d(x, w, padding="same")
    e = mg.graph.explain(y, (0, 0, 0, 0))
    assert e.cells.tolist() == [[1, 1, 1], [1, 0, 0], [1, 0, 0]]
    assert e.terms.size == 4  # only the 4 cells inside the image multiply
    assert e.value == pytest.approx(float(y.data[0, 0, 0, 0]))


def test_max_pool_ties_go_to_the_first_maximum_row_major():
    x = mg.tensor(np.array([[[[1.0, 3.0], [3.0, 0.0]]]]), requires_grad=True)
    y = mg.ops.max_pool2d(x, 2)
    e = mg.graph.explain(y, (0, 0, 0, 0))
    assert e.winner == (0, 0, 0, 1) and e.value == 3.0
    g = mg.graph.explain(y, (0, 0, 1, 0), wrt="x", grad=np.ones(y.shape))
    assert g.value == 0.0 and g.terms.size == 0  # the tie's second 3 gets nothing


def test_avg_pool_divisor_follows_count_include_pad_and_ceil_mode():
    x = mg.tensor(np.ones((1, 1, 5, 5)), requires_grad=True)
    a = mg.ops.avg_pool2d(x, 2, stride=2, padding=1, ceil_mode=True)
    e = mg.graph.explain(a, (0, 0, 0, 0))
    assert e.divisor == 4 and e.value == pytest.approx(0.25)
    b = mg.ops.avg_pool2d(x, 2, stride=2, padding=1, count_include_pad=False)
    assert mg.graph.explain(b, (0, 0, 0, 0)).divisor == 1
    c = mg.ops.avg_pool2d(x, 2, ceil_mode=True)  # 5x5 -> 3x3: last window holds 1 cell
    e = mg.graph.explain(c, (0, 0, 2, 2))
    assert e.divisor == 1 and e.cells.tolist() == [[0, 2], [2, 2]]


def test_contributions_of_a_tensor_used_k_times():
    from minigrad.graph.explain import from_contributions

    parts = [np.array([1.0, 2.0]), np.array([0.5, -1.0]), np.array([2.0, 2.0])]
    got = from_contributions(parts, 1, names=["a", "b", "c"])
    assert got.terms.tolist() == [2.0, -1.0, 2.0] and got.value == 3.0
    assert str(got) == "2 (a) + (-1) (b) + 2 (c) = 3"  # a negative after "+" in parentheses


# --------------------------------------------------------------------------- against PyTorch


def _settings(rng: np.random.Generator) -> dict:
    k = int(rng.integers(1, 4))
    d = int(rng.integers(1, 3))
    s = int(rng.integers(1, 3))
    pad = "same" if s == 1 and rng.random() < 0.3 else int(rng.integers(0, k))
    return {"k": k, "stride": s, "padding": pad, "dilation": d}


@pytest.mark.parametrize("seed", range(12))
def test_conv2d_cells_and_gradients_against_torch(seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    st = _settings(rng)
    n, c, o, h = 2, int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(6, 9))
    xa = rng.standard_normal((n, c, h, h + 1))
    wa = rng.standard_normal((o, c, st["k"], st["k"]))
    ba = rng.standard_normal(o)
    attrs = {k: st[k] for k in ("stride", "padding", "dilation")}
    x = mg.tensor(xa, requires_grad=True)
    w = mg.tensor(wa, requires_grad=True)
    b = mg.tensor(ba, requires_grad=True)
    y = mg.ops.conv2d(x, w, b, **attrs)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (xa, wa, ba))
    ty = torch.nn.functional.conv2d(tx, tw, tb, **attrs)
    assert y.shape == tuple(ty.shape)
    dy = rng.standard_normal(y.shape)
    ty.backward(torch.tensor(dy))
    for _ in range(5):
        idx = tuple(int(rng.integers(0, s)) for s in y.shape)
        e = mg.graph.explain(y, idx)
        assert e.terms.sum() + e.bias == pytest.approx(ty.detach().numpy()[idx], abs=1e-9)
        widx = tuple(int(rng.integers(0, s)) for s in wa.shape)
        ew = mg.graph.explain(y, widx, wrt="weight", grad=dy)
        assert ew.terms.sum() == pytest.approx(tw.grad.numpy()[widx], abs=1e-9)
        xidx = tuple(int(rng.integers(0, s)) for s in xa.shape)
        ex = mg.graph.explain(y, xidx, wrt="x", grad=dy)
        assert ex.terms.sum() == pytest.approx(tx.grad.numpy()[xidx], abs=1e-9)
        eb = mg.graph.explain(y, (idx[1],), wrt=2, grad=dy)
        assert eb.value == pytest.approx(tb.grad.numpy()[idx[1]], abs=1e-9)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d", "sum_pool2d"])
def test_pool_cells_and_gradients_against_torch(op, seed):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 4))
    s = int(rng.integers(1, 4))
    p = int(rng.integers(0, k // 2 + 1))
    ceil = bool(rng.integers(0, 2))
    h = int(rng.integers(max(k, 4), 9))
    # rounded values: many ties, which must go to the first maximum in row-major order
    xa = np.round(rng.standard_normal((2, 2, h, h + 1)) * 2) / 2
    attrs = {"kernel_size": k, "stride": s, "padding": p, "ceil_mode": ceil}
    tx = torch.tensor(xa, requires_grad=True)
    if op == "avg_pool2d":
        attrs["count_include_pad"] = bool(rng.integers(0, 2))
        ty = F.avg_pool2d(tx, **attrs)
    elif op == "max_pool2d":
        ty = F.max_pool2d(tx, **attrs)
    else:  # a sum is an average with divisor 1
        ty = F.avg_pool2d(tx, divisor_override=1, **attrs)
    x = mg.tensor(xa, requires_grad=True)
    y = getattr(mg.ops, op)(x, **attrs)
    assert y.shape == tuple(ty.shape)
    dy = rng.standard_normal(y.shape)
    ty.backward(torch.tensor(dy))
    for _ in range(6):
        idx = tuple(int(rng.integers(0, n)) for n in y.shape)
        e = mg.graph.explain(y, idx)
        assert e.terms.sum() == pytest.approx(ty.detach().numpy()[idx], abs=1e-9)
        if op == "max_pool2d":
            assert xa[e.winner] == ty.detach().numpy()[idx]
        xidx = tuple(int(rng.integers(0, n)) for n in xa.shape)
        g = mg.graph.explain(y, xidx, wrt="x", grad=dy)
        assert g.terms.sum() == pytest.approx(tx.grad.numpy()[xidx], abs=1e-9)


@pytest.mark.parametrize("op", ["global_max_pool2d", "global_avg_pool2d"])
def test_global_pooling(op):
    rng = np.random.default_rng(0)
    xa = rng.standard_normal((2, 3, 4, 5))
    x = mg.tensor(xa, requires_grad=True)
    y = getattr(mg.ops, op)(x)
    e = mg.graph.explain(y, (1, 2))
    assert e.terms.sum() == pytest.approx(y.data[1, 2])
    if op == "global_max_pool2d":
        assert xa[e.winner] == xa[1, 2].max()
    dy = rng.standard_normal(y.shape)
    y.backward(mg.tensor(dy))
    for idx in [(1, 2, 0, 0), (0, 1, 3, 4)]:
        g = mg.graph.explain(y, idx, wrt=0, grad=dy)
        assert g.value == pytest.approx(x.grad.data[idx])


def test_gradient_cell_of_retained_grad():
    _, w, y = seed_example()
    y.retain_grad()
    (y * y).sum().backward()
    e = mg.graph.explain(y, (0, 0, 1, 2), wrt="weight")
    assert e.value == pytest.approx(w.grad.data[0, 0, 1, 2])


def test_explain_refuses_values_freed_by_backward_instead_of_writing_a_made_up_sum():
    mg.manual_seed(0)
    model = mg.nn.Sequential(mg.nn.Conv2d(1, 2, 3), mg.nn.ReLU(), mg.nn.Flatten())
    x = mg.randn(2, 1, 6, 6)
    h = model[0](x)
    kept = mg.graph.explain(h, (0, 0, 0, 0))  # before backward: the real value
    assert abs(kept.value - float(h.data[0, 0, 0, 0])) == 0
    loss = model[2](model[1](h)).sum()
    loss.backward()  # frees relu's output; h is the user's, so it stays
    assert mg.graph.explain(h, (0, 0, 0, 0)).value == kept.value
    pool_in = mg.ops.max_pool2d(model[1](model[0](x)), 2)  # relu's output held only by the graph
    pool_in.sum().backward()
    with pytest.raises(ValueError, match=r"max_pool2d call's input 0 were freed by backward\(\)"):
        mg.graph.explain(pool_in, (0, 0, 0, 0))
