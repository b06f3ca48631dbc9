"""The network view's first view holds the whole network, input to loss, inside the width:
at 1280x720, 1400x900, 1920x1080 and in an 880 px wide notebook frame, for the demo's X-vs-O
CNN, its digits LeNet and a LeNet on 28x28 images. Every column's box is inside the window,
the probabilities, the predicted class and the losses are visible and are the engine's, a
map cell still opens its arithmetic, and the row is fitted again when the window changes.
A network too long to fit scrolls sideways with its output column pinned in view.
Screenshots go to out/test-artifacts/network-fit-*.png.
"""

from __future__ import annotations

import shutil
from collections import OrderedDict

import numpy as np
import pytest
from browser import no_sideways_scroll, open_page, screenshot
from test_explorer_size import lenet
from test_network_view import CLASSES, lenet_loss

import minigrad as mg
from minigrad import data, demo, nn
from minigrad.graph.explorer.network import network_layers
from minigrad.numtext import num

SIZES = [(1280, 720), (1400, 900), (1920, 1080), (880, 760)]

BOXES = """() => Array.from(document.querySelectorAll('.mg-net-col')).map(c => {
  var b = c.getBoundingClientRect();
  return {name: c.querySelector('.mg-net-name').textContent, left: b.left, right: b.right};
})"""


@pytest.fixture(autouse=True)
def no_dot(monkeypatch, tmp_path_factory):
    """Pages are built with an empty PATH: no Graphviz program is needed."""
    monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("empty-path")))
    assert shutil.which("dot") is None


def xo_loss() -> tuple[mg.Tensor, mg.Tensor, mg.Tensor]:
    """The demo's default CNN (X vs O, 9x9 images) on four pictures."""
    mg.manual_seed(0)
    model = demo.build_xo_model()
    x, y = data.xo_images(n_per_class=2, seed=0)
    logits = model(mg.tensor(x, name="images"))
    labels = mg.tensor(y, name="labels")
    return nn.CrossEntropyLoss()(logits, labels), logits, labels


def lenet28_loss() -> tuple[mg.Tensor, mg.Tensor, mg.Tensor]:
    """LeNet-5 on 28x28 digits: 14 columns from the images to the loss."""
    mg.manual_seed(0)
    x = mg.randn(4, 1, 28, 28, name="images")
    logits = lenet()(x)
    labels = mg.tensor(np.array([3, 1, 4, 1]))
    return nn.CrossEntropyLoss()(logits, labels), logits, labels


MODELS = {
    "xo": (xo_loss, list(data.XO_CLASSES)),
    "digits": (lambda: lenet_loss(batch=4), CLASSES),
    "lenet28": (lenet28_loss, CLASSES),
}


@pytest.mark.parametrize("model", list(MODELS))
def test_the_first_view_holds_every_layer_and_the_output_inside_the_width(model, tmp_path):
    make, classes = MODELS[model]
    loss, logits, labels = make()
    names = ["images", *[layer["name"] for layer in network_layers(loss)]]
    probs = mg.ops.softmax(logits.detach(), axis=1).data  # the engine's softmax
    path = mg.graph.explore(loss, classes=classes).save(tmp_path / f"{model}.html")
    for width, height in SIZES:
        with open_page(path, width=width, height=height) as (page, errors, requests):
            assert page.evaluate("MG.state.view") == "network"
            boxes = page.evaluate(BOXES)
            assert [b["name"] for b in boxes] == names
            for b in boxes:  # every column inside the window, none pushed out to the right
                assert b["left"] >= 0 and b["right"] <= width, (width, b)
            assert page.evaluate("MG.netFit().plan.fit") is True
            assert no_sideways_scroll(page)
            assert page.evaluate(
                "(() => { var s = document.querySelector('.mg-net-scroll');"
                " return s.scrollWidth <= s.clientWidth; })()"
            )
            # the output: probabilities with class names, the verdict and the losses, visible
            rows = page.locator(".mg-net-prob")
            assert rows.locator(".mg-net-pname").all_inner_texts() == classes
            p = [float(v) for v in rows.evaluate_all("els => els.map(e => e.dataset.p)")]
            np.testing.assert_allclose(p, probs[0], rtol=1e-6)
            assert rows.locator(".mg-net-pval").all_inner_texts() == [num(v, 4) for v in p]
            assert page.inner_text(".mg-net-predicted") == classes[int(np.argmax(probs[0]))]
            assert page.inner_text(".mg-net-label") == classes[int(labels.data[0])]
            assert page.inner_text(".mg-net-batchloss") == num(loss.item(), 6)
            for sel in (".mg-net-probs", ".mg-net-verdict", ".mg-net-batchloss"):
                box = page.locator(sel).bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= width, (sel, width)
                assert box["y"] >= 0 and box["y"] + box["height"] <= height, (sel, height)
            # every channel is still a picture: one canvas per channel, no smaller than 16 px
            sizes = page.evaluate(
                "Array.from(document.querySelectorAll('.mg-net-maps canvas'))"
                ".map(c => c.getBoundingClientRect().width)"
            )
            maps = sum(
                layer["output"].shape[1]
                for layer in network_layers(loss)
                if layer["output"].ndim == 4
            )
            assert len(sizes) == maps + 1 and min(sizes) >= 16
            screenshot(page, f"network-fit-{model}-{width}")
        assert errors == [] and requests == []


