"""Single ONNX nodes loaded here give what ONNX Runtime gives: values, shape and dtype.

Each model has one node; inputs are graph inputs (minigrad Tensors) or initializers (constants,
folded with numpy), so both paths of the loader are compared.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import minigrad as mg

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

ELEM = {
    np.dtype(np.float32): TensorProto.FLOAT,
    np.dtype(np.float64): TensorProto.DOUBLE,
    np.dtype(np.int8): TensorProto.INT8,
    np.dtype(np.int16): TensorProto.INT16,
    np.dtype(np.int32): TensorProto.INT32,
    np.dtype(np.int64): TensorProto.INT64,
    np.dtype(np.uint8): TensorProto.UINT8,
    np.dtype(np.uint32): TensorProto.UINT32,
    np.dtype(np.bool_): TensorProto.BOOL,
}


def single_node(op, inputs, out_dtypes, consts=(), opset=18, **attrs):
    """A model of one ``op`` node; inputs listed in ``consts`` (by position) are initializers.

    ``None`` in ``inputs`` is an omitted optional input."""
    names = ["" if v is None else f"in{i}" for i, v in enumerate(inputs)]
    outs = [f"out{i}" for i in range(len(out_dtypes))]
    graph = helper.make_graph(
        [helper.make_node(op, names, outs, **attrs)],
        "g",
        [
            helper.make_tensor_value_info(n, ELEM[v.dtype], v.shape)
            for i, (n, v) in enumerate(zip(names, inputs))
            if v is not None and i not in consts
        ],
        [  # a symbolic shape: run_both declares the shapes ONNX Runtime computes
            helper.make_tensor_value_info(o, ELEM[np.dtype(d)], ["?"])
            for o, d in zip(outs, out_dtypes)
        ],
        [numpy_helper.from_array(inputs[i], names[i]) for i in consts],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def run_both(op, inputs, out_dtypes=None, consts=(), opset=18, **attrs):
    """(ONNX Runtime's outputs, minigrad's outputs) of one node, as lists of arrays."""
    out_dtypes = out_dtypes or [inputs[0].dtype]
    model = single_node(op, inputs, out_dtypes, consts, opset, **attrs)
    feeds = {f"in{i}": v for i, v in enumerate(inputs) if v is not None and i not in consts}
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    want = sess.run(None, feeds)
    for out, w in zip(model.graph.output, want):  # declared as ONNX Runtime computed them
        del out.type.tensor_type.shape.dim[:]
        for d in w.shape:
            out.type.tensor_type.shape.dim.add().dim_value = d
    got = mg.onnx.load(model)(*feeds.values())
    got = got if isinstance(got, tuple) else (got,)
    return want, [g.data for g in got]


def assert_same(want, got):
    assert len(got) == len(want)
    for w, g in zip(want, got):
        assert g.dtype == w.dtype, (g.dtype, w.dtype)
        assert g.shape == w.shape, (g.shape, w.shape)
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=0, equal_nan=True)


def check(op, inputs, out_dtypes=None, consts=(), opset=18, **attrs):
    assert_same(*run_both(op, inputs, out_dtypes, consts, opset, **attrs))


# --------------------------------------------------------------------------- ArgMax / ArgMin


@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("keepdims", [0, 1])
@pytest.mark.parametrize("last", [0, 1])
def test_argmax_argmin_ties_and_select_last_index(op, axis, keepdims, last):
    # by hand: row [1, 3, 3] has its maximum at 1 (first) and 2 (last)
    x = np.array([[1, 3, 3, 0], [2, 2, 1, 1], [0, 5, 5, 5]], dtype=np.float32)
    attrs = {"axis": axis, "keepdims": keepdims, "select_last_index": last}
    check(op, [x], [np.int64], **attrs)
    check(op, [x], [np.int64], consts=(0,), **attrs)


def test_argmax_select_last_index_by_hand():
    x = np.array([[1, 3, 3, 0]], dtype=np.float32)
    _, (got,) = run_both("ArgMax", [x], [np.int64], axis=1, keepdims=0, select_last_index=1)
    assert got.tolist() == [2]


# --------------------------------------------------------------------------- Flatten


@pytest.mark.parametrize("axis", range(-3, 4))
def test_flatten_every_axis_including_the_rank(axis):
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    check("Flatten", [x], axis=axis)


def test_flatten_axis_equal_to_rank_is_n_by_1_and_out_of_range_is_refused():
    x = np.zeros((2, 3), dtype=np.float32)
    _, (got,) = run_both("Flatten", [x], axis=2)
    assert got.shape == (6, 1)
    bad = single_node("Flatten", [x], [np.float32], axis=3)
    with pytest.raises(mg.onnx.OnnxError, match=r"axis 3 is out of range for rank 2"):
        mg.onnx.load(bad)(x)


# --------------------------------------------------------------------------- Slice

BOUNDS = [-12, -6, -5, -4, -1, 0, 1, 3, 4, 5, 6, 12, 2**62]


@pytest.mark.parametrize("step", [-3, -1, 1, 2])
def test_slice_every_start_and_end_against_onnx_runtime(step):
    x = np.arange(5, dtype=np.float32)
    for start, end in itertools.product(BOUNDS, BOUNDS):
        args = [x, np.array([start]), np.array([end]), np.array([0]), np.array([step])]
        want, got = run_both("Slice", args, consts=(1, 2, 3, 4))
        assert_same(want, got), (start, end, step)


def test_slice_start_below_minus_dim_with_a_negative_step_by_hand():
    x = np.arange(5, dtype=np.float32)
    args = [x, np.array([-10]), np.array([-20]), np.array([0]), np.array([-1])]
    _, (got,) = run_both("Slice", args, consts=(1, 2, 3, 4))
    assert got.tolist() == [0.0]  # start clamps to index 0, the end to "before index 0"


# --------------------------------------------------------------------------- Div, Pow

INTS = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint32]


@pytest.mark.parametrize("dtype", INTS)
@pytest.mark.parametrize("consts", [(), (1,), (0, 1)])
def test_integer_div_truncates_and_keeps_the_type(dtype, consts):
    signed = np.dtype(dtype).kind == "i"
    a = np.array([7, -7, 7, -7, 5, 0, 100, -128] if signed else [7, 9, 255, 0, 1, 6], dtype)
    b = np.array([2, 2, -2, -2, 3, 4, -3, -1] if signed else [2, 4, 16, 3, 1, 6], dtype)
    check("Div", [a, b], consts=consts)


def test_integer_div_by_hand_and_by_zero():
    a, b = np.array([7, -7], np.int32), np.array([-2, 2], np.int32)
    _, (got,) = run_both("Div", [a, b])
    assert got.tolist() == [-3, -3] and got.dtype == np.int32  # toward zero, not floor
    model = single_node("Div", [a, b], [np.int32])
    with pytest.raises(mg.onnx.OnnxError, match="integer division by zero"):
        mg.onnx.load(model)(a, np.array([1, 0], np.int32))


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
@pytest.mark.parametrize("consts", [(), (1,), (0, 1)])
def test_arithmetic_keeps_the_type(op, dtype, consts):
    a = np.array([7, -7, 3, 0.5 if np.dtype(dtype).kind == "f" else 9], dtype)
    b = np.array([2, 4, -3, 3], dtype)
    check(op, [a, b], consts=consts)


POW_TYPES = [
    (np.float32, np.int32),
    (np.float32, np.int64),
    (np.float32, np.float64),
    (np.float64, np.float32),
    (np.float64, np.int64),
    (np.int32, np.float32),
    (np.int64, np.float32),
    (np.int64, np.int64),
]


@pytest.mark.parametrize(("base", "exp"), POW_TYPES)
@pytest.mark.parametrize("consts", [(), (1,), (0, 1)])
def test_mixed_type_pow_returns_the_base_type(base, exp, consts):
    a = np.array([2, 3, 5, 1, 4], base)
    b = (
        np.array([2, 3, 2, 0, 1], exp)
        if np.dtype(exp).kind == "i"
        else np.array([0.5, 2.5, 3.0, -1.0, 1.5], exp)
    )
    check("Pow", [a, b], consts=consts)


def test_pow_scalar_exponent_keeps_float32_and_its_gradient():
    a = np.array([1.0, 4.0], np.float32)
    model = single_node("Pow", [a, np.array(0.5, np.float64)], [np.float32], consts=(1,))
    x = mg.tensor(a, requires_grad=True)
    y = mg.onnx.load(model)(x)
    assert y.dtype == np.float32
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 0.5 / np.sqrt(a), rtol=1e-6)


# --------------------------------------------------------------------------- Dropout


def test_training_mode_dropout_is_refused_and_ratio_zero_runs_as_onnx_runtime():
    x = np.ones((3, 4), np.float32)
    train = np.array(True)
    for ratio in (np.array(0.5, np.float32), None):
        model = single_node(
            "Dropout",
            [x, ratio, train],
            [np.float32, np.bool_],
            consts=(1, 2) if ratio is not None else (2,),
        )
        with pytest.raises(
            mg.onnx.OnnxError, match=r"training_mode=True with ratio=0.5 is not supported"
        ):
            mg.onnx.load(model)(x)
    check("Dropout", [x, np.array(0.0, np.float32), train], [np.float32, np.bool_], consts=(1, 2))
    check(
        "Dropout",
        [x, np.array(0.5, np.float32), np.array(False)],
        [np.float32, np.bool_],
        consts=(1, 2),
    )


# --------------------------------------------------------------------------- Clip


@pytest.mark.parametrize(
    ("lo", "hi"), [(None, None), (2.0, 1.0), (-1.0, None), (None, 1.0), (-1.0, 1.0), (1.0, 1.0)]
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int8, np.int32])
def test_clip_bounds_as_onnx_runtime(lo, hi, dtype):
    x = np.array([-3, -1, 0, 1, 2, 5], dtype)
    bounds = [None if v is None else np.array(v, dtype) for v in (lo, hi)]
    consts = tuple(i + 1 for i, v in enumerate(bounds) if v is not None)
    check("Clip", [x, *bounds], consts=consts)
    check("Clip", [x, *bounds], consts=(0, *consts))


def test_clip_with_min_above_max_gives_max_and_no_gradient():
    x = mg.tensor(np.array([-3.0, 0.0, 5.0], np.float32), requires_grad=True)
    model = single_node(
        "Clip", [x.data, np.float32(2.0), np.float32(1.0)], [np.float32], consts=(1, 2)
    )
    y = mg.onnx.load(model)(x)
    assert y.data.tolist() == [1.0, 1.0, 1.0]
    y.sum().backward()
    assert x.grad.data.tolist() == [0.0, 0.0, 0.0]


# --------------------------------------------------------------------------- reductions


@pytest.mark.parametrize("op", ["ReduceMax", "ReduceMin", "ReduceSum"])
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64])
@pytest.mark.parametrize("keepdims", [0, 1])
@pytest.mark.parametrize("axes", [[1], [0, 1], None])
def test_reduce_over_an_empty_set_as_onnx_runtime(op, dtype, keepdims, axes):
    x = np.zeros((2, 0, 4), dtype)
    inputs = [x] if axes is None else [x, np.array(axes, np.int64)]
    check(op, inputs, consts=(1,) if axes is not None else (), keepdims=keepdims)


def test_reduce_mean_over_an_empty_set_is_nan():
    # ONNX leaves it undefined; NaN as numpy, PyTorch and ONNX's reference (ONNX Runtime says 0)
    x = np.zeros((2, 0, 4), np.float32)
    model = single_node("ReduceMean", [x, np.array([1])], [np.float32], consts=(1,), keepdims=0)
    got = mg.onnx.load(model)(x).data
    assert got.shape == (2, 4) and got.dtype == np.float32 and np.isnan(got).all()


@pytest.mark.parametrize("op", ["ReduceMax", "ReduceMin", "ReduceSum", "ReduceMean"])
@pytest.mark.parametrize("noop", [0, 1])
@pytest.mark.parametrize("given", ["empty list", "omitted"])
def test_reduce_over_an_empty_axes_list_as_onnx_runtime(op, noop, given):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    inputs = [x, np.array([], np.int64)] if given == "empty list" else [x]
    consts = (1,) if given == "empty list" else ()
    check(op, inputs, consts=consts, keepdims=0, noop_with_empty_axes=noop)
