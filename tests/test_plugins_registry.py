"""The plugin registry with an injected entry-point source: discovery, laziness, errors."""

from __future__ import annotations

import sys
from importlib.metadata import EntryPoint

import numpy as np
import pytest
from helpers import CUBE_SOURCE, FakeDist, counting, entry

import minigrad as mg
from minigrad.op import op_spec
from minigrad.plugins import (
    RESERVED_NAMES,
    PluginConflictError,
    PluginContractError,
    PluginDisabledError,
    PluginLoadError,
    Registry,
    UnknownOpError,
)

GROUP = "minigrad.ops"


def x64(*values):
    return mg.tensor(np.array(values, dtype=np.float64), requires_grad=True)


# --------------------------------------------------------------------------- discovery


def test_discovery_lists_ops_without_importing_them(make_module):
    mod = make_module(CUBE_SOURCE)
    reg = Registry(
        entry_points_fn=lambda: [
            entry("half", f"{mod}:Half", "fake-layers", "2.1"),
            entry("cube", f"{mod}:Cube", "fake-layers", "2.1"),
        ],
        environ={},
    )
    records = reg.available()
    assert [r.name for r in records] == ["cube", "half"]  # sorted by name
    cube = records[0]
    assert (cube.entry_point, cube.distribution, cube.version) == (
        f"{mod}:Cube",
        "fake-layers",
        "2.1",
    )
    assert {r.status for r in records} == {"available"}
    assert all(r.error is None for r in records)
    assert mod not in sys.modules
    assert sorted(dir(reg.ops)) == ["cube", "get", "half"]
    assert mod not in sys.modules


def test_op_is_imported_on_first_call_and_computes(make_module):
    mod = make_module(CUBE_SOURCE)
    reg = Registry(entry_points_fn=lambda: [entry("cube", f"{mod}:Cube", "fake-layers", "2.1")])
    x = mg.tensor([1.0, 2.0, -3.0], requires_grad=True)
    assert mod not in sys.modules
    y = reg.ops.cube(x)
    assert mod in sys.modules
    np.testing.assert_allclose(y.data, [1.0, 8.0, -27.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 12.0, 27.0])  # 3 x^2
    np.testing.assert_allclose(reg.ops.cube(x, power=2).data, [1.0, 4.0, 9.0])
    assert [r.status for r in reg.available()] == ["loaded"]
    cls = sys.modules[mod].Cube
    assert cls.plugin == "fake-layers 2.1"
    assert y.op == "cube"


def test_entry_point_with_dist_attribute(make_module):
    """Real EntryPoint objects carry their distribution in ``ep.dist``."""
    mod = make_module(CUBE_SOURCE)
    ep = EntryPoint("cube", f"{mod}:Cube", GROUP)
    if not hasattr(ep, "_for"):
        pytest.skip("this Python's EntryPoint cannot be bound to a distribution")
    ep = ep._for(FakeDist("dist-attr", "0.3"))
    reg = Registry(entry_points_fn=lambda: [ep])
    (record,) = reg.available()
    assert (record.distribution, record.version) == ("dist-attr", "0.3")
    assert reg.ops.cube(mg.tensor([2.0])).item() == 8.0


def test_entry_points_are_scanned_once(make_module):
    mod = make_module(CUBE_SOURCE)
    source = counting([entry("cube", f"{mod}:Cube"), entry("half", f"{mod}:Half")])
    reg = Registry(entry_points_fn=source)
    assert source.calls == []  # creating a registry reads nothing
    reg.available()
    reg.ops.cube(mg.tensor([1.0]))
    reg.ops.half(mg.tensor([1.0]))
    reg.ops.get("cube")
    dir(reg.ops)
    reg.available()
    assert len(source.calls) == 1
    reg.refresh()
    assert len(source.calls) == 1  # refresh is lazy too
    reg.ops.cube(mg.tensor([1.0]))
    assert len(source.calls) == 2


def test_same_entry_point_seen_twice_is_one_op(make_module):
    """A distribution found twice on sys.path is not a clash with itself."""
    mod = make_module(CUBE_SOURCE)
    reg = Registry(
        entry_points_fn=lambda: [entry("cube", f"{mod}:Cube"), entry("cube", f"{mod}:Cube")]
    )
    assert len(reg.available()) == 1
    assert reg.ops.cube(mg.tensor([2.0])).item() == 8.0


