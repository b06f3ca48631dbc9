"""minigrad._memory.tune_malloc: applies on glibc, honours the opt-out, harmless elsewhere; the
CNN kernels apply it on their first use (through minigrad.parallel), never at import.

The real effect is checked by counting page faults in a fresh process: after tuning, a large
array freed and allocated again reuses the same pages instead of faulting in new ones.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from minigrad import _memory

ON_GLIBC = _memory._glibc()
glibc_only = pytest.mark.skipif(not ON_GLIBC, reason="malloc tuning applies to glibc only")

PROBE = textwrap.dedent(
    """
    import json, resource
    import numpy as np
    from minigrad import _memory

    before = _memory.tuned()
    applied = _memory.tune_malloc()
    again = _memory.tune_malloc()

    def faults():
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

    n = (40 << 20) // 8  # 40 MiB: above the largest threshold glibc picks by itself
    a = np.ones(n); del a
    start = faults()
    for _ in range(5):
        a = np.ones(n); del a
    print(json.dumps({"before": before, "applied": applied, "again": again,
                      "faults": faults() - start}))
    """
)


def run_probe(script: str = PROBE, **env: str) -> dict:
    environ = dict(os.environ)
    environ.pop(_memory.OPT_OUT, None)
    environ.update(env)
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=environ, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@glibc_only
def test_applies_once_on_glibc_and_reuses_freed_memory():
    tuned = run_probe()
    assert tuned["before"] is None  # importing minigrad alone does not tune
    assert tuned["applied"] is True and tuned["again"] is True
    default = run_probe(**{_memory.OPT_OUT: "1"})
    assert default["applied"] is False and default["again"] is False
    # Without tuning every 40 MiB array is a fresh mapping that faults in; with it, the
    # freed block is reused.
    assert default["faults"] > 0
    assert tuned["faults"] * 4 < default["faults"]


@glibc_only
@pytest.mark.parametrize("value,expected", [("1", False), ("yes", False), ("0", True)])
def test_opt_out_variable(value, expected):
    assert run_probe(**{_memory.OPT_OUT: value})["applied"] is expected


@glibc_only
def test_kernels_tune_on_first_use_not_on_import():
    script = textwrap.dedent(
        """
        import json
        import minigrad as mg
        from minigrad import _memory
        states = [_memory.tuned()]
        import layers_plugins._kernels
        states.append(_memory.tuned())
        mg.ops.conv2d(mg.ones(1, 1, 3, 3), mg.ones(1, 1, 2, 2))
        states.append(_memory.tuned())
        print(json.dumps({"states": states}))
        """
    )
    assert run_probe(script) == {"states": [None, None, True]}
    assert run_probe(script, **{_memory.OPT_OUT: "1"}) == {"states": [None, None, False]}


@pytest.mark.parametrize("platform", ["darwin", "win32", "emscripten"])
def test_does_nothing_off_linux(monkeypatch, platform):
    called = []
    monkeypatch.setattr(_memory, "_apply", lambda *a: called.append(a) or True)
    monkeypatch.setattr(_memory, "_result", None)
    monkeypatch.setattr(sys, "platform", platform)
    assert _memory.tune_malloc() is False
    assert _memory.tune_malloc(force=True) is False
    assert called == []


def test_does_nothing_on_another_libc(monkeypatch):
    called = []
    monkeypatch.setattr(_memory, "_apply", lambda *a: called.append(a) or True)
    monkeypatch.setattr(_memory, "_result", None)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(os, "confstr", lambda name: "musl 1.2", raising=False)
    assert _memory.tune_malloc() is False
    assert called == []


def test_first_result_is_kept_and_force_acts_again(monkeypatch):
    calls = []
    monkeypatch.setattr(_memory, "_apply", lambda m, t: calls.append((m, t)) or True)
    monkeypatch.setattr(_memory, "_glibc", lambda: True)
    monkeypatch.setattr(_memory, "_result", None)
    monkeypatch.delenv(_memory.OPT_OUT, raising=False)
    assert _memory.tuned() is None
    assert _memory.tune_malloc() is True
    assert _memory.tune_malloc(1 << 20, 2 << 20) is True  # only reports the first result
    assert calls == [(_memory.MMAP_THRESHOLD, _memory.TRIM_THRESHOLD)]
    assert _memory.tune_malloc(1 << 20, 2 << 20, force=True) is True
    assert calls[-1] == (1 << 20, 2 << 20)
    assert _memory.tuned() is True
