"""The Playground widget in a real JupyterLab: server on 127.0.0.1 with a token, a notebook
that makes a Playground, headless Chromium through Playwright paints a pixel and presses Step,
and the page shows the engine's new loss and probabilities.

Screenshots go to out/test-artifacts/playground-jupyterlab-*.png.
"""

from __future__ import annotations

import pytest
from jupyter_pages import LOCAL, jupyter_server, open_jupyter_page, run_playground_notebook

pytest.importorskip("jupyterlab", reason="JupyterLab is not installed (the dev extra has it)")
pytest.importorskip("anywidget", reason="the jupyter extra (anywidget) is not installed")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 with a token, its state kept in a temporary folder."""
    with jupyter_server("jupyterlab", tmp_path_factory.mktemp("lab")) as server:
        yield server


def test_playground_widget_in_jupyterlab(lab):
    base, token = lab
    url = f"{base}/lab/tree/play.ipynb?token={token}"
    with open_jupyter_page(url, "playground-jupyterlab") as (page, errors, requests):
        page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=120_000)
        page.locator(".jp-StatusBar-TextItem", has_text="| Idle").first.wait_for(timeout=120_000)
        run_playground_notebook(page, "playground-jupyterlab")
    assert errors == []
    assert all(r.startswith(LOCAL) for r in requests), [
        r for r in requests if not r.startswith(LOCAL)
    ]
