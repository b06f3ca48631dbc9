"""The benchmark runs end to end and writes its results (no timing is asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import env, report, timing  # noqa: E402


def run_bench(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable,
        "-m",
        "bench",
        "--quick",
        "--min-seconds",
        "0.05",
        "--out",
        str(tmp_path),
    ]
    return subprocess.run(
        [*cmd, *args], cwd=ROOT, capture_output=True, text=True, timeout=300, env=dict(os.environ)
    )


def test_overhead_suite_runs_and_writes_results(tmp_path):
    proc = run_bench(tmp_path, "--only", "overhead", "--threads", "1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((tmp_path / "latest.json").read_text())
    names = [r["name"] for r in data["records"]]
    assert names == [
        "tiny: a*b+a, sum, backward",
        "chain: 1,000 muls, sum, backward",
        "100-op chain: c = c*b + a x50, sum, backward",
    ]
    for rec in data["records"]:
        assert rec["suite"] == "overhead" and rec["threads"] == 1 and rec["ops"] > 0
        assert rec["minigrad"]["samples"] >= 3 and rec["minigrad"]["min_s"] > 0
        assert rec["minigrad"]["min_s"] <= rec["minigrad"]["median_s"]
        if rec["torch"] is not None:
            assert rec["ratio"] == pytest.approx(rec["minigrad"]["min_s"] / rec["torch"]["min_s"])
    md = (tmp_path / "latest.md").read_text()
    assert "| threads | dtype | workload |" in md and "tiny: a*b+a" in md
    assert "OPENBLAS_CORETYPE" in proc.stdout
    assert "BLAS: " in proc.stdout  # which BLAS libraries and kernels ran
    assert data["meta"]["minigrad threads"] == 1 and data["meta"]["BLAS libraries"]


def test_blas_warning_names_slow_kernels_on_an_avx512_cpu():
    from bench.worker import blas_warning

    haswell = [{"internal_api": "openblas", "architecture": "Haswell"}]
    assert "OPENBLAS_CORETYPE=SkylakeX" in blas_warning(haswell, {"avx512f", "avx2"})
    assert blas_warning(haswell, {"avx2"}) is None  # the best this CPU has
    skylake = [{"internal_api": "openblas", "architecture": "SkylakeX"}]
    assert blas_warning(skylake, {"avx512f"}) is None
    assert blas_warning([{"internal_api": "mkl", "architecture": None}], {"avx512f"}) is None


def test_runs_without_torch(tmp_path):
    proc = run_bench(
        tmp_path, "--only", "overhead", "--threads", "1", "--no-torch", "--no-coretype"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    records = json.loads((tmp_path / "latest.json").read_text())["records"]
    assert records and all(r["torch"] is None and r["ratio"] is None for r in records)
    assert all(r["minigrad"]["min_s"] > 0 for r in records)


def test_playground_suite_times_edits_against_the_plain_step(tmp_path):
    proc = run_bench(tmp_path, "--only", "playground", "--threads", "1", "--no-torch")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    records = json.loads((tmp_path / "latest.json").read_text())["records"]
    assert [r["name"].split(",")[0] for r in records] == [
        "X-vs-O demo network",
        "playground: paint a pixel -> page data",
        "playground: Step -> page data",
        "digits LeNet",
        "playground: paint a pixel -> page data",
        "playground: Step -> page data",
    ]
    for rec in records:
        assert rec["suite"] == "playground" and rec["error"] is None
        assert rec["minigrad"]["min_s"] > 0
        if rec["name"].startswith("playground"):
            assert rec["ratio_to"] == "step" and rec["ratio"] > 0


def test_forward_suite_compares_kept_calls_with_no_grad(tmp_path):
    proc = run_bench(
        tmp_path, "--only", "forward", "--threads", "1", "--dtype", "float32", "--no-torch"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    records = json.loads((tmp_path / "latest.json").read_text())["records"]
    assert all(r["suite"] == "forward" and r["error"] is None for r in records)
    step = [r for r in records if r["name"].startswith("LeNet-5 training step")]
    assert [r["forward-only calls kept"] for r in step] == [0]  # training keeps none
    kept = [r for r in records if r["name"].endswith("calls kept (plain forward)")]
    assert len(kept) == 2
    for rec in kept:  # against the same forward under no_grad, per op
        assert rec["ratio_to"] == "no_grad" and rec["ops"] > 0 and rec["ratio"] > 0
        assert rec["kept_cost_us_per_op"].endswith(" us)")


def test_bad_options_are_refused(tmp_path):
    proc = run_bench(tmp_path, "--only", "conv,nope")
    assert proc.returncode == 2 and "unknown suite nope" in proc.stderr
    proc = run_bench(tmp_path, "--threads", "0")
    assert proc.returncode == 2 and "--threads" in proc.stderr
    assert not (tmp_path / "latest.json").exists()


# ---------------------------------------------------------------------------------------------
# The pieces, in process
# ---------------------------------------------------------------------------------------------


def test_coretype_choice_follows_the_cpu(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(env, "cpu_flags", lambda: {"avx2", "avx512f"})
    value, why = env.coretype_choice({"OPENBLAS_CORETYPE": "Haswell"})
    assert value == "SkylakeX" and "was Haswell" in why
    assert env.coretype_choice({})[0] == "SkylakeX"
    assert env.coretype_choice({"OPENBLAS_CORETYPE": "SkylakeX"})[0] is None
    monkeypatch.setattr(env, "cpu_flags", lambda: {"avx2"})
    value, why = env.coretype_choice({})
    assert value is None and "no AVX-512" in why
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(env, "cpu_flags", lambda: {"avx512f"})
    assert env.coretype_choice({})[0] is None


def test_worker_env_sets_every_thread_variable():
    out = env.worker_env(2, "SkylakeX", base={"PATH": "/bin", "OMP_NUM_THREADS": "8"})
    assert out["OMP_NUM_THREADS"] == out["OPENBLAS_NUM_THREADS"] == out["MKL_NUM_THREADS"] == "2"
    assert out["OPENBLAS_CORETYPE"] == "SkylakeX" and out["PATH"] == "/bin"
    assert "OPENBLAS_CORETYPE" not in env.worker_env(1, None, base={})


def test_interleaved_alternates_and_counts_every_call(monkeypatch):
    monkeypatch.setattr(timing, "SAMPLE_SECONDS", 0.0)  # one call per sample
    calls: list[str] = []
    cases = {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}
    t = timing.interleaved(cases, min_seconds=0.0, min_samples=4, warmup=1)
    assert len(t["a"].samples) == len(t["b"].samples) == t["a"].calls == 4
    assert t["a"].min <= t["a"].median
    # Set-up: warm-up and calibration of each case; then rounds in rotating order.
    assert calls[:4] == ["a", "a", "b", "b"]
    assert calls[4:] == ["a", "b", "b", "a", "a", "b", "b", "a"]


def test_records_and_tables():
    mg = {"min_s": 2e-3, "median_s": 3e-3, "samples": 5, "calls": 50}
    pt = {"min_s": 1e-3, "median_s": 1e-3, "samples": 5, "calls": 50}
    rec = report.time_record("conv", "conv2d", 1, "float32", mg, pt, flop=2e6, target=1.7)
    assert rec["ratio"] == pytest.approx(2.0) and rec["ratio_median"] == pytest.approx(3.0)
    assert rec["met"] is False
    cells = report.cells(rec)
    assert cells[3] == "2.00 ms" and cells[7] == "1.0 / 2.0" and cells[9] == "<= 1.70 MISSED"
    rel = report.time_record("graph", "draw", 1, "float32", pt, None, reference=("step", mg))
    assert rel["ratio"] == pytest.approx(0.5) and rel["ratio_to"] == "step"
    assert "vs step" in report.cells(rel)[8]
    alone = report.time_record("overhead", "tiny", 1, "float32", mg, None, ops=4)
    assert alone["ratio"] is None and report.cells(alone)[3] == "500.00 us/op"
    mem = report.memory_record(
        "peak",
        1,
        "float32",
        {"step_peak_mib": 12.0, "tracemalloc_mib": 5.0},
        {"step_peak_mib": 6.0},
    )
    assert mem["ratio"] == pytest.approx(2.0)
    text = report.markdown([rec, rel, alone, mem], {"numpy": "2"})
    assert text.count("\n| ") == 5 and "- numpy: 2" in text
    assert len(report.text_table([rec, mem]).splitlines()) == 3


def test_one_multiplication_reads_in_at_most_seven_files():
    # what a newcomer follows through `y = x * w; y.sum().backward()` (bench/trace_calls.py)
    from bench import trace_calls

    run = trace_calls.mul_workload()
    run()
    summary = trace_calls.summary(trace_calls.trace(run))
    assert 0 < summary["files"] <= 7, summary


def test_layout_counts_every_python_file(capsys):
    from bench import layout

    assert layout.main() == 0
    out = capsys.readouterr().out
    total = int(out.split("| total | ")[1].split(" |")[0])
    assert total == sum(1 for p in ("minigrad", "layers_plugins") for _ in (ROOT / p).rglob("*.py"))
