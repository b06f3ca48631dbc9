"""Layers of mg.nn: shapes and values against PyTorch, initialisation, input checks, training."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import compare_with_torch, require_ops

import minigrad as mg
from minigrad import nn
from minigrad.testing import gradcheck, gradgradcheck


def call_with(module, params, *args, call=None):
    """Call ``call`` (default: ``module``) with some of ``module``'s parameters replaced.

    gradcheck passes fresh tensors for the inputs it perturbs; this puts them in place.
    """
    saved = {k: module.__dict__[k] for k in params}
    module.__dict__.update(params)
    try:
        return (module if call is None else call)(*args)
    finally:
        module.__dict__.update(saved)


def compare_layer_with_torch(module, torch_module, *arrays, **kwargs):
    """:func:`helpers.compare_with_torch` for a layer with weights: values, first and second
    order gradients with respect to the inputs AND every parameter, in float32 and float64.

    The parameters are passed as extra differentiable inputs: minigrad puts them into the
    layer with :func:`call_with`, torch with ``torch.func.functional_call``, both starting
    from the minigrad layer's initial values.
    """
    torch = pytest.importorskip("torch")
    names = [name for name, _ in module.named_parameters()]
    weights = [p.data.astype(np.float64) for _, p in module.named_parameters()]
    n = len(arrays)

    def ours(*xs):
        return call_with(module, dict(zip(names, xs[n:])), *xs[:n])

    def theirs(*ts):
        return torch.func.functional_call(torch_module, dict(zip(names, ts[n:])), ts[:n])

    compare_with_torch(ours, theirs, *arrays, *weights, **kwargs)


# --------------------------------------------------------------------------- Linear


def test_linear_computes_x_weight_transpose_plus_bias():
    fc = nn.Linear(3, 2)
    fc.load_state_dict(
        {
            "weight": np.array([[1, 0, -1], [2, 1, 0]], np.float32),
            "bias": np.array([0.5, -1], np.float32),
        }
    )
    y = fc(mg.tensor([[1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(y.data, [[1 - 3 + 0.5, 2 + 2 - 1]])


def test_linear_batches_over_leading_dimensions_and_bias_false():
    fc = nn.Linear(4, 3, bias=False)
    assert fc.bias is None and len(list(fc.parameters())) == 1
    x = mg.randn(2, 5, 4)
    np.testing.assert_allclose(fc(x).data, x.data @ fc.weight.data.T, rtol=1e-6)
    assert repr(fc) == "Linear(in_features=4, out_features=3, bias=False)"


def test_linear_matches_torch_values_gradients_and_second_order():
    torch = pytest.importorskip("torch")
    mg.manual_seed(1)
    x = np.random.default_rng(0).standard_normal((3, 5))
    compare_layer_with_torch(nn.Linear(5, 4), torch.nn.Linear(5, 4), x)
    # leading batch dimensions, no bias
    x = np.random.default_rng(1).standard_normal((2, 3, 5))
    compare_layer_with_torch(nn.Linear(5, 2, bias=False), torch.nn.Linear(5, 2, bias=False), x)


def test_linear_gradients_and_second_derivatives_float64():
    fc = nn.Linear(3, 2, dtype=np.float64)
    assert fc.weight.dtype == np.float64
    x = mg.randn(4, 3, dtype=np.float64, requires_grad=True)

    def fn(x, w, b):
        return call_with(fc, {"weight": w, "bias": b}, x)

    assert gradcheck(fn, x, fc.weight, fc.bias)
    assert gradgradcheck(lambda x, w, b: fn(x, w, b) ** 2, x, fc.weight, fc.bias)


def test_linear_input_error_names_layer_expected_and_actual():
    with pytest.raises(ValueError) as e:
        nn.Linear(4, 3)(mg.zeros(2, 5))
    assert str(e.value) == (
        "Linear(in_features=4, out_features=3): expected input with last dimension 4, "
        "got shape (2, 5)"
    )


def test_layer_error_names_its_path_in_the_model():
    model = nn.Sequential(nn.Linear(4, 3), nn.Linear(2, 2))
    # the key (model[1], "1.weight") and the label drawings show
    with pytest.raises(
        ValueError, match=r"Linear\(in_features=2, out_features=2\) at '1' \(fc2\): "
    ):
        model(mg.zeros(1, 4))


# --------------------------------------------------------------------------- initialisation


def test_default_init_is_uniform_with_pytorch_bounds():
    mg.manual_seed(0)
    fc = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = fc.weight.data, fc.bias.data
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # U(-a, a) has mean 0 and std a / sqrt(3); 120000 samples pin both down to ~0.5%
    assert abs(w.mean()) < 0.01 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    assert np.abs(w).max() > 0.99 * bound  # the whole interval is used

    conv = nn.Conv2d(16, 32, 3)
    cbound = 1 / math.sqrt(16 * 3 * 3)
    assert np.abs(conv.weight.data).max() <= cbound
    assert conv.weight.data.std() == pytest.approx(cbound / math.sqrt(3), rel=0.05)
    assert np.abs(conv.bias.data).max() <= cbound


def test_manual_seed_makes_models_reproducible():
    def build(seed):
        mg.manual_seed(seed)
        return nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(16, 2)).state_dict()

    a, b, c = build(7), build(7), build(8)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["0.weight"], c["0.weight"])


def test_init_functions():
    from minigrad.nn import init

    w = nn.Parameter(np.zeros((50, 40), np.float32))
    assert init.fan_in_and_fan_out(w.shape) == (40, 50)
    assert init.fan_in_and_fan_out((8, 3, 5, 5)) == (75, 200)
    init.xavier_uniform_(w)
    assert np.abs(w.data).max() <= math.sqrt(6 / 90)
    init.kaiming_normal_(w, nonlinearity="relu")
    assert w.data.std() == pytest.approx(math.sqrt(2 / 40), rel=0.1)
    init.constant_(w, 0.25)
    assert np.all(w.data == 0.25)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.kaiming_uniform_(nn.Parameter(np.zeros(3, np.float32)))
    with pytest.raises(ValueError, match="unknown nonlinearity 'gelu'"):
        init.calculate_gain("gelu")


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((3, 8, 3), {}),
        ((1, 6, 5), {"stride": 2, "padding": 1}),
        ((4, 2, (3, 2)), {"dilation": 2, "bias": False}),
    ],
)
def test_parameter_shapes_equal_torch(args, kwargs):
    torch = pytest.importorskip("torch")
    ours = nn.Conv2d(*args, **kwargs)
    ref = torch.nn.Conv2d(*args, **kwargs)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in ref.named_parameters()
    ]
    fc, tfc = nn.Linear(7, 3), torch.nn.Linear(7, 3)
    assert [p.shape for p in fc.parameters()] == [tuple(p.shape) for p in tfc.parameters()]


# --------------------------------------------------------------------------- Conv2d


def test_conv2d_repr_and_argument_checks():
    assert repr(nn.Conv2d(1, 6, 5)) == "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))"
    assert repr(nn.Conv2d(3, 8, (3, 1), stride=2, padding=1, dilation=2, bias=False)) == (
        "Conv2d(3, 8, kernel_size=(3, 1), stride=(2, 2), padding=(1, 1), dilation=(2, 2), "
        "bias=False)"
    )
    assert repr(nn.Conv2d(2, 2, 3, padding="same")).endswith("padding=same)")
    with pytest.raises(ValueError, match="padding must be .*'valid' or 'same', got 'full'"):
        nn.Conv2d(1, 1, 3, padding="full")
    with pytest.raises(ValueError, match="kernel_size must be positive"):
        nn.Conv2d(1, 1, 0)
    with pytest.raises(TypeError, match="stride must be an int or a pair of ints"):
        nn.Conv2d(1, 1, 3, stride=1.5)
    with pytest.raises(ValueError, match="in_channels and out_channels must be positive"):
        nn.Conv2d(0, 1, 3)


def test_conv2d_input_checks_name_layer_and_shapes():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)

        def forward(self, x):
            return self.conv1(x)

    with pytest.raises(ValueError) as e:
        Net()(mg.zeros(2, 3, 28, 28))
    assert str(e.value) == (
        "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1)) at 'conv1': expected input of shape "
        "(N, 1, H, W), got shape (2, 3, 28, 28)"
    )
    with pytest.raises(ValueError, match=r"got shape \(1, 28, 28\) \(add a batch dimension"):
        nn.Conv2d(1, 6, 5)(mg.zeros(1, 28, 28))


CONV_CASES = [
    ((2, 3, 9, 9), (3, 4, 3), {}),
    ((1, 1, 12, 10), (1, 2, 5), {"stride": 2, "padding": 2}),
    ((2, 2, 8, 8), (2, 3, (3, 2)), {"dilation": 2, "bias": False}),
    ((1, 2, 7, 7), (2, 2, 3), {"padding": "same"}),
    ((1, 2, 7, 6), (2, 3, 2), {"stride": (2, 1), "padding": (1, 0)}),
]


@pytest.mark.parametrize(("xshape", "args", "kwargs"), CONV_CASES)
def test_conv2d_matches_torch(xshape, args, kwargs):
    require_ops("conv2d")
    torch = pytest.importorskip("torch")
    mg.manual_seed(0)
    x = np.random.default_rng(0).standard_normal(xshape)
    conv, ref = nn.Conv2d(*args, **kwargs), torch.nn.Conv2d(*args, **kwargs)
    # second-order terms reach a few hundred and sum ~100 float32 products each: an
    # absolute tolerance of 1e-3 there is float32 rounding, not a wrong derivative
    atol = {"float32": 1e-3, "float64": 1e-10}
    compare_layer_with_torch(conv, ref, x, atol=atol)


# --------------------------------------------------------------------------- pooling


POOL_CASES = [
    (2, {}),
    (3, {"stride": 2, "padding": 1}),
    ((2, 3), {"stride": (2, 1), "ceil_mode": True}),
]


@pytest.mark.parametrize(("k", "kwargs"), POOL_CASES)
@pytest.mark.parametrize("kind", ["max", "avg", "sum"])
def test_pooling_matches_torch(kind, k, kwargs):
    require_ops(f"{kind}_pool2d")
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 8))
    layer = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d, "sum": nn.SumPool2d}[kind](k, **kwargs)
    ref = {
        "max": lambda t: F.max_pool2d(t, k, **kwargs),
        "avg": lambda t: F.avg_pool2d(t, k, **kwargs),
        # sum pooling: torch's average pooling with divisor 1
        "sum": lambda t: F.avg_pool2d(t, k, divisor_override=1, **kwargs),
    }[kind]
    compare_with_torch(layer, ref, x)


def test_avg_pool_count_include_pad_false_matches_torch():
    require_ops("avg_pool2d")
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((1, 2, 5, 5))
    layer = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
    ref = torch.nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
    compare_with_torch(layer, ref, x)


def test_pooling_repr_and_checks():
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(nn.AvgPool2d(3, 1, 1, ceil_mode=True)) == (
        "AvgPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True)"
    )
    with pytest.raises(ValueError, match="kernel_size must be positive"):
        nn.MaxPool2d(0)
    with pytest.raises(ValueError, match="padding must be non-negative"):
        nn.SumPool2d(2, padding=-1)
    with pytest.raises(ValueError, match=r"MaxPool2d\(kernel_size=2.*expected a 4-D input"):
        nn.MaxPool2d(2)(mg.zeros(3, 4, 4))
    with pytest.raises(ValueError, match=r"GlobalAvgPool2d\(\): expected a 4-D input"):
        nn.GlobalAvgPool2d()(mg.zeros(3, 4))


def test_global_pooling():
    require_ops("global_avg_pool2d", "global_max_pool2d")
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 5)).astype(np.float32)
    np.testing.assert_allclose(
        nn.GlobalAvgPool2d()(mg.tensor(x)).data, x.mean(axis=(2, 3)), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(nn.GlobalMaxPool2d()(mg.tensor(x)).data, x.max(axis=(2, 3)))


# --------------------------------------------------------------------------- activations


@pytest.mark.parametrize(
    ("layer", "op", "reference"),
    [
        (nn.ReLU(), "relu", lambda x: np.maximum(x, 0)),
        (nn.Sigmoid(), "sigmoid", lambda x: 1 / (1 + np.exp(-x))),
        (nn.Tanh(), "tanh", np.tanh),
        (nn.Softmax(), "softmax", lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
        (
            nn.LogSoftmax(axis=0),
            "log_softmax",
            lambda x: x - np.log(np.exp(x).sum(0, keepdims=True)),
        ),
    ],
    ids=["relu", "sigmoid", "tanh", "softmax", "log_softmax"],
)
def test_activations_against_numpy(layer, op, reference):
    require_ops(op)
    x = np.random.default_rng(4).standard_normal((3, 4))
    out = layer(mg.tensor(x, requires_grad=True))
    assert out.op == op
    np.testing.assert_allclose(out.data, reference(x), rtol=1e-10, atol=1e-12)


def test_activation_reprs_and_flatten():
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.Softmax(axis=1)) == "Softmax(axis=1)"
    assert nn.Flatten()(mg.zeros(2, 3, 4, 5)).shape == (2, 60)
    assert nn.Flatten(0)(mg.zeros(2, 3)).shape == (6,)
    assert nn.Flatten(1, 2)(mg.zeros(2, 3, 4, 5)).shape == (2, 12, 5)
    with pytest.raises(ValueError, match="start_dim 1 needs an input with more than 1"):
        nn.Flatten()(mg.zeros(3))
    x = mg.tensor([1.0])
    assert nn.Identity()(x) is x


# --------------------------------------------------------------------------- losses


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_match_torch(reduction):
    require_ops("log_loss", "cross_entropy")
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(5)
    p = rng.uniform(0.05, 0.95, size=(6,))
    y = rng.integers(0, 2, size=(6,)).astype(np.float64)
    compare_with_torch(
        nn.LogLoss(reduction=reduction),
        lambda p, y: F.binary_cross_entropy(p, y, reduction=reduction),
        p, y, constants=(1,),  # the float target is not differentiated
    )  # fmt: skip
    logits = rng.standard_normal((5, 4))
    target = rng.integers(0, 4, size=(5,))
    compare_with_torch(
        nn.CrossEntropyLoss(reduction=reduction),
        lambda x, t: F.cross_entropy(x, t, reduction=reduction),
        logits, target,
    )  # fmt: skip


def test_loss_arguments_checked():
    assert repr(nn.LogLoss()) == "LogLoss(eps=1e-07, reduction='mean')"
    with pytest.raises(ValueError, match="CrossEntropyLoss: reduction must be one of"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match=r"LogLoss: eps must be in \[0, 0.5\)"):
        nn.LogLoss(eps=0.7)


# --------------------------------------------------------------------------- training


def _separable(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2)).astype(np.float32)
    y = (x[:, 0] + 2 * x[:, 1] > 0).astype(np.int64)
    return x, y


def test_logistic_regression_loss_decreases():
    require_ops("sigmoid", "log_loss")
    mg.manual_seed(0)
    x, y = _separable()
    model = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid(), nn.Flatten(0))
    loss_fn = nn.LogLoss()
    opt = mg.optim.SGD(model.parameters(), lr=0.5)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = loss_fn(model(mg.tensor(x)), mg.tensor(y.astype(np.float32)))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    accuracy = ((model(mg.tensor(x)).data > 0.5) == y).mean()
    assert accuracy > 0.9


def test_softmax_classifier_with_adam_loss_decreases():
    require_ops("relu", "cross_entropy")
    mg.manual_seed(1)
    x, y = _separable(seed=1)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    loss_fn = nn.CrossEntropyLoss()
    opt = mg.optim.Adam(model.parameters(), lr=0.05)
    first = last = None
    for _ in range(60):
        opt.zero_grad()
        loss = loss_fn(model(mg.tensor(x)), y)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
        last = loss.item()
    assert last < 0.5 * first
    assert (model(mg.tensor(x)).data.argmax(1) == y).mean() > 0.9


def test_tiny_cnn_trains_on_x_and_o_images():
    require_ops("conv2d", "max_pool2d", "relu", "cross_entropy")
    mg.manual_seed(0)
    from minigrad import data

    images, labels = data.xo_images(32, seed=0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 3 * 3, 2),
    )
    opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(15):
        opt.zero_grad()
        loss = loss_fn(model(mg.tensor(images)), labels)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_small_cnn_first_and_second_derivatives_float64():
    require_ops("conv2d", "avg_pool2d", "tanh")
    mg.manual_seed(3)
    model = nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1),
        nn.Tanh(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(3 * 2 * 2, 2),
    ).to(np.float64)
    x = mg.randn(2, 2, 4, 4, dtype=np.float64, requires_grad=True)
    conv = model[0]

    def fn(x, w):
        return call_with(conv, {"weight": w}, x, call=model)

    assert gradcheck(fn, x, conv.weight)
    assert gradgradcheck(fn, x, conv.weight)
