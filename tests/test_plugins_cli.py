"""``python -m minigrad plugins list|check`` in process, against injected entry points."""

from __future__ import annotations

import io

import numpy as np
from helpers import CUBE_SOURCE, WRONG_GRAD_SOURCE, entry

import minigrad as mg
from minigrad.cli.plugins import format_table, run_check, run_list
from minigrad.plugins import PluginInfo, Registry


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