def test_a_map_cell_in_the_fitted_row_opens_the_engines_arithmetic(tmp_path):
    loss, _, _ = lenet28_loss()
    conv1 = next(layer for layer in network_layers(loss) if layer["name"] == "conv1")["output"]
    path = mg.graph.explore(loss, classes=CLASSES).save(tmp_path / "click.html")
    with open_page(path, width=880, height=760) as (page, errors, requests):
        cv = page.locator('canvas[data-layer="conv1"][data-channel="2"]')
        box = cv.bounding_box()
        H, W = conv1.shape[2:]
        i, j = 5, 7
        cv.click(position={"x": (j + 0.5) * box["width"] / W, "y": (i + 0.5) * box["height"] / H})
        assert page.get_attribute("#mg-conv", "data-cell") == f"0,2,{i},{j}"
        e = mg.graph.explain(conv1, (0, 2, i, j))
        assert page.inner_text("#mg-conv .mg-conv-arith").split("\n")[0] == str(e)
    assert errors == [] and requests == []


def test_the_row_is_fitted_again_when_the_window_changes(tmp_path):
    loss, _, _ = lenet28_loss()
    path = mg.graph.explore(loss, classes=CLASSES).save(tmp_path / "resize.html")
    with open_page(path, width=1920, height=1080) as (page, errors, requests):
        wide = page.evaluate("MG.netFit().plan.tile")
        page.set_viewport_size({"width": 880, "height": 760})
        page.wait_for_function("MG.netFit().width < 900")
        assert page.evaluate("MG.netFit().plan.tile") < wide
        for b in page.evaluate(BOXES):
            assert b["left"] >= 0 and b["right"] <= 880, b
        page.set_viewport_size({"width": 390, "height": 844})  # a phone: the columns stack
        page.wait_for_function("MG.netFit().stacked")
        assert no_sideways_scroll(page)
        screenshot(page, "network-fit-resized-390")
    assert errors == [] and requests == []


def test_a_network_too_long_to_fit_scrolls_with_its_output_pinned(tmp_path):
    mg.manual_seed(0)
    layers: list[tuple[str, nn.Module]] = [("conv0", nn.Conv2d(1, 4, 3, padding=1))]
    for k in range(1, 15):
        layers += [(f"relu{k}", nn.ReLU()), (f"conv{k}", nn.Conv2d(4, 4, 3, padding=1))]
    layers += [("flatten", nn.Flatten()), ("fc", nn.Linear(4 * 8 * 8, 10))]
    model = nn.Sequential(OrderedDict(layers))
    x = mg.randn(2, 1, 8, 8, name="images")
    loss = nn.CrossEntropyLoss()(model(x), mg.tensor(np.array([1, 2])))
    assert len(network_layers(loss)) >= 30
    path = mg.graph.explore(loss, classes=CLASSES).save(tmp_path / "long.html")
    with open_page(path, width=1280, height=720) as (page, errors, requests):
        assert page.evaluate("MG.netFit().plan.fit") is False
        scroller = "document.querySelector('.mg-net-scroll')"
        assert page.evaluate(f"{scroller}.scrollWidth > {scroller}.clientWidth")
        assert no_sideways_scroll(page)  # the row scrolls, not the page
        for left in (0, 10_000):
            page.evaluate(f"{scroller}.scrollLeft = {left}")
            box = page.locator(".mg-net-col.mg-net-last").bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 1280
            assert page.locator(".mg-net-batchloss").is_visible()
            if left == 0:
                screenshot(page, "network-fit-long-pinned-1280")
        assert page.inner_text(".mg-net-batchloss") == num(loss.item(), 6)
    assert errors == [] and requests == []


def test_a_notebook_frame_takes_the_height_of_the_first_view(tmp_path):
    loss, _, _ = lenet_loss(batch=4)
    html = mg.graph.explore(loss, classes=CLASSES)._repr_html_()
    assert "height:760px" in html  # the height where the output runs no scripts
    host = tmp_path / "notebook-output.html"  # the output as a notebook shows it
    host.write_text(f"<!DOCTYPE html><html><body>{html}</body></html>", encoding="utf-8")
    with open_page(host, width=880, height=1200) as (page, errors, requests):
        page.wait_for_function("document.querySelector('iframe').style.height !== '760px'")
        frame_h = page.evaluate("document.querySelector('iframe').getBoundingClientRect().height")
        frame = page.frame_locator("iframe")
        bottom = frame.locator(".mg-net-row").evaluate("e => e.getBoundingClientRect().bottom")
        assert 360 <= frame_h <= 1400 and bottom <= frame_h  # the whole first view, no scroll
        for b in frame.locator(".mg-net-col").evaluate_all(
            "els => els.map(e => e.getBoundingClientRect().right)"
        ):
            assert b <= 880
        assert frame.locator(".mg-net-batchloss").is_visible()
        screenshot(page, "network-fit-notebook-frame-880")
    assert errors == [] and requests == []
