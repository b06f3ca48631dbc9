"""The explorer and timeline pages on every screen and for every person, in real Chromium:
phones to wide screens, touch, keyboard only, screen readers (axe-core), state in the URL.

Screenshots go to out/test-artifacts/everywhere-*.png.
"""

from __future__ import annotations

import shutil

import pytest
from browser import axe_violations, no_sideways_scroll, open_page, screenshot
from test_explain import seed_example
from test_explorer_page import node_id, small_cnn
from test_recorder import small_run

import minigrad as mg

SCREENS = [(390, 844), (1280, 720), (1920, 1080)]


@pytest.fixture(autouse=True)
def no_dot(monkeypatch, tmp_path_factory):
    """Pages are built with an empty PATH: no Graphviz program can be found."""
    monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("empty-path")))
    assert shutil.which("dot") is None


@pytest.fixture(scope="module")
def explorer_page(tmp_path_factory):
    path = tmp_path_factory.mktemp("pages") / "explorer.html"
    return mg.graph.explore(small_cnn(), title="a small CNN").save(path)


@pytest.fixture(scope="module")
def timeline_run():
    _, _, rec = small_run(lambda p: mg.optim.Adam(p, lr=0.02), epochs=2)
    return rec


@pytest.fixture(scope="module")
def timeline_page(timeline_run, tmp_path_factory):
    return timeline_run.explore().save(tmp_path_factory.mktemp("pages") / "timeline.html")


def small_controls(page) -> list[str]:
    """Visible controls smaller than 44 x 44 CSS pixels (a fingertip)."""
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('button, select, input, [role=tab]'))"
        ".filter(e => e.offsetParent !== null).map(e => [e, e.getBoundingClientRect()])"
        ".filter(([e, r]) => r.height < 44 || r.width < 44)"
        ".map(([e, r]) => (e.id || e.className || e.tagName) + ' ' + Math.round(r.width) + 'x'"
        " + Math.round(r.height))"
    )


@pytest.mark.parametrize("width,height", SCREENS)
def test_the_explorer_fits_every_screen(explorer_page, width, height):
    with open_page(explorer_page, width=width, height=height) as (page, errors, requests):
        page.wait_for_selector("body[data-ready='1']")
        for tab in ("forward", "backward", "both", "modules"):
            page.click(f"#mg-tab-{tab}")
            assert no_sideways_scroll(page), tab
        page.click("#mg-tab-forward")
        page.focus(f'g.node[data-id="{node_id(page, "forward", "conv2d")}"]')
        page.keyboard.press("Enter")
        assert no_sideways_scroll(page)
        graph = page.locator("#mg-view-forward .mg-svg").bounding_box()
        sheet = page.locator(".mg-sheet").bounding_box()
        assert graph["height"] >= 200 and graph["width"] >= min(width, 900) * 0.5
        if width < 900:  # the panel is a bottom sheet under the graph, the full width
            assert sheet["y"] >= graph["y"] + graph["height"] - 1
            assert sheet["width"] >= width - 2
            assert small_controls(page) == []
        else:  # beside it, on the right
            assert sheet["x"] >= graph["x"] + graph["width"] - 1
        screenshot(page, f"everywhere-explorer-{width}")
        if width < 900:  # the sheet grows for reading, and shrinks back
            page.click(".mg-sheet-toggle")
            assert page.locator(".mg-sheet").bounding_box()["height"] > sheet["height"] * 1.5
            page.click(".mg-sheet-toggle")
            assert page.locator(".mg-sheet").bounding_box()["height"] == sheet["height"]
    assert errors == [] and requests == []


@pytest.mark.parametrize("width,height", SCREENS)
def test_the_timeline_fits_every_screen(timeline_page, width, height):
    with open_page(timeline_page, width=width, height=height) as (page, errors, requests):
        page.wait_for_selector("body[data-ready='1']")
        page.keyboard.press("End")
        assert no_sideways_scroll(page)
        if width < 900:
            assert small_controls(page) == []
        screenshot(page, f"everywhere-timeline-{width}")
    assert errors == [] and requests == []


def touch(page, kind: str, pid: int, x: float, y: float) -> None:
    page.evaluate(
        "([kind, pid, x, y]) => { var t = kind === 'pointerdown' ?"
        " document.querySelector('#mg-view-forward .mg-svg') : window;"
        " t.dispatchEvent(new PointerEvent(kind, {pointerId: pid, pointerType: 'touch',"
        " clientX: x, clientY: y, bubbles: true, isPrimary: pid === 1})); }",
        [kind, pid, x, y],
    )


