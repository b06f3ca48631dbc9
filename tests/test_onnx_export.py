"""mg.onnx.export: ONNX Runtime gives minigrad's outputs (float32, atol 1e-5) on the files it writes."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

ATOL = 1e-5
nn = mg.nn


def run_ort(proto, *arrays):
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {i.name: a for i, a in zip(sess.get_inputs(), arrays)}
    return sess.run(None, feeds)


def check(model, *shapes, batches=(1, 3), seed=0, atol=ATOL, opset=17):
    """Export on the first batch size, compare with ORT on every batch size; return max diff."""
    rng = np.random.default_rng(seed)
    example = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    proto = mg.onnx.export(model, tuple(example), None, opset=opset)
    worst = 0.0
    for n in batches:
        xs = [rng.standard_normal((n, *s[1:])).astype(np.float32) for s in shapes]
        with mg.no_grad():
            ref = model(*[mg.tensor(x) for x in xs])
        ref = ref if isinstance(ref, tuple) else (ref,)
        got = run_ort(proto, *xs)
        back = mg.onnx.load(proto)(*xs)  # every op export writes loads again
        back = back if isinstance(back, tuple) else (back,)
        for r, g, b in zip(ref, got, back):
            assert g.shape == r.shape and g.dtype == r.dtype
            np.testing.assert_allclose(g, r.data, atol=atol, rtol=0)
            np.testing.assert_allclose(b.data, r.data, atol=atol, rtol=0)
            worst = max(worst, float(np.abs(g - r.data).max()))
    return proto, worst


def demo_builders():
    """The demo's model builders, wherever the demo lives now."""
    try:
        from minigrad.demo import build_lenet, build_xo_model
    except ImportError:  # the demo moved into a package
        from minigrad.demo.models import build_lenet, build_xo_model
    return build_xo_model, build_lenet


def lenet5():
    """The classic LeNet-5 on 28x28: tanh, average and max pooling, three dense layers."""
    return nn.Sequential(
        OrderedDict(
            conv1=nn.Conv2d(1, 6, 5, padding=2),
            act1=nn.Tanh(),
            pool1=nn.AvgPool2d(2),
            conv2=nn.Conv2d(6, 16, 5),
            act2=nn.Sigmoid(),
            pool2=nn.MaxPool2d(2),
            flatten=nn.Flatten(),
            fc1=nn.Linear(16 * 5 * 5, 120),
            relu=nn.ReLU(),
            fc2=nn.Linear(120, 84),
            fc3=nn.Linear(84, 10),
            softmax=nn.Softmax(axis=1),
        )
    )


def test_demo_networks_match_onnx_runtime():
    build_xo, build_digits = demo_builders()
    mg.manual_seed(0)
    proto, d1 = check(build_xo(), (2, 1, 9, 9))
    assert [n.op_type for n in proto.graph.node] == ["Conv", "Relu", "MaxPool", "Reshape", "Gemm"]
    proto, d2 = check(build_digits(), (2, 1, 8, 8))
    names = [i.name for i in proto.graph.initializer if i.name.endswith(("weight", "bias"))]
    assert names == [n for n, _ in build_digits().named_parameters()]
    print(f"max abs diff: xo {d1:.2e}, digits {d2:.2e}")


def test_lenet5_matches_onnx_runtime_and_declares_a_dynamic_batch(tmp_path):
    mg.manual_seed(1)
    model = lenet5()
    proto, diff = check(model, (4, 1, 28, 28), batches=(1, 4, 7))
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [1, 28, 28]
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    path = tmp_path / "lenet.onnx"
    mg.onnx.export(model, mg.randn(2, 1, 28, 28), path)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("Gemm") == 3 and "AveragePool" in ops and "Softmax" in ops
    print(f"LeNet-5 max abs diff {diff:.2e}")


def test_nodes_are_named_after_their_layers():
    _, build_digits = demo_builders()
    proto = mg.onnx.export(build_digits(), mg.randn(1, 1, 8, 8), None)
    names = [n.name for n in proto.graph.node]
    assert names[:3] == ["conv1/Conv", "relu1/Relu", "pool1/MaxPool"]


def test_export_load_export_gives_the_same_outputs(tmp_path):
    _, build_digits = demo_builders()
    mg.manual_seed(2)
    model = build_digits()
    first = tmp_path / "a.onnx"
    mg.onnx.export(model, mg.randn(2, 1, 8, 8), first)
    loaded = mg.onnx.load(first)
    assert [n for n, _ in loaded.named_parameters()] == [n for n, _ in model.named_parameters()]
    second = mg.onnx.export(loaded, mg.randn(2, 1, 8, 8), tmp_path / "b.onnx")
    x = np.random.default_rng(5).standard_normal((6, 1, 8, 8)).astype(np.float32)
    want = model(x).data
    np.testing.assert_allclose(loaded(x).data, want, atol=ATOL, rtol=0)
    np.testing.assert_allclose(run_ort(second, x)[0], want, atol=ATOL, rtol=0)
    a = onnx.load(first)
    assert [n.op_type for n in a.graph.node] == [n.op_type for n in second.graph.node]
    # the reloaded model trains here like the original: the same gradients, name by name
    pick = mg.tensor(np.random.default_rng(6).standard_normal((6, 10)).astype(np.float32))
    (loaded(x) * pick).sum().backward()
    model.zero_grad()
    (model(x) * pick).sum().backward()
    for (name, p), (_, q) in zip(model.named_parameters(), loaded.named_parameters()):
        np.testing.assert_allclose(q.grad.data, p.grad.data, atol=1e-5, err_msg=name)


