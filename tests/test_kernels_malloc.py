"""layers_plugins._kernels.malloc.tune_malloc: applies on glibc, honours the opt-out, harmless elsewhere; the
CNN kernels apply it on their first use (through the kernels' thread pool), never at import.

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

from layers_plugins._kernels import malloc

ON_GLIBC = malloc._glibc()
glibc_only = pytest.mark.skipif(not ON_GLIBC, reason="malloc tuning applies to glibc only")

PROBE = textwrap.dedent(
    """
    import json, resource
    import numpy as np
    from layers_plugins._kernels import malloc

    before = malloc.tuned()
    applied = malloc.tune_malloc()
    again = malloc.tune_malloc()

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
    environ.pop(malloc.OPT_OUT, None)
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
    default = run_probe(**{malloc.OPT_OUT: "1"})
    assert default["applied"] is False and default["again"] is False
    # Without tuning every 40 MiB array is a fresh mapping that faults in; with it, the
    # freed block is reused.
    assert default["faults"] > 0
    assert tuned["faults"] * 4 < default["faults"]


@glibc_only
@pytest.mark.parametrize("value,expected", [("1", False), ("yes", False), ("0", True)])
def test_opt_out_variable(value, expected):
    assert run_probe(**{malloc.OPT_OUT: value})["applied"] is expected


@glibc_only
def test_kernels_tune_on_first_use_not_on_import():
    script = textwrap.dedent(
        """
        import json
        import minigrad as mg
        from layers_plugins._kernels import malloc
        states = [malloc.tuned()]
        import layers_plugins._kernels
        states.append(malloc.tuned())
        mg.ops.conv2d(mg.ones(1, 1, 3, 3), mg.ones(1, 1, 2, 2))
        states.append(malloc.tuned())
        print(json.dumps({"states": states}))
        """
    )
    assert run_probe(script) == {"states": [None, None, True]}
    assert run_probe(script, **{malloc.OPT_OUT: "1"}) == {"states": [None, None, False]}


@pytest.mark.parametrize("platform", ["darwin", "win32", "emscripten"])
def test_does_nothing_off_linux(monkeypatch, platform):
    called = []
    monkeypatch.setattr(malloc, "_apply", lambda *a: called.append(a) or True)
    monkeypatch.setattr(malloc, "_result", None)
    monkeypatch.setattr(sys, "platform", platform)
    assert malloc.tune_malloc() is False
    assert malloc.tune_malloc(force=True) is False
    assert called == []


def test_does_nothing_on_another_libc(monkeypatch):
    called = []
    monkeypatch.setattr(malloc, "_apply", lambda *a: called.append(a) or True)
    monkeypatch.setattr(malloc, "_result", None)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(os, "confstr", lambda name: "musl 1.2", raising=False)
    assert malloc.tune_malloc() is False
    assert called == []


def test_first_result_is_kept_and_force_acts_again(monkeypatch):
    calls = []
    monkeypatch.setattr(malloc, "_apply", lambda m, t: calls.append((m, t)) or True)
    monkeypatch.setattr(malloc, "_glibc", lambda: True)
    monkeypatch.setattr(malloc, "_result", None)
    monkeypatch.delenv(malloc.OPT_OUT, raising=False)
    assert malloc.tuned() is None
    assert malloc.tune_malloc() is True
    assert malloc.tune_malloc(1 << 20, 2 << 20) is True  # only reports the first result
    assert calls == [(malloc.MMAP_THRESHOLD, malloc.TRIM_THRESHOLD)]
    assert malloc.tune_malloc(1 << 20, 2 << 20, force=True) is True
    assert calls[-1] == (1 << 20, 2 << 20)
    assert malloc.tuned() is True
