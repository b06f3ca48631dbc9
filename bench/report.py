"""Benchmark records, and their text and markdown tables.

A record is a plain dict (it goes to JSON as is):

``suite, name, threads, dtype, kind``
    what was measured; ``kind`` is ``"time"`` or ``"memory"``.
``minigrad``, ``torch``
    ``{"min_s", "median_s", "samples", "calls"}`` per call (time), or ``{"peak_mib", ...}``
    (memory); ``torch`` is None without PyTorch or for minigrad-only rows.
``ratio``, ``ratio_median``
    minigrad / PyTorch from the minimum (and the median) times: below 1 means minigrad is
    faster. For rows measured against another minigrad workload, ``ratio_to`` names it.
``flop``, ``ops``
    floating-point operations per call (GFLOP/s columns), tiny ops per call (us/op columns).
``target``, ``met``
    the ratio to stay at or below, and whether this run did.
"""

from __future__ import annotations

from typing import Any


def time_record(
    suite: str,
    name: str,
    threads: int,
    dtype: str,
    minigrad: dict | None,
    torch: dict | None,
    *,
    flop: float | None = None,
    ops: int | None = None,
    target: float | None = None,
    reference: tuple[str, dict] | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """Build a timing record; the ratio is against ``torch``, or ``reference`` = (name, timing)."""
    rec: dict[str, Any] = {
        "suite": suite,
        "name": name,
        "threads": threads,
        "dtype": dtype,
        "kind": "time",
        "minigrad": minigrad,
        "torch": torch,
        "flop": flop,
        "ops": ops,
        "ratio": None,
        "ratio_median": None,
        "ratio_to": None,
        "target": target,
        "met": None,
        "error": error,
    }
    other = torch
    if reference is not None:
        rec["ratio_to"], other = reference
        rec["reference"] = other
    elif torch is not None:
        rec["ratio_to"] = "torch"
    if minigrad is not None and other is not None:
        rec["ratio"] = minigrad["min_s"] / other["min_s"]
        rec["ratio_median"] = minigrad["median_s"] / other["median_s"]
        if target is not None:
            rec["met"] = rec["ratio"] <= target
    return rec


def memory_record(
    name: str, threads: int, dtype: str, minigrad: dict | None, torch: dict | None, **extra: Any
) -> dict[str, Any]:
    """Build a peak-memory record (MiB); the ratio compares the RSS high-water marks."""
    rec: dict[str, Any] = {
        "suite": "memory",
        "name": name,
        "threads": threads,
        "dtype": dtype,
        "kind": "memory",
        "minigrad": minigrad,
        "torch": torch,
        "ratio": None,
        "ratio_median": None,
        "ratio_to": "torch" if torch else None,
        "target": None,
        "met": None,
        "error": extra.pop("error", None),
    }
    rec.update(extra)
    if minigrad and torch and minigrad.get("step_peak_mib") and torch.get("step_peak_mib"):
        rec["ratio"] = minigrad["step_peak_mib"] / torch["step_peak_mib"]
    return rec


def format_seconds(s: float | None) -> str:
    """Seconds in the unit that reads best.

    >>> format_seconds(0.00123), format_seconds(2.5e-6), format_seconds(1.5)
    ('1.23 ms', '2.50 us', '1.50 s')
    """
    if s is None:
        return "-"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.2f} us"


def _per(rec: dict, timing: dict | None, key: str) -> str:
    if not timing:
        return "-"
    value = timing[key]
    if rec.get("ops"):
        return f"{value / rec['ops'] * 1e6:.2f} us/op"
    return format_seconds(value)


def _gflops(rec: dict, timing: dict | None) -> str:
    if not timing or not rec.get("flop"):
        return "-"
    return f"{rec['flop'] / timing['min_s'] / 1e9:.1f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _target(rec: dict) -> str:
    if rec.get("target") is None:
        return ""
    if rec.get("met") is None:
        return f"<= {rec['target']:.2f}"
    return f"<= {rec['target']:.2f} {'ok' if rec['met'] else 'MISSED'}"


def _memory(m: dict | None) -> str:
    if not m:
        return "-"
    text = f"{m['step_peak_mib']:.1f} MiB"
    if m.get("tracemalloc_mib") is not None:
        text += f" (numpy {m['tracemalloc_mib']:.1f})"
    return text


def cells(rec: dict) -> list[str]:
    """The row of a record in the order of ``HEADER``."""
    other = rec.get("reference") if rec.get("ratio_to") not in (None, "torch") else rec["torch"]
    if rec.get("error"):
        return [str(rec["threads"]), rec["dtype"], rec["name"], f"error: {rec['error']}"] + [""] * 6
    if rec["kind"] == "memory":
        return [
            str(rec["threads"]),
            rec["dtype"],
            rec["name"],
            _memory(rec["minigrad"]),
            "",
            _memory(rec["torch"]),
            "",
            "-",
            _ratio(rec["ratio"]),
            "",
        ]
    vs = "" if rec.get("ratio_to") in (None, "torch") else f" vs {rec['ratio_to']}"
    flops = "-"
    if rec.get("flop"):
        flops = _gflops(rec, rec["minigrad"]) + " / " + _gflops(rec, rec["torch"])
    return [
        str(rec["threads"]),
        rec["dtype"],
        rec["name"],
        _per(rec, rec["minigrad"], "min_s"),
        _per(rec, rec["minigrad"], "median_s"),
        _per(rec, other, "min_s"),
        _per(rec, other, "median_s"),
        flops,
        _ratio(rec["ratio"]) + vs + f" (median {_ratio(rec['ratio_median'])})",
        _target(rec),
    ]


HEADER = [
    "threads",
    "dtype",
    "workload",
    "minigrad min",
    "minigrad median",
    "torch (or ref.) min",
    "torch (or ref.) median",
    "GFLOP/s mg / torch",
    "ratio mg/torch (min)",
    "target",
]


def line(rec: dict) -> str:
    """One record as a line of progress output."""
    c = cells(rec)
    if rec.get("error"):
        return f"  {c[2]:<58} {c[1]:<8} {c[3]}"
    if rec["kind"] == "memory":
        return f"  {c[2]:<58} {c[1]:<8} mg {c[3]}  torch {c[5]}  ratio {c[8]}"
    return (
        f"  {c[2]:<58} {c[1]:<8} mg {c[3]:>12} (med {c[4]:>12})  ref {c[5]:>12} "
        f"(med {c[6]:>12})  {c[8]}  {c[9]}"
    ).rstrip()


def markdown(records: list[dict], meta: dict) -> str:
    """All records as a markdown document: the set-up, then one table."""
    out = ["# minigrad vs PyTorch CPU", ""]
    for key, value in meta.items():
        out.append(f"- {key}: {value}")
    out += ["", "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for rec in records:
        out.append("| " + " | ".join(c.replace("|", "/") for c in cells(rec)) + " |")
    out += [
        "",
        "Ratio = minigrad time / PyTorch time from the minimum over samples (below 1: minigrad "
        "is faster); graph rows are relative to the training step, memory rows compare the "
        "resident-memory high-water mark of a step. See bench/README.md.",
        "",
    ]
    return "\n".join(out)


def text_table(records: list[dict]) -> str:
    """All records as an aligned plain-text table."""
    rows = [HEADER] + [cells(r) for r in records]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows
    )
