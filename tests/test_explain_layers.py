"""mg.graph.explain on batch norm (channel statistics, normalised value, scale and shift), on
dropout (kept or dropped, the mask) and on a grouped convolution (which channels a filter sees)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


def test_batch_norm_cell_arithmetic_in_training_and_evaluation():
    x = mg.tensor(np.arange(1.0, 9.0).reshape(2, 1, 2, 2), requires_grad=True)
    rm, rv = mg.zeros(1, dtype="float64"), mg.ones(1, dtype="float64")
    w, b = mg.tensor([2.0], dtype="float64"), mg.tensor([0.5], dtype="float64")
    y = mg.ops.batch_norm(x, rm, rv, w, b, training=True, eps=0.0)
    e = mg.graph.explain(y, (1, 0, 1, 1))  # x = 8
    assert e.stats["mean"] == 4.5 and e.stats["var"] == 5.25
    assert e.stats["xhat"] == pytest.approx(3.5 / np.sqrt(5.25))
    assert e.terms.sum() + e.bias == pytest.approx(e.value) and e.value == pytest.approx(
        y.data[1, 0, 1, 1]
    )
    assert str(e).startswith("mean 4.5, variance 5.25 (over the batch's 8 values of channel 0)")
    assert "(8 - 4.5) / sqrt(5.25 + 0)" in str(e) and "*2 + 0.5 = " in str(e)
    y_eval = mg.ops.batch_norm(x, rm, rv, w, b, eps=1e-5)
    e = mg.graph.explain(y_eval, 0)
    assert e.stats["mean"] == pytest.approx(0.45) and "running statistics of channel 0" in str(e)
    assert e.value == pytest.approx(y_eval.data.flat[0])


def test_dropout_cell_and_mask_before_and_after_backward():
    mg.manual_seed(0)
    x = mg.tensor(np.arange(1.0, 9.0).reshape(1, 2, 2, 2), requires_grad=True)
    y = mg.ops.dropout(x, p=0.5)
    kept = np.argwhere(y.data != 0)[0]
    dropped = np.argwhere(y.data == 0)[0]
    e = mg.graph.explain(y, tuple(kept))
    assert str(e).startswith("kept: ") and "*2 (1/(1 - 0.5))" in str(e)
    assert e.stats == {"p": 0.5, "scale": 2.0} and e.value == y.data[tuple(kept)]
    mask = e.window["mask"]
    assert mask.shape == (2, 2) and np.array_equal(mask != 0, y.data[0, kept[1]] != 0)
    assert str(mg.graph.explain(y, tuple(dropped))).startswith("dropped: ")
    y.sum().backward()  # frees the saved mask: it is read back from the output
    again = mg.graph.explain(y, tuple(kept))
    assert again.stats["scale"] == 2.0 and np.array_equal(again.window["mask"], mask)


def test_grouped_convolution_window_names_its_channels():
    x = mg.tensor(
        np.arange(2 * 4 * 3 * 3, dtype=np.float64).reshape(2, 4, 3, 3), requires_grad=True
    )
    w = mg.tensor(np.ones((4, 2, 2, 2)))
    y = mg.ops.conv2d(x, w, groups=2)
    e = mg.graph.explain(y, (0, 3, 0, 0))
    assert e.channels == (2, 3) and e.window["x"].shape == (2, 2, 2)
    assert e.value == e.terms.sum() == y.data[0, 3, 0, 0]
    assert str(e).startswith("filter 3 (group 1 of 2) sees input channels 2..3: ")
    assert mg.graph.explain(mg.ops.conv2d(x, mg.tensor(np.ones((1, 4, 2, 2)))), 0).channels == (
        0,
        1,
        2,
        3,
    )
