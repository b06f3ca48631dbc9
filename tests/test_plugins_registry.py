"""The plugin registry with an injected entry-point source: discovery, laziness, errors."""

from __future__ import annotations

import dataclasses
import inspect
import io
import pydoc
import subprocess
import sys
import textwrap
from importlib.metadata import EntryPoint

import numpy as np
import pytest
from helpers import CUBE_SOURCE, WRONG_GRAD_SOURCE, FakeDist, entry

import minigrad as mg
from minigrad import core_ops
from minigrad.cli.plugins import format_table, run_check, run_list
from minigrad.op import Op, op_spec
from minigrad.plugins import (
    RESERVED_NAMES,
    STATUSES,
    PluginConflictError,
    PluginContractError,
    PluginDisabledError,
    PluginInfo,
    PluginLoadError,
    Registry,
    UnknownOpError,
)

GROUP = "minigrad.ops"


def counting(items):
    """An entry-point source that counts how often it is read."""
    calls = []

    def fn():
        calls.append(1)
        return list(items)

    fn.calls = calls
    return fn


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
    names = {
        op_spec(c).name
        for c in vars(core_ops).values()
        if isinstance(c, type) and issubclass(c, Op) and isinstance(c.__dict__.get("name"), str)
    }
    assert names  # the core defines ops
    assert names <= RESERVED_NAMES
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


# --------------------------------------------------------------------------- register_op


def test_register_op_and_override(make_module):
    mod = make_module(CUBE_SOURCE)
    module = __import__(mod)
    reg = Registry(entry_points_fn=lambda: [entry("cube", f"{mod}:Cube", "fake-layers", "1.5")])
    x = mg.tensor([4.0])

    reg.register_op("halve", module.Half)
    assert reg.ops.halve(x).item() == 2.0
    reg.register_op("halve", module.Half)  # the same class again: fine
    with pytest.raises(PluginConflictError, match=r"'halve'.*already registered.*override=True"):
        reg.register_op("halve", module.Cube)
    reg.register_op("halve", module.Cube, override=True)
    assert reg.ops.halve(x).item() == 64.0  # the cached function was replaced

    # a name an entry point provides: refused, naming the distribution, unless override
    with pytest.raises(PluginConflictError, match=r"fake-layers.*1\.5.*override=True"):
        reg.register_op("cube", module.Half)
    reg.register_op("cube", module.Half, override=True)
    assert reg.ops.cube(x).item() == 2.0
    rows = [(r.name, r.source, r.status) for r in reg.available()]
    assert ("cube", "entry point", "disabled") in rows
    assert ("cube", "register_op", "loaded") in rows

    reg.unregister_op("cube")
    assert reg.ops.cube(x).item() == 64.0  # the entry point again
    with pytest.raises(UnknownOpError):
        reg.unregister_op("cube")


@pytest.mark.parametrize(
    ("name", "error", "match"),
    [
        ("my-op", PluginContractError, "not a valid Python identifier"),
        ("lambda", PluginContractError, "not a valid Python identifier"),
        ("_hidden", PluginContractError, "underscore"),
        ("get", PluginContractError, "mg.ops.get"),
        ("sum", PluginConflictError, "reserved"),
        ("sum_to", PluginConflictError, "reserved"),
    ],
)
def test_register_op_refuses_bad_names(name, error, match):
    class Identity(mg.Op):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    reg = Registry(entry_points_fn=list)
    with pytest.raises(error, match=match):
        reg.register_op(name, Identity)


def test_register_op_checks_the_contract():
    class NoBackward(mg.Op):
        @staticmethod
        def forward(ctx, x):
            return x

    reg = Registry(entry_points_fn=list)
    with pytest.raises(PluginContractError, match=r"'noback'.*does not define backward"):
        reg.register_op("noback", NoBackward)
    with pytest.raises(PluginContractError, match="not a subclass of minigrad.Op"):
        reg.register_op("func", lambda ctx, x: x)
    assert reg.available() == []


def test_default_registry_is_behind_mg_ops(default_registry):
    class Twice(mg.Op):
        """Two times the input."""

        @staticmethod
        def forward(ctx, x):
            return 2 * x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    assert mg.ops is mg.plugins.ops is mg.plugins.registry.ops
    mg.register_op("twice", Twice)
    assert mg.ops.twice(mg.tensor([3.0])).item() == 6.0
    assert "twice" in dir(mg.ops) and "twice" in mg.ops
    (record,) = mg.plugins.available()
    assert (record.name, record.status, record.source) == ("twice", "loaded", "register_op")
    mg.plugins.reset(entry_points_fn=list)
    with pytest.raises(AttributeError):
        mg.ops.twice


