"""A CNN exported by PyTorch's own ONNX exporter loads here: outputs and gradients equal PyTorch's."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")


class TorchCNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = torch.nn.BatchNorm2d(4)
        self.pool1 = torch.nn.MaxPool2d(2, ceil_mode=True)
        self.conv2 = torch.nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2)
        self.pool2 = torch.nn.AvgPool2d(2, padding=1, count_include_pad=False)
        self.drop = torch.nn.Dropout(0.3)
        self.fc = torch.nn.Linear(6 * 2 * 2, 5)

    def forward(self, x):
        x = self.pool1(torch.relu(self.bn1(self.conv1(x))))
        x = self.pool2(torch.tanh(self.conv2(x)))
        x = self.drop(torch.flatten(x, 1))
        return torch.log_softmax(self.fc(x), dim=1)


def export_torch(path, fold=False, fresh=False):
    torch.manual_seed(0)
    net = TorchCNN()
    if not fresh:
        with torch.no_grad():  # running statistics that are not the defaults
            net.bn1.running_mean.normal_()
            net.bn1.running_var.uniform_(0.5, 2.0)
    net.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net, (torch.randn(2, 1, 9, 9),), str(path), dynamo=False, opset_version=17,
            input_names=["image"], output_names=["log_probs"],
            dynamic_axes={"image": {0: "batch"}, "log_probs": {0: "batch"}},
            do_constant_folding=fold,
        )  # fmt: skip
    return net


@pytest.mark.parametrize("fresh", [False, True])
def test_pytorch_export_loads_with_equal_outputs_and_gradients(tmp_path, fresh):
    """fresh: default BatchNorm statistics, which PyTorch stores as the very initializers of
    the BatchNorm's weight (ones) and bias (zeros)."""
    path = tmp_path / "torch_cnn.onnx"
    net = export_torch(path, fresh=fresh)
    model = mg.onnx.load(path)
    params = dict(model.named_parameters())
    assert {"conv1.weight", "bn1.weight", "conv2.weight", "fc.bias"} <= set(params)
    x = np.random.default_rng(1).standard_normal((3, 1, 9, 9)).astype(np.float32)
    pick = np.random.default_rng(2).standard_normal((3, 5)).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    (net(xt) * torch.tensor(pick)).sum().backward()
    xm = mg.tensor(x, requires_grad=True)
    y = model(xm)
    (y * mg.tensor(pick)).sum().backward()
    np.testing.assert_allclose(y.data, net(xt).detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(xm.grad.data, xt.grad.numpy(), atol=1e-5)
    worst = 0.0
    for name, p in net.named_parameters():
        got = params[name].grad.data
        np.testing.assert_allclose(got, p.grad.numpy(), atol=1e-4)
        worst = max(worst, float(np.abs(got - p.grad.numpy()).max()))
    if not fresh:
        assert not params["bn1.running_mean"].requires_grad
    print(f"max abs gradient difference {worst:.2e}")


def test_pytorch_export_with_constant_folding_and_backward_drawing(tmp_path):
    path = tmp_path / "folded.onnx"
    net = export_torch(path, fold=True)  # BatchNorm folded into the convolution
    loss = mg.onnx.example_loss(path, batch=2)
    dot = mg.graph.draw(loss, backward=True).source
    assert "conv2d" in dot and "max_pool2d" in dot
    x = np.random.default_rng(4).standard_normal((2, 1, 9, 9)).astype(np.float32)
    with torch.no_grad():
        want = net(torch.tensor(x)).numpy()
    np.testing.assert_allclose(mg.onnx.load(path)(x).data, want, atol=1e-5)


class ShapeArithmetic(torch.nn.Module):
    """Dynamic shapes the way PyTorch code writes them: Shape/Gather/Concat feed Reshape."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 3, 3, padding=1)

    def forward(self, x):
        h = torch.nn.functional.leaky_relu(self.conv(x), 0.1)[:, 1:, ::2]
        flat = h.reshape(h.size(0), -1)
        return torch.cat([flat, flat.mean(dim=1, keepdim=True).clamp(min=0.0)], 1).transpose(0, 1)


def test_pytorch_shape_arithmetic_loads(tmp_path):
    path = tmp_path / "shapes.onnx"
    torch.manual_seed(0)
    net = ShapeArithmetic().eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (torch.randn(2, 2, 6, 5),), str(path), dynamo=False,
                          opset_version=17, input_names=["x"],
                          dynamic_axes={"x": {0: "batch"}})  # fmt: skip
    ops = {n.op_type for n in onnx.load(path).graph.node}
    assert {"Slice", "Reshape", "Concat"} <= ops
    x = np.random.default_rng(3).standard_normal((4, 2, 6, 5)).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    net(xt).square().sum().backward()
    xm = mg.tensor(x, requires_grad=True)
    y = mg.onnx.load(path)(xm)
    (y * y).sum().backward()
    np.testing.assert_allclose(y.data, net(xt).detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(xm.grad.data, xt.grad.numpy(), atol=1e-4)
