"""The static picture a notebook keeps for viewers that run no scripts: the network view.

``mg.graph.explore(loss)``'s ``image/svg+xml`` is the page's first view for sample 0, drawn
from the page's own data: every layer by its display name in order, every channel of a
conv/relu/pool map as an embedded PNG coloured by the page's colour scale (checked against
the page's ``MG.heat.color`` in Chromium), the probabilities as the engine's softmax of the
logits written as the page writes them, and the loss. It opens as an ``<img>`` in Chromium
with no request. Screenshots go to out/test-artifacts/picture-*.png.
"""

from __future__ import annotations

import base64
import math
import struct
import xml.etree.ElementTree as ET
import zlib

import numpy as np
import pytest
from browser import open_page, screenshot
from test_explorer_size import lenet as lenet_model

import minigrad as mg
from minigrad import data, nn
from minigrad.demo.models import build_xo_model
from minigrad.graph.explorer.network import network_layers
from minigrad.numtext import num

SVG = "{http://www.w3.org/2000/svg}"
CLASSES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
MAPS = ("conv1", "relu1", "pool1", "conv2", "relu2", "pool2")
BUDGET = 300_000  # bytes of SVG for a LeNet on 28x28 images


def lenet28() -> tuple[mg.Tensor, mg.Tensor, mg.Tensor]:
    """LeNet-5 on 28x28 images: conv 5x5 (6 maps), pool, conv 5x5 (16 maps), pool, 3 dense."""
    mg.manual_seed(0)
    model = lenet_model()
    rng = np.random.default_rng(3)
    x = mg.tensor(rng.standard_normal((4, 1, 28, 28)).astype(np.float32), name="digits")
    y = mg.tensor(np.array([7, 2, 1, 0]), name="labels")
    logits = model(x)
    return mg.nn.CrossEntropyLoss()(logits, y), logits, y


def picture_of(ex: mg.graph.Explorer) -> str:
    bundle = ex._repr_mimebundle_()
    bundle = bundle[0] if isinstance(bundle, tuple) else bundle
    return bundle["image/svg+xml"]


@pytest.fixture(scope="module")
def lenet():
    loss, logits, y = lenet28()
    svg = picture_of(mg.graph.explore(loss, classes=CLASSES))
    return {"loss": loss, "logits": logits, "y": y, "svg": svg, "root": ET.fromstring(svg)}


def texts_of(root: ET.Element, cls: str) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text") if t.get("class") == cls]


def read_png(uri: str) -> np.ndarray:
    """A data: URI of an 8-bit RGB PNG as an (H, W, 3) array (zlib and struct only)."""
    raw = base64.b64decode(uri.split("base64,", 1)[1])
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, size = 8, b"", None
    while pos < len(raw):
        (length,) = struct.unpack(">I", raw[pos : pos + 4])
        tag, body = raw[pos + 4 : pos + 8], raw[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", raw[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(tag + body), tag
        if tag == b"IHDR":
            w, h, depth, kind = struct.unpack(">IIBB", body[:10])
            assert (depth, kind) == (8, 2)  # 8-bit RGB
            size = (h, w)
        elif tag == b"IDAT":
            idat += body
        pos += 12 + length
    assert size is not None
    h, w = size
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + 3 * w)
    assert not rows[:, 0].any()  # no filter
    return rows[:, 1:].reshape(h, w, 3)


def page_colors(values: np.ndarray, diverging: bool) -> np.ndarray:
    """The page's colour scales (static/30_heatmap.js), written out again for the test."""
    v = values.astype(np.float64)
    lo, hi = float(v.min()), float(v.max())
    out = np.empty((*v.shape, 3))
    if diverging:
        top = max(abs(lo), abs(hi))
        for k, (neg, pos) in enumerate(((33, 178), (102, 24), (172, 43))):
            end = np.where(v < 0, neg, pos)
            out[..., k] = 255 + (end - 255) * np.minimum(1, np.abs(v / top))
    else:
        t = (v - lo) / (hi - lo)
        for k, (a, b) in enumerate(((247, 8), (251, 48), (255, 107))):
            out[..., k] = a + (b - a) * t
    return np.floor(out + 0.5)


def test_the_picture_is_svg_naming_every_layer_in_order(lenet):
    root = lenet["root"]
    assert root.tag == f"{SVG}svg"
    layers = network_layers(lenet["loss"])
    names = ["digits"] + [layer["name"] for layer in layers]
    assert texts_of(root, "mg-name") == names
    groups = [g.get("data-layer") for g in root.iter(f"{SVG}g") if g.get("class") == "mg-layer"]
    assert groups == names
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert any("static picture" in t for t in texts)
    # nothing to fetch: the only address is the SVG namespace
    assert "http" not in lenet["svg"].replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_every_channel_is_a_picture_in_the_page_colours(lenet):
    root = lenet["root"]
    layers = {layer["name"]: layer for layer in network_layers(lenet["loss"])}
    maps = [i for i in root.iter(f"{SVG}image") if i.get("data-channel") is not None]
    for name in MAPS:
        out = layers[name]["output"].data
        mine = [i for i in maps if i.get("data-layer") == name]
        assert [int(i.get("data-channel")) for i in mine] == list(range(out.shape[1])), name
        sample = out[0]  # the first sample; one colour range over all of its channels
        diverging = bool(sample.min() < 0 < sample.max())
        want = page_colors(sample, diverging)
        for c in (0, out.shape[1] - 1):
            got = read_png(mine[c].get("href"))
            assert got.shape == (*sample[c].shape, 3)
            assert np.abs(got.astype(int) - want[c]).max() <= 1, (name, c)
    conv1 = layers["conv1"]["output"].data[0]
    assert conv1.min() < 0 < conv1.max()  # signed: the blue-white-red scale is exercised
    assert len(maps) == 6 + 6 + 6 + 16 + 16 + 16 + 1  # and the input image