@pytest.fixture
def default_registry():
    """Point the default registry at an empty source; restore it (and its ops) after."""
    reg = mg.plugins.registry
    saved = (reg.entry_points_fn, reg.environ, dict(reg._registered))
    mg.plugins.reset(entry_points_fn=list, environ={})
    yield reg
    reg.reset(saved[0], saved[1])
    for name, provider in saved[2].items():
        reg.register_op(name, provider.cls, override=True)


# --------------------------------------------------------------------------- namespace


def test_help_shows_signature_without_ctx_and_the_docstring(make_module):
    mod = make_module(CUBE_SOURCE)
    reg = Registry(entry_points_fn=lambda: [entry("cube", f"{mod}:Cube", "fake-layers", "2.1")])
    fn = reg.ops.cube
    assert str(inspect.signature(fn)).startswith("(x, power=3)")
    assert fn.__name__ == "cube"
    assert fn.op is sys.modules[mod].Cube
    text = pydoc.render_doc(fn, renderer=pydoc.plaintext)
    assert "cube(x, power=3)" in text
    assert "ctx" not in text
    assert "x ** power, elementwise (a test op)." in text
    assert "fake-layers" in text and f"{mod}:Cube" in text


def test_dir_lists_usable_names_and_unknown_names_suggest_close_ones(make_module):
    mod = make_module(CUBE_SOURCE)
    reg = Registry(
        entry_points_fn=lambda: [
            entry("cube", f"{mod}:Cube"),
            entry("cube_root", f"{mod}:Cube"),
            entry("off", f"{mod}:Cube"),
        ],
        environ={"MINIGRAD_DISABLE_PLUGINS": "off"},
    )
    assert dir(reg.ops) == ["cube", "cube_root", "get"]
    with pytest.raises(AttributeError, match=r"no op 'cueb'.*did you mean 'cube'") as info:
        reg.ops.cueb
    assert isinstance(info.value, UnknownOpError)
    with pytest.raises(UnknownOpError, match="no op 'zzz'"):
        reg.ops.get("zzz")
    assert not hasattr(reg.ops, "nope")
    assert "cube" in reg.ops and "nope" not in reg.ops
    with pytest.raises(UnknownOpError, match="core op"):
        reg.ops.matmul  # core ops are mg.matmul, not plugins
    with pytest.raises(AttributeError, match="read-only"):
        reg.ops.cube = None


def test_private_names_do_not_trigger_a_scan():
    source = counting([])
    reg = Registry(entry_points_fn=source)
    assert getattr(reg.ops, "__wrapped__", None) is None
    assert not hasattr(reg.ops, "_ipython_canary_method_should_never_exist_")
    assert source.calls == []


def test_plugin_info_is_a_frozen_record():
    info = PluginInfo("cube", "m:Cube", "fake-layers", "1.0", "available")
    assert info.error is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.status = "loaded"
    assert set(STATUSES) == {"available", "loaded", "broken", "disabled", "conflict"}


def test_import_minigrad_imports_no_plugin_module():
    code = textwrap.dedent(
        """
        import sys
        import minigrad as mg
        def plugins():
            return sorted(m for m in sys.modules if m.split(".")[0] == "layers_plugins")
        assert plugins() == [], plugins()
        mg.ops; dir(mg.ops); mg.plugins.available()
        assert plugins() == [], plugins()
        print("ok")
        """
    )
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("MINIGRAD_")}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


# --------------------------------------------------------------------------- CLI, in process


def test_list_prints_an_aligned_table(make_module):
    mod = make_module(CUBE_SOURCE)
    reg = Registry(
        entry_points_fn=lambda: [
            entry("cube", f"{mod}:Cube", "fake-layers", "2.1"),
            entry("a_much_longer_name", f"{mod}:Half", "x", "10.0.1"),
        ]
    )
    reg.ops.cube
    out = io.StringIO()
    assert run_list(registry=reg, out=out) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "DISTRIBUTION", "VERSION", "ENTRY", "POINT"]
    assert lines[1].split() == ["a_much_longer_name", "available", "x", "10.0.1", f"{mod}:Half"]
    assert lines[2].split() == ["cube", "loaded", "fake-layers", "2.1", f"{mod}:Cube"]
    for word in ("STATUS", "DISTRIBUTION", "VERSION", "ENTRY"):
        column = lines[0].index(word)
        assert all(line[column - 2 : column] == "  " for line in lines[1:3])
        assert all(line[column] != " " for line in lines[1:3])


