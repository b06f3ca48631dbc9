"""The timeline page's data: deterministic, offline, small, and the engine's numbers."""

from __future__ import annotations

import base64
import json
import zlib

import numpy as np
import pytest
from test_recorder import small_run, train, xo_data, xo_model
from test_recorder_health import demo_run

import minigrad as mg
from minigrad.demo import build_lenet


def decode(enc):
    return np.frombuffer(base64.b64decode(enc["b64"]), dtype=enc["dtype"]).reshape(enc["shape"])


def unpack(t):
    """The timeline with its packed arrays read back, by hand, as plain ``{shape, dtype, b64}``
    (the format the page reads: see recorder_page._pack)."""
    if isinstance(t["frames"], dict):  # the frames' JSON, compressed
        text = zlib.decompress(base64.b64decode(t["frames"]["json"]), wbits=-15)
        assert len(text) == t["frames"]["size"]
        t = {**t, "frames": json.loads(text)}
    rows = []
    for b in t["blobs"]:
        width = np.dtype(b["dtype"]).itemsize
        planes = zlib.decompress(base64.b64decode(b["z"]), wbits=-15)
        a = np.frombuffer(planes, np.uint8).reshape(width, -1).T.reshape(b["rows"], -1)
        if b["mode"] == "xor":
            a = np.bitwise_xor.accumulate(a, axis=0)
        elif b["mode"] == "delta":
            a = np.cumsum(a, axis=0, dtype=np.uint8)
        rows.append([np.frombuffer(r.tobytes(), b["dtype"]) for r in a])

    def at(ref):
        box = t["frames"][ref[0]]
        for key in ref[1:]:
            box = box[key]
        return value(box)

    def value(enc):
        if "z" in enc:
            return rows[enc["z"][0]][enc["z"][1]]
        if "same" in enc:
            return at(enc["same"])
        if "sub" in enc:
            x, y = (at(r).astype(np.float64) for r in enc["sub"])
            return (x - y).astype(np.float32)
        if "div" in enc:
            return (at(enc["div"][0]).astype(np.float64) / np.float32(enc["div"][1])).astype(
                np.float32
            )
        return decode(enc).reshape(-1)

    def plain(enc):
        meta = {k: v for k, v in enc.items() if k not in ("z", "same", "sub", "div")}
        return {**meta, "b64": base64.b64encode(value(enc).tobytes()).decode()}

    frames = []
    for f in t["frames"]:
        f = {**f, **{s: {n: plain(e) for n, e in f[s].items()} for s in _SECTIONS}}
        f["explain"] = {
            n: {
                "templates": t["templates"][e["templates"]],
                "values": {
                    k: plain(v) if isinstance(v, dict) else v for k, v in e["values"].items()
                },
            }
            for n, e in f["explain"].items()
        }
        frames.append(f)
    return {**t, "frames": frames}


_SECTIONS = ("params", "grads", "updates", "pics", "acts")


def test_the_demo_run_page_is_offline_deterministic_and_under_2_mb():
    pages = [demo_run(1.0).explore() for _ in range(2)]
    html = pages[0].html
    assert html == pages[1].html  # same run, same bytes
    size = len(html.encode("utf-8"))
    assert size < 2_000_000  # 153 frames, none thinned
    assert page_payload(html)["kept"] == list(range(153))
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
    t = unpack(timeline_payload(rec))
    assert t["kept"] == [f.step for f in rec.frames] and t["recorded"] == len(rec.frames)
    assert t["optimizer"] == "Adam" and len(t["losses"]) == rec.steps
    for page_frame, f in zip(t["frames"], rec.frames):
        assert page_frame["step"] == f.step
        for name, a in f.params.items():
            np.testing.assert_array_equal(decode(page_frame["params"][name]), a)
        for name, a in f.updates.items():
            np.testing.assert_array_equal(decode(page_frame["updates"][name]), a)
        assert set(page_frame["acts"]) == {"conv1", "relu1", "pool1", "fc"}  # flatten: a reshape
        # feature maps are pictures: uint8 levels between their exact min and max, each
        # within half a level of the engine's value; the dense layer's numbers are exact
        maps, enc = f.activations["relu1"][:8], page_frame["acts"]["relu1"]
        assert enc["dtype"] == "uint8" and enc["levels"] == 252
        assert (enc["lo"], enc["hi"]) == (maps.min(), maps.max())
        seen = enc["lo"] + decode(enc) * (enc["hi"] - enc["lo"]) / enc["levels"]
        assert np.abs(seen - maps).max() <= (maps.max() - maps.min()) / 252 / 2 * (1 + 1e-9)
        np.testing.assert_array_equal(decode(page_frame["acts"]["fc"]), f.activations["fc"][:8])
        assert page_frame["pred"] == list(np.argmax(f.activations["fc"][:8], axis=1))
        shown = page_frame["norms"]["fc.weight"]  # over every element
        assert shown[0] == pytest.approx(np.linalg.norm(f.params["fc.weight"]), rel=1e-12)
        if f.step:
            assert shown[1:] == pytest.approx(
                [np.linalg.norm(f.grads["fc.weight"]), np.linalg.norm(f.updates["fc.weight"])],
                rel=1e-12,
            )
        else:
            assert shown[1:] == [None, None]
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
    t = unpack(timeline_payload(rec, max_elements=10, samples=1))
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

    t = unpack(timeline_payload(rec))
    assert t["probes"] is None and t["activations"] == [] and t["optimizer"] is None
    assert all(f["explain"] == {} for f in t["frames"])
    assert rec.explore(title="plain").title == "plain"


