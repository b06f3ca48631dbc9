"""How sums are written, one rule everywhere: a negative number after an operator in
parentheses (``+ (-0.0623) (bias)``, never ``+ -0.0623``), float noise around a true 0
written ``0``, long gradient sums led by their largest terms then ``+ N more terms``. The
same rules for ``explain()`` text, the stepper's lines, and (in Chromium) the page's own
formatter and derivative cards."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
from browser import open_page
from test_network_view import CLASSES, lenet_loss

import minigrad as mg
from minigrad.graph.explorer.network import network_layers
from minigrad.graph.explorer.stepmath import plain_words, step_math
from minigrad.graph.trace import watch
from minigrad.numtext import num, sum_text, term

NEGATIVE_AFTER_OPERATOR = re.compile(r"[-+*/] -\d|[*/]-\d|\+ -")


@pytest.fixture(autouse=True)
def no_dot(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("empty-path")))
    assert shutil.which("dot") is None


def cancelling_conv() -> mg.Tensor:
    """0.0409735 + 0.0165276 + (-0.0575012) is 0 in exact arithmetic; float32 says 1.9e-09."""
    a, b = np.float32(0.040973525), np.float32(0.016527636)
    c = np.float32(-(np.float64(a) + np.float64(b)))
    x = mg.tensor(np.array([a, b, c], np.float32).reshape(1, 1, 1, 3))
    return mg.ops.conv2d(x, mg.tensor(np.ones((1, 1, 1, 3), np.float32)))


def test_a_negative_bias_is_written_in_parentheses():
    x = mg.tensor(np.ones((1, 1, 2, 2)))
    k = mg.tensor(np.full((1, 1, 2, 2), -0.5))
    y = mg.ops.conv2d(x, k, mg.tensor([-0.0623]))
    text = str(mg.graph.explain(y, (0, 0, 0, 0)))
    assert text == "1*(-0.5) + 1*(-0.5) + 1*(-0.5) + 1*(-0.5) + (-0.0623) (bias) = -2.0623"
    assert not NEGATIVE_AFTER_OPERATOR.search(text)


def test_a_sum_that_is_zero_within_rounding_shows_0_not_float_noise():
    y = cancelling_conv()
    assert y.data.ravel()[0] != 0  # the engine's float32 noise
    e = mg.graph.explain(y, (0, 0, 0, 0))
    assert e.text.endswith(" = 0") and "e-09" not in e.text
    assert e.value == float(y.data.ravel()[0])  # the number itself stays the engine's


def test_a_weight_gradient_sum_leads_with_its_largest_terms():
    x = mg.tensor(np.arange(36.0).reshape(1, 1, 6, 6) / 10)
    k = mg.tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    y = mg.ops.conv2d(x, k)
    g = np.zeros(y.shape)
    g[0, 0, 4, 4], g[0, 0, 1, 2], g[0, 0, 3, 0] = 2.0, -1.0, 0.5
    e = mg.graph.explain(y, (0, 0, 1, 1), wrt="weight", grad=g)
    assert e.value == pytest.approx(float(np.sum(g[0, 0] * x.data[0, 0, 1:6, 1:6])))
    # 25 positions, 3 non-zero: the three, by size, then how many more (all 0)
    big, mid, small = 2.0 * x.data[0, 0, 5, 5], -1.0 * x.data[0, 0, 2, 3], 0.5 * x.data[0, 0, 4, 1]
    assert abs(big) > abs(mid) > abs(small)
    assert e.text.startswith(f"2*{term(x.data[0, 0, 5, 5])} + (-1)*{term(x.data[0, 0, 2, 3])} + ")
    assert "+ 22 more terms, all 0 = " in e.text


def test_no_text_explain_or_the_stepper_writes_has_a_bare_negative_after_an_operator():
    loss, _, _ = lenet_loss(batch=2)
    layers = {item["name"]: item for item in network_layers(loss)}
    outs = {n: layers[n]["output"] for n in ("conv1", "pool1", "conv2", "pool2")}
    grads = dict(zip(outs, mg.grad(loss, list(outs.values()), retain_graph=True)))
    texts = []
    for name, y in outs.items():
        x = layers[name]["main"].inputs[0]
        for idx in [(0, 1, 0, 0), (1, 3, 1, 1), (0, 5, 1, 0)]:
            texts.append(mg.graph.explain(y, idx).text)
            at = tuple(min(v, s - 1) for v, s in zip(idx, x.shape))
            texts.append(mg.graph.explain(y, at, wrt=0, grad=grads[name]).text)
        if name.startswith("conv"):
            texts.append(mg.graph.explain(y, (2, 0, 1, 1), wrt="weight", grad=grads[name]).text)
            texts.append(mg.graph.explain(y, (4,), wrt="bias", grad=grads[name]).text)
    for ev in watch(loss, []).events:
        if ev.kind == "step":
            texts.extend(step_math(ev))
    assert len(texts) > 40
    for text in texts:
        assert not NEGATIVE_AFTER_OPERATOR.search(text), text
        assert not re.search(r"= -?\d(\.\d+)?e-(09|1\d)", text), text  # float noise as 0


def test_conv_steps_write_one_elements_terms_and_the_card_words_the_jargon():
    loss, _, _ = lenet_loss(batch=2)
    lines = [
        line
        for ev in watch(loss, []).events
        if ev.kind == "step" and ev.node.name == "conv2d"
        for line in step_math(ev)
    ]
    weight = [line for line in lines if line.startswith("dweight")]
    assert weight and all("more terms" in line and "*" in line for line in weight)
    assert "flipped kernel" in plain_words("conv2d")
    assert "conv_transpose2d" in plain_words("conv2d")


def test_the_pages_formatter_follows_the_python_rules(tmp_path):
    loss, _, _ = lenet_loss(batch=2)
    path = mg.graph.explore(loss, classes=CLASSES).save(tmp_path / "numbers.html")
    cases = [
        (["0.4*(-1)", "0.5*2"], 0.6, {"bias": -0.0623}),
        (["(-0.5)*2", "1"], 0.0, {"scale": 2.0}),
        (["0.25", "(-0.25)"], -3.7e-09, {"scale": 0.5}),
        (["1", "0", "3", "0", "2"], 6.0, {"sizes": [1, 0, 3, 0, 2], "keep": 2, "limit": 4}),
        (["0", "5", "0", "0", "0"], 5.0, {"sizes": [0, 5, 0, 0, 0], "keep": 2, "limit": 4}),
    ]
    with open_page(path) as (page, errors, requests):
        for parts, value, opts in cases:
            js = page.evaluate("([p, v, o]) => MG.sumText(p, v, o)", [parts, value, opts])
            assert js == sum_text(parts, value, **opts)
        assert page.evaluate("MG.term(-0.0623, 6)") == term(-0.0623) == "(-0.0623)"
        # the derivative card of conv1: the plain sentence and one element's lines
        page.click("#mg-tab-backward")
        page.evaluate(
            "() => { var v = MG.payload.graph.views.backward.nodes;"
            " var id = Object.keys(v).filter(k => v[k].call &&"
            " MG.payload.graph.calls[v[k].call].op === 'conv2d')[0];"
            " MG.emit('select', {view: 'backward', id: id}); }"
        )
        card = page.inner_text("#mg-panel .mg-card")
        assert "flipped kernel" in card and "first elements" not in card
        math = page.inner_text("#mg-panel .mg-card-math").split("\n")
        steps = page.evaluate("MG.payload.graph.steps.filter(s => s.math).map(s => s.math)")
        assert math in steps
        assert not NEGATIVE_AFTER_OPERATOR.search(page.inner_text("#mg-panel"))
    assert errors == [] and requests == []


def test_the_conv_view_writes_a_cancelling_sum_as_0(tmp_path):
    y = cancelling_conv()
    path = mg.graph.explore(y).save(tmp_path / "zero.html")
    with open_page(path) as (page, errors, requests):
        page.goto(page.url + "#node=conv2d&cell=0,0,0,0")
        page.reload()
        page.wait_for_selector("#mg-conv .mg-conv-arith")
        arith = page.inner_text("#mg-conv .mg-conv-arith").split("\n")[0]
        assert arith == str(mg.graph.explain(y, (0, 0, 0, 0)))  # the same text as Python's
        assert arith.endswith(" = 0")
        assert page.inner_text("#mg-conv .mg-conv-engine") == "engine's value: 0"
    assert errors == [] and requests == []


# one rule for every number: the page's MG.fmt writes what numtext.num writes
VALUES = [1e-4, -2.7165e-4, 1e-8, 123456.7, 0.0, -0.0, 0.125, -0.5, 2.5, 9.9996, 99999.95]
VALUES += [1 / 3, 0.1 + 0.2, -3.7e-09, 1.7976931348623157e308, 5e-324, 2.0**-20, 0.3359375]


def test_python_writes_small_and_large_numbers_one_way():
    assert num(-2.7165e-4) == "-0.00027165" and num(1e-4) == "0.0001"
    assert num(1e-8) == "1e-08" and num(-3.7e-09) == "-3.7e-09"
    assert num(123456.7) == "123457" and num(123456.7, 4) == "1.235e+05"
    assert num(0.0) == num(-0.0) == "0"
    assert num(0.125, 2) == "0.13" and num(-2.5, 1) == "-3"  # a tie: away from zero
    assert num(9.9996, 4) == "10" and num(99999.95, 6) == "99999.9"  # 99999.95 is below .95
    rng = np.random.default_rng(0)
    for v in rng.standard_normal(200) * 10.0 ** rng.integers(-12, 12, 200):
        for d in (1, 3, 4, 6):
            assert float(num(v, d)) == pytest.approx(float(f"{v:.{d - 1}e}"), rel=1e-12)


def test_the_pages_numbers_are_the_python_text_for_every_value(tmp_path):
    y = cancelling_conv()
    path = mg.graph.explore(y).save(tmp_path / "fmt.html")
    rng = np.random.default_rng(1)
    values = VALUES + [
        float(v) for v in rng.standard_normal(300) * 10.0 ** rng.integers(-9, 9, 300)
    ]
    values += [float(v) for v in rng.standard_normal(100).astype(np.float32)]
    with open_page(path) as (page, errors, requests):
        for d in (3, 4, 6):
            js = page.evaluate("([vs, d]) => vs.map(v => MG.fmt(v, d))", [values, d])
            assert js == [num(v, d) for v in values], d
            js = page.evaluate("([vs, d]) => vs.map(v => MG.term(v, d))", [values, d])
            assert js == [term(v, d) for v in values], d
        assert page.evaluate("MG.fmt(-2.7165e-4, 6)") == "-0.00027165"
        assert page.evaluate("MG.fmt(1e-8)") == "1e-08"
    assert errors == [] and requests == []


def test_explain_update_writes_negatives_after_an_operator_in_parentheses():
    mg.manual_seed(0)
    w = mg.nn.Parameter(mg.tensor([0.5, -2.0, 3e-4, -2.7165e-4]), name="w")
    opts = [
        mg.optim.SGD([w], lr=0.1, momentum=0.9, weight_decay=1e-4),
        mg.optim.Adam([w], lr=1e-3),
    ]
    for opt in opts:
        for _ in range(2):  # the second step has a momentum buffer / Adam state to write out
            opt.zero_grad()
            (w * mg.tensor([-4.0, 1.5, -1e-8, 2.0])).sum().backward()
            for k in range(w.size):
                e = opt.explain_update(w, k)
                for line in e["lines"]:
                    assert not NEGATIVE_AFTER_OPERATOR.search(line), line
                    for written in re.findall(r"(?<![\w.])-?\d[\d.]*(?:e[-+]\d+)?", line):
                        if "e" in written or "." in written:  # a float: the one rule's text
                            assert written == num(float(written)), (written, line)
            opt.step()
    opts[0].zero_grad()
    (w * -4.0).sum().backward()
    sgd = opts[0].explain_update(w, 0)["lines"]
    assert sgd[1].startswith("g = grad + weight_decay * w = -4 + 0.0001 * ")  # opens bare
    assert sgd[-2].startswith("u = lr * b = 0.1 * (-") and " - (-" in sgd[-1], sgd