def test_core_ops_of_a_function_model():
    w = mg.tensor(np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32))

    def f(x, y):
        a = mg.maximum(x * 2.0 - y, mg.minimum(x, y)) / (mg.abs(y) + 1.0)
        b = mg.sqrt(mg.exp(-a).clip(0.1, 5.0)) ** 2.0 + mg.log(mg.abs(x) + 1.0) ** y.clip(0, 1)
        c = mg.where(mg.tensor(np.array([True, False, True, False])), a, b)
        d = (c @ w.T).transpose((0, 1)).reshape((-1, 5, 1)).flatten(1)
        e = mg.concatenate([d, c.sum(axis=1, keepdims=True), c.mean(axis=-1, keepdims=True)], 1)
        g = mg.stack([e.max(axis=1), e.min(axis=1)], axis=1)
        return mg.pad(e, ((0, 0), (1, 2)), value=0.5), g.sum(), e[:, 1:6:2], mg.ops.tanh(e)

    proto, diff = check(f, (3, 4), (3, 4))
    assert len(proto.graph.output) == 4
    print(f"core ops max abs diff {diff:.2e}")


@pytest.mark.parametrize(
    "index",
    [(slice(None), 2), (Ellipsis, slice(1, None)), (slice(None), None, slice(None, None, -1)),
     (slice(None), np.array([2, 0, 2])), (slice(None), slice(-3, -1), 1)],
)  # fmt: skip
def test_getitem(index):
    proto, _ = check(lambda x: x[index] * 1.0, (2, 4, 5))
    assert {"Slice", "Gather"} & {n.op_type for n in proto.graph.node}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_compose_from_onnx_ops(reduction):
    rng = np.random.default_rng(3)
    p = rng.random((4, 3)).astype(np.float32) * 0.98 + 0.01
    y = (rng.random((4, 3)) > 0.5).astype(np.float32)
    p[0, 0], y[0, 0] = 0.0, 1.0  # clipped by eps

    def log_loss(p, y):
        return mg.ops.log_loss(p, y, reduction=reduction)

    proto = mg.onnx.export(log_loss, (p, y), None)
    np.testing.assert_allclose(run_ort(proto, p, y)[0], log_loss(p, y).data, atol=ATOL)
    np.testing.assert_allclose(mg.onnx.load(proto)(p, y).data, log_loss(p, y).data, atol=ATOL)
    logits = rng.standard_normal((5, 4)).astype(np.float32)
    target = np.array([0, 3, 1, 1, 2], dtype=np.int64)

    def ce(z, t):
        return mg.ops.cross_entropy(mg.ops.relu(z), t, reduction=reduction)

    proto = mg.onnx.export(ce, (logits, target), None)
    want = ce(logits, target).data
    np.testing.assert_allclose(run_ort(proto, logits, target)[0], want, atol=ATOL)
    np.testing.assert_allclose(mg.onnx.load(proto)(logits, target).data, want, atol=ATOL)


def test_global_pooling_and_log_softmax():
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding="same"), nn.GlobalAvgPool2d())

    def f(x):
        return mg.ops.log_softmax(model(x) + mg.ops.global_max_pool2d(x).sum(axis=1, keepdims=True))

    check(f, (2, 2, 6, 7))


def test_older_and_newer_opsets():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.AvgPool2d(2, ceil_mode=True),
                          nn.Flatten(), nn.Linear(2 * 3 * 3, 3))  # fmt: skip

    def f(x):
        return model(x).mean(axis=1)

    for opset in (13, 18, 21):
        check(f, (2, 1, 8, 8), opset=opset)


def test_names_fixed_batch_and_the_written_file(tmp_path):
    w = mg.tensor(np.ones((2, 3), np.float32), requires_grad=True, name="scale")

    def f(x):
        return mg.ops.sigmoid(x @ w), x.sum(axis=1)

    x = np.arange(8, dtype=np.float32).reshape(4, 2)
    path = tmp_path / "f.onnx"
    proto = mg.onnx.export(f, x, path, input_names=["features"], output_names=["p", "total"],
                           dynamic_batch=False)  # fmt: skip
    assert onnx.load(path).SerializeToString() == proto.SerializeToString()
    assert [i.name for i in proto.graph.initializer] == ["scale", "axes_0"]  # ReduceSum axes
    assert [o.name for o in proto.graph.output] == ["p", "total"]
    dims = [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert proto.graph.input[0].name == "features" and dims == [4, 2]
    p, total = run_ort(proto, x)
    np.testing.assert_allclose(p, f(x)[0].data, atol=ATOL)
    np.testing.assert_allclose(total, x.sum(axis=1), atol=ATOL)
