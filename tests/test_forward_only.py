"""explain() and explore() on a forward whose inputs do not require grad.

A learner's first convolution is written without ``requires_grad``: the call is kept on the
output for inspectors (``_origin``), never as a graph node, so autograd, drawings of
training graphs and ``no_grad`` behave as before.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_explain import FILT, PATCH

import minigrad as mg


def plain_seed() -> mg.Tensor:
    return mg.ops.conv2d(mg.tensor(PATCH.reshape(1, 1, 3, 3)), mg.tensor(FILT.reshape(1, 1, 3, 3)))


def test_explain_a_conv_of_plain_tensors_gives_the_seed_arithmetic():
    y = plain_seed()
    assert not y.requires_grad and y.is_leaf and y.op is None  # still a leaf to autograd
    e = mg.graph.explain(y, (0, 0, 0, 0))
    assert e.value == pytest.approx(3.3)
    np.testing.assert_allclose(e.terms, (PATCH * FILT).ravel())
    assert str(e).startswith("0.8*1 + 0.5*0 + 0.1*(-1)") and str(e).endswith("= 3.3")


def test_pooling_of_plain_tensors_and_a_chain_of_calls():
    img = mg.tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    p = mg.ops.max_pool2d(mg.ops.relu(img - 5.0), 2)
    e = mg.graph.explain(p, (0, 0, 1, 1))
    assert e.value == 10.0 and e.winner == (0, 0, 3, 3)
    # the whole forward is there to draw: sub, relu, max_pool2d
    ops = [n["op"] for _, n in mg.graph.to_networkx(p).nodes(data=True) if n["kind"] == "op"]
    assert ops == ["sub", "relu", "max_pool2d"]


def test_under_no_grad_explain_refuses_and_says_why():
    with mg.no_grad():
        y = plain_seed()
    with pytest.raises(ValueError, match="no_grad"):
        mg.graph.explain(y, (0, 0, 0, 0))


def test_a_kept_call_holds_no_saved_arrays_and_changes_no_training_graph():
    x = mg.tensor(np.ones((2, 3))) * 2.0  # forward-only: a kept call
    assert x._origin._saved == ()  # nothing kept for a backward that never runs
    w = mg.tensor(np.full((3,), 0.5), requires_grad=True)
    loss = (x * w).sum()
    # the training graph starts at x: the kept call that made x is not part of it
    ops = [n["op"] for _, n in mg.graph.to_networkx(loss).nodes(data=True) if n["kind"] == "op"]
    assert ops == ["mul", "sum"]
    loss.backward()
    np.testing.assert_allclose(w.grad.data, [4.0, 4.0, 4.0])
    assert x.grad is None


def test_explore_a_forward_only_conv():
    html = mg.graph.explore(plain_seed()).html
    graph = json.loads(html.split('id="mg-payload">', 1)[1].split("</script>", 1)[0])["graph"]
    assert [layer["name"] for layer in graph["network"]["layers"]] == ["conv2d"]
    assert "forward" in graph["views"] and "backward" not in graph["views"]
    out = graph["tensors"][graph["network"]["layers"][0]["tensor"]]
    assert out["role"] == "output" and out["shape"] == [1, 1, 1, 1]