def test_op_without_explicit_name_takes_the_registered_name(make_module):
    mod = make_module(CUBE_SOURCE)
    reg = Registry(entry_points_fn=lambda: [entry("halve", f"{mod}:Half")])
    y = reg.ops.halve(mg.tensor([4.0], requires_grad=True))
    assert y.op == "halve"  # graphs and errors show the registered name
    assert op_spec(sys.modules[mod].Half).name == "halve"


# --------------------------------------------------------------------------- failures


def test_import_failure_names_op_distribution_entry_point_and_cause(make_module):
    good = make_module(CUBE_SOURCE)
    bad = make_module('raise ImportError("this plugin needs the library frobnicate")\n')
    reg = Registry(
        entry_points_fn=lambda: [
            entry("broken_op", f"{bad}:Broken", "shaky-layers", "0.4.2"),
            entry("cube", f"{good}:Cube", "fake-layers", "1.0"),
        ]
    )
    with pytest.raises(PluginLoadError) as info:
        reg.ops.broken_op(mg.tensor([1.0]))
    err = info.value
    msg = str(err)
    for part in ("broken_op", "shaky-layers", "0.4.2", f"{bad}:Broken", "frobnicate"):
        assert part in msg
    assert isinstance(err, ImportError)
    assert isinstance(err.__cause__, ImportError)
    assert "frobnicate" in str(err.__cause__)
    assert (err.op, err.distribution, err.version, err.entry_point) == (
        "broken_op",
        "shaky-layers",
        "0.4.2",
        f"{bad}:Broken",
    )
    # every other op keeps working
    assert reg.ops.cube(mg.tensor([2.0])).item() == 8.0
    # the failure is reported again, with the same cause, and listed as broken
    with pytest.raises(PluginLoadError, match="frobnicate") as again:
        reg.ops.get("broken_op")
    assert "frobnicate" in str(again.value.__cause__)
    statuses = {r.name: (r.status, r.error) for r in reg.available()}
    assert statuses["cube"] == ("loaded", None)
    assert statuses["broken_op"][0] == "broken"
    assert "frobnicate" in statuses["broken_op"][1]


def test_missing_class_in_module_is_a_load_error(make_module):
    mod = make_module(CUBE_SOURCE)
    reg = Registry(entry_points_fn=lambda: [entry("ghost", f"{mod}:Ghost", "fake-layers", "3.0")])
    with pytest.raises(PluginLoadError, match=r"ghost.*fake-layers.*3\.0") as info:
        reg.ops.ghost
    assert isinstance(info.value.__cause__, AttributeError)


CONTRACT_BREAKERS = {
    "not_a_class": ("def op(x):\n    return x\n", "not a subclass of minigrad.Op"),
    "not_an_op": (
        "class Plain:\n    @staticmethod\n    def forward(ctx, x):\n        return x\n",
        "not a subclass of minigrad.Op",
    ),
    "not_static": (
        "import minigrad as mg\n"
        "class Op(mg.Op):\n"
        "    def forward(self, ctx, x):\n        return x\n"
        "    @staticmethod\n    def backward(ctx, grad):\n        return grad\n",
        "forward must be a @staticmethod",
    ),
    "no_backward": (
        "import minigrad as mg\n"
        "class Op(mg.Op):\n    @staticmethod\n    def forward(ctx, x):\n        return x\n",
        "does not define backward",
    ),
    "bad_default": (
        "import minigrad as mg\n"
        "class Op(mg.Op):\n"
        "    @staticmethod\n    def forward(ctx, x, scale=2.0):\n        return x * scale\n"
        "    @staticmethod\n    def backward(ctx, grad):\n        return grad\n",
        "may only default to None",
    ),
    "backward_arity": (
        "import minigrad as mg\n"
        "class Op(mg.Op):\n"
        "    @staticmethod\n    def forward(ctx, x):\n        return x\n"
        "    @staticmethod\n    def backward(ctx):\n        return None\n",
        "backward must accept two arguments",
    ),
}


@pytest.mark.parametrize("case", sorted(CONTRACT_BREAKERS))
def test_contract_violation_names_op_distribution_and_problem(make_module, case):
    source, problem = CONTRACT_BREAKERS[case]
    mod = make_module(source)
    attr = "op" if case == "not_a_class" else ("Plain" if case == "not_an_op" else "Op")
    reg = Registry(entry_points_fn=lambda: [entry("wonky", f"{mod}:{attr}", "wonky-dist", "9.9")])
    with pytest.raises(PluginContractError) as info:
        reg.ops.wonky(mg.tensor([1.0]))
    msg = str(info.value)
    assert isinstance(info.value, TypeError)
    for part in ("wonky", "wonky-dist", "9.9", f"{mod}:{attr}", problem):
        assert part in msg
    (record,) = reg.available()
    assert record.status == "broken" and problem in record.error


