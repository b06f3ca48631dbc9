"""The network view (the page's first view) and the linked convolution view, in Chromium.

Every number is compared with the engine's: the feature maps with the layers' outputs, the
probabilities with ``mg.ops.softmax`` of the logits, the convolution view's cells and
products with ``mg.graph.explain``. Screenshots go to out/test-artifacts/network-*.png.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from browser import no_sideways_scroll, open_page, screenshot
from test_explain import FILT, PATCH

import minigrad as mg
from minigrad.demo.models import build_lenet
from minigrad.graph.explorer.network import network_layers

CLASSES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@pytest.fixture(autouse=True)
def no_dot(monkeypatch, tmp_path_factory):
    """Pages are built with an empty PATH: no Graphviz program is needed."""
    monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("empty-path")))
    assert shutil.which("dot") is None


def payload(html: str) -> dict:
    return json.loads(html.split('id="mg-payload">', 1)[1].split("</script>", 1)[0])["graph"]


def lenet_loss(batch: int = 4) -> tuple[mg.Tensor, mg.Tensor, mg.Tensor]:
    mg.manual_seed(0)
    model = build_lenet()
    rng = np.random.default_rng(1)
    x = mg.tensor(rng.random((batch, 1, 8, 8)).astype(np.float32), name="images")
    y = mg.tensor(np.array([3, 1, 4, 1, 5, 9, 2, 6][:batch]), name="labels")
    logits = model(x)
    return mg.ops.cross_entropy(logits, y), logits, y


def seed_conv() -> mg.Tensor:
    """The seed's first conv as a learner writes it: plain tensors, no requires_grad."""
    img = np.zeros((6, 6))
    img[:3, :3] = PATCH
    img[3:, 3:] = 0.5
    return mg.ops.conv2d(
        mg.tensor(img.reshape(1, 1, 6, 6), name="image"),
        mg.tensor(FILT.reshape(1, 1, 3, 3), name="filter"),
    )


def fmt(page, v: float, digits: int = 3) -> str:
    return page.evaluate("([v, d]) => MG.fmt(v, d)", [float(v), digits])


def test_the_page_opens_on_the_network_with_every_channel_and_the_probabilities(tmp_path):
    loss, logits, y = lenet_loss()
    layers = {layer["name"]: layer for layer in network_layers(loss)}
    ex = mg.graph.explore(loss, classes=CLASSES, samples=4)
    path = ex.save(tmp_path / "lenet.html")
    probs = mg.ops.softmax(logits.detach(), axis=1).data  # the engine's softmax
    for width in (1400, 390):
        with open_page(path, width=width) as (page, errors, requests):
            assert page.evaluate("MG.state.view") == "network"
            names = page.locator(".mg-net-col .mg-net-name").all_inner_texts()
            assert names == [
                "images", "conv1", "relu1", "pool1", "conv2", "relu2", "pool2",
                "flatten", "fc1", "relu3", "fc2", "loss",
            ]  # fmt: skip
            for name in ("conv1", "relu1", "pool1", "conv2", "relu2", "pool2"):
                channels = layers[name]["output"].shape[1]
                maps = page.locator(f'.mg-net-col canvas[data-layer="{name}"]')
                assert maps.count() == channels, name
            # the pictures are drawn from the engine's arrays: conv1's output, sample 0
            shown = page.evaluate(
                "() => { var L = MG.payload.graph.network.layers[0];"
                " return Array.from(MG.arr(MG.payload.graph.tensors[L.tensor].value).data); }"
            )
            np.testing.assert_array_equal(
                np.array(shown, np.float32).reshape(4, 16, 8, 8), layers["conv1"]["output"].data
            )
            for n in range(2):
                if n:
                    page.select_option("#mg-net-sample", "1")
                rows = page.locator(".mg-net-prob")
                assert rows.count() == 10
                assert rows.locator(".mg-net-pname").all_inner_texts() == CLASSES
                p = [float(v) for v in rows.evaluate_all("els => els.map(e => e.dataset.p)")]
                np.testing.assert_allclose(p, probs[n], rtol=1e-6)
                assert page.inner_text(".mg-net-predicted") == CLASSES[int(np.argmax(probs[n]))]
                assert page.inner_text(".mg-net-label") == CLASSES[int(y.data[n])]
                assert page.inner_text(".mg-net-batchloss") == fmt(page, loss.item(), 6)
            page.select_option("#mg-net-sample", "0")
            assert no_sideways_scroll(page)
            screenshot(page, f"network-first-view-{width}")
        assert errors == [] and requests == []


