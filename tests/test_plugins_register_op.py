"""mg.register_op, the default registry behind mg.ops, and the mg.ops namespace itself."""

from __future__ import annotations

import dataclasses
import inspect
import pydoc
import subprocess
import sys
import textwrap

import pytest
from helpers import CUBE_SOURCE, counting, entry

import minigrad as mg
from minigrad.plugins import (
    STATUSES,
    PluginConflictError,
    PluginContractError,
    PluginInfo,
    Registry,
    UnknownOpError,
)

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