@pytest.mark.parametrize("bad_name", ["my-op", "class", "_private", "2d"])
def test_entry_point_names_must_be_identifiers(make_module, bad_name):
    mod = make_module(CUBE_SOURCE)
    reg = Registry(entry_points_fn=lambda: [entry(bad_name, f"{mod}:Cube")])
    (record,) = reg.available()
    assert record.status == "broken"
    assert bad_name not in dir(reg.ops)
    with pytest.raises(PluginContractError, match="fake-layers"):
        reg.ops.get(bad_name)


# --------------------------------------------------------------------------- clashes


def clash_source(mod_a: str, mod_b: str):
    return lambda: [
        entry("dup", f"{mod_a}:Cube", "alpha-layers", "1.0"),
        entry("dup", f"{mod_b}:Half", "Beta_Layers", "2.0"),
    ]


def test_name_clash_is_an_error_listing_both_and_how_to_pick(make_module):
    mod_a, mod_b = make_module(CUBE_SOURCE), make_module(CUBE_SOURCE)
    for source in (clash_source(mod_a, mod_b), lambda: clash_source(mod_a, mod_b)()[::-1]):
        reg = Registry(entry_points_fn=source)
        with pytest.raises(PluginConflictError) as info:
            reg.ops.dup(mg.tensor([2.0]))
        msg = str(info.value)
        for part in ("dup", "alpha-layers", "1.0", "Beta_Layers", "2.0", "::dup", "mg.ops.get"):
            assert part in msg
        assert "install order" in msg
        assert [r.status for r in reg.available()] == ["conflict", "conflict"]
    assert mod_a not in sys.modules and mod_b not in sys.modules  # nothing was imported


def test_dist_prefix_picks_one_of_two_clashing_distributions(make_module):
    mod_a, mod_b = make_module(CUBE_SOURCE), make_module(CUBE_SOURCE)
    reg = Registry(entry_points_fn=clash_source(mod_a, mod_b))
    x = mg.tensor([2.0])
    assert reg.ops.get("alpha-layers::dup")(x).item() == 8.0  # Cube
    assert reg.ops.get("beta-layers::dup")(x).item() == 1.0  # Half; name normalised
    assert reg.ops.get("BETA.LAYERS::dup")(x).item() == 1.0
    with pytest.raises(UnknownOpError, match="alpha-layers::dup"):
        reg.ops.get("gamma-layers::dup")


def test_disabling_one_side_of_a_clash_resolves_it(make_module):
    mod_a, mod_b = make_module(CUBE_SOURCE), make_module(CUBE_SOURCE)
    reg = Registry(
        entry_points_fn=clash_source(mod_a, mod_b),
        environ={"MINIGRAD_DISABLE_PLUGINS": "beta-layers::dup"},
    )
    assert reg.ops.dup(mg.tensor([2.0])).item() == 8.0
    statuses = {r.distribution: r.status for r in reg.available()}
    assert statuses == {"alpha-layers": "loaded", "Beta_Layers": "disabled"}


def test_core_op_names_are_reserved(make_module):
    mod = make_module(CUBE_SOURCE)
    reg = Registry(
        entry_points_fn=lambda: [entry("add", f"{mod}:Cube"), entry("cube", f"{mod}:Cube")]
    )
    statuses = {r.name: r.status for r in reg.available()}
    assert statuses == {"add": "conflict", "cube": "available"}
    with pytest.raises(PluginConflictError, match=r"fake-layers.*reserved core op name 'add'"):
        reg.ops.add
    with pytest.raises(PluginConflictError, match="reserved"):
        reg.ops.get("fake-layers::add")
    assert "add" not in dir(reg.ops)
    with pytest.raises(PluginConflictError, match="reserved core op name"):
        reg.register_op("matmul", _cube_class(make_module))
    assert reg.ops.cube(mg.tensor([2.0])).item() == 8.0


def _cube_class(make_module):
    import importlib

    return importlib.import_module(make_module(CUBE_SOURCE)).Cube


