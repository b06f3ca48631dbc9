"""Large graphs: what folding cannot bring under ``max_nodes`` is refused before Graphviz runs,
with an error naming the limit and how to raise it; Graphviz failures and time-outs are clear
errors; explore() summarises large arrays in pieces and handles deep graphs."""

from __future__ import annotations

import subprocess
import tracemalloc

import graphviz
import numpy as np
import pytest

import minigrad as mg
from minigrad.cli import main
from minigrad.graph.explorer import encode
from minigrad.graph.explorer import payload as explorer_payload


def residual_chain(n_ops: int) -> mg.Tensor:
    """h -> tanh(h * w) + h, n_ops // 3 times: mixed ops, nothing folds or collapses."""
    mg.manual_seed(0)
    h = mg.randn(2, 3, requires_grad=True, name="x")
    for i in range(n_ops // 3):
        w = mg.randn(3, requires_grad=True, name=f"w{i}")
        h = mg.ops.tanh(h * w) + h
    return h.sum()


def no_graphviz(monkeypatch):
    """Make any run of Graphviz fail the test: refusals must come before it."""

    def refuse(*args, **kwargs):
        raise AssertionError("Graphviz ran")

    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(graphviz.Digraph, "pipe", refuse)


def test_explore_refuses_up_front_naming_the_limit_and_how_to_raise_it(monkeypatch):
    loss = residual_chain(600)
    no_graphviz(monkeypatch)
    with pytest.raises(mg.graph.GraphTooLargeError) as err:
        mg.graph.explore(loss, max_nodes=100)
    msg = str(err.value)
    n = int(msg.split(" has ")[1].split(" nodes")[0])
    assert n > 100 and "max_nodes=100" in msg
    assert f"max_nodes={n}" in msg and f"--max-nodes {n}" in msg  # how to raise it


def test_render_and_pipe_refuse_a_drawing_still_too_large(tmp_path, monkeypatch):
    loss = residual_chain(600)
    drawing = mg.graph.draw(loss, backward=True, max_nodes=100)  # the DOT text is still made
    assert drawing.node_count > 100 and "still" in drawing.source
    no_graphviz(monkeypatch)
    with pytest.raises(mg.graph.GraphTooLargeError, match=r"more than max_nodes=100.*max_nodes="):
        mg.graph.render(drawing, tmp_path / "b.svg")
    assert (tmp_path / "b.dot").exists()  # written first, for later use
    with pytest.raises(mg.graph.GraphTooLargeError, match="max_nodes=100"):
        drawing.pipe(format="svg")
    assert "max_nodes=100" in drawing._repr_mimebundle_()["text/plain"]  # Jupyter: no dot run


def test_a_graph_within_the_limit_still_renders(tmp_path):
    pytest.importorskip("graphviz")
    loss = residual_chain(30)
    out = mg.graph.render(loss, tmp_path / "small.svg", backward=True)
    assert (tmp_path / "small.svg").read_text().lstrip().startswith("<?xml")
    assert out.endswith("small.svg")


def test_a_killed_dot_is_a_clear_error_not_a_called_process_error(tmp_path, monkeypatch):
    loss = residual_chain(30)

    def killed(cmd, *args, **kwargs):
        return subprocess.CompletedProcess(cmd, -9, b"", b"out of memory\n")

    monkeypatch.setattr(subprocess, "run", killed)
    with pytest.raises(RuntimeError, match=r"killed: probably out of memory") as err:
        mg.graph.render(loss, tmp_path / "g.svg")
    assert not isinstance(err.value, subprocess.CalledProcessError)
    drawing = mg.graph.draw(loss)

    def killed_pipe(*args, **kwargs):
        raise graphviz.CalledProcessError(-9, ["dot", "-Tsvg"], b"", b"out of memory\n")

    monkeypatch.setattr(graphviz.Digraph, "pipe", killed_pipe)
    with pytest.raises(RuntimeError, match=r"killed: probably out of memory"):
        drawing.pipe(format="svg")


def test_render_stops_graphviz_at_its_time_limit(tmp_path, monkeypatch):
    loss = residual_chain(30)
    seen = []

    def slow(cmd, *args, timeout=None, **kwargs):
        seen.append(timeout)
        raise subprocess.TimeoutExpired(cmd, timeout)

    monkeypatch.setattr(subprocess, "run", slow)
    with pytest.raises(mg.graph.GraphTooLargeError, match=r"within 60 s.*layout_timeout="):
        mg.graph.render(loss, tmp_path / "g.svg")
    assert seen == [60.0] and (tmp_path / "g.dot").exists()
    with pytest.raises(mg.graph.GraphTooLargeError, match=r"within 2 s"):
        mg.graph.render(loss, tmp_path / "g.svg", layout_timeout=2)
    with pytest.raises(ValueError, match="layout_timeout must be positive"):
        mg.graph.render(loss, tmp_path / "g.svg", layout_timeout=0)


def test_explore_of_a_folded_graph_runs_no_graphviz(monkeypatch):
    # the page lays its graphs out itself: no dot process, so no time limit to hit
    loss = residual_chain(30)

    def no_process(cmd, *args, **kwargs):
        raise AssertionError(f"explore() started a process: {cmd}")

    monkeypatch.setattr(subprocess, "run", no_process)
    monkeypatch.setattr(subprocess, "Popen", no_process)
    assert mg.graph.explore(loss).html.startswith("<!DOCTYPE html>")
    with pytest.raises(TypeError, match="unknown option"):
        mg.graph.explore(loss, layout_timeout=5)


def test_explore_of_a_deep_residual_chain_has_no_recursion_error():
    # every h feeds two ops, so each has two gradient contributions to name: the page once
    # followed them one Python frame per op and raised RecursionError past ~300 ops
    payload = explorer_payload.graph_payload(residual_chain(1500))
    calls = payload["calls"]
    named = [
        c["call"] for tensor in payload["tensors"].values() for c in tensor.get("contributions", [])
    ]
    assert len(named) > 900 and all(key in calls for key in named)


def test_cli_explore_and_draw_refuse_in_one_line(tmp_path, capsys):
    script = tmp_path / "chain.py"
    script.write_text(
        "import minigrad as mg\n"
        "h = mg.randn(2, 3, requires_grad=True)\n"
        "for i in range(100):\n"
        "    h = mg.ops.tanh(h * mg.randn(3, requires_grad=True)) + h\n"
        "loss = h.sum()\n"
    )
    code = main(["explore", str(script), "--out", str(tmp_path / "p.html"), "--max-nodes", "50"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--max-nodes" in err
    code = main(["draw", str(script), "--out", str(tmp_path / "d"), "--max-nodes", "50"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "max_nodes=50" in err


def test_large_array_statistics_match_and_never_copy_the_whole_array():
    rng = np.random.default_rng(0)
    a = (rng.standard_normal(4_000_000) * 3 + 1).astype(np.float32)  # 16 MB
    a[[5, 70, 900_000]] = [np.nan, np.inf, 0.0]
    tracemalloc.start()
    try:
        got, hist = encode.stats(a), encode.histogram(a)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < a.nbytes / 2  # a float64 copy alone would be 2 * a.nbytes
    finite = a[np.isfinite(a)].astype(np.float64)
    assert (got["nan"], got["inf"], got["zero"], got["size"]) == (1, 1, 1, a.size)
    assert got["min"] == finite.min() and got["max"] == finite.max()
    np.testing.assert_allclose(got["mean"], finite.mean(), rtol=1e-12)
    np.testing.assert_allclose(got["std"], finite.std(), rtol=1e-12)
    np.testing.assert_allclose(got["norm"], np.sqrt(np.dot(finite, finite)), rtol=1e-12)
    lo, hi = finite.min(), finite.max()
    assert hist["counts"] == np.histogram(finite, bins=24, range=(lo, hi))[0].tolist()
