"""The backward stepper writes each step as its formula with one element's real numbers,
and the view follows it: the current node is on screen at every step of a LeNet page."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
from browser import open_page, screenshot

import minigrad as mg
from minigrad.demo.models import build_lenet
from minigrad.graph.explorer.stepmath import fmt, step_math
from minigrad.graph.trace import watch


@pytest.fixture(autouse=True)
def no_dot(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("empty-path")))
    assert shutil.which("dot") is None


def lenet_loss() -> mg.Tensor:
    mg.manual_seed(0)
    x = mg.tensor(np.random.default_rng(0).random((2, 1, 8, 8)).astype(np.float32), name="images")
    return mg.ops.cross_entropy(build_lenet()(x), mg.tensor(np.array([3, 1])))


def sigmoid_log_loss() -> mg.Tensor:
    z = mg.tensor([[0.5]], requires_grad=True, name="z")
    return mg.ops.log_loss(mg.ops.sigmoid(z), mg.tensor([[1.0]]))


def test_each_line_ends_in_the_engines_gradient_at_the_element_it_names():
    steps = [e for e in watch(lenet_loss(), []).events if e.kind == "step"]
    names = set()
    for ev in steps:
        lines = step_math(ev)
        sent = [g for g in ev.input_grads if g is not None]
        assert len(lines) == len(sent)
        for line, g in zip(lines, sent):
            m = re.match(r"d\w+(\[[\d, ]+\])? = .* = (\S+)(   \(.*\))?$", line)
            assert m, line
            idx = tuple(int(k) for k in m.group(1)[1:-1].split(",")) if m.group(1) else ()
            assert m.group(2) == fmt(np.asarray(g)[idx])
        names.add(ev.node.name)
    assert {"cross_entropy", "matmul", "relu", "conv2d", "max_pool2d"} <= names
    relu = next(step_math(e)[0] for e in steps if e.node.name == "relu")
    a, c = re.match(r"dx\[.*\] = dy \* \(x > 0\) = (\S+) \* 1 = (\S+)$", relu).groups()
    assert a == c  # the gradient goes on where x > 0


def test_sigmoid_then_log_loss_reads_p_minus_y():
    lines = [step_math(e)[0] for e in watch(sigmoid_log_loss(), []).events if e.kind == "step"]
    assert lines == [
        "dp[0, 0] = (p - y) / (p (1 - p)) = (0.6225 - 1) / (0.6225 * (1 - 0.6225)) = -1.607",
        "dx[0, 0] = dy * s * (1 - s) = -1.607 * 0.6225 * (1 - 0.6225) = -0.3775",
    ]


def test_the_current_node_is_on_screen_at_every_step_of_a_lenet_page(tmp_path):
    path = mg.graph.explore(lenet_loss()).save(tmp_path / "lenet.html")
    for width in (1400, 390):
        with open_page(path, width=width, height=900) as (page, errors, requests):
            page.click("#mg-tab-backward")
            n = page.evaluate("MG.payload.graph.steps.length")
            off = []
            for k in range(1, n + 1):
                page.keyboard.press("ArrowRight")
                box = page.evaluate(
                    "() => { var e = document.querySelector('#mg-view-backward g.node.mg-current');"
                    " if (!e) return null; var r = e.getBoundingClientRect(),"
                    " h = e.closest('.mg-svg').getBoundingClientRect();"
                    " return [r.left + r.width / 2, r.top + r.height / 2, Math.max(h.left, 0),"
                    " Math.max(h.top, 0), Math.min(h.right, innerWidth), Math.min(h.bottom, innerHeight)]; }"
                )
                if box is None:
                    continue  # a leaf's event: no backward node to show
                x, y, left, top, right, bottom = box
                if not (left <= x <= right and top <= y <= bottom):
                    off.append(k)
                if k == 3:
                    text = page.inner_text("#mg-panel")
                    assert "backward step 3 of" in text and " = " in text
                    screenshot(page, f"stepper-step3-{width}")
            assert off == []
            label = page.inner_text(".mg-stepper .mg-steptext")
            assert label.startswith(f"step {n} / {n}") and "event" not in label
        assert errors == [] and requests == []
