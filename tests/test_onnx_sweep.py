"""Generated conv/pool settings: ONNX Runtime agrees with minigrad on exported files, and the
loader agrees with ONNX Runtime on pooling nodes written from the ONNX side."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
hyp = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402

ATOL = 1e-5
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def ort_run(proto, x):
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]


def roundtrip(fn, shape, seed):
    """Export ``fn`` on a batch of 2; ORT and the re-loaded model must match it on batch 3."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    try:
        fn(mg.tensor(x))
    except ValueError:
        assume(False)  # a setting the op itself rejects
    proto = mg.onnx.export(fn, x, None)
    x3 = rng.standard_normal((3, *shape[1:])).astype(np.float32)
    want = fn(mg.tensor(x3)).data
    got = ort_run(proto, x3)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=ATOL, rtol=0)
    np.testing.assert_allclose(mg.onnx.load(proto)(x3).data, want, atol=ATOL, rtol=0)
    # ONNX's shape inference agrees with what runs (no ceil_mode in the file: onnx/onnx#5711)
    inferred = onnx.shape_inference.infer_shapes(proto, strict_mode=True).graph.output[0]
    dims = [d.dim_value for d in inferred.type.tensor_type.shape.dim][1:]
    assert dims == list(want.shape[1:])
    assert all(a.name != "ceil_mode" or a.i == 0 for n in proto.graph.node for a in n.attribute)


pair = st.tuples(st.integers(1, 3), st.integers(1, 3))
conv_padding = st.one_of(
    st.integers(0, 2),
    st.tuples(st.integers(0, 2), st.integers(0, 2)),
    st.tuples(*[st.integers(0, 2)] * 4),
    st.sampled_from(["same", "valid"]),
)


@SETTINGS
@given(
    c=st.integers(1, 3), o=st.integers(1, 3), hw=st.tuples(st.integers(3, 9), st.integers(3, 9)),
    k=st.tuples(st.integers(1, 4), st.integers(1, 4)), stride=pair,
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)), padding=conv_padding,
    bias=st.booleans(), seed=st.integers(0, 2**16),
)  # fmt: skip
def test_conv2d_settings(c, o, hw, k, stride, dilation, padding, bias, seed):
    if padding == "same":
        stride = 1
    rng = np.random.default_rng(seed)
    w = mg.tensor(rng.standard_normal((o, c, *k)).astype(np.float32))
    b = mg.tensor(rng.standard_normal(o).astype(np.float32)) if bias else None

    def conv(x):
        return mg.ops.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)

    roundtrip(conv, (2, c, *hw), seed)
    # its gradient companion: (N, O, OH, OW) -> (N, C, H, W), as ONNX ConvTranspose
    out_hw = conv(mg.zeros(1, c, *hw)).shape[2:]

    def conv_t(g):
        attrs = {"stride": stride, "padding": padding, "dilation": dilation}
        return mg.ops.conv_transpose2d(g, w, x_hw=hw, **attrs)

    roundtrip(conv_t, (2, o, *out_hw), seed)


@SETTINGS
@given(
    kind=st.sampled_from(["max", "avg", "sum"]), hw=st.tuples(st.integers(1, 10), st.integers(1, 10)),
    k=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stride=st.one_of(st.none(), pair, st.integers(1, 4)),
    pad=st.tuples(st.integers(0, 2), st.integers(0, 2)), ceil_mode=st.booleans(),
    count_include_pad=st.booleans(), seed=st.integers(0, 2**16),
)  # fmt: skip
def test_pool_settings(kind, hw, k, stride, pad, ceil_mode, count_include_pad, seed):
    assume(pad[0] <= k[0] // 2 and pad[1] <= k[1] // 2)
    attrs = {"kernel_size": k, "stride": stride, "padding": pad, "ceil_mode": ceil_mode}
    if kind == "avg":
        attrs["count_include_pad"] = count_include_pad
    op = getattr(mg.ops, f"{kind}_pool2d")
    roundtrip(lambda x: op(x, **attrs), (2, 2, *hw), seed)


def pool_node_model(op_type, hw, k, s, pads, ceil_mode, count_include_pad):
    attrs = {
        "kernel_shape": list(k),
        "strides": list(s),
        "pads": list(pads),
        "ceil_mode": ceil_mode,
    }
    if op_type == "AveragePool":
        attrs["count_include_pad"] = count_include_pad
    node = helper.make_node(op_type, ["x"], ["y"], **attrs)
    graph = helper.make_graph(
        [node], "pool", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, *hw])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", "c", "oh", "ow"])],
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@SETTINGS
@given(
    op_type=st.sampled_from(["MaxPool", "AveragePool"]),
    hw=st.tuples(st.integers(2, 9), st.integers(2, 9)),
    k=st.tuples(st.integers(2, 4), st.integers(2, 4)), s=pair,
    pads=st.tuples(*[st.integers(0, 3)] * 4), ceil_mode=st.integers(0, 1),
    count_include_pad=st.integers(0, 1), seed=st.integers(0, 2**16),
)  # fmt: skip
def test_loader_pooling_matches_onnx_runtime(
    op_type, hw, k, s, pads, ceil_mode, count_include_pad, seed
):
    """Asymmetric pads and ceil_mode from the ONNX side, loaded here, against ONNX Runtime."""
    assume(all(pads[i] < k[i % 2] for i in range(4)))  # ONNX Runtime: pads smaller than kernel
    assume(all(hw[i] + pads[i] + pads[i + 2] >= k[i] for i in range(2)))
    model = pool_node_model(op_type, hw, k, s, pads, ceil_mode, count_include_pad)
    x = np.random.default_rng(seed).standard_normal((1, 2, *hw)).astype(np.float32)
    want = ort_run(model, x)
    assume(want.size > 0)
    np.testing.assert_allclose(mg.onnx.load(model)(x).data, want, atol=ATOL, rtol=0)
