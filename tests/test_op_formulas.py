"""Every shipped op carries its derivative card, ``formula``, as the explorer and tooltips show it."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

CLASSES = {
    ep.name: ep.load()
    for ep in entry_points(group="minigrad.ops")
    if ep.value.startswith("layers_plugins.")
}


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_every_shipped_op_has_a_derivative_card(name):
    formula = CLASSES[name].formula
    assert isinstance(formula, str) and formula.startswith("d") and "=" in formula
    assert len(formula) < 160 and "\n" not in formula


def test_the_cards_that_the_design_names():
    assert CLASSES["relu"].formula == "dx = dy * (x > 0)"
    assert CLASSES["sigmoid"].formula == "dx = dy * s * (1 - s), s = sigmoid(x)"
    assert "conv_transpose2d(dy, w)" in CLASSES["conv2d"].formula
    assert "conv2d_weight(x, dy)" in CLASSES["conv2d"].formula
    assert "first maximum in row-major order" in CLASSES["max_pool2d"].formula
