"""The explorer page in a saved notebook, as a learner opens it: a notebook that trains
nothing but builds a small CNN, runs a loss and its backward and shows ``mg.graph.explore``
is executed by a real kernel (nbclient) and saved; then, without running it again,

* JupyterLab and Notebook 7 (servers on 127.0.0.1 with a token) open it in headless
  Chromium: the output shows the page in its iframe, on the network view with the layers,
  the engine's loss and probabilities; an untrusted copy shows the sentence that says how to
  see the page instead of an empty output;
* ``jupyter nbconvert --to html`` exports it, and the exported file shows the page;
* the saved file keeps a static SVG of the first view, for viewers that run no scripts.

Screenshots go to out/test-artifacts/explorer-jupyter-*.png.
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from browser import chromium_path, open_page, screenshot
from jupyter_pages import LOCAL, jupyter_server, open_jupyter_page, trust_notebook

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

pytestmark = pytest.mark.slow

SETUP = """\
import minigrad as mg

mg.manual_seed(0)
model = mg.nn.Sequential(
    mg.nn.Conv2d(1, 2, 3), mg.nn.ReLU(), mg.nn.MaxPool2d(2), mg.nn.Flatten(), mg.nn.Linear(8, 3)
)
x = mg.randn(2, 1, 6, 6)
logits = model(x)
loss = mg.nn.CrossEntropyLoss()(logits, mg.tensor([0, 2]))
loss.backward(retain_graph=True)  # keeps the layers' outputs for the page
"""
CELL = SETUP + "mg.graph.explore(loss)"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def engine():
    """The same computation in this process: the numbers the page must show."""
    import minigrad as mg
    from minigrad.graph.explorer.network import network_layers

    ns: dict = {}
    exec(SETUP, ns)
    probs = mg.ops.softmax(ns["logits"].detach(), axis=1).data
    names = [layer["name"] for layer in network_layers(ns["loss"])]
    return {"loss": ns["loss"].item(), "probs": probs, "names": names}


@pytest.fixture(scope="module")
def notebook(tmp_path_factory) -> Path:
    """The notebook, executed by a kernel of this environment and saved."""
    folder = tmp_path_factory.mktemp("explorer-notebook")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL)])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    path = folder / "explorer.ipynb"
    nbformat.write(nb, path)
    return path


def copy_into(notebook: Path, folder: Path, name: str, **metadata: str) -> Path:
    """The saved notebook under ``folder / "root" / name``; ``metadata`` makes a copy whose
    signature differs (a signature is over the notebook's whole content)."""
    nb = nbformat.read(notebook, as_version=4)
    nb.metadata.update(metadata)
    path = folder / "root" / name
    nbformat.write(nb, path)
    return path


def shows_the_network(frame, engine) -> None:
    """The page in ``frame`` is ready, on the network view, with the engine's layers, loss
    and probabilities."""
    frame.locator("body[data-ready='1']").wait_for(timeout=60_000)
    body = frame.locator("body")
    assert body.evaluate("() => MG.state.view") == "network"
    # the input (unnamed here), then the layers by their display names
    names = frame.locator(".mg-net-col .mg-net-name").all_inner_texts()
    assert names == ["input", *engine["names"]]
    for name in ("conv1", "relu1", "pool1"):  # every channel of a feature map, as a picture
        assert frame.locator(f'.mg-net-col canvas[data-layer="{name}"]').count() == 2, name
    shown = body.evaluate("(b, v) => MG.fmt(v, 6)", engine["loss"])
    assert frame.locator(".mg-net-batchloss").inner_text() == shown
    rows = frame.locator(".mg-net-prob")
    p = [float(v) for v in rows.evaluate_all("els => els.map(e => e.dataset.p)")]
    np.testing.assert_allclose(p, engine["probs"][0], rtol=1e-6)


@pytest.mark.parametrize("app", ["jupyterlab", "notebook"])
def test_a_saved_notebook_shows_the_explorer_in_jupyter(app, notebook, engine, tmp_path):
    pytest.importorskip(app, reason=f"{app} is not installed (the dev extra has it)")
    chromium_path()  # skip early, before a server starts, when there is no browser
    if app == "notebook":
        version = __import__("notebook").__version__
        if int(version.split(".")[0]) != 7:
            pytest.skip(f"this test is for Notebook 7, not {version}")
    name = "explorer-jupyter-" + ("lab" if app == "jupyterlab" else "notebook7")
    with jupyter_server(app, tmp_path) as (base, token):
        trusted = copy_into(notebook, tmp_path, "explorer.ipynb")
        trust_notebook(tmp_path, trusted)  # as `jupyter trust` does, or a user's own run
        untrusted = copy_into(notebook, tmp_path, "untrusted.ipynb", title="an untrusted copy")

        def where(nb: str) -> str:  # in JupyterLab, each in a workspace of its own
            path = f"lab/workspaces/{nb}/tree" if app == "jupyterlab" else "notebooks"
            return f"{base}/{path}/{nb}.ipynb?token={token}"

        # not trusted: the front end strips the iframe and its scripts; the output says
        # how to see the page instead of staying empty
        with open_jupyter_page(where("untrusted"), f"{name}-untrusted") as (page, errors, requests):
            note = page.locator(".jp-OutputArea-output .minigrad-not-run")
            note.wait_for(timeout=120_000)
            assert "jupyter trust" in note.inner_text()
            assert page.locator(".jp-OutputArea-output iframe").count() == 0
            screenshot(page, f"{name}-untrusted")
            # and what it says works: `jupyter trust untrusted.ipynb`, then the notebook
            # opened again, shows the page
            trust_notebook(tmp_path, untrusted)
            page.reload()
            page.frame_locator(".jp-OutputArea-output iframe").locator(
                "body[data-ready='1']"
            ).wait_for(timeout=60_000)
            assert not note.is_visible()
        assert errors == []
        frame_errors: list[str] = []
        with open_jupyter_page(where("explorer"), name, frame_errors) as (page, errors, requests):
            output = page.locator(".jp-OutputArea-output iframe")
            output.wait_for(timeout=120_000)
            # opened, not run again: the saved execution count, and the saved output
            assert page.locator(".jp-InputPrompt", has_text="[1]").count() == 1
            shows_the_network(page.frame_locator(".jp-OutputArea-output iframe"), engine)
            output.scroll_into_view_if_needed()
            screenshot(page, name)
        assert errors == [] and frame_errors == []
        assert all(r.startswith(LOCAL) for r in requests), [
            r for r in requests if not r.startswith(LOCAL)
        ]


def test_nbconvert_html_shows_the_explorer(notebook, engine, tmp_path):
    pytest.importorskip("nbconvert")
    chromium_path()
    # the exporter's own scripts from a CDN (MathJax, require.js) are switched off: only the
    # output's page is under test, and nothing may leave the machine
    subprocess.run(
        [
            sys.executable, "-m", "nbconvert", "--to", "html", str(notebook),
            "--output-dir", str(tmp_path), "--HTMLExporter.mathjax_url=",
            "--HTMLExporter.require_js_url=",
        ],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    html = tmp_path / "explorer.html"
    assert 'src="http' not in html.read_text(encoding="utf-8")
    for width, height in ((1400, 900), (390, 844)):
        with open_page(html, width=width, height=height) as (page, errors, requests):
            shows_the_network(page.frame_locator("iframe"), engine)
            page.locator("iframe").scroll_into_view_if_needed()
            screenshot(page, f"explorer-jupyter-nbconvert-{width}")
            assert not page.locator(".minigrad-not-run").is_visible()
            (inner,) = [f for f in page.frames if f != page.main_frame]
            assert inner.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
        assert errors == [] and requests == []


def test_the_saved_notebook_keeps_a_picture_of_the_first_view(notebook, engine):
    (output,) = nbformat.read(notebook, as_version=4).cells[0].outputs
    picture = ET.fromstring(output["data"]["image/svg+xml"])
    texts = [t.text or "" for t in picture.iter(f"{SVG}text")]
    # the network view: the layers by their display names in order, the loss last with its op
    layers = [n for n in engine["names"] if n in texts]
    assert layers == engine["names"], texts
    assert texts.index(layers[-1]) < texts.index("cross_entropy")
    assert any("static picture" in t for t in texts)
    assert output["data"]["text/plain"].startswith("<Explorer ")
