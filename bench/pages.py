"""How fast the pages respond in Chromium: scrubbing the timeline, laying out the explorer.

    python bench/pages.py            # one table; needs playwright and Debian's chromium

Rows: ``timeline scrub`` moves the slider through every frame of a recorded run and times
each frame until its layout is done (median, 90th percentile, worst, in ms), on the X-vs-O
demo run and on a digits-sized LeNet (16, 32 channels, 128 hidden, 10 probes, 50 Adam
steps on random 8x8 images, no scikit-learn needed); ``explorer layout`` lays out the graphs
of a LeNet training step with dagre again and again. Page sizes are listed too, and the time
to open each timeline page (to DOMContentLoaded: the data parsed and unpacked, the first
frame drawn). Targets: scrubbing at most 16 ms median and 50 ms at the 90th percentile per
frame. Absolute times (there is no PyTorch counterpart); this machine's load shows in them.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad import nn
from minigrad.demo import build_lenet, build_xo_model

SCRUB = """() => {
  var n = MG.payload.timeline.frames.length, times = [];
  for (var rep = 0; rep < 2; rep++) for (var k = 0; k < n; k++) {
    var t = performance.now();
    MG.timeline.go(k);
    document.body.offsetHeight;  // style and layout done
    times.push(performance.now() - t);
  }
  return times;
}"""

# from navigation to the page built (MG.boot runs before DOMContentLoaded): parsing the
# page and its data, unpacking the frames, drawing the first one
OPENED = "() => MG.readyMs"  # from navigation to the page built (data-ready)

LAYOUT = """() => {
  var out = {};
  ["forward", "backward"].forEach(function (w) {
    var p = MG.panes[w], t = performance.now();
    for (var i = 0; i < 5; i++) p.layout();
    out[w] = (performance.now() - t) / 5;
  });
  return out;
}"""


def _train(model, x, y, probes, steps, every=1, labels=None, classes=None):
    opt = mg.optim.Adam(model.parameters(), lr=0.002 if len(probes) == 10 else 0.02)
    rec = mg.graph.Recorder(model, probes=probes, optimizer=opt, every=every)
    loader = mg.data.DataLoader(x, y, batch_size=16, shuffle=True, seed=0)
    loss_fn, k = nn.CrossEntropyLoss(), 0
    while k < steps:
        for xb, yb in loader:
            loss = loss_fn(model(mg.tensor(xb)), mg.tensor(yb))
            opt.zero_grad()
            loss.backward()
            opt.step()
            rec.step(loss)
            k += 1
            if k == steps:
                break
    return rec.explore(labels=labels, classes=classes)


def pages(folder: Path) -> dict[str, Path]:
    mg.manual_seed(0)
    x, y = mg.data.xo_images(n_per_class=150, seed=0)
    xt, yt = mg.data.xo_images(n_per_class=20, seed=10_000)
    pick = list(np.flatnonzero(yt == 0)[:4]) + list(np.flatnonzero(yt == 1)[:4])
    out = {}
    xo = _train(build_xo_model(), x, y, xt[pick], 152, 3, yt[pick], ["O", "X"])
    out["timeline: X-vs-O demo run"] = Path(xo.save(folder / "xo.html"))
    mg.manual_seed(0)
    rng = np.random.default_rng(0)
    xd, yd = rng.random((800, 1, 8, 8)).astype(np.float32), rng.integers(0, 10, 800)
    digits = _train(build_lenet(), xd, yd, xd[:10], 50, 1, yd[:10], [str(d) for d in range(10)])
    out["timeline: digits-sized LeNet, 50 steps"] = Path(digits.save(folder / "lenet50.html"))
    mg.manual_seed(0)
    loss = nn.CrossEntropyLoss()(build_lenet()(mg.tensor(xd[:4])), mg.tensor(yd[:4]))
    out["explorer: LeNet step"] = Path(mg.graph.explore(loss).save(folder / "step.html"))
    return out


def main() -> int:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("bench/pages.py: needs the 'playwright' Python package")
        return 1
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        print("bench/pages.py: needs Chromium (Debian: apt-get install chromium)")
        return 1
    rows = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for name, path in pages(Path(tmp)).items():
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(path.resolve().as_uri())
            page.wait_for_selector("body[data-ready='1']")
            size = f"{path.stat().st_size / 1e6:.2f} MB"
            opened, unpack = (
                page.evaluate(OPENED),
                page.evaluate("MG.timeline.inflateMs + MG.timeline.unpackMs"),
            )
            if name.startswith("timeline"):
                t = sorted(page.evaluate(SCRUB))
                p90 = t[int(0.9 * (len(t) - 1))]
                rows.append(
                    (f"{name}: scrub", size, f"median {statistics.median(t):.1f} ms, "
                     f"p90 {p90:.1f} ms, worst {t[-1]:.1f} ms over {len(t)} frames; "
                     f"open {opened:.0f} ms (unpack {unpack:.0f} ms)")
                )  # fmt: skip
            else:
                page.click("#mg-tab-both")
                t = page.evaluate(LAYOUT)
                rows.append(
                    (f"{name}: layout", size, ", ".join(f"{k} {v:.1f} ms" for k, v in t.items()))
                )
            page.close()
        browser.close()
    print("| page | size | time in Chromium |\n|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