def test_graphs_pan_with_one_finger_and_zoom_with_two(explorer_page):
    with open_page(explorer_page, width=390, height=844) as (page, errors, _):
        page.click("#mg-tab-forward")
        box = page.evaluate("MG.panes.forward.vb.slice()")
        touch(page, "pointerdown", 1, 100, 300)
        touch(page, "pointermove", 1, 160, 340)
        touch(page, "pointerup", 1, 160, 340)
        moved = page.evaluate("MG.panes.forward.vb.slice()")
        assert moved[0] < box[0] and moved[1] < box[1]  # the picture followed the finger
        assert moved[2:] == box[2:]
        touch(page, "pointerdown", 1, 150, 300)
        touch(page, "pointerdown", 2, 250, 300)
        touch(page, "pointermove", 2, 350, 300)  # fingers twice as far apart: zoom in 2x
        touch(page, "pointerup", 1, 150, 300)
        touch(page, "pointerup", 2, 350, 300)
        zoomed = page.evaluate("MG.panes.forward.vb.slice()")
        assert zoomed[2] == pytest.approx(moved[2] / 2, rel=1e-6)
    assert errors == []


def test_every_cell_is_reachable_and_explained_by_keyboard(tmp_path):
    """Tab to a node, Enter; Tab to the output heatmap; the arrows visit every cell and read
    its value out; Enter explains the cell and the arithmetic is read out."""
    _, _, y = seed_example()
    loss = (y * y).sum()
    path = mg.graph.explore(loss).save(tmp_path / "keys.html")
    with open_page(path) as (page, errors, requests):
        page.click("#mg-tab-forward")  # the page opens on the network view
        page.focus(f'g.node[data-id="{node_id(page, "forward", "conv2d")}"]')
        page.keyboard.press("Enter")
        cv = page.locator("#mg-panel .mg-tensor").first.locator("canvas.mg-heat").first
        cv.focus()
        live = page.locator("#mg-live")
        H, W = y.shape[2:]
        assert H * W > 1
        for i in range(H):
            for j in range(W):
                if (i, j) != (0, 0):
                    page.keyboard.press("ArrowRight" if j else "ArrowDown")
                    if not j:
                        page.keyboard.press("Home")
                value = page.evaluate("v => MG.fmt(v, 6)", float(y.data[0, 0, i, j]))
                page.wait_for_function(
                    "t => document.getElementById('mg-live').textContent === t",
                    arg=f"row {i}, column {j}: {value}",
                )
        page.keyboard.press("Home")
        for _ in range(H):
            page.keyboard.press("ArrowUp")
        page.keyboard.press("Enter")  # cell (0, 0): the seed example's 3.3
        arith = page.inner_text("#mg-explain .mg-arith")
        assert arith.startswith("0.8*1 + 0.5*0 + 0.1*(-1)") and arith.endswith("= 3.3")
        page.wait_for_function(
            "() => document.getElementById('mg-live').textContent.indexOf('= 3.3') >= 0"
        )
        assert "0.8*1 + 0.5*0" in live.text_content()
        assert page.evaluate("document.activeElement.tagName") == "CANVAS"  # focus stays
    assert errors == [] and requests == []


def test_canvases_and_charts_have_text_alternatives(explorer_page, timeline_page):
    check = (
        "() => Array.from(document.querySelectorAll('canvas, svg.mg-tl-chart, svg.mg-tl-loss'))"
        ".filter(e => !(e.getAttribute('aria-label') || '').trim()).length"
    )
    with open_page(explorer_page) as (page, errors, _):
        assert page.locator("#mg-view-network canvas").count() >= 4  # the network's pictures
        page.click("#mg-tab-forward")
        page.focus(f'g.node[data-id="{node_id(page, "forward", "w")}"]')
        page.keyboard.press("Enter")
        assert page.locator("#mg-panel canvas").count() >= 3
        assert page.evaluate(check) == 0
    with open_page(timeline_page) as (page, errors2, _):
        assert page.locator("canvas").count() >= 10
        assert page.evaluate(check) == 0
    assert errors == errors2 == []


@pytest.mark.parametrize("width,height", SCREENS)
def test_axe_finds_no_serious_problem_in_the_explorer(explorer_page, width, height):
    with open_page(explorer_page, width=width, height=height) as (page, errors, requests):
        page.wait_for_selector("body[data-ready='1']")
        assert axe_violations(page) == []  # the first view: the network as pictures
        page.click("#mg-tab-forward")
        page.focus(f'g.node[data-id="{node_id(page, "forward", "conv2d")}"]')
        page.keyboard.press("Enter")
        assert axe_violations(page) == []
        page.click("#mg-tab-backward")
        page.keyboard.press("End")
        assert axe_violations(page) == []
        page.click("#mg-tab-modules")
        assert axe_violations(page) == []
    assert errors == [] and requests == []


@pytest.mark.parametrize("width,height", SCREENS)
def test_axe_finds_no_serious_problem_in_the_timeline(timeline_page, width, height):
    with open_page(timeline_page, width=width, height=height) as (page, errors, requests):
        page.wait_for_selector("body[data-ready='1']")
        page.keyboard.press("End")
        assert axe_violations(page) == []
    assert errors == [] and requests == []


