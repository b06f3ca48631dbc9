"""Predict, then reveal, on the backward: a weight-gradient cell, an input-gradient cell and a
weight's next value after one SGD step, in Chromium; and a tensor used by two convolutions,
whose gradient cell lists each one's contribution and their sum.

Every revealed number is compared with the engine's (``mg.grad``, ``mg.graph.explain`` with
``wrt=``, ``mg.optim.SGD.explain_update``). Screenshots go to out/test-artifacts/quiz-*.png.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from browser import axe_violations, no_sideways_scroll, open_page, screenshot
from test_network_view import CLASSES, lenet_loss

import minigrad as mg
from minigrad.graph.explorer.network import network_layers


@pytest.fixture(autouse=True)
def no_dot(monkeypatch, tmp_path_factory):
    """Pages are built with an empty PATH: no Graphviz program is needed."""
    monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("empty-path")))
    assert shutil.which("dot") is None


def fmt(page, v: float, digits: int = 3) -> str:
    return page.evaluate("([v, d]) => MG.fmt(v, d)", [float(v), digits])


def layer(loss: mg.Tensor, name: str) -> dict:
    return next(item for item in network_layers(loss) if item["name"] == name)


def test_quiz_hides_a_weight_gradient_and_the_weights_next_value(tmp_path):
    loss, _, _ = lenet_loss(batch=2)
    ctx = layer(loss, "conv1")["main"]
    weight = ctx.inputs[1]
    dw = mg.grad(loss, [weight], retain_graph=True)[0]
    lr = 0.1
    update = mg.optim.SGD([weight], lr=lr).explain_update(weight, (2, 0, 1, 2), grad=dw.data)
    new = update["values"]["new_weight"]
    assert new == pytest.approx(weight.data[2, 0, 1, 2] - lr * dw.data[2, 0, 1, 2], rel=1e-6)
    path = mg.graph.explore(loss, classes=CLASSES, quiz=True).save(tmp_path / "quiz-grad.html")
    for width, height in ((1400, 900), (390, 844)):
        with open_page(path, width=width, height=height) as (page, errors, requests):
            page.locator('canvas[data-layer="conv1"][data-channel="2"]').click(
                position={"x": 2, "y": 2}
            )
            page.click("table.mg-conv-k td[data-i='1'][data-j='2']")
            form = page.locator("form[data-quiz='weight gradient']")
            assert form.count() == 1
            grad = page.locator("#mg-conv .mg-conv-grad")
            assert grad.locator(".mg-arith").count() == 0  # the terms stay hidden
            assert fmt(page, dw.data[2, 0, 1, 2], 6) not in grad.inner_text()
            form.locator(".mg-quiz-guess").fill("0")
            form.locator(".mg-quiz-check").click()
            told = page.inner_text(".mg-quiz-result[data-quiz='weight gradient']")
            assert f"the engine's value {fmt(page, dw.data[2, 0, 1, 2], 6)}" in told
            assert f"off by {fmt(page, -dw.data[2, 0, 1, 2], 4)}" in told
            assert "0 of 1 right" in told
            assert "more terms" in grad.locator(".mg-arith").first.inner_text()
            # then the next value of that weight after one SGD step, hidden too
            nxt = page.locator("form[data-quiz='next weight value']")
            assert nxt.count() == 1
            assert "after the step" in nxt.inner_text() and page.input_value(".mg-quiz-lr") == "0.1"
            assert page.locator(".mg-next-arith").count() == 0
            page.locator("#mg-conv .mg-next").scroll_into_view_if_needed()
            screenshot(page, f"quiz-next-weight-hidden-{width}")
            assert axe_violations(page) == []  # the forms have labels, the text contrast
            nxt.locator(".mg-quiz-guess").fill(repr(float(new)))
            nxt.locator(".mg-quiz-guess").press("Enter")
            told = page.inner_text(".mg-quiz-result[data-quiz='next weight value']")
            assert "right" in told and "1 of 2 right" in told
            arith = page.inner_text(".mg-next-arith")
            assert arith.rstrip().endswith(fmt(page, new, 8))
            shown = page.evaluate(
                "() => parseFloat(document.querySelector('.mg-next-arith').textContent"
                ".trim().split('= ').pop())"
            )
            assert np.float32(shown) == np.float32(new)  # the engine's float32 step
            assert no_sideways_scroll(page)
            page.locator("#mg-conv .mg-next").scroll_into_view_if_needed()
            screenshot(page, f"quiz-next-weight-revealed-{width}")
        assert errors == [] and requests == []


def test_quiz_hides_an_input_gradient_cell_and_reveals_explain(tmp_path):
    loss, _, _ = lenet_loss(batch=2)
    conv2 = layer(loss, "conv2")
    ctx = conv2["main"]
    y = conv2["output"]
    dy = mg.grad(loss, [y], retain_graph=True)[0]
    e = mg.graph.explain(y, (0, 5, 2, 1), wrt="x", grad=dy)
    dx = mg.grad(loss, [ctx.inputs[0]], retain_graph=True)[0].data
    assert e.value == pytest.approx(float(dx[0, 5, 2, 1]), rel=1e-5, abs=1e-7)
    path = mg.graph.explore(loss, classes=CLASSES, quiz=True).save(tmp_path / "quiz-dx.html")
    with open_page(path) as (page, errors, requests):
        page.locator('canvas[data-layer="conv2"][data-channel="0"]').click(
            position={"x": 2, "y": 2}
        )
        page.select_option("#mg-conv select[aria-label='input channel shown']", "5")
        page.click("table.mg-conv-in td[data-i='2'][data-j='1']")
        form = page.locator("form[data-quiz='input gradient']")
        assert form.count() == 1
        assert "input gradient [ch 5, row 2, col 1]" in page.inner_text("#mg-conv .mg-conv-grad")
        form.locator(".mg-quiz-guess").fill(repr(e.value))
        form.locator(".mg-quiz-check").click()
        told = page.inner_text(".mg-quiz-result[data-quiz='input gradient']")
        assert "right" in told and "1 of 1 right" in told
        engine = page.inner_text("#mg-conv .mg-conv-grad .mg-engine")
        assert engine.endswith(fmt(page, dx[0, 5, 2, 1], 8))
        screenshot(page, "quiz-input-gradient-revealed-1400")
    assert errors == [] and requests == []


def shared_kernel() -> tuple[mg.Tensor, mg.Tensor, list[mg.Tensor]]:
    """One kernel used by two convolutions in a row: its gradient is the sum of two
    contributions, one from each."""
    rng = np.random.default_rng(3)
    x = mg.tensor(rng.normal(size=(1, 2, 5, 5)).astype(np.float32), name="x")
    k = mg.tensor(rng.normal(size=(2, 2, 3, 3)).astype(np.float32), requires_grad=True, name="k")
    y1 = mg.ops.conv2d(x, k, padding=1)
    y2 = mg.ops.conv2d(mg.ops.relu(y1), k, padding=1)
    return (y2 * y2).mean(), k, [y1, y2]


def test_a_reused_tensors_gradient_lists_each_contribution_and_the_sum(tmp_path):
    loss, k, ys = shared_kernel()
    dys = mg.grad(loss, ys, retain_graph=True)
    idx = (1, 0, 2, 1)
    parts = [mg.graph.explain(y, idx, wrt="weight", grad=d).value for y, d in zip(ys, dys)]
    total = float(mg.grad(loss, [k], retain_graph=True)[0].data[idx])
    assert sum(parts) == pytest.approx(total, rel=1e-5)
    path = mg.graph.explore(loss).save(tmp_path / "reused.html")
    with open_page(path) as (page, errors, requests):
        names = page.evaluate(
            "MG.payload.graph.network.layers.filter(l => l.main).map(l => l.name)"
        )
        assert len(names) == 2
        for pos, name in enumerate(names):
            page.locator(f'canvas[data-layer="{name}"][data-channel="1"]').click(
                position={"x": 2, "y": 2}
            )
            page.click("table.mg-conv-k td[data-i='2'][data-j='1']")
            grad = page.inner_text("#mg-conv .mg-conv-grad")
            # this convolution's own share first, as dy sliding over its input
            assert grad.split("\n")[0].startswith("weight gradient [1, 0, 2, 1]")
            lines = page.inner_text("#mg-conv .mg-contrib").split("\n")
            assert len(lines) == 3  # two contributions, then their sum
            values = [float(line.lstrip("+ ").split()[0].strip("()")) for line in lines[:2]]
            # in the engine's order (the backward meets the second convolution first)
            np.testing.assert_allclose(values, parts[::-1], rtol=1e-4, atol=1e-7)
            assert "(this convolution)" in lines[1 - pos]
            assert lines[2] == "= " + fmt(page, sum(values), 6)
            engine = page.inner_text("#mg-conv .mg-contrib-total")
            assert engine.endswith(fmt(page, total, 8))
        page.locator("#mg-conv .mg-contrib").scroll_into_view_if_needed()
        screenshot(page, "quiz-reused-contributions-1400")
    assert errors == [] and requests == []


def test_the_predict_first_toggle_is_a_small_box_with_a_44px_target(tmp_path):
    loss, _, _ = lenet_loss(batch=2)
    path = mg.graph.explore(loss, classes=CLASSES).save(tmp_path / "toggle.html")
    for width, height in ((390, 844), (1400, 900)):
        with open_page(path, width=width, height=height) as (page, errors, requests):
            box = page.locator("#mg-quiz-toggle").bounding_box()
            label = page.locator("label.mg-net-quiz").bounding_box()
            assert box["width"] <= 24 and box["height"] <= 24, box
            if width == 390:  # touch: the label around it is the 44 px target
                assert label["height"] >= 44 and label["width"] >= 44, label
            page.click("label.mg-net-quiz")
            assert page.is_checked("#mg-quiz-toggle")
            screenshot(page, f"quiz-toggle-{width}")
        assert errors == [] and requests == []


def test_the_cell_whose_arithmetic_is_open_is_outlined_on_its_map(tmp_path):
    loss, _, _ = lenet_loss(batch=2)
    path = mg.graph.explore(loss, classes=CLASSES).save(tmp_path / "mark.html")
    pixel = (
        "([c, i, j]) => { var cv = document.querySelector("
        "'canvas[data-layer=\"conv1\"][data-channel=\"' + c + '\"]'), k = cv.cell;"
        " var d = cv.getContext('2d').getImageData(j * k + 1, i * k + Math.floor(k / 2), 1, 1).data;"
        " return [d[0], d[1], d[2]]; }"
    )
    with open_page(path) as (page, errors, requests):
        before = page.evaluate(pixel, [2, 0, 1])
        page.locator('canvas[data-layer="conv1"][data-channel="2"]').click(
            position={"x": 2, "y": 2}
        )
        marked = 'canvas[data-layer="conv1"][data-channel="2"]'
        assert page.get_attribute(marked, "data-marked") == "0,0"
        page.click(".mg-conv-next")  # the outline follows the window
        assert page.get_attribute(marked, "data-marked") == "0,1"
        assert page.evaluate(pixel, [2, 0, 1]) == [214, 51, 108] != before
        assert page.locator("canvas[data-marked]").count() == 1
        page.locator('canvas[data-layer="conv1"][data-channel="5"]').click(
            position={"x": 2, "y": 2}
        )
        assert page.get_attribute(marked, "data-marked") is None  # one cell at a time
        assert page.evaluate(pixel, [2, 0, 1]) == before
        page.click("h1")  # a map keeps its own keys while focused
        page.keyboard.press("Escape")
        assert page.locator("canvas[data-marked]").count() == 0
    assert errors == [] and requests == []


def test_the_stepper_hides_a_steps_result_until_a_guess(tmp_path):
    from minigrad.graph.explorer.stepmath import fmt as fmt4
    from minigrad.graph.explorer.stepmath import step_lines
    from minigrad.graph.trace import watch

    loss, _, _ = lenet_loss(batch=2)
    first = next(ev for ev in watch(loss, []).events if ev.kind == "step")
    line, engine, hidden = step_lines(first)[0]
    assert first.node.name == "cross_entropy" and hidden is not None
    assert hidden == line.replace(f"= {fmt4(engine)}", "= ?")  # only the result is hidden
    path = mg.graph.explore(loss, classes=CLASSES, quiz=True).save(tmp_path / "steps.html")
    with open_page(path) as (page, errors, requests):
        page.click("#mg-tab-backward")
        k = page.evaluate("MG.payload.graph.steps.findIndex(s => s.math_quiz) + 1")
        for _ in range(k):  # the seed first, then the loss's own step
            page.click(".mg-stepper button[title^='next step']")
        shown = page.inner_text("#mg-panel .mg-stepmath")
        assert shown.split("\n")[0] == hidden
        assert page.locator("#mg-panel form[data-quiz='step gradient']").count() == 1
        bar = page.inner_text(".mg-stepper .mg-steptext")
        assert " ".join(hidden.split()) in bar  # the stepper's bar hides it too
        page.fill("#mg-panel .mg-quiz-guess", repr(engine))
        page.click("#mg-panel .mg-quiz-check")
        told = page.inner_text("#mg-panel .mg-quiz-result")
        assert "right" in told and "1 of 1 right" in told
        assert page.inner_text("#mg-panel .mg-stepmath").split("\n")[0] == line
        assert page.evaluate("MG.stepState.k") == k
        screenshot(page, "quiz-stepper-revealed-1400")
    assert errors == [] and requests == []
