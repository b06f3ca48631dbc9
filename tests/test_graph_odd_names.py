"""Any string a user can put in a name (lone surrogates, control characters, markup, quotes)
survives every page and file: drawings, DOT, networkx, the explorer page, the recorder's page,
explanations; mg.save refuses a name no file can store, saying why."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from browser import open_page

import minigrad as mg

# a lone high and low surrogate, NUL, BEL, markup, quotes, a right-to-left override, braces
ODD = ["\ud800", "x\udfffy", "a\x00b\x07", "<b>&amp;</b>", "\"'\\N", "\u202e{}", "]]>"]


def odd_cnn(name: str) -> mg.Tensor:
    mg.manual_seed(0)
    x = mg.randn(1, 1, 5, 5, name=name)
    w = mg.randn(2, 1, 3, 3, requires_grad=True, name=name + "w")
    with mg.name_scope(name):
        y = mg.ops.relu(mg.ops.conv2d(x, w))
        y.name = name + "y"
    loss = (y * y).sum()
    loss.name = name
    return loss


@pytest.mark.parametrize("name", ODD)
def test_explorer_page_saves_as_utf8_and_shows_the_name_escaped(tmp_path, name):
    ex = mg.graph.explore(odd_cnn(name))
    path = ex.save(tmp_path / "page.html")
    text = (tmp_path / "page.html").read_bytes().decode("utf-8")  # valid UTF-8
    assert text == ex.html and path.endswith("page.html")
    assert repr(ex) and ex._repr_html_().encode("utf-8")
    if "\ud800" in name:
        assert "\\ud800" in ex.title and "\\ud800" in text  # shown, not dropped


@pytest.mark.parametrize("name", ODD)
@pytest.mark.parametrize("backward", [False, True])
def test_drawings_and_dot_files_of_odd_names(tmp_path, name, backward):
    loss = odd_cnn(name)
    drawing = mg.graph.draw(loss, backward=backward)
    drawing.source.encode("utf-8")
    if shutil.which("dot"):
        out = mg.graph.render(drawing, tmp_path / "g.svg")
        assert (tmp_path / "g.svg").read_bytes().decode("utf-8").startswith("<?xml")
        assert (tmp_path / "g.dot").exists() or out


@pytest.mark.parametrize("name", ODD)
def test_networkx_keeps_the_names_exactly(name):
    G = mg.graph.to_networkx(odd_cnn(name))
    names = {d.get("name") for _, d in G.nodes(data=True)}
    assert {name, name + "w", name + "y"} <= names


@pytest.mark.parametrize("name", ODD)
def test_explanations_of_odd_names(name):
    x = mg.ones(1, 1, 4, 4, name=name)
    w = mg.ones(1, 1, 3, 3, requires_grad=True, name=name + "w")
    with mg.name_scope(name):
        y = mg.ops.conv2d(x, w)
    y.name = name
    e = mg.graph.explain(y, (0, 0, 1, 1))
    assert e.value == 9.0
    str(e).encode("utf-8")
    repr(e).encode("utf-8")


class Odd(mg.nn.Module):
    def __init__(self, name: str) -> None:
        super().__init__()
        setattr(self, name, mg.nn.Linear(2, 2))
        self.key = name

    def forward(self, x):
        return getattr(self, self.key)(x)


@pytest.mark.parametrize("name", ODD)
def test_recorder_page_of_a_module_with_an_odd_name(tmp_path, name):
    mg.manual_seed(0)
    model = Odd(name)
    opt = mg.optim.SGD(model.parameters(), lr=0.1)
    x = mg.tensor(np.ones((3, 2), np.float32))
    rec = mg.graph.Recorder(model, probes=x, optimizer=opt)
    loss = (model(x) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    rec.step(loss)
    ex = rec.explore(title=name)
    ex.save(tmp_path / "timeline.html")
    (tmp_path / "timeline.html").read_bytes().decode("utf-8")


def test_pages_with_lone_surrogates_open_without_errors(tmp_path):
    name = "x\ud800<y>"
    path = mg.graph.explore(odd_cnn(name)).save(tmp_path / "page.html")
    with open_page(path) as (page, errors, requests):
        for tab in ("backward", "both", "forward"):
            page.click(f"#mg-tab-{tab}")
        page.locator("#mg-view-forward g.node[data-id]").first.click()
        assert "\\ud800" in page.title()
    assert errors == [] and requests == []


def test_save_refuses_a_name_no_file_can_store(tmp_path):
    with pytest.raises(ValueError, match=r"save: the name 'a\\ud800' holds a lone surrogate"):
        mg.save({"a\ud800": np.zeros(2)}, tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()