def test_list_load_reveals_broken_ops_with_their_error(make_module):
    bad = make_module('raise RuntimeError("boom at import")\n')
    reg = Registry(entry_points_fn=lambda: [entry("kaput", f"{bad}:Op", "kaput-dist", "0.1")])
    out = io.StringIO()
    run_list(registry=reg, out=out)
    assert "available" in out.getvalue() and "boom" not in out.getvalue()
    out = io.StringIO()
    run_list(load=True, registry=reg, out=out)
    text = out.getvalue()
    assert "broken" in text and "kaput-dist::kaput" in text and "boom at import" in text


def test_check_passes_fails_and_reports_missing_samples(make_module):
    mod = make_module(CUBE_SOURCE)
    wrong = make_module(WRONG_GRAD_SOURCE)
    broken = make_module('raise ImportError("no luck")\n')
    source = lambda: [  # noqa: E731
        entry("cube", f"{mod}:Cube"),
        entry("half", f"{mod}:Half"),
        entry("wrong", f"{wrong}:WrongGrad"),
        entry("broken", f"{broken}:Op"),
    ]
    reg = Registry(entry_points_fn=source)
    out = io.StringIO()
    assert run_check(["cube", "half"], registry=reg, out=out) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:3] == ["PASS", "cube", "2"]
    assert lines[1].startswith("no samples") and "half" in lines[1]
    assert lines[2].split()[:2] == ["warning", "half"] and "no formula" in lines[2]
    assert lines[3] == "1 passed, 0 failed, 1 without samples, 1 without a formula (warning)"

    out = io.StringIO()
    assert run_check(registry=reg, out=out) == 1  # all ops
    text = out.getvalue()
    by_name = {}
    for line in text.splitlines()[:-1]:
        if line.startswith("warning"):
            continue
        status, name = (
            ("no samples", line.split()[2]) if line.startswith("no samples") else line.split()[:2]
        )
        by_name[name] = (status, line)
    assert by_name["cube"][0] == "PASS"
    assert by_name["half"][0] == "no samples"
    assert by_name["wrong"][0] == "FAIL" and "finite differences" in by_name["wrong"][1]
    assert by_name["broken"][0] == "FAIL" and "no luck" in by_name["broken"][1]
    assert text.splitlines()[-1] == (
        "1 passed, 2 failed, 1 without samples, 2 without a formula (warning)"
    )


def test_format_table_marks_register_op_rows():
    table = format_table(
        [PluginInfo("swish", "__main__:Swish", None, None, "loaded", None, "register_op")]
    )
    assert table.splitlines()[1].split() == [
        "swish",
        "loaded",
        "(register_op)",
        "-",
        "__main__:Swish",
    ]


def test_check_reports_disabled_ops_without_failing(make_module):
    mod = make_module(CUBE_SOURCE)
    reg = Registry(
        entry_points_fn=lambda: [entry("cube", f"{mod}:Cube"), entry("half", f"{mod}:Half")],
        environ={"MINIGRAD_DISABLE_PLUGINS": "cube"},
    )
    out = io.StringIO()
    assert run_check(["cube"], registry=reg, out=out) == 0
    first, last = out.getvalue().splitlines()
    assert first.startswith("disabled") and "MINIGRAD_DISABLE_PLUGINS" in first
    assert last == "0 passed, 0 failed, 0 without samples, 1 disabled"
    out = io.StringIO()
    assert run_check(registry=reg, out=out) == 0  # all: disabled ops are left out
    assert "cube" not in out.getvalue()


def test_command_line_wiring(default_registry, capsys):
    from minigrad.cli import main

    class Square(mg.Op):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 2 * x

        @staticmethod
        def sample_inputs():
            return [((np.array([1.0, -2.0]),), {})]

    mg.register_op("square", Square)
    assert main(["plugins", "list"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert rows[1][:3] == ["square", "loaded", "(register_op)"]
    assert main(["plugins"]) == 0  # list is the default action
    assert capsys.readouterr().out.splitlines()[1].startswith("square")
    assert main(["plugins", "check", "square"]) == 0
    assert capsys.readouterr().out.startswith("PASS        square")
    assert main(["plugins", "check", "sqaure"]) == 1
    assert "did you mean 'square'" in capsys.readouterr().out
