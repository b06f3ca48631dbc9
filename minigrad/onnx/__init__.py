"""ONNX in and out: export a model recorded here, load an ONNX model to run, draw and train.

>>> import minigrad as mg
>>> model = mg.nn.Sequential(mg.nn.Linear(4, 3), mg.nn.ReLU())
>>> mg.onnx.export(model, mg.randn(2, 4), "model.onnx")        # doctest: +SKIP
>>> loaded = mg.onnx.load("model.onnx")                         # doctest: +SKIP
>>> loaded(mg.randn(5, 4)).shape                                # doctest: +SKIP
(5, 3)
>>> loss = mg.onnx.example_loss("model.onnx", batch=2)          # doctest: +SKIP

- :func:`export` writes the forward graph a model records on an example input (weights as
  initializers named after the parameters, a dynamic batch dimension).
- :func:`load` returns an ``mg.nn.Module`` running the ONNX graph with minigrad ops.
- :func:`example_loss` loads a model and returns the sum of its outputs on a seeded input.
- :func:`register_exporter` / :func:`register_loader` add mappings for ops of your own
  (a plugin op may instead define ``to_onnx`` itself; see :mod:`minigrad.onnx.export`).

Needs the ``onnx`` package (``pip install "minigrad-cnn[onnx]"``); ONNX Runtime is only
needed to run the exported files elsewhere.
"""

from __future__ import annotations

from .builder import Builder, ExportNode
from .errors import OnnxError, OnnxExportError, OnnxFormatError, UnsupportedOnnxOpError
from .example import example_inputs, example_loss
from .export import export
from .export_ops import register_exporter
from .load import OnnxModule, load
from .load_ops import NodeView, register_loader

__all__ = [
    "Builder",
    "ExportNode",
    "NodeView",
    "OnnxError",
    "OnnxExportError",
    "OnnxFormatError",
    "OnnxModule",
    "UnsupportedOnnxOpError",
    "example_inputs",
    "example_loss",
    "export",
    "load",
    "register_exporter",
    "register_loader",
]
