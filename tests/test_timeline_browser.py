"""The timeline page in a real headless Chromium: offline, and it shows the engine's numbers."""

from __future__ import annotations

import numpy as np
import pytest
from browser import open_page, screenshot
from test_recorder import small_run
from test_recorder_health import demo_run

import minigrad as mg
from minigrad.numtext import num


def g6(x):
    return f"{float(x):.6g}"


@pytest.fixture(scope="module")
def adam_run():
    _, _, rec = small_run(lambda p: mg.optim.Adam(p, lr=0.02, weight_decay=0.01), epochs=3)
    return rec


def slide(page, k):
    page.eval_on_selector(
        "#mg-tl-slider",
        "(el, k) => { el.value = String(k); el.dispatchEvent(new Event('input')); }",
        k,
    )


def test_slider_arrows_and_clicks_show_each_frames_numbers(adam_run, tmp_path):
    rec = adam_run
    path = rec.explore().save(tmp_path / "timeline.html")
    with open_page(path) as (page, errors, requests):
        page.wait_for_selector("body[data-ready='1']")
        assert page.inner_text("#mg-tab-timeline") == "Training"
        assert page.inner_text("#mg-tl-step") == "0" and page.inner_text("#mg-tl-loss") == "–"
        for k in (1, 4, len(rec.frames) - 1):
            slide(page, k)
            f = rec.frames[k]
            assert page.inner_text("#mg-tl-step") == str(f.step)
            assert page.inner_text("#mg-tl-loss") == g6(f.loss)
            assert page.inner_text("#mg-tl-frame") == f"frame {k} of {len(rec.frames) - 1}"
        page.keyboard.press("ArrowLeft")
        assert page.inner_text("#mg-tl-step") == str(rec.frames[-2].step)
        page.keyboard.press("Home")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        assert page.inner_text("#mg-tl-step") == "2"

        # click the weight (2, 0, 1, 2) in the third filter, as a user does
        cv = page.locator("#mg-tl-filters > .mg-tl-filters canvas").nth(2)
        cell = page.evaluate("c => c.cell", cv.element_handle())
        cv.click(position={"x": 2 * cell + cell / 2, "y": 1 * cell + cell / 2})
        idx = (2, 0, 1, 2)
        for k in (2, 5):
            slide(page, k)
            f, e = rec.frames[k], rec.explain("conv1.weight", idx, frame=k)
            assert page.inner_text("#mg-tl-where") == f"conv1.weight[2, 0, 1, 2] at step {f.step}"
            shown = page.locator("#mg-tl-explain .mg-tl-line").all_inner_texts()
            assert shown == e["lines"]  # the optimizer's own text, with the same numbers
            assert page.inner_text("#mg-tl-w") == g6(f.params["conv1.weight"][idx])
            assert page.inner_text("#mg-tl-g") == g6(f.grads["conv1.weight"][idx])
            assert page.inner_text("#mg-tl-u") == g6(f.updates["conv1.weight"][idx])
        screenshot(page, "timeline_explained_weight")

        # pick another parameter and element in the panel
        page.select_option("#mg-tl-param", "fc.weight")
        page.fill("#mg-tl-index", "70")
        page.press("#mg-tl-index", "Enter")
        shown = page.locator("#mg-tl-explain .mg-tl-line").all_inner_texts()
        assert shown == rec.explain("fc.weight", 70, frame=5)["lines"]
        slide(page, 0)
        assert (
            page.inner_text("#mg-tl-explain")
            == "Frame 0 is the start: no update led to these weights."
        )
        assert errors == [] and requests == []


def test_a_broken_run_shows_its_flags_and_they_jump_to_their_step():
    rec = demo_run(1000.0)
    flags = rec.health()
    path = rec.explore().save("out/test-artifacts/timeline_lr_x1000.html")
    with open_page(path) as (page, errors, requests):
        page.wait_for_selector("body[data-ready='1']")
        shown = page.locator(".mg-tl-flag").all_inner_texts()
        assert len(shown) == len(flags) >= 1
        for text, flag in zip(shown, flags):
            assert text == f"step {flag.step} {flag.message}"
        dead = next(i for i, f in enumerate(flags) if f.kind == "dead_relu")
        page.locator(".mg-tl-flag").nth(dead).click()
        assert page.inner_text("#mg-tl-step") == str(flags[dead].step)
        page.locator("#mg-tl-health").scroll_into_view_if_needed()
        screenshot(page, "timeline_flags_lr_x1000")
        assert errors == [] and requests == []


