"""mg.onnx.load: ONNX graphs built with onnx.helper run here with PyTorch's outputs and gradients."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

onnx = pytest.importorskip("onnx")
torch = pytest.importorskip("torch")
F = torch.nn.functional
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

RNG = np.random.default_rng(0)


def make_model(nodes, inputs, outputs, inits, opset=17):
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs],
        [numpy_helper.from_array(a, n) for n, a in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model, full_check=True)
    return model


def cnn_weights():
    f32 = np.float32
    return {
        "conv1.weight": RNG.standard_normal((4, 2, 3, 3)).astype(f32),
        "conv1.bias": RNG.standard_normal(4).astype(f32),
        "bn.scale": (RNG.random(4) + 0.5).astype(f32),
        "bn.bias": RNG.standard_normal(4).astype(f32),
        "bn.mean": RNG.standard_normal(4).astype(f32),
        "bn.var": (RNG.random(4) + 0.5).astype(f32),
        "fc.weight": RNG.standard_normal((3, 4 * 3 * 3 + 4)).astype(f32),
        "fc.bias": RNG.standard_normal(3).astype(f32),
        "shape": np.array([0, -1], dtype=np.int64),
    }


def cnn_model():
    """Conv(stride 2, asymmetric pads) -> BN -> Relu -> MaxPool(ceil) -> Dropout -> Reshape,
    concatenated with a global average pool, -> Gemm(transB, alpha, beta) -> LogSoftmax."""
    h = helper.make_node
    nodes = [
        h(
            "Conv",
            ["x", "conv1.weight", "conv1.bias"],
            ["c"],
            strides=[2, 2],
            pads=[1, 0, 2, 1],
            name="/conv1/Conv",
        ),
        h(
            "BatchNormalization",
            ["c", "bn.scale", "bn.bias", "bn.mean", "bn.var"],
            ["b"],
            epsilon=1e-3,
        ),
        h("Relu", ["b"], ["r"]),
        h("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
        h("Dropout", ["p"], ["d"]),
        h("Reshape", ["d", "shape"], ["f"]),
        h("GlobalAveragePool", ["r"], ["gap"]),
        h("Flatten", ["gap"], ["gf"]),
        h("Concat", ["f", "gf"], ["cat"], axis=1),
        h("Gemm", ["cat", "fc.weight", "fc.bias"], ["z"], transB=1, alpha=0.5, beta=2.0),
        h("Constant", [], ["two"], value=numpy_helper.from_array(np.array(2.0, np.float32))),
        h("Mul", ["z", "two"], ["z2"]),
        h("Identity", ["z2"], ["z3"]),
        h("LogSoftmax", ["z3"], ["y"], axis=1),
    ]
    w = cnn_weights()
    return make_model(nodes, [("x", ["N", 2, 11, 10])], [("y", ["N", 3])], w), w


def torch_weights(w):
    frozen = ("shape", "bn.mean", "bn.var")
    return {k: torch.tensor(v, requires_grad=k not in frozen) for k, v in w.items() if k != "shape"}


def torch_cnn(x, t):
    c = F.conv2d(F.pad(x, (0, 1, 1, 2)), t["conv1.weight"], t["conv1.bias"], stride=2)
    b = F.batch_norm(c, t["bn.mean"], t["bn.var"], t["bn.scale"], t["bn.bias"], eps=1e-3)
    r = F.relu(b)
    p = F.max_pool2d(r, 2, ceil_mode=True)
    cat = torch.cat([p.flatten(1), r.mean(dim=(2, 3))], dim=1)
    z = 0.5 * cat @ t["fc.weight"].T + 2.0 * t["fc.bias"]
    return F.log_softmax(2 * z, dim=1)


def test_helper_cnn_matches_pytorch_outputs_and_gradients(tmp_path):
    model_proto, w = cnn_model()
    path = tmp_path / "cnn.onnx"
    onnx.save(model_proto, path)
    model = mg.onnx.load(path)
    assert isinstance(model, mg.nn.Module)
    names = [n for n, _ in model.named_parameters()]
    assert names == [k for k in w if k != "shape"]
    x = RNG.standard_normal((3, 2, 11, 10)).astype(np.float32)
    weights = RNG.standard_normal((3, 3)).astype(np.float32)
    xt = mg.tensor(x, requires_grad=True)
    y = model(xt)
    (y * mg.tensor(weights)).sum().backward()
    xr = torch.tensor(x, requires_grad=True)
    t = torch_weights(w)
    yr = torch_cnn(xr, t)
    (yr * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(y.data, yr.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(xt.grad.data, xr.grad.numpy(), atol=1e-5)
    params = dict(model.named_parameters())
    for name in ("conv1.weight", "conv1.bias", "fc.weight", "fc.bias", "bn.scale", "bn.bias"):
        np.testing.assert_allclose(params[name].grad.data, t[name].grad.numpy(), atol=1e-4)
    # running statistics are not trained
    assert not params["bn.mean"].requires_grad and params["bn.mean"].grad is None


def test_loaded_model_trains_and_draws(tmp_path):
    model_proto, _ = cnn_model()
    model = mg.onnx.load(model_proto.SerializeToString())
    opt = mg.optim.SGD(model.parameters(), lr=0.1)
    x = mg.tensor(RNG.standard_normal((4, 2, 11, 10)).astype(np.float32))
    before = model(x).data.copy()
    (-model(x)[:, 0]).sum().backward()
    opt.step()
    assert not np.allclose(model(x).data, before)
    dot = mg.graph.draw(model(x).sum(), backward=True).source
    assert "conv2d" in dot and "conv1" in dot  # layer cluster from the node name /conv1/Conv


def test_example_loss_is_a_scalar_reaching_every_parameter(tmp_path):
    model_proto, _ = cnn_model()
    path = tmp_path / "cnn.onnx"
    onnx.save(model_proto, path)
    loss = mg.onnx.example_loss(path, batch=2, seed=3)
    again = mg.onnx.example_loss(path, batch=2, seed=3)
    other = mg.onnx.example_loss(str(path), batch=3, seed=3)
    assert loss.shape == () and loss.requires_grad
    assert loss.item() == again.item() and loss.item() != other.item()
    G = mg.graph.to_networkx(loss)
    shapes = [d.get("shape") for _, d in G.nodes(data=True) if d.get("name") == "x"]
    assert shapes and tuple(shapes[0]) == (2, 2, 11, 10)
    leaves = {d.get("name") for _, d in G.nodes(data=True) if d.get("kind") == "tensor"}
    assert {"conv1.weight", "fc.weight", "x"} <= leaves
    loss.backward()


def test_example_loss_without_parameters_still_has_a_graph(tmp_path):
    m = make_model(
        [helper.make_node("Tanh", ["x"], ["y"])], [("x", ["batch", 3])], [("y", ["batch", 3])], {}
    )
    loss = mg.onnx.example_loss(m, batch=4)
    assert loss.requires_grad and loss.shape == ()
    assert "tanh" in mg.graph.draw(loss, backward=True).source


@pytest.mark.parametrize("opset", [11, 13, 17, 18])
def test_opset_dependent_forms(opset):
    """Reduce axes (attribute before 18, input after), Squeeze/Unsqueeze, Clip, Softmax."""
    h = helper.make_node
    inits, nodes = {}, []
    axes = np.array([2], dtype=np.int64)
    if opset >= 18:
        inits["axes"] = axes
        nodes.append(h("ReduceMean", ["x", "axes"], ["m"], keepdims=1))
    else:
        nodes.append(h("ReduceMean", ["x"], ["m"], axes=[2], keepdims=1))
    if opset >= 13:
        inits["ax"] = axes
        nodes += [h("Squeeze", ["m", "ax"], ["s"]), h("Unsqueeze", ["s", "ax"], ["u"])]
    else:
        nodes += [h("Squeeze", ["m"], ["s"], axes=[2]), h("Unsqueeze", ["s"], ["u"], axes=[2])]
    inits["lo"], inits["hi"] = np.array(-0.5, np.float32), np.array(0.5, np.float32)
    nodes += [h("Clip", ["u", "lo", "hi"], ["c"]), h("Softmax", ["c"], ["y"], axis=1)]
    m = make_model(nodes, [("x", [2, 3, 4])], [("y", [2, 3, 1])], inits, opset=opset)
    x = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    got = mg.onnx.load(m)(x).data
    ref = F.softmax(torch.tensor(x).mean(2, keepdim=True).clamp(-0.5, 0.5), dim=1).numpy()
    np.testing.assert_allclose(got, ref, atol=1e-6)


def double_model():
    """A float64 Conv -> Tanh -> AveragePool -> Gemm graph."""
    h = helper.make_node
    w = {"c.weight": RNG.standard_normal((2, 1, 3, 3)), "c.bias": RNG.standard_normal(2),
         "fc.weight": RNG.standard_normal((3, 2 * 2 * 2))}  # fmt: skip
    nodes = [
        h("Conv", ["x", "c.weight", "c.bias"], ["a"], pads=[1, 1, 1, 1]),
        h("Tanh", ["a"], ["t"]),
        h("AveragePool", ["t"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        h("Flatten", ["p"], ["f"]),
        h("Gemm", ["f", "fc.weight"], ["y"], transB=1),
    ]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.DOUBLE, ["N", 1, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.DOUBLE, ["N", 3])],
        [numpy_helper.from_array(a, n) for n, a in w.items()],
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_loaded_float64_model_passes_gradcheck_and_gradgradcheck():
    """First and second derivatives with respect to the input, against finite differences."""
    model = mg.onnx.load(double_model())
    x = mg.tensor(RNG.standard_normal((2, 1, 4, 4)), requires_grad=True)
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert mg.testing.gradcheck(model, x)
    assert mg.testing.gradgradcheck(model, x)


def test_loaded_model_is_explorable():
    model_proto, _ = cnn_model()
    loss = mg.onnx.example_loss(model_proto, batch=1)
    try:
        page = mg.graph.explore(loss, backward=True)
    except (ImportError, AttributeError, TypeError) as e:  # the explorer may be absent
        pytest.skip(f"explorer unavailable: {e}")
    assert "conv1" in page.html and "conv2d" in page.html


@pytest.mark.parametrize("trans_a", [0, 1])
@pytest.mark.parametrize("trans_b", [0, 1])
def test_gemm_attributes(trans_a, trans_b):
    a = RNG.standard_normal((4, 3) if trans_a else (3, 4)).astype(np.float32)
    b = RNG.standard_normal((5, 4) if trans_b else (4, 5)).astype(np.float32)
    c = RNG.standard_normal((1, 5)).astype(np.float32)
    node = helper.make_node("Gemm", ["a", "b", "c"], ["y"], transA=trans_a, transB=trans_b,
                            alpha=0.7, beta=-1.5)  # fmt: skip
    m = make_model([node], [("a", list(a.shape))], [("y", [3, 5])], {"b": b, "c": c})
    model = mg.onnx.load(m)
    am = mg.tensor(a, requires_grad=True)
    y = model(am)
    y.sum().backward()
    at, bt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ref = 0.7 * (at.T if trans_a else at) @ (bt.T if trans_b else bt) - 1.5 * torch.tensor(c)
    ref.sum().backward()
    np.testing.assert_allclose(y.data, ref.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(am.grad.data, at.grad.numpy(), atol=1e-5)
    np.testing.assert_allclose(model.b.grad.data, bt.grad.numpy(), atol=1e-5)
