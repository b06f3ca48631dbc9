"""Run a model on probe inputs and keep every sub-module's output, changing nothing.

The pass runs under ``no_grad`` (no graph is recorded, nothing touches the user's graph) and
in eval mode; each module's ``training`` flag is put back afterwards, whatever happens.
Outputs are collected through the per-call record that :meth:`minigrad.nn.Module.summary`
uses (:func:`minigrad.nn.summary.module_calls`), so the model is neither wrapped nor
patched. A model that is not built from sub-modules gives its own output, under the name
``"output"``.

>>> import numpy as np, minigrad as mg
>>> model = mg.nn.Sequential(mg.nn.Linear(3, 2), mg.nn.ReLU())
>>> outputs, kinds = module_outputs(model, np.ones((4, 3), np.float32))
>>> {k: v.shape for k, v in outputs.items()}, kinds
({'0': (4, 2), '1': (4, 2)}, {'0': 'Linear', '1': 'ReLU'})
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import no_grad
from ..nn.summary import module_calls
from ..tensor import Tensor, as_tensor

__all__ = ["module_outputs"]


def module_outputs(model: Any, probes: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """``({path: output array}, {path: module class name})`` of every sub-module call, in call
    order; a module called twice gives ``path``, then ``path#2``."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with module_calls() as rows, no_grad():
            out = model.forward(as_tensor(np.asarray(probes)))
    finally:
        for m, mode in modes:
            m.training = mode
    outputs: dict[str, np.ndarray] = {}
    kinds: dict[str, str] = {}
    for row in rows:
        if row is None or not isinstance(row[2], Tensor) or not row[0]:
            continue
        path, module, result = row
        key, k = path, 1
        while key in outputs:
            k += 1
            key = f"{path}#{k}"
        outputs[key] = np.array(result.data, copy=True)
        kinds[key] = type(module).__name__
    if not outputs and isinstance(out, Tensor):
        outputs["output"] = np.array(out.data, copy=True)
        kinds["output"] = type(model).__name__
    return outputs, kinds
