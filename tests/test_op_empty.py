"""Zero-size inputs: no output channels, an empty batch, no input channels; forward, backward
and double backward give empty (or bias-only) results of the right shapes instead of errors."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

CONV_ATTRS = [{"padding": 0}, {"padding": 1}, {"stride": 2}, {"padding": "same"}]


def _leaves(*shapes, seed: int = 0) -> list[mg.Tensor]:
    rng = np.random.default_rng(seed)
    return [mg.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]


@pytest.mark.parametrize("attrs, oh", list(zip(CONV_ATTRS, [3, 5, 2, 5])))
def test_conv2d_with_no_output_channels_gives_an_empty_output(attrs, oh):
    x, w, b = _leaves((2, 3, 5, 5), (0, 3, 3, 3), (0,))
    y = mg.ops.conv2d(x, w, b, **attrs)
    assert y.shape == (2, 0, oh, oh) and y.dtype == np.float64
    gx, gw, gb = mg.grad((y * y).sum(), [x, w, b], create_graph=True)
    assert gx.shape == x.shape and not gx.data.any()  # nothing depends on x
    assert gw.shape == (0, 3, 3, 3) and gb.shape == (0,)
    (hx,) = mg.grad((gx * gx).sum() + gw.sum(), [x], allow_unused=True)
    assert hx is None or not hx.data.any()


@pytest.mark.parametrize("attrs", CONV_ATTRS)
def test_conv2d_of_an_empty_batch_matches_torch(attrs):
    torch = pytest.importorskip("torch")
    x, w, b = _leaves((0, 3, 5, 5), (4, 3, 3, 3), (4,))
    y = mg.ops.conv2d(x, w, b, **attrs)
    tx, tw, tb = (torch.tensor(t.data, requires_grad=True) for t in (x, w, b))
    ty = torch.nn.functional.conv2d(tx, tw, tb, **attrs)
    assert y.shape == tuple(ty.shape)
    gx, gw, gb = mg.grad(y.sum(), [x, w, b])
    tgx, tgw, tgb = torch.autograd.grad(ty.sum(), [tx, tw, tb])
    assert gx.shape == tuple(tgx.shape)
    np.testing.assert_array_equal(gw.data, tgw.numpy())  # zeros: no sample contributes
    np.testing.assert_array_equal(gb.data, tgb.numpy())


def test_conv2d_with_no_input_channels_is_the_bias():
    # The sum over zero channels is 0, so every output is the bias (PyTorch 2.13 returns an
    # output with zero channels here, which does not match the weight's four filters).
    x, w, b = _leaves((2, 0, 5, 5), (4, 0, 3, 3), (4,))
    y = mg.ops.conv2d(x, w, b, padding=1)
    np.testing.assert_array_equal(y.data, np.broadcast_to(b.data[:, None, None], (2, 4, 5, 5)))
    gx, gw, gb = mg.grad(y.sum(), [x, w, b])
    assert gx.shape == (2, 0, 5, 5) and gw.shape == (4, 0, 3, 3)
    np.testing.assert_array_equal(gb.data, np.full(4, 50.0))


def test_conv_companions_with_empty_channels():
    g, w = _leaves((2, 0, 3, 3), (0, 3, 3, 3))
    dx = mg.ops.conv_transpose2d(g, w)
    assert dx.shape == (2, 3, 5, 5) and not dx.data.any()
    x, g2 = _leaves((2, 3, 5, 5), (2, 0, 3, 3))
    assert mg.ops.conv2d_weight(x, g2, w_shape=(0, 3, 3, 3)).shape == (0, 3, 3, 3)


@pytest.mark.parametrize(
    "name", ["max_pool2d", "avg_pool2d", "sum_pool2d", "global_max_pool2d", "global_avg_pool2d"]
)
def test_pooling_an_empty_batch_matches_torch(name):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    (x,) = _leaves((0, 3, 4, 4))
    reference = {
        "max_pool2d": lambda t: F.max_pool2d(t, 2),
        "avg_pool2d": lambda t: F.avg_pool2d(t, 2),
        "sum_pool2d": lambda t: F.avg_pool2d(t, 2, divisor_override=1),
        "global_max_pool2d": lambda t: F.adaptive_max_pool2d(t, 1).flatten(1),
        "global_avg_pool2d": lambda t: t.mean(dim=(2, 3)),
    }[name]
    op = getattr(mg.ops, name)
    y = op(x) if name.startswith("global") else op(x, kernel_size=2)
    tx = torch.tensor(x.data, requires_grad=True)
    ty = reference(tx)
    assert y.shape == tuple(ty.shape)
    (gx,) = mg.grad(y.sum(), [x], create_graph=True)
    assert gx.shape == x.shape


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softmax", "log_softmax"])
def test_elementwise_and_softmax_of_an_empty_batch(name):
    (x,) = _leaves((0, 3))
    y = getattr(mg.ops, name)(x)
    (gx,) = mg.grad(y.sum(), [x])
    assert y.shape == gx.shape == (0, 3)


def test_losses_of_an_empty_batch_sum_to_zero():
    (logits,) = _leaves((0, 3))
    target = mg.tensor(np.zeros(0, dtype=np.int64))
    loss = mg.ops.cross_entropy(logits, target, reduction="sum")
    assert loss.item() == 0.0 and mg.grad(loss, [logits])[0].shape == (0, 3)
    with pytest.raises(ValueError, match=r"^cross_entropy: cannot take the mean over an empty"):
        mg.ops.cross_entropy(logits, target)
