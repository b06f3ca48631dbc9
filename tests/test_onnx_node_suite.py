"""ONNX's own backend node tests, for every op the loader claims: each runs with the expected
outputs (values, shape and dtype) or is refused with an exception; none is silently wrong.

The expected outputs come with the ``onnx`` package (its reference implementation, generated
by ``onnx.backend.test.case.node``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad as mg

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnx.backend.test.case.node")


def _ops(graph):
    found = set()
    for node in graph.node:
        found.add((node.domain, node.op_type))
        for a in node.attribute:
            for g in ([a.g] if a.HasField("g") else []) + list(a.graphs):
                found |= _ops(g)
    return found


def _array(v):
    from onnx import TensorProto, numpy_helper

    return numpy_helper.to_array(v) if isinstance(v, TensorProto) else np.asarray(v)


def _mismatch(got, want, rtol, atol):
    got = np.asarray(got)
    if got.shape != want.shape:
        return f"shape {got.shape}, expected {want.shape}"
    if got.dtype != want.dtype:
        return f"dtype {got.dtype}, expected {want.dtype}"
    if want.dtype.kind in "fc":
        ok = np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    else:
        ok = np.array_equal(got, want)
    return None if ok else "values differ"


def _claimed_cases():
    from onnx.backend.test.case.node import collect_testcases

    from minigrad.onnx.load_ops import LOADERS

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the generators' own numpy warnings
        cases = collect_testcases(None)
    return [
        c
        for c in cases
        if c.kind == "node"
        and all(d in ("", "ai.onnx") and op in LOADERS for d, op in _ops(c.model.graph))
    ]


def _outcome(case):
    """'pass', 'refused: ...' or 'WRONG: ...' for one backend test case."""
    try:
        model = mg.onnx.load(case.model)
        for inputs, outputs in case.data_sets:
            got = model(*[_array(v) for v in inputs])
            got = got if isinstance(got, tuple) else (got,)
            if len(got) != len(outputs):
                return f"WRONG: {len(got)} outputs, expected {len(outputs)}"
            for g, w in zip(got, outputs):
                why = _mismatch(g.data, _array(w), case.rtol, case.atol)
                if why:
                    return f"WRONG: {why}"
    except (mg.onnx.OnnxError, TypeError, ValueError) as e:
        return f"refused: {type(e).__name__}"
    return "pass"


def test_no_backend_node_test_is_silently_wrong():
    cases = _claimed_cases()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        outcomes = {c.name: _outcome(c) for c in cases}
    wrong = {n: o for n, o in outcomes.items() if o.startswith("WRONG")}
    passed = sum(o == "pass" for o in outcomes.values())
    assert not wrong, f"{len(wrong)} of {len(cases)} wrong ({passed} pass): {wrong}"
    assert passed > len(cases) // 2  # the suite ran: most claimed cases run as expected
