"""Assemble an ONNX graph: nodes, initializers and unique names (what exporters write with)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Builder", "ExportNode"]

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


@dataclass
class ExportNode:
    """What an exporter sees of one recorded call.

    ``inputs`` are ONNX value names (None for an absent optional input), with ``shapes``,
    ``dtypes`` and ``batched`` (True where axis 0 is the dynamic batch axis) per input;
    ``out_shape``/``out_dtype``/``out_batched`` describe the output; ``attrs`` are the call's
    attributes (defaults included) and ``op`` its Op class.
    """

    name: str
    op: type
    attrs: dict[str, Any]
    inputs: list[str | None]
    shapes: list[tuple[int, ...] | None]
    dtypes: list[np.dtype | None]
    batched: list[bool]
    out_shape: tuple[int, ...]
    out_dtype: np.dtype
    out_batched: bool
    scope: str | None = None

    def arg(self, i: int) -> str:
        """The ONNX value name of input ``i``, which the call must have had."""
        name = self.inputs[i]
        if name is None:
            raise ValueError(f"ONNX export of '{self.name}': input {i} is absent")
        return name

    def shape(self, i: int) -> tuple[int, ...]:
        """The shape of input ``i``, which the call must have had."""
        shape = self.shapes[i]
        if shape is None:
            raise ValueError(f"ONNX export of '{self.name}': input {i} is absent")
        return shape


@dataclass
class Builder:
    """Collects ONNX nodes and initializers; ``opset`` is the target opset version.

    >>> b = Builder(17)
    >>> y = b.add("Relu", ["x"])
    >>> b.nodes[0].op_type, y
    ('Relu', 'Relu_0')
    """

    opset: int
    nodes: list[Any] = field(default_factory=list)
    initializers: list[Any] = field(default_factory=list)
    scope: str | None = None
    _used: set[str] = field(default_factory=set)
    _consts: dict[tuple, str] = field(default_factory=dict)
    _next: dict[str, int] = field(default_factory=dict)

    def fresh(self, hint: str, numbered: bool = False) -> str:
        """A name not used yet: ``hint`` itself (unless ``numbered``), else ``hint_0``, ..."""
        base = hint or "v"
        if not numbered and base not in self._used:
            self._used.add(base)
            return base
        k = self._next.get(base, 0)
        while f"{base}_{k}" in self._used:
            k += 1
        self._next[base] = k + 1
        name = f"{base}_{k}"
        self._used.add(name)
        return name

    def reserve(self, name: str) -> str:
        if name in self._used:
            raise ValueError(f"ONNX value name '{name}' is used twice")
        self._used.add(name)
        return name

    def add(self, op_type: str, inputs: Sequence[str | None], n_out: int = 1, **attrs: Any) -> Any:
        """Append a node of the default domain; returns its output name (a list if n_out > 1).

        ``None`` inputs become "" (an omitted optional input); attributes whose value is None
        are left out.
        """
        from onnx import helper

        outs = [self.fresh(op_type, numbered=True) for _ in range(n_out)]
        prefix = f"{self.scope.replace('.', '/')}/" if self.scope else ""
        node = helper.make_node(
            op_type,
            ["" if i is None else i for i in inputs],
            outs,
            name=self.fresh(f"{prefix}{op_type}"),
            **{k: v for k, v in attrs.items() if v is not None},
        )
        self.nodes.append(node)
        return outs[0] if n_out == 1 else outs

    def initializer(self, name: str, array: np.ndarray) -> str:
        """Add ``array`` as an initializer named exactly ``name``."""

        self.reserve(name)
        return self._store(name, array)

    def weight(self, hint: str, array: np.ndarray) -> str:
        """An initializer named ``hint`` (or ``hint_0``... if taken), never shared."""
        return self._store(self.fresh(hint), array)

    def is_shared_const(self, name: str) -> bool:
        return name in self._consts.values()

    def _store(self, name: str, array: np.ndarray) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def const(self, array: Any, dtype: Any = None, hint: str = "const") -> str:
        """A constant initializer (small ones are shared by value)."""
        a = np.asarray(array, dtype=dtype)
        key = (a.dtype.str, a.shape, a.tobytes()) if a.size <= 64 else None
        if key is not None and key in self._consts:
            return self._consts[key]
        name = self._store(self.fresh(hint, numbered=True), a)
        if key is not None:
            self._consts[key] = name
        return name

    def ints(self, values: Any, hint: str = "shape") -> str:
        """A 1-D int64 constant (shapes, axes, pads, slice bounds)."""
        return self.const(np.asarray(list(values), dtype=np.int64).reshape(-1), hint=hint)

    def reduce(self, op_type: str, x: str, axes: Any, keepdims: bool) -> str:
        """A Reduce* node; ``axes`` None reduces everything. Axes are an input from opset 18
        (ReduceSum: 13) and an attribute before."""
        keep = int(bool(keepdims))
        if axes is None:
            return self.add(op_type, [x], keepdims=keep)
        axes = [int(a) for a in (axes if isinstance(axes, (list, tuple)) else [axes])]
        since = 13 if op_type == "ReduceSum" else 18
        if self.opset >= since:
            return self.add(op_type, [x, self.ints(axes, "axes")], keepdims=keep)
        return self.add(op_type, [x], axes=axes, keepdims=keep)

    def unsqueeze(self, x: str, axes: list[int]) -> str:
        if self.opset >= 13:
            return self.add("Unsqueeze", [x, self.ints(axes, "axes")])
        return self.add("Unsqueeze", [x], axes=axes)

    def cast(self, x: str, dtype: Any) -> str:
        from onnx import helper

        return self.add("Cast", [x], to=helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))
