"""Pooling ops and their companions reject bad input with errors that name the op, the shapes
and the attributes involved."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d", "sum_pool2d"])
@pytest.mark.parametrize(
    ("shape", "attrs", "error", "pattern"),
    [
        ((1, 4, 4), {"kernel_size": 2}, ValueError, r"expected a 4-D input .*\(1, 4, 4\).*reshape"),
        (
            (1, 1, 2, 2),
            {"kernel_size": 3},
            ValueError,
            r"kernel_size \(3, 3\) is larger than the padded input \(2, 2\)",
        ),
        ((1, 1, 4, 4), {"kernel_size": 0}, ValueError, r"kernel_size must be >= 1, got \(0, 0\)"),
        (
            (1, 1, 4, 4),
            {"kernel_size": 2, "stride": (1, 0)},
            ValueError,
            r"stride must be >= 1, got \(1, 0\)",
        ),
        (
            (1, 1, 4, 4),
            {"kernel_size": 2, "padding": 2},
            ValueError,
            r"padding \(2, 2\) must be at most half of kernel_size",
        ),
        ((1, 1, 4, 4), {"kernel_size": 2.5}, TypeError, r"kernel_size must be an int or a pair"),
        (
            (1, 1, 4, 4),
            {"kernel_size": 2, "ceil_mode": "yes"},
            TypeError,
            r"ceil_mode must be True or False",
        ),
    ],
)
def test_pool_input_errors_name_the_op(op, shape, attrs, error, pattern):
    with pytest.raises(error, match=rf"^{op}: {pattern}"):
        getattr(mg.ops, op)(mg.zeros(*shape), **attrs)


def test_missing_kernel_size():
    with pytest.raises(TypeError, match=r"max_pool2d: missing required attribute.*kernel_size"):
        mg.ops.max_pool2d(mg.zeros(1, 1, 4, 4))


def test_global_pool_errors():
    for op in ("global_max_pool2d", "global_avg_pool2d"):
        with pytest.raises(ValueError, match=rf"^{op}: expected a 4-D input .*\(2, 3\)"):
            getattr(mg.ops, op)(mg.zeros(2, 3))
        with pytest.raises(ValueError, match=rf"^{op}: the input's feature maps are empty"):
            getattr(mg.ops, op)(mg.zeros(2, 3, 0, 4))


def test_avg_pool_count_include_pad_must_be_a_flag():
    with pytest.raises(TypeError, match=r"^avg_pool2d: count_include_pad must be True or False"):
        mg.ops.avg_pool2d(mg.zeros(1, 1, 4, 4), kernel_size=2, count_include_pad=None)


def test_companion_errors_name_the_companion():
    offsets = mg.tensor(np.zeros((1, 1, 2, 2), dtype=np.uint8))
    g = mg.zeros(1, 1, 2, 2)
    for op in ("max_unpool2d", "avg_unpool2d", "sum_unpool2d"):
        args = (g, offsets) if op == "max_unpool2d" else (g,)
        with pytest.raises(
            ValueError,
            match=rf"^{op}: grad has shape \(1, 1, 2, 2\) but pooling an input of shape \(1, 1, 6, 6\)",
        ):
            getattr(mg.ops, op)(*args, x_hw=(6, 6), kernel_size=2)
        with pytest.raises(ValueError, match=rf"^{op}: expected a 4-D grad"):
            getattr(mg.ops, op)(mg.zeros(1, 2, 2), *args[1:], x_hw=(4, 4), kernel_size=2)
        with pytest.raises(TypeError, match=rf"^{op}: x_hw must be an int or a pair"):
            getattr(mg.ops, op)(*args, x_hw="4x4", kernel_size=2)
    with pytest.raises(
        ValueError, match=r"^max_unpool2d: offsets must lie in \[0, 4\) .* \[0, 4\]"
    ):
        mg.ops.max_unpool2d(
            g, mg.tensor(np.array([[[[0, 1], [2, 4]]]], dtype=np.uint8)), x_hw=(4, 4), kernel_size=2
        )
    with pytest.raises(TypeError, match=r"^max_pool2d_gather: offsets must be integers .* float32"):
        mg.ops.max_pool2d_gather(mg.zeros(1, 1, 4, 4), g, kernel_size=2)
    with pytest.raises(
        ValueError,
        match=r"^max_pool2d_gather: offsets has shape \(1, 1, 2, 2\), expected the pooled shape \(1, 1, 1, 1\)",
    ):
        mg.ops.max_pool2d_gather(mg.zeros(1, 1, 4, 4), offsets, kernel_size=3)