def test_the_demo_run_page_loads_clean_and_shows_no_flag():
    rec = demo_run(1.0)
    path = rec.explore().save("out/test-artifacts/timeline_demo.html")
    with open_page(path) as (page, errors, requests):
        page.wait_for_selector("body[data-ready='1']")
        assert page.locator(".mg-tl-flag").count() == 0
        assert "No flags" in page.inner_text("#mg-tl-health")
        page.keyboard.press("End")
        assert page.inner_text("#mg-tl-step") == "152"
        acts = page.locator(".mg-tl-act[data-act]").evaluate_all(
            "els => els.map(e => e.dataset.act)"
        )
        assert acts == ["conv1", "relu1", "pool1", "fc"]
        screenshot(page, "timeline_demo_last_frame")
        assert errors == [] and requests == []


def test_the_page_writes_numbers_as_python_writes_them(tmp_path):
    """The explainer fills the optimizer's templates in the page: its number format must be
    minigrad.numtext's (6 digits), or the page and rec.explain() would disagree."""
    rng = np.random.default_rng(0)
    values = [0.0, -0.0, 1.0, -2.5, 0.5, 1e-5, 9.999995e-5, 0.0001, 123456.0, 999999.5, 1234567.0]
    values += [1e16, -3.2e-12, 5e-324, 1.7976931348623157e308, 0.1 + 0.2, 2.0**-20, 1 / 3]
    values += list(rng.standard_normal(40) * 10.0 ** rng.integers(-9, 9, 40))
    values += [float(np.float32(v)) for v in rng.standard_normal(20)]
    mg.manual_seed(0)
    path = mg.graph.Recorder(mg.nn.Linear(2, 2)).explore().save(tmp_path / "page.html")
    with open_page(path) as (page, errors, requests):
        page.wait_for_selector("body[data-ready='1']")
        shown = page.evaluate("vs => vs.map(function (v) { return MG.fmt(v, 6); })", values)
        assert shown == [num(v, 6) for v in values]
        assert shown[:2] == ["0", "0"] and shown[3] == "-2.5"  # -0 is 0
        assert page.evaluate("[MG.fmt(NaN, 6), MG.fmt(Infinity, 6), MG.fmt(-Infinity, 6)]") == [
            num(float("nan"), 6),
            "inf",
            "-inf",
        ]
        assert errors == [] and requests == []


def test_each_frame_shows_the_probes_predictions_and_the_charts_have_axes(tmp_path):
    from test_timeline_page import fifty_adam_steps

    rec = fifty_adam_steps()
    labels = np.array([0] * 4 + [1] * 4)
    path = rec.explore(labels=labels, classes=["O", "X"]).save(tmp_path / "preds.html")
    with open_page(path) as (page, errors, requests):
        page.wait_for_selector("body[data-ready='1']")
        for k in (0, 3, 50):
            slide(page, k)
            pred = np.argmax(rec.frames[k].activations["fc"], axis=1)
            right = int((pred == labels).sum())
            assert page.inner_text("#mg-tl-predsum") == (
                f"{right} of 8 probes right at step {rec.frames[k].step}"
            )
            shown = page.locator(".mg-tl-pred b").all_inner_texts()
            for text, p, y in zip(shown, pred, labels):
                name = "OX"[p]
                assert text == (
                    f"predicts {name} ✓" if p == y else f"predicts {name} ✗ (is {'OX'[y]})"
                )
        ticks = page.locator("svg.mg-tl-loss text.mg-tl-axis").evaluate_all(
            "els => els.map(e => e.textContent)"
        )
        assert "step" in ticks and "loss" in ticks and "accuracy" in ticks
        assert {"0%", "50%", "100%"} <= set(ticks)
        assert len(ticks) >= 10  # tick labels on both axes of both charts
        screenshot(page, "timeline_predictions")
        assert errors == [] and requests == []


