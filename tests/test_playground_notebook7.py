"""The Playground widget in a real Jupyter Notebook 7: server on 127.0.0.1 with a token, a
notebook that makes a Playground, headless Chromium through Playwright paints a pixel and
presses Step, and the page shows the engine's new loss and probabilities.

Screenshots go to out/test-artifacts/playground-notebook7-*.png.
"""

from __future__ import annotations

import pytest
from jupyter_pages import LOCAL, jupyter_server, open_jupyter_page, run_playground_notebook

notebook = pytest.importorskip(
    "notebook", reason="Notebook 7 is not installed (the dev extra has it)"
)
pytest.importorskip("anywidget", reason="the jupyter extra (anywidget) is not installed")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def nb_server(tmp_path_factory):
    """A Notebook 7 server on 127.0.0.1 with a token, its state kept in a temporary folder."""
    if int(notebook.__version__.split(".")[0]) != 7:
        pytest.skip(f"this test is for Notebook 7, not {notebook.__version__}")
    with jupyter_server("notebook", tmp_path_factory.mktemp("notebook7")) as server:
        yield server


def test_playground_widget_in_notebook7(nb_server):
    base, token = nb_server
    url = f"{base}/notebooks/play.ipynb?token={token}"
    with open_jupyter_page(url, "playground-notebook7") as (page, errors, requests):
        page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=120_000)
        page.locator(".jp-NotebookKernelStatus-fade").wait_for(state="attached", timeout=120_000)
        run_playground_notebook(page, "playground-notebook7")
    assert errors == []
    assert all(r.startswith(LOCAL) for r in requests), [
        r for r in requests if not r.startswith(LOCAL)
    ]
