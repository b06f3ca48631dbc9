"""Every name a user can give yields DOT that the real Graphviz ``dot`` renders, in every view."""

from __future__ import annotations

import html
import re
import shutil
import subprocess

import pytest

import minigrad as mg
from minigrad.autograd import name_scope

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

DOT = shutil.which("dot")
needs_dot = pytest.mark.skipif(DOT is None, reason="the Graphviz 'dot' program is not installed")

VIEWS = (
    {},
    {"backward": True},
    {"both": True},
    {"collapse": True},
    {"backward": True, "collapse": True},
    {"show_tensors": False},
)


def program(tensor_name: str, scope: str, inner: str = "inner"):
    """A small net whose tensor, scope and nested scope carry the given names."""
    x = mg.tensor([1.0, -2.0], requires_grad=True, name=tensor_name)
    w = mg.tensor([0.5, 3.0], requires_grad=True, name=tensor_name + "_w")
    with name_scope(scope):
        h = x * w
        with name_scope(inner):
            h = h * h + x
    loss = h.sum()
    loss.name = tensor_name
    return loss


def render_all(loss) -> str:
    """Every view's DOT text, rendered by dot in one run; returns the SVG text."""
    sources = [mg.graph.draw(loss, **view).source for view in VIEWS]
    done = subprocess.run(
        [DOT, "-Tsvg"], input="\n".join(sources).encode("utf-8"), capture_output=True, timeout=60
    )
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0 and "Error" not in err, err
    return done.stdout.decode("utf-8")


# the characters that broke drawings, mixed into otherwise arbitrary text
HOSTILE = ["\\", "/", "\\N", "\\G", "\\n", "\\l", '"', "<", ">", "&", "\x00", "\x07", "\x1b",
           "\ud800", "\udc80", "\n", "\t", "{", "}", "]", ";", "\u2028", "\ufffe", "é", "🙂", "]", "]]"]  # fmt: skip
names = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=6)), max_size=6).map("".join)


@needs_dot
@hypothesis.settings(max_examples=40, deadline=None)
@hypothesis.given(tensor_name=names, scope=names, inner=names)
def test_any_names_render_in_every_view(tensor_name, scope, inner):
    render_all(program(tensor_name, scope, inner))


@needs_dot
@pytest.mark.parametrize(
    "scope", ["a\\", "a/", "/", "", "a//b", "\\N", "\\G", "cluster", "]", "]]"]
)
def test_scopes_that_broke_dot_render(scope):
    render_all(program("x", scope))


@needs_dot
@pytest.mark.parametrize("name", ["a\\N", "b\\G", "back\\slash", 'say "hi"', "<b>x</b>", "a&b"])
def test_names_are_shown_as_typed_not_expanded(name):
    svg = render_all(program(name, name))
    assert name in html.unescape(svg)


@needs_dot
def test_control_characters_and_surrogates_are_shown_as_escapes():
    svg = render_all(program("a\x07b\x00c\x1b\ud800", "s\x07"))
    assert "a\\x07b\\x00c\\x1b\\ud800" in svg and "s\\x07" in svg


@needs_dot
def test_100k_character_names_are_shortened_visibly_and_kept_whole_in_networkx():
    long = "n" * 50_000 + "END" + "m" * 50_000
    loss = program(long, "s" * 100_000, "t" * 100_000)
    svg = render_all(loss)
    assert "…" in svg and "n" * 30 in svg and long not in svg
    dot = mg.graph.draw(loss).source
    assert max(len(s) for s in re.findall(r"<[^\n]*>|\"[^\n]*\"", dot)) < 16_384
    G = mg.graph.to_networkx(loss)
    assert long in {d["name"] for _, d in G.nodes(data=True)}
    assert "s" * 100_000 + "/" + "t" * 100_000 in {d["scope"] for _, d in G.nodes(data=True)}


def test_different_awkward_scopes_get_different_clusters():
    x = mg.tensor([1.0], requires_grad=True)
    ys = []
    for scope in ("a\\", "a/", "a%5C", "a "):
        with name_scope(scope):
            ys.append(x * 2.0)
    loss = ys[0] + ys[1] + ys[2] + ys[3]
    ids = re.findall(r"subgraph (\S+) \{", mg.graph.draw(loss).source)
    assert len(ids) == len(set(ids)) == 5  # "a" holds "a/"'s empty-named child


class Named(mg.nn.Module):
    """A module whose child layers carry the given names (add_module takes any string)."""

    def __init__(self, first: str, second: str) -> None:
        super().__init__()
        self.add_module(first, mg.nn.Linear(2, 3))
        self.add_module(second, mg.nn.Linear(3, 1))

    def forward(self, x):
        for _, layer in self.named_children():
            x = layer(x)
        return x


@needs_dot
@hypothesis.settings(max_examples=15, deadline=None)
@hypothesis.given(first=names, second=names)
def test_any_module_names_render_in_every_view(first, second):
    hypothesis.assume(first != second)
    mg.manual_seed(0)
    model = Named(first, second)
    loss = model(mg.randn(4, 2, name="x")).sum()
    scopes = {d["scope"] for _, d in mg.graph.to_networkx(loss).nodes(data=True)}
    assert {first, second} <= scopes  # the names do reach the drawing
    render_all(loss)
