"""Rendering drawings with Graphviz, and the error when the `dot` program is missing."""

from __future__ import annotations

import shutil

import graphviz
import pytest

import minigrad as mg
from minigrad.autograd import name_scope
from minigrad.graph import GraphvizNotFoundError

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed")


def net():
    x = mg.tensor([[1.0, 2.0]], name="x <input> & co")  # markup characters must be escaped
    w = mg.tensor([[0.5], [-1.0]], requires_grad=True, name="w")
    with name_scope("features"), name_scope("fc"):
        h = (x @ w).exp()
    loss = (h * h).sum()
    loss.name = "loss"
    return loss


@needs_dot
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"backward": True},
        {"both": True},
        {"collapse": True},
        {"show_tensors": False, "rankdir": "LR", "title": "ops <only>"},
    ],
)
def test_every_view_renders_to_svg(tmp_path, options):
    path = mg.graph.render(net(), tmp_path / "graph.svg", **options)
    assert path == str(tmp_path / "graph.svg")
    svg = (tmp_path / "graph.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    if options.get("show_tensors", True) and not options.get("backward"):
        assert "x &lt;input&gt; &amp; co" in svg  # markup in names is escaped, not lost
    assert (tmp_path / "graph.dot").read_text().startswith("digraph")


@needs_dot
@pytest.mark.parametrize("fmt, magic", [("png", b"\x89PNG"), ("pdf", b"%PDF")])
def test_png_and_pdf(tmp_path, fmt, magic):
    path = mg.graph.render(net(), tmp_path / "graph", format=fmt)
    assert path.endswith(f"graph.{fmt}")
    assert (tmp_path / f"graph.{fmt}").read_bytes().startswith(magic)


@needs_dot
def test_digraph_methods_work_as_usual(tmp_path):
    g = mg.graph.draw(net(), backward=True)
    out = g.render(tmp_path / "bwd", format="svg")
    assert out.endswith("bwd.svg") and "<svg" in (tmp_path / "bwd.svg").read_text()
    assert "image/svg+xml" in g._repr_mimebundle_()  # what Jupyter shows inline
    assert mg.graph.render(g, tmp_path / "again.svg").endswith("again.svg")


def test_render_rejects_options_with_a_drawing_and_unknown_formats(tmp_path):
    g = mg.graph.draw(net())
    with pytest.raises(TypeError, match="options"):
        mg.graph.render(g, tmp_path / "g.svg", backward=True)
    with pytest.raises(ValueError, match="unknown format 'svgz2'"):
        mg.graph.render(g, tmp_path / "g", format="svgz2")


@pytest.fixture
def no_dot(tmp_path, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("dot") is None


def assert_install_message(message):
    assert "apt-get install graphviz" in message
    assert "brew install graphviz" in message
    assert "conda install graphviz" in message
    assert ".source" in message and ".save(" in message


def test_missing_dot_says_what_to_install_and_keeps_the_dot_text(tmp_path, no_dot):
    loss = net()
    with pytest.raises(GraphvizNotFoundError) as e:
        mg.graph.render(loss, tmp_path / "out" / "graph.svg")
    assert isinstance(e.value, RuntimeError)
    assert isinstance(e.value, graphviz.ExecutableNotFound)  # existing handlers still catch it
    assert_install_message(str(e.value))
    dot_file = tmp_path / "out" / "graph.dot"
    assert str(dot_file) in str(e.value)
    assert dot_file.read_text() == mg.graph.draw(loss).source
    assert not (tmp_path / "out" / "graph.svg").exists()


def test_missing_dot_on_the_drawing_itself(tmp_path, no_dot):
    g = mg.graph.draw(net())
    assert g.source.startswith("digraph")  # DOT text never needs the binary
    with pytest.raises(GraphvizNotFoundError) as e:
        g.render(tmp_path / "g", format="svg")
    assert_install_message(str(e.value))
    with pytest.raises(GraphvizNotFoundError):
        g.pipe(format="svg")
    bundle = g._repr_mimebundle_()  # Jupyter: an explanation instead of a traceback
    assert list(bundle) == ["text/plain"]
    assert "apt-get install graphviz" in bundle["text/plain"]
    assert g.source in bundle["text/plain"]


@needs_dot
def test_rendering_a_drawing_writes_the_named_picture_only(tmp_path):
    g = mg.graph.draw(net())
    out = g.render(tmp_path / "out" / "fwd", format="svg")
    assert out == str(tmp_path / "out" / "fwd.svg")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["fwd.svg"]  # no DOT file
    assert (tmp_path / "out" / "fwd.svg").read_text().lstrip().startswith("<?xml")


def test_a_drawing_says_what_it_holds():
    g = mg.graph.draw(net())
    text = repr(g)
    # x, w, matmul, its output, exp, its output, mul, its output, sum, loss; 2 clusters
    assert text.startswith("<GraphDrawing minigrad_forward: 10 nodes, 10 edges, 2 clusters;")
    assert ".render(" in text and "object at 0x" not in text
    assert repr(mg.graph.draw(net(), backward=True)).startswith("<GraphDrawing minigrad_backward:")
