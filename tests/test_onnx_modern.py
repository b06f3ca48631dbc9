"""ONNX both ways for batch norm, dropout, grouped and depthwise convolution and the activations:
exported files checked by ONNX Runtime and loaded back; PyTorch-exported MobileNet-style and
GELU models load and match PyTorch."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

ATOL = 2e-5


def run_ort(proto, *inputs):
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    return sess.run(None, dict(zip(names, inputs)))


def trained_bn(c: int) -> nn.BatchNorm2d:
    """A batch norm whose running statistics and affine parameters are not the defaults."""
    bn = nn.BatchNorm2d(c, momentum=0.5)
    rng = np.random.default_rng(c)
    for _ in range(3):
        bn(mg.tensor((rng.standard_normal((4, c, 3, 3)) * 2 + 1).astype(np.float32)))
    bn.weight.data[:] = rng.uniform(0.5, 1.5, c)
    bn.bias.data[:] = rng.standard_normal(c)
    return bn


ACTIVATIONS = {
    "leaky_relu": nn.LeakyReLU(0.2),
    "elu": nn.ELU(0.7),
    "gelu": nn.GELU(),
    "gelu_tanh": nn.GELU("tanh"),
    "silu": nn.SiLU(),
    "hardswish": nn.Hardswish(),
    "hardsigmoid": nn.Hardsigmoid(),
    "softplus": nn.Softplus(),
    "softplus_beta": nn.Softplus(beta=2.0, threshold=3.0),
}


def check_both_ways(key: str, model, x: np.ndarray, opset: int = 17, expect: set | None = None):
    want = model(mg.tensor(x)).data
    proto = mg.onnx.export(model, x, None, opset=opset)
    if expect:
        assert expect <= {n.op_type for n in proto.graph.node}
    (got,) = run_ort(proto, x)
    np.testing.assert_allclose(got, want, atol=ATOL, rtol=1e-5, err_msg=key)
    loaded = mg.onnx.load(proto)
    np.testing.assert_allclose(loaded(x).data, want, atol=ATOL, rtol=1e-5, err_msg=key)
    return proto


@pytest.mark.parametrize("opset", [17, 20])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_each_activation_exports_runs_in_onnx_runtime_and_loads(name, opset):
    x = np.linspace(-8, 8, 2 * 3 * 4 * 4, dtype=np.float32).reshape(2, 3, 4, 4)
    model = nn.Sequential(nn.Conv2d(3, 3, 1), ACTIVATIONS[name])
    expect = {"Gelu"} if name.startswith("gelu") and opset >= 20 else None
    check_both_ways(f"{name}@{opset}", model, x, opset, expect)


def test_grouped_depthwise_batch_norm_dropout_model():
    mg.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(4, 8, 3, padding=1, groups=2),
        trained_bn(8),
        nn.Hardswish(),
        nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8),  # depthwise
        trained_bn(8),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Flatten(),
        nn.Linear(8 * 3 * 3, 5),
    )
    x = np.random.default_rng(1).standard_normal((3, 4, 6, 6)).astype(np.float32)
    model.eval()
    proto = check_both_ways("mobilenet_block", model, x,
                            expect={"Conv", "BatchNormalization", "HardSwish", "Dropout"})  # fmt: skip
    groups = [a.i for n in proto.graph.node if n.op_type == "Conv" for a in n.attribute
              if a.name == "group"]  # fmt: skip
    assert groups == [2, 8]
    names = {i.name for i in proto.graph.initializer}
    assert {"1.running_mean", "1.running_var", "4.running_mean"} <= names


def test_export_runs_a_module_in_evaluation_mode_and_restores_it():
    bn = trained_bn(2)
    model = nn.Sequential(nn.Conv2d(2, 2, 1), bn, nn.Dropout(0.5))
    assert model.training
    before = {k: v.copy() for k, v in model.state_dict().items()}
    x = np.random.default_rng(2).standard_normal((2, 2, 3, 3)).astype(np.float32)
    proto = mg.onnx.export(model, x, None)
    assert model.training and bn.training  # restored
    for k, v in model.state_dict().items():  # the export pass updated no statistics
        np.testing.assert_array_equal(v, before[k], err_msg=k)
    model.eval()
    np.testing.assert_allclose(run_ort(proto, x)[0], model(mg.tensor(x)).data, atol=ATOL)


def test_training_mode_calls_are_refused():
    x = np.ones((2, 3, 2, 2), dtype=np.float32)
    with pytest.raises(
        mg.onnx.OnnxExportError, match=r"dropout: training mode .* \(model.eval\(\)"
    ):
        mg.onnx.export(lambda t: mg.ops.dropout(t, p=0.5), x, None)
    rm, rv = mg.zeros(3), mg.ones(3)
    with pytest.raises(mg.onnx.OnnxExportError, match="batch_norm: training mode"):
        mg.onnx.export(lambda t: mg.ops.batch_norm(t, rm, rv, training=True), x, None)


@pytest.mark.parametrize("pos_weight", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_bce_with_logits_and_weighted_class_losses_export(pos_weight, reduction):
    rng = np.random.default_rng(4)
    z = (rng.standard_normal((4, 3)) * 30).astype(np.float32)
    y = rng.uniform(size=(4, 3)).astype(np.float32)
    pw = mg.tensor([1.0, 2.0, 0.5]) if pos_weight else None

    def bce(z, y):
        return mg.ops.binary_cross_entropy_with_logits(z, y, pw, reduction=reduction)

    proto = mg.onnx.export(bce, (z, y), None)
    want = bce(mg.tensor(z), mg.tensor(y)).data
    np.testing.assert_allclose(run_ort(proto, z, y)[0], want, rtol=1e-5, atol=ATOL)
    np.testing.assert_allclose(mg.onnx.load(proto)(z, y).data, want, rtol=1e-5, atol=ATOL)
    t = np.array([0, 2, -100, 1], dtype=np.int64)
    w = mg.tensor([1.0, 3.0, 0.5])

    def ce(z, t):
        return mg.ops.cross_entropy(z, t, w, ignore_index=-100, reduction=reduction)

    proto = mg.onnx.export(ce, (z, t), None)
    want = ce(mg.tensor(z), mg.tensor(t)).data
    np.testing.assert_allclose(run_ort(proto, z, t)[0], want, rtol=1e-5, atol=ATOL)
    np.testing.assert_allclose(mg.onnx.load(proto)(z, t).data, want, rtol=1e-5, atol=ATOL)


# --------------------------------------------------------------------------- PyTorch's files


def torch_export(model, x, **kw):
    torch = pytest.importorskip("torch")
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(model, (torch.tensor(x),), f, dynamo=False, **kw)
        except (ImportError, ModuleNotFoundError, RuntimeError) as e:
            pytest.skip(f"torch.onnx.export is not usable here: {e}")
    return onnx.load_from_string(f.getvalue())


def test_pytorch_mobilenet_style_model_loads(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)

    class SqueezeExcite(torch.nn.Module):
        def __init__(self, c):
            super().__init__()
            self.fc1 = torch.nn.Conv2d(c, 4, 1)
            self.fc2 = torch.nn.Conv2d(4, c, 1)

        def forward(self, x):
            s = torch.nn.functional.adaptive_avg_pool2d(x, 1)
            return x * torch.nn.functional.hardsigmoid(self.fc2(torch.relu(self.fc1(s))))

    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False),
        torch.nn.BatchNorm2d(8),
        torch.nn.Hardswish(),
        torch.nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False),  # depthwise
        torch.nn.BatchNorm2d(8),
        torch.nn.Hardswish(),
        SqueezeExcite(8),
        torch.nn.Conv2d(8, 16, 1, bias=False),  # pointwise
        torch.nn.BatchNorm2d(16),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Dropout(0.2),
        torch.nn.Linear(16, 10),
    )
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_()
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_()
    net.eval()
    x = np.random.default_rng(0).standard_normal((2, 3, 16, 16)).astype(np.float32)
    proto = torch_export(net, x, opset_version=17, training=torch.onnx.TrainingMode.PRESERVE)
    ops = {n.op_type for n in proto.graph.node}
    assert {"HardSwish", "HardSigmoid", "BatchNormalization", "Conv"} <= ops
    path = tmp_path / "mobilenet.onnx"
    onnx.save(proto, str(path))
    model = mg.onnx.load(path)
    xt = mg.tensor(x, requires_grad=True)
    y = model(xt)
    want = net(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(y.data, want, atol=1e-4, rtol=1e-4)
    # and it differentiates as PyTorch does
    tx = torch.tensor(x, requires_grad=True)
    net(tx).square().sum().backward()
    (gx,) = mg.grad((y * y).sum(), [xt])
    np.testing.assert_allclose(gx.data, tx.grad.numpy(), atol=1e-3, rtol=1e-3)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_pytorch_gelu_model_loads(approximate):
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3), torch.nn.GELU(approximate=approximate),
                              torch.nn.Flatten(), torch.nn.Linear(4 * 3 * 3, 3)).eval()  # fmt: skip
    x = np.random.default_rng(5).standard_normal((2, 2, 5, 5)).astype(np.float32) * 3
    proto = torch_export(net, x, opset_version=17)
    if approximate == "none":
        assert "Erf" in {n.op_type for n in proto.graph.node}
    model = mg.onnx.load(proto)
    xt = mg.tensor(x, requires_grad=True)
    y = model(xt)
    want = net(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(y.data, want, atol=1e-5, rtol=1e-5)
    tx = torch.tensor(x, requires_grad=True)
    net(tx).sum().backward()
    (gx,) = mg.grad(y.sum(), [xt])
    np.testing.assert_allclose(gx.data, tx.grad.numpy(), atol=1e-5, rtol=1e-4)


def test_onnx_gelu_node_at_opset_20_loads():
    from onnx import TensorProto, helper

    for approximate in ("none", "tanh"):
        node = helper.make_node("Gelu", ["x"], ["y"], approximate=approximate)
        graph = helper.make_graph(
            [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [5])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [5])],
        )  # fmt: skip
        proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
        proto.ir_version = 10
        x = np.linspace(-3, 3, 5, dtype=np.float32)
        want = run_ort(proto, x)[0]
        np.testing.assert_allclose(mg.onnx.load(proto)(x).data, want, atol=1e-6)
        np.testing.assert_allclose(
            mg.ops.gelu(mg.tensor(x), approximate=approximate).data, want, atol=1e-6
        )


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_cross_entropy_with_probability_targets_exports(reduction):
    rng = np.random.default_rng(6)
    z = rng.standard_normal((4, 3)).astype(np.float32)
    t = rng.dirichlet(np.ones(3), size=4).astype(np.float32)
    w = mg.tensor([1.0, 2.0, 0.5])

    def ce(z, t):
        return mg.ops.cross_entropy(z, t, w, label_smoothing=0.1, reduction=reduction)

    proto = mg.onnx.export(ce, (z, t), None)
    want = ce(mg.tensor(z), mg.tensor(t)).data
    np.testing.assert_allclose(run_ort(proto, z, t)[0], want, rtol=1e-5, atol=ATOL)
    np.testing.assert_allclose(mg.onnx.load(proto)(z, t).data, want, rtol=1e-5, atol=ATOL)