def test_the_probabilities_prediction_and_loss_are_the_engines(lenet):
    root, loss, y = lenet["root"], lenet["loss"], lenet["y"]
    probs = mg.ops.softmax(lenet["logits"].detach(), axis=1).data[0]  # the engine's softmax
    assert texts_of(root, "mg-pname") == CLASSES
    assert texts_of(root, "mg-pval") == [num(float(p), 4) for p in probs]
    guess, label = int(np.argmax(probs)), int(y.data[0])
    verdict = f"predicted {CLASSES[guess]}, true label {CLASSES[label]} "
    assert texts_of(root, "mg-verdict") == [verdict + ("✓" if guess == label else "✗")]
    sample_loss = num(-math.log(float(probs[label])), 4)
    assert texts_of(root, "mg-loss") == [
        f"this sample's loss −log p({CLASSES[label]}) = {sample_loss}"
    ]
    assert texts_of(root, "mg-batchloss") == [f"batch loss = {num(loss.item(), 6)}"]
    # the scores before the loss as bars named by the classes, their values as the page has
    logits = lenet["logits"].data[0]
    assert texts_of(root, "mg-uval") == [num(float(v), 3) for v in logits]


def test_a_lenet_picture_stays_small(lenet):
    assert len(lenet["svg"].encode()) < BUDGET


def test_text_is_escaped():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(18, 2))
    x = mg.tensor(np.ones((2, 1, 5, 5), np.float32), name="<img&>")
    loss = mg.nn.CrossEntropyLoss()(model(x), mg.tensor([0, 1]))
    svg = picture_of(mg.graph.explore(loss, classes=['a<b & "c"', "</text>"]))
    root = ET.fromstring(svg)
    assert texts_of(root, "mg-name")[0] == "<img&>"
    assert texts_of(root, "mg-pname") == ['a<b & "c"', "</text>"]


def test_a_graph_without_layers_keeps_the_list_of_boxes():
    a = mg.tensor(np.arange(4.0), requires_grad=True, name="a")
    out = (a * a).sum()
    root = ET.fromstring(picture_of(mg.graph.explore(out)))
    assert root.find(f".//{SVG}image") is None
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert any("static picture" in t for t in texts)
    assert any("mul" in t for t in texts) and any("sum" in t for t in texts)


def xo_loss() -> mg.Tensor:
    mg.manual_seed(0)
    model = build_xo_model()
    xs, ys = data.xo_images(n_per_class=2, seed=0)
    images = mg.tensor(xs[:4], name="images")
    return mg.nn.CrossEntropyLoss()(model(images), mg.tensor(ys[:4]))


@pytest.mark.parametrize("which", ["lenet28", "xo"])
def test_the_picture_opens_as_an_image_in_chromium_with_no_request(which, tmp_path):
    if which == "lenet28":
        loss, classes = lenet28()[0], CLASSES
    else:
        loss, classes = xo_loss(), list(data.XO_CLASSES)
    ex = mg.graph.explore(loss, classes=classes)
    svg = picture_of(ex)
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    doc = tmp_path / "picture.html"
    doc.write_text(f'<!DOCTYPE html><html><body style="margin:0"><img src="{uri}"></body></html>')
    with open_page(doc, width=920, height=900) as (page, errors, requests):
        page.wait_for_function("document.images[0].complete")
        width, height = page.evaluate(
            "[document.images[0].naturalWidth, document.images[0].naturalHeight]"
        )
        assert width == 900 and height > 300
        page.set_viewport_size({"width": 920, "height": height})
        screenshot(page, f"picture-{which}")
    assert errors == [] and requests == []
    # the colours are the page's own: MG.heat.color of the explorer page for the same values
    layer = network_layers(loss)[0]  # conv1
    sample = layer["output"].data[0]
    diverging = bool(sample.min() < 0 < sample.max())
    lo, hi = float(sample.min()), float(sample.max())
    top = max(abs(lo), abs(hi)) if diverging else hi
    root = ET.fromstring(svg)
    first = next(i for i in root.iter(f"{SVG}image") if i.get("data-layer") == layer["name"])
    got = read_png(first.get("href")).reshape(-1, 3).tolist()
    page_file = ex.save(tmp_path / "page.html")
    with open_page(page_file) as (page, errors, requests):
        want = page.evaluate(
            "([vals, lo, hi, div]) => vals.map(v => MG.heat.color(v, lo, hi, div)"
            ".match(/\\d+/g).map(Number))",
            [sample[0].ravel().astype(np.float64).tolist(), lo, top, diverging],
        )
    assert got == want
    assert errors == [] and requests == []
