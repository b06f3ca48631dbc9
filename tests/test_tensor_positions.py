"""Tensor.argmax / argmin / squeeze / unsqueeze: by hand, against PyTorch on generated shapes,
gradients through squeeze and unsqueeze, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.testing import gradcheck, gradgradcheck

SWEEP = settings(max_examples=40, deadline=None)


def test_by_hand():
    x = mg.tensor([[1.0, 5.0, 5.0], [7.0, 0.0, 7.0]])
    assert x.argmax().item() == 3 and x.argmin().item() == 4  # ties: the first index
    np.testing.assert_array_equal(x.argmax(axis=1).data, [1, 0])
    np.testing.assert_array_equal(x.argmin(axis=0, keepdims=True).data, [[0, 1, 0]])
    assert x.argmax(axis=-1).dtype == np.int64 and not x.argmax().requires_grad
    assert x.argmax(keepdims=True).shape == (1, 1)
    assert mg.tensor(3.0).argmax().item() == 0
    assert mg.zeros(1, 3, 1, 2).squeeze().shape == (3, 2)
    assert mg.zeros(1, 3, 1, 2).squeeze((0, 1)).shape == (3, 1, 2)  # size-3 axis is kept
    assert mg.zeros(2, 3).unsqueeze(2).shape == (2, 3, 1)
    assert mg.zeros(2, 3).unsqueeze(-3).shape == (1, 2, 3)
    assert mg.tensor(1.0).unsqueeze(0).shape == (1,)


def test_gradients_flow_through_squeeze_and_unsqueeze():
    x = mg.tensor(np.arange(6.0).reshape(2, 1, 3), requires_grad=True)
    y = x.squeeze(1).unsqueeze(0)
    assert y.shape == (1, 2, 3)
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 2 * x.data)
    assert gradcheck(
        lambda t: (t.squeeze() * 2).unsqueeze(-1),
        mg.tensor(np.ones((1, 3)), dtype="float64", requires_grad=True),
    )
    assert gradgradcheck(
        lambda t: t.unsqueeze(1) ** 2, mg.tensor(np.ones(3), dtype="float64", requires_grad=True)
    )


@SWEEP
@given(
    x=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=3),
        elements=st.integers(-3, 3).map(float),
    ),
    data=st.data(),
)
def test_match_torch(x, data):
    torch = pytest.importorskip("torch")
    t, ours = torch.tensor(x), mg.tensor(x)
    axis = data.draw(st.none() | st.integers(-max(x.ndim, 1), max(x.ndim, 1) - 1))
    keep = data.draw(st.booleans())
    for name in ("argmax", "argmin"):
        theirs = (
            getattr(t, name)(dim=axis, keepdim=keep) if axis is not None else getattr(t, name)()
        )
        if axis is None and keep:
            theirs = getattr(t, name)(dim=None, keepdim=True)
        mine = getattr(ours, name)(axis=axis, keepdims=keep)
        assert mine.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(mine.data, theirs.numpy())
    sq = ours.squeeze(axis)
    assert sq.shape == tuple((t.squeeze(axis) if axis is not None else t.squeeze()).shape)
    u = data.draw(st.integers(-x.ndim - 1, x.ndim))
    assert ours.unsqueeze(u).shape == tuple(t.unsqueeze(u).shape)


def test_errors_name_the_method():
    x = mg.zeros(2, 3)
    with pytest.raises(ValueError, match="argmax: axis 2 is out of range for a 2-D tensor"):
        x.argmax(axis=2)
    with pytest.raises(TypeError, match="argmin: axis must be an int or None"):
        x.argmin(axis=(0, 1))
    with pytest.raises(ValueError, match=r"argmax: the input of shape \(0,\) is empty"):
        mg.zeros(0).argmax()
    with pytest.raises(
        ValueError, match=r"unsqueeze: axis 3 is out of range .* expected -3 <= axis <= 2"
    ):
        x.unsqueeze(3)
    with pytest.raises(TypeError, match="unsqueeze: axis must be an int"):
        x.unsqueeze(None)
    with pytest.raises(ValueError, match="squeeze: axis 5 is out of range"):
        x.squeeze(5)
