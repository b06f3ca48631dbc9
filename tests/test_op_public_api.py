"""layers_plugins is written as an outsider would write it: only public minigrad names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import minigrad as mg

ROOT = Path(__file__).resolve().parents[1] / "layers_plugins"
FILES = sorted(ROOT.rglob("*.py"))
# Public modules besides the package itself: the thread count the kernels read.
PUBLIC_MODULES = {"minigrad", "minigrad.threads"}


def _public(name: str) -> bool:
    return name in mg.__all__ or name in ("ops", "register_op", "set_num_threads")


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_only_public_minigrad_names(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("minigrad"):
                    assert alias.name in PUBLIC_MODULES, f"{path.name}: import {alias.name}"
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("minigrad"):
            assert node.module in PUBLIC_MODULES, f"{path.name}: from {node.module} import ..."
            if node.module == "minigrad":
                bad = [a.name for a in node.names if not _public(a.name)]
                assert not bad, f"{path.name}: from minigrad import {bad}"
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            base = node.value
            if isinstance(base, ast.Name) and base.id in ("mg", "minigrad", "Tensor"):
                raise AssertionError(f"{path.name}:{node.lineno}: {base.id}.{node.attr}")
