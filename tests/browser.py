"""A real headless Chromium for page tests: open a saved HTML file, watch console and network.

    from browser import open_page

    def test_page(tmp_path):
        path = tmp_path / "page.html"
        path.write_text(html)
        with open_page(path) as (page, errors, requests):
            page.click("#some-button")
            assert errors == [] and requests == []

Chromium comes from the system (Debian package ``chromium``), found with
``shutil.which("chromium")``; Playwright for Python drives it through ``executable_path``
(never ``playwright install``, which downloads a browser). Without either, the test is
skipped with the reason. ``requests`` lists every request the page made except the page
file itself, so an offline page leaves it empty; ``errors`` collects console errors and
uncaught exceptions.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

__all__ = ["axe_violations", "chromium_path", "no_sideways_scroll", "open_page", "screenshot"]

#: axe-core (npm package, MPL-2.0; see assets/axe-core/VERSION): a test-only asset
AXE = Path(__file__).resolve().parent / "assets" / "axe-core" / "axe.min.js"

#: where screenshots go when a test does not pass its own folder
ARTIFACTS = Path(__file__).resolve().parent.parent / "out" / "test-artifacts"


def chromium_path() -> str:
    """The system Chromium, or skip the test saying what is missing."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    if Path("/usr/bin/chromium").is_file():  # PATH may be emptied (pages built without dot)
        return "/usr/bin/chromium"
    pytest.skip("browser test: no 'chromium' on PATH (Debian: apt-get install chromium)")


@contextmanager
def open_page(
    html_path: str | Path, *, width: int = 1400, height: int = 900
) -> Iterator[tuple[Any, list[str], list[str]]]:
    """Open ``html_path`` in headless Chromium; yields ``(page, console_errors, requests)``.

    The page has loaded (``load`` event) and, for a minigrad page, been built (its data made
    ready first, which can take a moment: ``body[data-ready]``) when the block starts. Both lists keep filling while
    the block runs, so assert on them at its end.
    """
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="browser test: the 'playwright' Python package is missing"
    )
    executable = chromium_path()
    url = Path(html_path).resolve().as_uri()
    errors: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.on(
                "console",
                lambda m: (
                    errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None
                ),
            )
            page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
            page.on("request", lambda r: None if r.url == url else requests.append(r.url))
            page.goto(url, wait_until="load")
            if page.locator("#mg-app").count():  # a minigrad page is built once its data is
                page.wait_for_selector("body[data-ready]", state="attached")  # ready (async)
            yield page, errors, requests
        finally:
            browser.close()


def click_cell(canvas: Any, i: int, j: int, hw: tuple[int, int]) -> None:
    """Click the middle of cell (i, j) of a heatmap ``canvas`` locator of ``hw`` cells."""
    box = canvas.bounding_box()
    assert box is not None
    canvas.click(
        position={"x": (j + 0.5) * box["width"] / hw[1], "y": (i + 0.5) * box["height"] / hw[0]}
    )


def screenshot(page: Any, name: str, folder: str | Path | None = None) -> Path:
    """Write a PNG of the page (``folder``, default ``out/test-artifacts``); returns its path."""
    out = Path(folder) if folder is not None else ARTIFACTS
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """Run axe-core on the page as it is now; its violations of these impacts, one line each
    (rule, impact, what it asks, the first elements). The script is injected inline: no
    request is made."""
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}"
        for v in found
        if v["impact"] in impacts
    ]


def no_sideways_scroll(page: Any) -> bool:
    """The document does not scroll horizontally: nothing is wider than the window."""
    return bool(page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth"))