def test_every_core_op_name_is_reserved():
    # the names the engine records for core ops, read from a graph through the public API
    x = mg.tensor(np.array([[0.5, 1.5], [2.0, 3.0]]), requires_grad=True)
    y = mg.where(x > 1, mg.exp(x), mg.log(x)) + mg.sqrt(x) * x - x / 2 + (-x) ** 2
    y = mg.maximum(mg.abs(y), mg.minimum(x, 1.0)).clip(0, 9) @ x.T
    y = mg.concatenate([y, mg.stack([x[0], x[1]])]).reshape(8).expand(2, 8).transpose()
    y = mg.pad(y, [(1, 1), (0, 0)]).sum() + y.mean() + y.max() + y.min()
    graph = mg.graph.to_networkx(y)
    names = {d["op"] for _, d in graph.nodes(data=True) if d.get("kind") == "op"}
    assert len(names) >= 20  # the computation used the core ops
    assert names <= RESERVED_NAMES, names - RESERVED_NAMES
    documented = "add sub mul div neg pow exp log sqrt abs clip maximum minimum where matmul sum "
    documented += (
        "mean max min reshape transpose expand getitem concatenate stack pad sum_to astype"
    )
    assert set(documented.split()) <= RESERVED_NAMES


# --------------------------------------------------------------------------- environment


@pytest.mark.parametrize("value", ["1", "true", "YES", "on"])
def test_disable_autoload_keeps_entry_point_ops_from_loading(make_module, value):
    mod = make_module(CUBE_SOURCE)
    reg = Registry(
        entry_points_fn=lambda: [entry("cube", f"{mod}:Cube")],
        environ={"MINIGRAD_DISABLE_PLUGIN_AUTOLOAD": value},
    )
    with pytest.raises(PluginDisabledError, match=f"MINIGRAD_DISABLE_PLUGIN_AUTOLOAD={value}"):
        reg.ops.cube(mg.tensor([1.0]))
    assert mod not in sys.modules
    (record,) = reg.available()
    assert record.status == "disabled" and "MINIGRAD_DISABLE_PLUGIN_AUTOLOAD" in record.error
    assert "cube" not in dir(reg.ops)
    # register_op still works
    cube = _cube_class(make_module)
    reg.register_op("cube", cube)
    assert reg.ops.cube(mg.tensor([2.0])).item() == 8.0


@pytest.mark.parametrize("value", ["", "0", "false"])
def test_autoload_stays_on_for_false_values(make_module, value):
    mod = make_module(CUBE_SOURCE)
    reg = Registry(
        entry_points_fn=lambda: [entry("cube", f"{mod}:Cube")],
        environ={"MINIGRAD_DISABLE_PLUGIN_AUTOLOAD": value},
    )
    assert reg.ops.cube(mg.tensor([2.0])).item() == 8.0


@pytest.mark.parametrize(
    "value", ["cube", " half , cube ", "fake-layers::cube", "fake-layers", "Fake_Layers"]
)
def test_disable_plugins_by_name_dist_name_or_distribution(make_module, value):
    mod = make_module(CUBE_SOURCE)
    reg = Registry(
        entry_points_fn=lambda: [
            entry("cube", f"{mod}:Cube", "fake-layers"),
            entry("keep", f"{mod}:Cube", "other-layers"),
        ],
        environ={"MINIGRAD_DISABLE_PLUGINS": value},
    )
    with pytest.raises(PluginDisabledError) as info:
        reg.ops.cube(mg.tensor([1.0]))
    msg = str(info.value)
    assert "MINIGRAD_DISABLE_PLUGINS" in msg and "cube" in msg and "fake-layers" in msg
    assert reg.ops.keep(mg.tensor([2.0])).item() == 8.0
    assert {r.name: r.status for r in reg.available()} == {"cube": "disabled", "keep": "loaded"}


def test_environment_is_read_when_scanning(make_module, monkeypatch):
    mod = make_module(CUBE_SOURCE)
    monkeypatch.setenv("MINIGRAD_DISABLE_PLUGINS", "cube")
    reg = Registry(entry_points_fn=lambda: [entry("cube", f"{mod}:Cube")])  # os.environ
    monkeypatch.delenv("MINIGRAD_DISABLE_PLUGINS")
    # not read at construction: the variable is gone by the first use
    assert reg.ops.cube(mg.tensor([2.0])).item() == 8.0
    monkeypatch.setenv("MINIGRAD_DISABLE_PLUGINS", "cube")
    assert reg.ops.cube(mg.tensor([2.0])).item() == 8.0  # scanned already
    reg.refresh()
    with pytest.raises(PluginDisabledError, match="MINIGRAD_DISABLE_PLUGINS"):
        reg.ops.cube