def test_every_frame_unpacks_to_the_engines_numbers_bit_for_bit(tmp_path):
    """The page's arrays travel packed (shared with the frame before, computed from others,
    or XORed, split and compressed): unpacked in the page they are the engine's numbers."""
    from test_timeline_page import fifty_adam_steps

    rec = fifty_adam_steps()
    page_file = rec.explore(labels=np.array([0] * 4 + [1] * 4), classes=["O", "X"])
    path = page_file.save(tmp_path / "fifty.html")
    with open_page(path) as (page, errors, requests):
        page.wait_for_selector("body[data-ready='1']")
        got = page.evaluate(
            """() => MG.payload.timeline.frames.map(function (f) {
              var out = {};
              ["params", "grads", "updates", "acts"].forEach(function (s) {
                Object.keys(f[s]).forEach(function (n) {
                  out[s + "/" + n] = Array.from(MG.arr(f[s][n]).data);
                });
              });
              return out;
            })"""
        )
        assert len(got) == len(rec.frames) == 51
        for shown, f in zip(got, rec.frames):
            for section in ("params", "grads", "updates"):
                for name, a in getattr(f, section).items():
                    want = np.asarray(a, np.float64).reshape(-1)[:256]
                    assert np.array_equal(shown[f"{section}/{name}"], want), (section, name)
            dense = np.asarray(f.activations["fc"][:8], np.float64)
            assert np.array_equal(np.reshape(shown["acts/fc"], dense.shape), dense)
            maps = np.asarray(f.activations["relu1"][:8], np.float64).reshape(-1)
            half = (maps.max() - maps.min()) / 252 / 2
            assert np.abs(np.asarray(shown["acts/relu1"]) - maps).max() <= half * (1 + 1e-6)
        # the explained update, at every frame, reads as the engine's own explanation
        page.select_option("#mg-tl-param", "conv1.weight")
        page.fill("#mg-tl-index", "29")
        page.press("#mg-tl-index", "Enter")
        idx = np.unravel_index(29, rec.frames[0].params["conv1.weight"].shape)
        for k in range(1, 51):
            slide(page, k)
            shown = page.locator("#mg-tl-explain .mg-tl-line").all_inner_texts()
            assert shown == rec.explain("conv1.weight", idx, frame=k)["lines"]
        assert errors == [] and requests == []


@pytest.mark.parametrize("size", [(390, 844), (1400, 900)])
def test_the_fifty_step_digits_page_scrubs_on_a_phone_and_a_desktop(size, tmp_path):
    from test_timeline_page import fifty_lenet_steps

    rec, labels = fifty_lenet_steps()
    path = rec.explore(labels=labels, classes=[str(d) for d in range(10)]).save(
        tmp_path / "digits.html"
    )
    width, height = size
    with open_page(path, width=width, height=height) as (page, errors, requests):
        page.wait_for_selector("body[data-ready='1']")
        assert page.inner_text("#mg-tl-frame") == "frame 0 of 50"  # every frame kept
        for k in (0, 17, 50):
            slide(page, k)
            pred = np.argmax(rec.frames[k].activations["fc2"][:8], axis=1)
            right = int((pred == labels).sum())
            assert page.inner_text("#mg-tl-predsum") == (
                f"{right} of 8 probes right at step {rec.frames[k].step}"
            )
            shown = page.locator(".mg-tl-pred b").all_inner_texts()
            assert [t.split(" ")[1] for t in shown] == [str(p) for p in pred]
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        # a conv layer's maps show the 8 channels kept and say how many are left out
        relu2 = page.locator('.mg-tl-act[data-act="relu2"]')
        assert relu2.locator("canvas").count() == 8
        assert "+24 more channels" in relu2.inner_text()
        # a whole prediction can be scrolled into view, uncovered; the slider stays in view
        page.locator(".mg-tl-pred").first.scroll_into_view_if_needed()
        assert page.evaluate(
            """() => { var b = document.querySelector('.mg-tl-pred').getBoundingClientRect();
              return [b.top + 2, b.bottom - 2].every(function (y) {
                var e = document.elementFromPoint(b.left + b.width / 2, y);
                return !!(e && e.closest('.mg-tl-pred')); }); }"""
        )
        top = page.evaluate("document.querySelector('#mg-tl-slider').getBoundingClientRect().top")
        assert 0 <= top < height
        screenshot(page, f"timeline_digits_predictions_{width}")
        assert errors == [] and requests == []
