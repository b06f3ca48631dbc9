"""Environment set-up that must happen before numpy or torch is imported.

Nothing here imports numpy: thread counts and the OpenBLAS kernel choice are read by the BLAS
libraries when they load, so they are decided first and passed to each benchmark process.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def cpu_flags() -> set[str]:
    """The CPU feature flags from ``/proc/cpuinfo`` (empty where it does not exist).

    >>> isinstance(cpu_flags(), set)
    True
    """
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo``, else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def coretype_choice(environ: Mapping[str, str] | None = None) -> tuple[str | None, str]:
    """The ``OPENBLAS_CORETYPE`` to set, or None, and a sentence saying why.

    OpenBLAS picks its matrix kernels from the CPU model; on CPUs it does not know (or with
    ``OPENBLAS_CORETYPE=Haswell`` in the environment) it uses its Haswell (AVX2) kernels even
    when AVX-512 is there. Forcing ``SkylakeX`` is safe exactly when the CPU has AVX-512
    (``avx512f``), and speeds up float32 and float64 matrix products by about 1.5x on such
    machines, so the benchmark sets it then, replacing any other value (``--no-coretype``
    keeps the environment as it is). Elsewhere it changes nothing.

    >>> coretype_choice({"OPENBLAS_CORETYPE": "SkylakeX"})
    (None, 'OPENBLAS_CORETYPE=SkylakeX (already set)')
    """
    environ = os.environ if environ is None else environ
    current = environ.get("OPENBLAS_CORETYPE")
    if current == "SkylakeX":
        return None, "OPENBLAS_CORETYPE=SkylakeX (already set)"
    unchanged = f"OPENBLAS_CORETYPE={current}" if current else "OPENBLAS_CORETYPE not set"
    if not sys.platform.startswith("linux"):
        return None, f"{unchanged} (AVX-512 is only looked for on Linux)"
    if "avx512f" not in cpu_flags():
        return None, f"{unchanged} (the CPU has no AVX-512: OpenBLAS's own choice)"
    was = f", was {current}" if current else ""
    return "SkylakeX", f"set OPENBLAS_CORETYPE=SkylakeX (the CPU has AVX-512{was})"


def worker_env(threads: int, coretype: str | None, base: Mapping[str, str] | None = None) -> dict:
    """A copy of the environment for a benchmark process running on ``threads`` threads."""
    env = dict(os.environ if base is None else base)
    for name in THREAD_VARS:
        env[name] = str(threads)
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    return env
