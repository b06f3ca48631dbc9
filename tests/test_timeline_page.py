"""The timeline page's data: deterministic, offline, small, and the engine's numbers."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from test_recorder import small_run, train, xo_data, xo_model
from test_recorder_health import demo_run

import minigrad as mg


def decode(enc):
    return np.frombuffer(base64.b64decode(enc["b64"]), dtype=enc["dtype"]).reshape(enc["shape"])


def test_the_demo_run_page_is_offline_deterministic_and_under_10_mb():
    pages = [demo_run(1.0).explore() for _ in range(2)]
    html = pages[0].html
    assert html == pages[1].html  # same run, same bytes
    size = len(html.encode("utf-8"))
    assert size < 10_000_000
    body = html.split("<body>", 1)[1].replace("http://www.w3.org/2000/svg", "")  # a name, no URL
    head, rest = body.split('id="mg-payload">', 1)
    body = head + rest.split("</script>", 1)[1]  # the code and markup, without the data
    for fetching in ("http://", "https://", 'src="', "href=", "url(", "@import", "fetch("):
        assert fetching not in body
    assert 'id="mg-payload"' in html and "MG.views.timeline" in html
    assert pages[0].title == "minigrad training timeline: Sequential, 152 steps"


def test_payload_frames_carry_the_recorded_numbers_exactly():
    from minigrad.graph.recorder_page import timeline_payload

    _, _, rec = small_run(lambda p: mg.optim.Adam(p, lr=0.01), epochs=2)
    t = timeline_payload(rec)
    assert t["kept"] == [f.step for f in rec.frames] and t["recorded"] == len(rec.frames)
    assert t["optimizer"] == "Adam" and len(t["losses"]) == rec.steps
    for page_frame, f in zip(t["frames"], rec.frames):
        assert page_frame["step"] == f.step
        for name, a in f.params.items():
            np.testing.assert_array_equal(decode(page_frame["params"][name]), a)
        for name, a in f.updates.items():
            np.testing.assert_array_equal(decode(page_frame["updates"][name]), a)
        assert set(page_frame["acts"]) == {"conv1", "relu1", "pool1", "fc"}  # flatten: a reshape
        np.testing.assert_array_equal(
            decode(page_frame["acts"]["relu1"]), f.activations["relu1"][:4]
        )
    k = 3
    e = rec.explain("conv1.weight", (1, 0, 2, 0), frame=k)
    page = t["frames"][k]["explain"]["conv1.weight"]
    assert page["templates"] == e["templates"]
    flat = np.ravel_multi_index((1, 0, 2, 0), (4, 1, 3, 3))
    for key in ("m", "v", "m_prev", "u", "weight"):
        assert decode(page["values"][key]).reshape(-1)[flat] == e["values"][key]
    assert page["values"]["t"] == e["values"]["t"] == rec.frames[k].step


def test_big_runs_are_thinned_to_the_frame_and_byte_budgets():
    from minigrad.graph.recorder_page import timeline_payload

    _, _, rec = small_run(lambda p: mg.optim.SGD(p, lr=0.05), epochs=10)
    assert len(rec.frames) == 31
    t = timeline_payload(rec, frames=7)
    assert t["kept"] == [0, 5, 10, 15, 20, 25, 30]
    t = timeline_payload(rec, max_bytes=200_000)
    assert 2 <= len(t["kept"]) < 31 and t["kept"][0] == 0 and t["kept"][-1] == 30
    t = timeline_payload(rec, max_elements=10, samples=1)
    assert t["frames"][1]["params"]["fc.weight"]["shape"] == [10]
    assert [p["kept"] for p in t["params"]] == [10, 4, 10, 2]
    assert t["frames"][1]["acts"]["conv1"]["shape"] == [10]


def test_explore_options_are_checked():
    mg.manual_seed(0)
    rec = mg.graph.Recorder(xo_model())
    with pytest.raises(TypeError, match=r"unknown option\(s\) \['frame'\]"):
        rec.explore(frame=3)
    with pytest.raises(ValueError, match="frames must be an int >= 2, got 1"):
        rec.explore(frames=1)


def test_a_page_without_probes_or_optimizer_still_builds():
    mg.manual_seed(0)
    model = xo_model()
    x, y, _ = xo_data(16)
    opt = mg.optim.SGD(model.parameters(), lr=0.1)
    rec = mg.graph.Recorder(model)
    train(model, opt, x, y, 1, rec)
    from minigrad.graph.recorder_page import timeline_payload

    t = timeline_payload(rec)
    assert t["probes"] is None and t["activations"] == [] and t["optimizer"] is None
    assert all(f["explain"] == {} for f in t["frames"])
    assert rec.explore(title="plain").title == "plain"