def fifty_adam_steps(labels: bool = False):
    """50 Adam steps of the X-vs-O CNN (batches of 16), every step recorded, 8 probes."""
    x, y, probes = xo_data(150)
    mg.manual_seed(0)
    model = xo_model()
    opt = mg.optim.Adam(model.parameters(), lr=0.02)
    rec = mg.graph.Recorder(model, probes=probes, optimizer=opt)
    loss_fn = mg.nn.CrossEntropyLoss()
    loader = mg.data.DataLoader(x, y, batch_size=16, shuffle=True, seed=0)
    batches = [b for _ in range(3) for b in loader][:50]  # 19 batches an epoch
    for xb, yb in batches:
        loss = loss_fn(model(mg.tensor(xb)), mg.tensor(yb))
        opt.zero_grad()
        loss.backward()
        opt.step()
        rec.step(loss)
    return rec


def test_fifty_steps_with_eight_probes_fit_in_2_mb_with_every_frame():
    rec = fifty_adam_steps()
    page = rec.explore(labels=np.array([0] * 4 + [1] * 4), classes=["O", "X"])
    assert len(page.html.encode("utf-8")) <= 2_000_000
    t = page_payload(page.html)
    assert t["kept"] == list(range(51))  # nothing thinned
    assert t["probes"]["shape"][0] == 8 and t["labels"] == [0, 0, 0, 0, 1, 1, 1, 1]
    last = t["frames"][-1]
    assert last["acts"]["conv1"]["shape"][0] == 8 and len(last["pred"]) == 8
    right = np.mean(np.argmax(rec.frames[-1].activations["fc"], axis=1) == np.array(t["labels"]))
    assert t["accuracy"][-1] == right


def fifty_lenet_steps():
    """50 Adam steps of the digits LeNet (16 and 32 channels, 128 hidden units, 10 classes)
    on random 8x8 images, every step recorded, 8 probes; the probes' labels."""
    mg.manual_seed(0)
    model = build_lenet()
    rng = np.random.default_rng(0)
    x, y = rng.random((800, 1, 8, 8)).astype(np.float32), rng.integers(0, 10, 800)
    opt = mg.optim.Adam(model.parameters(), lr=0.002)
    rec = mg.graph.Recorder(model, probes=x[:8], optimizer=opt)
    loss_fn = mg.nn.CrossEntropyLoss()
    for xb, yb in list(mg.data.DataLoader(x, y, batch_size=16, shuffle=True, seed=0))[:50]:
        loss = loss_fn(model(mg.tensor(xb)), mg.tensor(yb))
        opt.zero_grad()
        loss.backward()
        opt.step()
        rec.step(loss)
    return rec, y[:8]


def test_fifty_steps_of_the_digits_lenet_fit_in_2_mb_with_every_frame_exact():
    """A bigger small CNN, 50 Adam steps, 8 probes: every frame kept, and what the page
    unpacks is the engine's numbers."""
    rec, labels = fifty_lenet_steps()
    html = rec.explore(labels=labels, classes=[str(d) for d in range(10)]).html
    assert len(html.encode("utf-8")) <= 2_000_000
    t = page_payload(html)
    assert t["kept"] == list(range(51))
    for page_frame, f in zip(t["frames"], rec.frames):
        for section in ("params", "grads", "updates"):
            for name, a in getattr(f, section).items():
                np.testing.assert_array_equal(
                    decode(page_frame[section][name]),
                    a.reshape(-1)[:256].reshape(-1) if a.size > 256 else a,
                )
        assert len(page_frame["pred"]) == 8
    k = 7
    e = rec.explain("conv2.weight", (0, 3, 1, 2), frame=k)
    page = t["frames"][k]["explain"]["conv2.weight"]
    flat = np.ravel_multi_index((0, 3, 1, 2), (32, 16, 3, 3))
    for key in ("m", "v", "m_prev", "v_prev", "m_hat", "v_hat", "u", "weight"):
        assert decode(page["values"][key]).reshape(-1)[flat] == e["values"][key]


def page_payload(html):
    return unpack(
        json.loads(html.split('id="mg-payload">', 1)[1].split("</script>", 1)[0])["timeline"]
    )


def test_the_byte_budget_holds_for_a_bigger_network_and_keeps_flagged_steps():
    mg.manual_seed(0)
    model = build_lenet()  # 16 and 32 channels, 128 hidden units
    rng = np.random.default_rng(0)
    x, y = rng.random((160, 1, 8, 8)).astype(np.float32), rng.integers(0, 10, 160)
    opt = mg.optim.Adam(model.parameters(), lr=0.002)
    rec = mg.graph.Recorder(model, probes=x[:10], optimizer=opt)
    train(model, opt, x, y, 3, rec)
    html = rec.explore(max_bytes=450_000).html  # all 31 frames take about 1 MB
    assert len(html.encode("utf-8")) <= 450_000
    t = page_payload(html)
    assert 2 < len(t["kept"]) < len(rec.frames)
    assert {f.step for f in rec.health()} <= set(t["kept"])
    conv2 = t["frames"][-1]["pics"]["conv2.weight"]  # every filter, as a picture
    assert conv2["shape"] == [32, 16, 3, 3] and conv2["dtype"] == "uint8"


def test_labels_and_classes_are_checked():
    rec = fifty_adam_steps()
    with pytest.raises(ValueError, match="8 integer class indices"):
        rec.explore(labels=[0, 1])
    with pytest.raises(ValueError, match=r"labels must lie in 0..1"):
        rec.explore(labels=np.arange(8), classes=["O", "X"])
    mg.manual_seed(0)
    with pytest.raises(ValueError, match="needs a Recorder made with probes="):
        mg.graph.Recorder(xo_model()).explore(labels=np.zeros(8, int))
