"""A plugin that misbehaves at import never takes the other ops (or the program) down."""

from __future__ import annotations

import sys
import threading
import types

import numpy as np
import pytest
from helpers import CUBE_SOURCE, Cube, entry

import minigrad as mg
from minigrad.cli.plugins import run_list
from minigrad.plugins import PluginLoadError, Registry

# Safety net only: if loading deadlocked, the test fails after this long instead of hanging.
# Nothing is asserted about how long anything takes.
DEADLOCK_GUARD = 30.0


@pytest.fixture
def gate():
    """A module plugins can import to wait on: ``entered`` is set, then ``release`` awaited."""
    module = types.ModuleType("plugin_import_gate")
    module.entered = threading.Event()
    module.release = threading.Event()
    sys.modules[module.__name__] = module
    yield module
    module.release.set()
    sys.modules.pop(module.__name__, None)


HANGING_SOURCE = (
    """
import plugin_import_gate as gate
gate.entered.set()
gate.release.wait()  # hangs until the test lets it go
"""
    + CUBE_SOURCE
)


def _in_thread(fn):
    """Run fn in a daemon thread; returns (thread, results dict with 'value' or 'error')."""
    results: dict = {}

    def target():
        try:
            results["value"] = fn()
        except BaseException as e:  # reported to the test thread
            results["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    return t, results


def test_a_hanging_plugin_import_does_not_block_other_ops(make_module, gate):
    slow, fast = make_module(HANGING_SOURCE), make_module(CUBE_SOURCE)
    reg = Registry(
        entry_points_fn=lambda: [entry("slow", f"{slow}:Cube"), entry("fast", f"{fast}:Half")]
    )
    slow_thread, slow_result = _in_thread(lambda: reg.get("slow"))
    assert gate.entered.wait(DEADLOCK_GUARD), "the hanging plugin never started importing"

    # another thread loads and runs a different op while the first import is stuck
    fast_thread, fast_result = _in_thread(lambda: reg.ops.fast(mg.tensor([4.0])).item())
    fast_thread.join(DEADLOCK_GUARD)
    assert not fast_thread.is_alive(), "loading 'fast' waited for the hanging import of 'slow'"
    assert fast_result == {"value": 2.0}
    assert slow_thread.is_alive()  # still stuck: the two loads really overlapped
    assert {r.name: r.status for r in reg.available()} == {"fast": "loaded", "slow": "available"}

    gate.release.set()
    slow_thread.join(DEADLOCK_GUARD)
    assert not slow_thread.is_alive()
    assert slow_result["value"](mg.tensor([2.0])).item() == 8.0


def test_callers_of_the_same_op_wait_for_one_import(make_module, gate):
    slow = make_module(HANGING_SOURCE)
    reg = Registry(entry_points_fn=lambda: [entry("slow", f"{slow}:Cube")])
    first, r1 = _in_thread(lambda: reg.get("slow"))
    assert gate.entered.wait(DEADLOCK_GUARD)
    second, r2 = _in_thread(lambda: reg.get("slow"))
    gate.release.set()
    for t in (first, second):
        t.join(DEADLOCK_GUARD)
        assert not t.is_alive()
    assert r1["value"] is r2["value"]  # one function, one class: imported once
    assert r1["value"].op is sys.modules[slow].Cube


def test_system_exit_at_import_is_a_load_error(make_module):
    bad = make_module("raise SystemExit(3)\n")
    good = make_module(CUBE_SOURCE)
    reg = Registry(
        entry_points_fn=lambda: [
            entry("quitter", f"{bad}:Op", "quitting-layers", "0.2"),
            entry("cube", f"{good}:Cube"),
        ]
    )
    with pytest.raises(PluginLoadError) as info:
        reg.get("quitter")
    message = str(info.value)
    for part in ("quitter", "quitting-layers", "0.2", f"{bad}:Op", "SystemExit"):
        assert part in message
    assert isinstance(info.value.__cause__, SystemExit)
    assert reg.ops.cube(mg.tensor([2.0])).item() == 8.0
    status = {r.name: r.status for r in reg.available()}
    assert status == {"cube": "loaded", "quitter": "broken"}
    with pytest.raises(PluginLoadError):  # and again, without importing it twice
        reg.get("quitter")


def test_keyboard_interrupt_at_import_propagates_and_is_not_remembered(make_module):
    mod = make_module("raise KeyboardInterrupt\n")
    reg = Registry(entry_points_fn=lambda: [entry("stuck", f"{mod}:Op")])
    with pytest.raises(KeyboardInterrupt):
        reg.get("stuck")
    # Ctrl-C is not the plugin's fault: the op is not marked broken, a later use retries
    assert [r.status for r in reg.available()] == ["available"]
    with pytest.raises(KeyboardInterrupt):
        reg.get("stuck")


def test_missing_modules_are_found_without_importing_any_plugin(make_module, tmp_path, capsys):
    # a package whose __init__ would record that it ran: finding its submodules must not run it
    pkg = tmp_path / "pkg_that_must_not_run"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("import sys\nsys.modules['__main__'].__dict__['RAN'] = 1\n")
    (pkg / "present.py").write_text(CUBE_SOURCE)
    good = make_module(CUBE_SOURCE)
    reg = Registry(
        entry_points_fn=lambda: [
            entry("gone", "no_such_plugin_module_anywhere:Op", "gone-layers", "1.0"),
            entry("sub_gone", "pkg_that_must_not_run.absent:Op"),
            entry("not_pkg", f"{good}.inner:Op"),
            entry("here", "pkg_that_must_not_run.present:Cube"),
            entry("cube", f"{good}:Cube"),
        ]
    )
    rows = {r.name: r for r in reg.available()}
    assert {n: r.status for n, r in rows.items()} == {
        "gone": "broken",
        "sub_gone": "broken",
        "not_pkg": "broken",
        "here": "available",
        "cube": "available",
    }
    assert "'no_such_plugin_module_anywhere' is not installed" in rows["gone"].error
    assert "has no module 'absent'" in rows["sub_gone"].error
    assert "not a package" in rows["not_pkg"].error
    assert "pkg_that_must_not_run" not in sys.modules and good not in sys.modules
    assert "RAN" not in vars(sys.modules["__main__"])

    assert run_list(registry=reg) == 0
    table = capsys.readouterr().out
    row = next(line.split() for line in table.splitlines() if line.startswith("gone "))
    assert row[:4] == ["gone", "broken", "gone-layers", "1.0"]
    assert "gone-layers::gone: module 'no_such_plugin_module_anywhere' is not installed" in table


def test_loaded_classes_say_which_entry_point_they_came_from(make_module):
    mod = make_module(CUBE_SOURCE)
    reg = Registry(entry_points_fn=lambda: [entry("cube", f"{mod}:Cube", "cube-layers", "2.0")])
    cls = reg.get("cube").op
    assert cls.plugin == "cube-layers 2.0"
    assert cls.entry_point == f"{mod}:Cube"

    class Local(Cube):
        pass

    reg.register_op("local_cube", Local)
    assert Local.entry_point == "mg.register_op"


FAILING_FORWARD = (
    CUBE_SOURCE
    + """

class Fails(mg.Op):
    @staticmethod
    def forward(ctx, x):
        raise ValueError("the plugin's own message")

    @staticmethod
    def backward(ctx, grad):
        return grad


class FailsBackward(mg.Op):
    @staticmethod
    def forward(ctx, x):
        return x * 1.0

    @staticmethod
    def backward(ctx, grad):
        raise KeyError("backward lost its key")
"""
)


def test_an_exception_inside_a_plugin_keeps_its_type_and_names_the_plugin(make_module):
    mod = make_module(FAILING_FORWARD)
    reg = Registry(
        entry_points_fn=lambda: [
            entry("fails", f"{mod}:Fails", "failing-layers", "0.3"),
            entry("fails_backward", f"{mod}:FailsBackward", "failing-layers", "0.3"),
        ]
    )
    with pytest.raises(ValueError, match="the plugin's own message") as info:
        reg.ops.fails(mg.tensor([1.0]))
    notes = " ".join(getattr(info.value, "__notes__", []))
    for part in ("fails", "failing-layers", "0.3", f"{mod}:Fails", "forward"):
        assert part in notes

    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = reg.ops.fails_backward(x).sum()
    with pytest.raises(KeyError) as info:
        y.backward()
    notes = " ".join(getattr(info.value, "__notes__", []))
    for part in ("fails_backward", "failing-layers", "0.3", "backward"):
        assert part in notes


def test_a_plugin_using_its_own_op_at_import_gets_a_clear_error(make_module):
    source = (
        CUBE_SOURCE
        + """
import minigrad.plugins
try:
    minigrad.plugins.registry.get("circular")
except minigrad.plugins.PluginLoadError as e:
    CIRCULAR_ERROR = str(e)
"""
    )
    mod = make_module(source)
    mg.plugins.reset(entry_points_fn=lambda: [entry("circular", f"{mod}:Cube")])
    try:
        fn = mg.ops.circular  # the outer load still succeeds
        assert fn(mg.tensor([2.0])).item() == 8.0
        assert "circular import" in sys.modules[mod].CIRCULAR_ERROR
        assert [r.status for r in mg.plugins.available()] == ["loaded"]
    finally:
        mg.plugins.reset()
