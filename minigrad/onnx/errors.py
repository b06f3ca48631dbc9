"""The exceptions of ONNX export and loading."""

from __future__ import annotations

from typing import Any

__all__ = [
    "OnnxError",
    "OnnxExportError",
    "OnnxFormatError",
    "UnsupportedOnnxOpError",
    "require_onnx",
]


def require_onnx() -> Any:
    """The ``onnx`` package, or an ImportError that says how to install it."""
    try:
        import onnx
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            'minigrad.onnx needs the onnx package: pip install "minigrad-cnn[onnx]"'
        ) from e
    return onnx


class OnnxError(ValueError):
    """Base class of every error raised by :mod:`minigrad.onnx`."""


class OnnxExportError(OnnxError):
    """An op, attribute or value that has no ONNX form (the message names it)."""


class OnnxFormatError(OnnxError):
    """A file that is not a well-formed ONNX model (the message says what is wrong)."""


class UnsupportedOnnxOpError(OnnxError):
    """A model uses ONNX ops that minigrad cannot run; ``ops`` lists every one of them."""

    def __init__(self, message: str, ops: list[str]) -> None:
        super().__init__(message)
        self.ops = ops
