"""Module, Parameter and Sequential: registration order, traversal, state, repr and summary."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest
from helpers import require_ops

import minigrad as mg
from minigrad import nn


class LeNet(nn.Module):
    """LeNet-5 on 1x28x28 input: the model the tutorials draw."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(16 * 4 * 4, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        x = self.pool1(mg.ops.relu(self.conv1(x)))
        x = self.pool2(mg.ops.relu(self.conv2(x)))
        x = self.flatten(x)
        x = mg.ops.relu(self.fc1(x))
        x = mg.ops.relu(self.fc2(x))
        return self.fc3(x)


class MLP(nn.Module):
    """Core ops only, so it runs without any plugin."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Linear(4, 8), nn.Flatten(), nn.Linear(8, 5))
        self.head = nn.Linear(5, 3)

    def forward(self, x):
        return self.head(self.features(x))


# --------------------------------------------------------------------------- Parameter


def test_parameter_is_a_leaf_that_requires_grad_and_says_so():
    p = nn.Parameter(np.zeros((2, 3), dtype=np.float32))
    assert isinstance(p, mg.Tensor)
    assert p.requires_grad and p.is_leaf and p.grad is None
    assert repr(p).startswith("Parameter containing:")
    assert "Parameter" not in repr(p * 1)  # results of ops are plain tensors


def test_parameter_dtypes():
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32  # Python floats
    assert nn.Parameter([1, 2]).dtype == np.float32  # ints become float32
    assert nn.Parameter(np.zeros(2)).dtype == np.float64  # float arrays keep theirs
    assert nn.Parameter(mg.zeros(2), dtype=np.float64).dtype == np.float64


def test_parameter_gets_gradients():
    p = nn.Parameter(np.array([1.0, 2.0, 3.0], dtype=np.float32))
    (p * p).sum().backward()
    np.testing.assert_allclose(p.grad.data, [2.0, 4.0, 6.0])


# --------------------------------------------------------------------------- registration


def test_lenet_parameters_in_assignment_order_with_formula_count():
    model = LeNet()
    names = [n for n, _ in model.named_parameters()]
    assert names == [
        "conv1.weight",
        "conv1.bias",
        "conv2.weight",
        "conv2.bias",
        "fc1.weight",
        "fc1.bias",
        "fc2.weight",
        "fc2.bias",
        "fc3.weight",
        "fc3.bias",
    ]

    def conv(cin, cout, k):
        return cout * cin * k * k + cout

    def fc(fin, fout):
        return fout * fin + fout

    expected = conv(1, 6, 5) + conv(6, 16, 5) + fc(256, 120) + fc(120, 84) + fc(84, 10)
    assert sum(p.size for p in model.parameters()) == expected
    assert [p.shape for p in model.parameters()][:2] == [(6, 1, 5, 5), (6,)]


def test_order_is_assignment_order_not_alphabetical():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.zeta = nn.Linear(2, 2)
            self.alpha = nn.Parameter(mg.zeros(1))
            self.mid = nn.Linear(2, 2, bias=False)

    names = [n for n, _ in M().named_parameters()]
    # a module's own parameters first, then its children's, each in assignment order
    assert names == ["alpha", "zeta.weight", "zeta.bias", "mid.weight"]
    assert [n for n, _ in M().named_children()] == ["zeta", "mid"]


def test_nested_names_and_modules():
    model = MLP()
    assert [n for n, _ in model.named_parameters()] == [
        "features.0.weight",
        "features.0.bias",
        "features.2.weight",
        "features.2.bias",
        "head.weight",
        "head.bias",
    ]
    assert [n for n, _ in model.named_modules()] == [
        "",
        "features",
        "features.0",
        "features.1",
        "features.2",
        "head",
    ]
    assert [type(m).__name__ for m in model.children()] == ["Sequential", "Linear"]
    assert len(list(model.modules())) == 6


def test_parameters_are_named_after_their_path():
    model = MLP()
    assert model.head.weight.name == "head.weight"
    # named as drawings show it: the unnamed Sequential's child "0" is labelled fc1
    assert model.features[0].bias.name == "features.fc1.bias"
    assert "features.0.bias" in model.state_dict()  # the key stays PyTorch's
    named = nn.Parameter(mg.zeros(1), name="my_scale")
    model.scale = named
    assert named.name == "my_scale"  # a name the user chose is kept


def test_shared_parameters_and_modules_listed_once():
    shared = nn.Linear(3, 3)
    model = nn.Sequential(shared, shared)
    assert len(list(model.parameters())) == 2
    assert len(list(model.modules())) == 2


def test_reassign_and_remove():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="wrap it in mg.nn.Parameter"):
        m.weight = mg.zeros(2, 2)
    m.bias = None
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    assert m(mg.ones(1, 2)).shape == (1, 2)  # Linear without bias still works
    m.extra = nn.ReLU()
    del m.extra
    assert list(m.children()) == []


def test_subclass_may_skip_super_init():
    class NoInit(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(mg.ones(2))

        def forward(self, x):
            return x * self.w

    m = NoInit()
    assert [n for n, _ in m.named_parameters()] == ["w"]
    assert m.training


def test_register_helpers_reject_wrong_types():
    m = nn.Module()
    with pytest.raises(TypeError, match="must be a Parameter"):
        m.register_parameter("w", mg.zeros(2))
    with pytest.raises(TypeError, match="must be a Module"):
        m.add_module("sub", 3)
    m.register_parameter("w", nn.Parameter(mg.zeros(2)))
    m.add_module("sub", nn.Linear(2, 2))
    assert [n for n, _ in m.named_parameters()] == ["w", "sub.weight", "sub.bias"]


def test_forward_not_defined():
    with pytest.raises(NotImplementedError, match="Module does not define forward"):
        nn.Module()(1)


def test_apply_visits_children_first():
    model = MLP()
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "MLP" and len(seen) == 6


# --------------------------------------------------------------------------- Sequential


def test_sequential_indexing_len_iteration():
    a, b, c = nn.Linear(4, 8), nn.Flatten(), nn.Linear(8, 2)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3
    assert seq[0] is a and seq[-1] is c
    assert list(seq) == [a, b, c]
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c]
    with pytest.raises(IndexError, match="out of range for 3 modules"):
        seq[3]
    x = mg.randn(5, 4)
    np.testing.assert_allclose(seq(x).data, c(b(a(x))).data)


def test_sequential_ordered_dict_and_append():
    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("out", nn.Linear(3, 1))]))
    assert [n for n, _ in seq.named_parameters()] == [
        "fc.weight",
        "fc.bias",
        "out.weight",
        "out.bias",
    ]
    seq.append(nn.Flatten())
    assert len(seq) == 3 and [n for n, _ in seq.named_children()][-1] == "2"


def test_sequential_rejects_non_modules():
    with pytest.raises(TypeError, match="item '1' is a function; expected a Module"):
        nn.Sequential(nn.Linear(2, 2), lambda x: x)


# --------------------------------------------------------------------------- modes and grads


def test_train_eval_propagate():
    model = MLP()
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model.features.eval()
    assert model.training and not model.features[2].training


def test_zero_grad_sets_grads_to_none():
    model = MLP()
    model(mg.randn(2, 4)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


# --------------------------------------------------------------------------- name scopes


def _graph_nodes(t):
    nodes, stack, seen = [], [t._node], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        stack.extend(i._node for i in node.inputs if i is not None)
    return nodes


def test_ops_recorded_in_module_scopes():
    model = MLP()
    out = model(mg.randn(2, 4))
    assert out._node.scope == "head"
    scopes = {(n.name, n.scope) for n in _graph_nodes(out)}
    # numbered Sequential children are labelled by layer type, numbered per type
    assert ("matmul", "features/fc1") in scopes
    assert ("reshape", "features/flatten1") in scopes
    assert ("add", "features/fc2") in scopes
    assert ("add", "head") in scopes
    # the top-level model adds no scope of its own
    assert all(n.scope.split("/")[0] in ("features", "head") for n in _graph_nodes(out))


def test_scope_nests_under_user_scope_and_loss_outside_model():
    model = MLP()
    with mg.name_scope("net"):
        out = model(mg.randn(2, 4))
    loss = (out * out).mean()
    assert out._node.scope == "net/head"
    assert loss._node.scope is None


# --------------------------------------------------------------------------- repr and summary


def test_repr_nested_like_pytorch():
    assert repr(LeNet()) == (
        "LeNet(\n"
        "  (conv1): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))\n"
        "  (pool1): MaxPool2d(kernel_size=2, stride=2, padding=0)\n"
        "  (conv2): Conv2d(6, 16, kernel_size=(5, 5), stride=(1, 1))\n"
        "  (pool2): MaxPool2d(kernel_size=2, stride=2, padding=0)\n"
        "  (flatten): Flatten(start_dim=1, end_dim=-1)\n"
        "  (fc1): Linear(in_features=256, out_features=120)\n"
        "  (fc2): Linear(in_features=120, out_features=84)\n"
        "  (fc3): Linear(in_features=84, out_features=10)\n"
        ")"
    )
    assert repr(MLP()).splitlines()[1:3] == [
        "  (features): Sequential(",
        "    (0): Linear(in_features=4, out_features=8)",
    ]


def test_summary_rows_shapes_and_totals(capsys):
    model = MLP()
    s = model.summary((7, 4))
    assert capsys.readouterr().out == ""  # returned, not printed: a REPL shows it once
    assert [(r.name, r.label, r.type, r.output_shape) for r in s.rows] == [
        ("features", "features", "Sequential", (7, 5)),
        ("features.0", "fc1", "Linear", (7, 8)),
        ("features.1", "flatten1", "Flatten", (7, 8)),
        ("features.2", "fc2", "Linear", (7, 5)),
        ("head", "head", "Linear", (7, 3)),
    ]
    assert [r.params for r in s.rows] == [4 * 8 + 8 + 8 * 5 + 5, 40, 0, 45, 18]
    assert s.total_params == sum(p.size for p in model.parameters())
    assert s.output_shape == (7, 3)
    table = repr(s)
    assert table == str(s) == s.table()
    assert "  fc2 (Linear)" in table and f"Total params: {s.total_params:,}" in table
    assert table.count("Total params") == 1


def test_summary_shows_once_in_an_interactive_session(capsys):
    import code

    console = code.InteractiveConsole({"model": MLP()})
    console.push("model.summary((1, 4))")  # an expression statement: the REPL echoes its repr
    out = capsys.readouterr().out
    assert out.count("Total params") == 1 and "fc1 (Linear)" in out


def test_summary_records_no_graph_and_keeps_grads():
    model = MLP()
    s = model.summary((1, 4))
    assert all(p.grad is None for p in model.parameters())
    assert s.trainable_params == s.total_params


def test_summary_of_lenet_matches_the_shape_formula():
    require_ops("conv2d", "max_pool2d", "relu")
    model = LeNet()
    s = model.summary((2, 1, 28, 28))
    shapes = {r.name: r.output_shape for r in s.rows}
    assert shapes["conv1"] == (2, 6, 24, 24)  # 28 - 5 + 1
    assert shapes["pool1"] == (2, 6, 12, 12)
    assert shapes["conv2"] == (2, 16, 8, 8)
    assert shapes["pool2"] == (2, 16, 4, 4)
    assert shapes["flatten"] == (2, 256)
    assert s.output_shape == (2, 10)
    assert {r.name: r.params for r in s.rows}["conv2"] == 16 * 6 * 25 + 16


# --------------------------------------------------------------------------- state dicts


def test_state_dict_is_an_ordered_copy():
    model = MLP()
    state = model.state_dict()
    assert isinstance(state, OrderedDict)
    assert list(state) == [n for n, _ in model.named_parameters()]
    state["head.bias"][:] = 123.0
    assert not np.any(model.head.bias.data == 123.0)


def test_load_state_dict_round_trip_in_place():
    src, dst = MLP(), MLP()
    weight = dst.head.weight
    data = weight.data
    assert dst.load_state_dict(src.state_dict()) == ([], [])
    assert dst.head.weight is weight and dst.head.weight.data is data  # updated in place
    for (n, a), (_, b) in zip(src.named_parameters(), dst.named_parameters()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=n)
    x = mg.randn(3, 4)
    np.testing.assert_array_equal(src(x).data, dst(x).data)


def test_load_state_dict_accepts_tensors():
    m = nn.Linear(2, 1)
    m.load_state_dict({"weight": mg.ones(1, 2), "bias": mg.zeros(1)})
    np.testing.assert_array_equal(m.weight.data, [[1.0, 1.0]])


def _snapshot(model):
    return [p.data.copy() for p in model.parameters()]


def _assert_unchanged(model, before):
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, b)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s.pop("features.2.bias"), "parameter 'features.2.bias'.*is missing"),
        (lambda s: s.update(extra=np.zeros(1)), "unexpected entry 'extra'"),
        (
            lambda s: s.update({"head.weight": np.zeros((5, 3), np.float32)}),
            r"entry 'head.weight' has shape \(5, 3\).*\(3, 5\)",
        ),
        (
            lambda s: s.update({"features.0.bias": np.zeros(8)}),
            "entry 'features.0.bias' has dtype float64.*float32",
        ),
    ],
    ids=["missing", "unexpected", "shape", "dtype"],
)
def test_load_state_dict_rejects_and_leaves_model_unchanged(edit, message):
    model, other = MLP(), MLP()
    state = other.state_dict()
    edit(state)
    before = _snapshot(model)
    with pytest.raises(ValueError, match=message):
        model.load_state_dict(state)
    _assert_unchanged(model, before)


def test_load_state_dict_names_the_first_offender_in_model_order():
    model = MLP()
    state = MLP().state_dict()
    # three problems; the error names the one that comes first in the model
    state["head.bias"] = np.zeros(7, np.float32)
    state["features.2.weight"] = np.zeros((1, 1), np.float32)
    del state["features.2.bias"]
    state = OrderedDict(reversed(state.items()))  # the state's own order does not matter
    before = _snapshot(model)
    with pytest.raises(ValueError, match="'features.2.weight'"):
        model.load_state_dict(state)
    _assert_unchanged(model, before)


def test_load_state_dict_non_strict_reports_skips_but_checks_shapes():
    model = MLP()
    state = MLP().state_dict()
    del state["head.bias"]
    state["bogus"] = np.zeros(1)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["head.bias"] and result.unexpected_keys == ["bogus"]
    np.testing.assert_array_equal(model.head.weight.data, state["head.weight"])
    state["head.weight"] = np.zeros((1, 1), np.float32)
    with pytest.raises(ValueError, match="head.weight"):
        model.load_state_dict(state, strict=False)


def test_load_state_dict_rejects_non_mappings_and_non_arrays():
    m = nn.Linear(2, 1)
    with pytest.raises(TypeError, match="expected a mapping"):
        m.load_state_dict([np.zeros((1, 2))])
    with pytest.raises(TypeError, match="entry 'weight' is a list"):
        m.load_state_dict({"weight": [[1.0, 2.0]], "bias": np.zeros(1, np.float32)})


def test_deepcopy_gives_an_independent_model():
    model = MLP()
    clone = copy.deepcopy(model)
    clone.head.bias.data[:] = 5.0
    assert not np.any(model.head.bias.data == 5.0)
    assert [n for n, _ in clone.named_parameters()] == [n for n, _ in model.named_parameters()]


def test_requires_grad_freezes_parameters():
    model = MLP()
    model.features.requires_grad_(False)
    model(mg.randn(2, 4)).sum().backward()
    assert all(p.grad is None for p in model.features.parameters())
    assert all(p.grad is not None for p in model.head.parameters())


def test_to_converts_parameters_for_a_whole_model_gradcheck():
    from minigrad.testing import gradcheck

    model = MLP().to(np.float64)
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float64)}
    x = mg.randn(3, 4, dtype=np.float64, requires_grad=True)
    assert gradcheck(lambda x: model(x), x)
    with pytest.raises(TypeError, match="MLP.to: parameters must stay floating point"):
        model.to(np.int64)


# --------------------------------------------------------------------------- labels


def test_numbered_sequential_children_are_labelled_by_type_keys_stay_indices():
    model = nn.Sequential(
        nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4), nn.ReLU(), nn.Flatten(), nn.Linear(4, 2)
    )
    assert [m.label for m in model] == ["fc1", "relu1", "fc2", "relu2", "flatten1", "fc3"]
    # keys as in PyTorch: indexing, named_modules and state_dict use "0", "1"...
    assert [n for n, _ in model.named_modules()][1:3] == ["0", "1"]
    assert list(model.state_dict())[:2] == ["0.weight", "0.bias"]
    assert model[2] is list(model.children())[2]
    # graph scopes (the clusters of a drawing) use the labels
    out = model(mg.randn(2, 4))
    scopes = {n.scope for n in _graph_nodes(out)}
    assert {"fc1", "fc2", "fc3", "flatten1"} <= scopes and "0" not in scopes
    model.append(nn.Linear(2, 2))
    assert model[6].label == "fc4"


def test_named_sequential_children_keep_their_names_as_labels():
    from collections import OrderedDict

    model = nn.Sequential(OrderedDict([("encoder", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert [m.label for m in model] == ["encoder", "act"]
    assert MLP().head.label == "head" and MLP().label is None  # top level: no label


def test_cnn_layers_use_short_type_labels():
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(2, 2, 1), nn.AvgPool2d(1),
        nn.GlobalAvgPool2d(), nn.Sigmoid(),
    )  # fmt: skip
    labels = ["conv1", "relu1", "pool1", "conv2", "pool2", "pool3", "sigmoid1"]
    assert [m.label for m in model] == labels