def test_conv_view_cells_and_products_equal_explain_and_the_window_visits_every_cell(tmp_path):
    y = seed_conv()
    path = mg.graph.explore(y).save(tmp_path / "seed.html")
    H, W = y.shape[2:]
    with open_page(path) as (page, errors, requests):
        page.locator('canvas[data-layer="conv2d"]').click(position={"x": 2, "y": 2})
        arith = page.inner_text("#mg-conv .mg-conv-arith")
        assert arith.startswith("0.8*1 + 0.5*0 + 0.1*(-1)") and "= 3.3" in arith
        assert "3.3" in page.inner_text("#mg-conv .mg-conv-engine")
        assert "node=conv2d" in page.evaluate("location.hash")
        seen = set()
        for k in range(H * W):
            cell = tuple(int(v) for v in page.get_attribute("#mg-conv", "data-cell").split(","))
            assert cell == (0, 0, k // W, k % W)
            seen.add(cell)
            e = mg.graph.explain(y, cell)
            products = page.locator("table.mg-conv-products td").all_inner_texts()
            assert products == [fmt(page, v) for v in e.terms]  # all 9 cells are inside
            window = page.locator("table.mg-conv-in td.mg-in-win").all_inner_texts()
            assert window == [fmt(page, v) for v in e.window["x"][0].ravel()]
            kernel = page.locator("table.mg-conv-k td").all_inner_texts()
            assert kernel == [fmt(page, v) for v in FILT.ravel()]
            assert fmt(page, e.value, 8) in page.inner_text("#mg-conv .mg-conv-engine")
            if k == 5:
                screenshot(page, "network-conv-view-mid-1400")
            if k < H * W - 1:
                page.click(".mg-conv-next")
        assert len(seen) == H * W
        # play: the window slides from the first cell through every cell and stops at the last
        page.evaluate("MG.convView.interval = 20")
        page.click(".mg-conv-play")
        page.wait_for_function(
            f"MG.convView.state().frame === {H * W - 1} && !MG.convView.playing()"
        )
        assert page.evaluate("MG.convView.state().played") == list(range(H * W))
    assert errors == [] and requests == []


def test_seed_deep_link_shows_the_3_3_arithmetic_on_a_phone(tmp_path):
    path = mg.graph.explore(seed_conv()).save(tmp_path / "seed.html")
    with open_page(f"{path}", width=390, height=844) as (page, errors, requests):
        page.goto(page.url + "#node=conv2d&cell=0,0,0,0")
        page.reload()
        page.wait_for_selector("#mg-conv .mg-conv-arith")
        assert page.inner_text("#mg-conv .mg-conv-arith").startswith("0.8*1 + 0.5*0")
        assert "= 3.3" in page.inner_text("#mg-conv .mg-conv-arith")
        page.evaluate("MG.convView.interval = 100000")
        page.click(".mg-conv-next")
        page.click(".mg-conv-next")
        page.locator("#mg-conv").scroll_into_view_if_needed()
        assert no_sideways_scroll(page)
        screenshot(page, "network-conv-view-mid-390")
    assert errors == [] and requests == []


def test_pooling_shows_its_window_and_the_winner(tmp_path):
    loss, _, _ = lenet_loss(batch=2)
    pool = next(layer for layer in network_layers(loss) if layer["name"] == "pool1")["output"]
    path = mg.graph.explore(loss, classes=CLASSES).save(tmp_path / "pool.html")
    with open_page(path) as (page, errors, requests):
        cv = page.locator('canvas[data-layer="pool1"][data-channel="3"]')
        box = cv.bounding_box()
        cell = box["width"] / pool.shape[3]
        cv.click(position={"x": cell * 2.5, "y": cell * 1.5})  # row 1, col 2
        e = mg.graph.explain(pool, (0, 3, 1, 2))
        assert page.get_attribute("#mg-conv", "data-cell") == "0,3,1,2"
        text = page.inner_text("#mg-conv .mg-conv-arith")
        r, c = e.winner[2:]
        assert text == f"max of 4 values = {fmt(page, e.value, 6)} (winner at row {r}, col {c})"
        winner = page.locator("table.mg-conv-in td.mg-winner")
        assert winner.count() == 1
        assert winner.get_attribute("data-i") == str(r) and winner.get_attribute("data-j") == str(c)
        screenshot(page, "network-pool-view-1400")
    assert errors == [] and requests == []


def test_network_payload_for_mg_ops_and_for_modules():
    loss, _, _ = lenet_loss(batch=2)
    net = payload(mg.graph.explore(loss, classes=CLASSES).html)["network"]
    fc1 = next(layer for layer in net["layers"] if layer["name"] == "fc1")
    assert fc1["kind"] == "dense" and set(fc1["ops"]) >= {"matmul", "add"}  # one layer
    assert net["prediction"]["classes"] == CLASSES
    with pytest.raises(ValueError, match="classes has 3 names but the loss 'cross_entropy'"):
        mg.graph.explore(loss, classes=["a", "b", "c"])
    # plain mg.ops calls: the ops on the path from the input to the output
    names = [
        layer["name"] for layer in network_layers(mg.ops.max_pool2d(mg.ops.relu(seed_conv()), 2))
    ]
    assert names == ["conv2d", "relu", "max_pool2d"]


def test_quiz_hides_the_cell_then_reveals_the_engines_value_and_keeps_score(tmp_path):
    y = seed_conv()
    path = mg.graph.explore(y, quiz=True).save(tmp_path / "quiz.html")
    for width in (1400, 390):
        with open_page(path, width=width) as (page, errors, requests):
            assert page.is_checked("#mg-quiz-toggle")
            page.locator('canvas[data-layer="conv2d"]').click(position={"x": 2, "y": 2})
            assert page.locator("#mg-conv .mg-conv-arith").count() == 0
            assert page.inner_text("table.mg-conv-out td.mg-now") == "?"
            assert set(page.locator("table.mg-conv-products td").all_inner_texts()) == {"?"}
            assert "3.3" not in page.inner_text("#mg-conv")
            page.locator("#mg-conv").scroll_into_view_if_needed()
            screenshot(page, f"network-quiz-hidden-{width}")
            page.fill(".mg-quiz-guess", "3.3")
            page.click(".mg-quiz-check")
            assert page.inner_text("#mg-conv .mg-conv-arith").split("\n")[0].endswith("= 3.3")
            result = page.inner_text(".mg-quiz-result")
            assert "right" in result and "1 of 1 right" in result
            page.click(".mg-conv-next")  # the next window is hidden again
            assert page.locator(".mg-quiz-guess").count() == 1
            e = mg.graph.explain(y, (0, 0, 0, 1))
            page.fill(".mg-quiz-guess", "0")
            page.keyboard.press("Enter")
            result = page.inner_text(".mg-quiz-result")
            assert f"the engine's value {fmt(page, e.value, 6)}" in result
            assert f"off by {fmt(page, -e.value, 4)}" in result and "1 of 2 right" in result
            page.locator("#mg-conv").scroll_into_view_if_needed()
            screenshot(page, f"network-quiz-revealed-{width}")
            page.uncheck("#mg-quiz-toggle")  # quiz off: every value shows again
            assert page.locator(".mg-quiz-guess").count() == 0
        assert errors == [] and requests == []


def test_conv_view_backward_weight_and_input_gradients_are_the_engines(tmp_path):
    loss, _, _ = lenet_loss(batch=2)
    conv1 = next(layer for layer in network_layers(loss) if layer["name"] == "conv1")
    ctx = conv1["main"]
    dw = mg.grad(loss, [ctx.inputs[1]], retain_graph=True)[0].data
    path = mg.graph.explore(loss, classes=CLASSES).save(tmp_path / "back.html")
    with open_page(path) as (page, errors, requests):
        page.locator('canvas[data-layer="conv1"][data-channel="2"]').click(
            position={"x": 2, "y": 2}
        )
        page.click("table.mg-conv-k td[data-i='1'][data-j='2']")
        text = page.inner_text("#mg-conv .mg-conv-grad")
        assert "weight gradient [2, 0, 1, 2]" in text
        assert text.rstrip().split("= ")[-1].startswith(fmt(page, dw[2, 0, 1, 2], 6))
        assert "more terms" in text  # 2 samples x 64 positions: the largest first, then a count
        first = text.split("\n")[1].split(" + ")[0]
        a, b = (float(v) for v in first.split("*"))
        assert abs(a * b) > 0  # a term that counts comes first, not a run of zeros
        page.click("table.mg-conv-in td[data-i='3'][data-j='4']")
        assert "input gradient [ch 0, row 3, col 4]" in page.inner_text("#mg-conv .mg-conv-grad")
        screenshot(page, "network-conv-backward-1400")
    assert errors == [] and requests == []


def test_after_backward_the_page_says_the_values_were_freed_and_shows_no_made_up_prediction(
    tmp_path,
):
    """backward() without retain_graph frees the layers' outputs (zero-byte stand-ins): the
    page must not compute probabilities from them, and says how to keep them."""
    loss, logits, _ = lenet_loss()
    kept = mg.graph.explore(loss)  # before backward: everything is there
    assert payload(kept.html)["network"]["prediction"] is not None
    assert payload(kept.html)["network"]["freed"] is False
    del logits  # only the graph holds the logits now, as in a training loop
    loss.backward()
    page = mg.graph.explore(loss)
    net = payload(page.html)["network"]
    assert net["freed"] is True and net["prediction"] is None
    with open_page(page.save(tmp_path / "freed.html")) as (p, errors, requests):
        note = p.inner_text("#mg-net-freed")
        assert "before loss.backward()" in note and "retain_graph=True" in note
        assert p.locator(".mg-net-prob").count() == 0  # no probabilities from zeros
        loss_text = p.inner_text('section.mg-net-col[data-layer="loss"] .mg-net-loss')
        assert loss_text == fmt(p, loss.item(), 6)  # the loss the user holds is still there
        screenshot(p, "network-freed-1400")
    assert errors == [] and requests == []


def test_a_teachers_link_names_a_model_layer_by_its_display_name(tmp_path):
    """#node=conv1&cell=n,c,i,j on a model's page opens that cell's arithmetic, the engine's."""
    loss, _, _ = lenet_loss(batch=2)
    path = mg.graph.explore(loss, classes=CLASSES).save(tmp_path / "lenet.html")
    conv1 = next(layer["output"] for layer in network_layers(loss) if layer["name"] == "conv1")
    e = mg.graph.explain(conv1, (1, 2, 3, 4))
    with open_page(path) as (page, errors, requests):
        page.goto(page.url + "#node=conv1&cell=1,2,3,4")
        page.reload()
        page.wait_for_selector("#mg-conv .mg-conv-arith")
        assert page.get_attribute("#mg-conv", "data-cell") == "1,2,3,4"
        assert fmt(page, e.value, 8) in page.inner_text("#mg-conv .mg-conv-engine")
        products = page.locator("table.mg-conv-products td").all_inner_texts()
        assert products == [fmt(page, v) for v in e.terms.ravel()]
    assert errors == [] and requests == []
