"""The pages inside a notebook: executed by a real kernel (nbclient), the output shown as a
notebook viewer shows HTML (nbconvert, VS Code, Colab put ``text/html`` into the document),
opened in Chromium; and a static picture for viewers that run no scripts."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from browser import open_page, screenshot

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

CELLS = [
    "import minigrad as mg\n"
    "mg.manual_seed(0)\n"
    "model = mg.nn.Sequential(mg.nn.Conv2d(1, 2, 3), mg.nn.ReLU(), mg.nn.Flatten(),"
    " mg.nn.Linear(18, 2))\n"
    "x = mg.randn(4, 1, 5, 5)\n"
    "loss = mg.nn.CrossEntropyLoss()(model(x), mg.tensor([0, 1, 0, 1]))\n"
    "mg.graph.explore(loss)",
    "opt = mg.optim.SGD(model.parameters(), lr=0.1)\n"
    "rec = mg.graph.Recorder(model, probes=x.data, optimizer=opt)\n"
    "for _ in range(3):\n"
    "    loss = mg.nn.CrossEntropyLoss()(model(x), mg.tensor([0, 1, 0, 1]))\n"
    "    opt.zero_grad(); loss.backward(); opt.step(); rec.step(loss)\n"
    "rec.explore(labels=[0, 1, 0, 1])",
]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    folder = tmp_path_factory.mktemp("notebook")
    nbclient.NotebookClient(
        nb, timeout=120, resources={"metadata": {"path": str(folder)}}
    ).execute()
    return [cell.outputs[-1]["data"] for cell in nb.cells]


def test_a_notebook_shows_the_pages_inline(outputs, tmp_path):
    for k, data in enumerate(outputs):
        assert data["text/html"].startswith("<iframe srcdoc=")
        assert data["text/plain"].startswith("<Explorer ")
        doc = tmp_path / f"notebook-{k}.html"  # as nbconvert writes an HTML output
        doc.write_text(f"<!DOCTYPE html><html><body>{data['text/html']}</body></html>")
        with open_page(doc) as (page, errors, requests):
            frame = page.frame_locator("iframe")
            frame.locator("body[data-ready='1']").wait_for()
            assert frame.locator(".mg-tab").count() >= 1
            if k == 0:
                frame.locator("#mg-tab-backward").click()
                frame.locator("#mg-view-backward g.node").first.wait_for()
            screenshot(page, f"notebook-page-{k}")
        assert errors == [] and requests == []


def test_the_pages_work_inside_a_sandboxed_output_frame(outputs, tmp_path):
    """As Colab shows an output: inside its own iframe with an opaque origin (sandboxed, no
    same-origin), so the page has no storage and no address of its own."""
    import html

    for k, data in enumerate(outputs):
        inner = f"<!DOCTYPE html><html><body>{data['text/html']}</body></html>"
        doc = tmp_path / f"colab-style-{k}.html"
        doc.write_text(
            '<!DOCTYPE html><html><body><iframe sandbox="allow-scripts" style="width:100%;'
            f'height:800px" srcdoc="{html.escape(inner, quote=True)}"></iframe></body></html>'
        )
        with open_page(doc) as (page, errors, requests):
            frame = page.frame_locator("iframe").frame_locator("iframe")
            frame.locator("body[data-ready='1']").wait_for()
            if k == 0:  # the network view, then a step of the backward pass
                assert frame.locator("section.mg-net-col").count() >= 5  # input .. loss
                frame.locator("#mg-tab-backward").click()
                frame.locator("#mg-view-backward g.node").first.wait_for()
            else:  # the timeline: its frames inflated, the slider moves
                frame.locator("#mg-tl-slider").fill("2")
                assert frame.locator("#mg-tl-step").inner_text() == "2"  # frame k: step k
        assert errors == [] and requests == []


def test_viewers_without_scripts_get_a_picture(outputs):
    """The graph page's picture is its first view, the network view, for sample 0: the
    same computation run here gives the layers, channels, probabilities and loss it shows."""
    import minigrad as mg
    from minigrad.graph.explorer.network import network_layers
    from minigrad.numtext import num

    svg = "{http://www.w3.org/2000/svg}"
    graph, timeline = (ET.fromstring(d["image/svg+xml"]) for d in outputs)
    texts = " ".join(t.text or "" for t in graph.iter(f"{svg}text"))
    assert "static picture" in texts
    ns: dict = {}
    exec(CELLS[0].rsplit("\n", 1)[0], ns)  # the cell without its last line, the page
    layers = network_layers(ns["loss"])

    def shown(cls: str) -> list[str]:
        return ["".join(t.itertext()) for t in graph.iter(f"{svg}text") if t.get("class") == cls]

    assert shown("mg-name") == ["input"] + [layer["name"] for layer in layers]  # in order
    conv = layers[0]
    pictures = [i for i in graph.iter(f"{svg}image") if i.get("data-layer") == conv["name"]]
    assert conv["kind"] == "conv" and len(pictures) == conv["output"].shape[1]  # per channel
    probs = mg.ops.softmax(ns["model"](ns["x"]).detach(), axis=1).data[0]
    assert shown("mg-pval") == [num(float(p), 4) for p in probs]
    assert shown("mg-batchloss") == [f"batch loss = {num(ns['loss'].item(), 6)}"]
    assert timeline.find(f"{svg}polyline") is not None  # the loss curve