def test_key_hints_name_only_keys_that_work(explorer_page, timeline_page):
    with open_page(explorer_page) as (page, errors, _):
        page.click("#mg-tab-forward")
        hints = page.inner_text(".mg-keys")
        assert "step" not in hints and "Esc clear" in hints  # no stepper in Forward
        page.click("#mg-tab-backward")
        assert "step" in page.inner_text(".mg-keys")
        page.keyboard.press("ArrowRight")
        assert page.evaluate("MG.stepState.k") == 1
        page.click("#mg-tab-forward")
        page.focus(f'g.node[data-id="{node_id(page, "forward", "conv2d")}"]')
        page.keyboard.press("Enter")
        page.keyboard.press("/")
        page.keyboard.type("relu")
        page.keyboard.press("Escape")  # leaves the search box
        page.keyboard.press("Escape")  # clears selection, marks and search
        assert page.locator("g.node.mg-sel, g.node.mg-match").count() == 0
        assert page.input_value("#mg-view-forward .mg-search") == ""
        assert "Click a node" in page.inner_text("#mg-panel")
    with open_page(timeline_page) as (page, errors2, _):
        page.wait_for_selector("body[data-ready='1']")
        hints = page.inner_text(".mg-keys")
        assert "frame" in hints and "Esc" not in hints and "zoom" not in hints
        page.keyboard.press("ArrowRight")
        assert page.inner_text("#mg-tl-frame").startswith("frame 1 of")
    assert errors == errors2 == []


def test_the_url_keeps_view_node_cell_and_step(tmp_path):
    _, _, y = seed_example()
    loss = (y * y).sum()
    path = mg.graph.explore(loss).save(tmp_path / "url.html")
    with open_page(path) as (page, errors, _):
        page.click("#mg-tab-backward")
        assert page.evaluate("location.hash") == "#view=backward"
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        assert page.evaluate("location.hash") == "#view=backward&step=2"
        page.click("#mg-tab-forward")
        page.focus(f'g.node[data-id="{node_id(page, "forward", "conv2d")}"]')
        page.keyboard.press("Enter")
        out = page.locator("#mg-panel .mg-tensor").first.locator("canvas.mg-heat").first
        out.focus()
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("Enter")
        arith = page.inner_text("#mg-explain .mg-arith")
        url = page.evaluate("location.href")
        assert url.endswith("#view=forward&node=conv2d&cell=0,0,1,1&step=2")
        page.go_back()  # the cell
        assert page.evaluate("location.hash") == "#view=forward&node=conv2d&step=2"
        assert page.locator("#mg-explain .mg-arith").count() == 0
        page.go_back()  # the node
        assert page.evaluate("location.hash") == "#view=forward&step=2"
        assert page.locator("g.node.mg-sel").count() == 0
        page.go_back()  # the view
        assert page.evaluate("MG.state.view") == "backward"
        page.go_forward()
        page.go_forward()
        page.go_forward()
        assert page.inner_text("#mg-explain .mg-arith") == arith
        # a new visit with the address: the same view, node, cell and step
        page.goto("about:blank")
        page.goto(url)
        page.wait_for_selector("body[data-ready='1']")
        assert page.evaluate("MG.state.view") == "forward"
        assert page.evaluate("MG.stepState.k") == 2
        assert page.locator('g.node.mg-sel[data-name="conv2d"]').count() == 1
        assert page.inner_text("#mg-explain .mg-arith") == arith
    assert errors == []


def test_the_url_keeps_the_timelines_frame_and_weight(timeline_run, timeline_page):
    rec = timeline_run
    with open_page(timeline_page) as (page, errors, _):
        page.wait_for_selector("body[data-ready='1']")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        page.select_option("#mg-tl-param", "fc.weight")
        page.fill("#mg-tl-index", "70")
        page.press("#mg-tl-index", "Enter")
        url = page.evaluate("location.href")
        assert url.endswith("#view=timeline&node=fc.weight&cell=1,6&frame=3")
        shown = page.locator("#mg-tl-explain .mg-tl-line").all_inner_texts()
        assert shown == rec.explain("fc.weight", 70, frame=3)["lines"]
        page.goto("about:blank")
        page.goto(url)
        page.wait_for_selector("body[data-ready='1']")
        assert page.inner_text("#mg-tl-step") == str(rec.frames[3].step)
        assert page.locator("#mg-tl-explain .mg-tl-line").all_inner_texts() == shown
    assert errors == []


def test_pages_are_the_same_without_a_url_of_their_own(explorer_page):
    """In a sandboxed iframe (Jupyter's srcdoc) history may refuse a hash: no error."""
    html = mg.graph.explore(small_cnn())._repr_html_()
    with open_page(explorer_page) as (page, errors, requests):
        page.set_content(f"<!DOCTYPE html><html><body>{html}</body></html>")
        frame = page.frame_locator("iframe")
        frame.locator("#mg-tab-backward").click()
        frame.locator("body").press("ArrowRight")
        assert frame.locator(".mg-steptext").first.inner_text().startswith("step 1 /")
    assert errors == [] and requests == []
