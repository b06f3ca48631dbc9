"""Files and lines per folder, and the imports between folders, of minigrad and layers_plugins.

``python bench/layout.py`` prints two markdown tables: the Python files and lines in each folder,
and for each pair of folders how many import statements in the first name a module of the second
(module level and inside functions, counted separately). A map of the house, to compare before and
after a change of layout.
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("minigrad", "layers_plugins")


def folder_of_module(module: str) -> str:
    """``minigrad.graph.explorer.page`` -> ``minigrad/graph/explorer`` (the folder holding it)."""
    parts = module.split(".")
    path = ROOT.joinpath(*parts)
    if path.is_dir():
        return "/".join(parts)
    return "/".join(parts[:-1])


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> list[tuple[str, bool]]:
    """The project modules ``path`` imports, each with whether the import is inside a function."""
    tree = ast.parse(path.read_text())
    package = module_name(path)
    if path.name != "__init__.py":
        package = package.rsplit(".", 1)[0]
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                found.extend((a.name, inner) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    up = package.split(".")
                    up = up[: len(up) - child.level + 1]
                    base = ".".join([*up, base] if base else up)
                for a in child.names:
                    candidate = f"{base}.{a.name}"
                    target = (
                        candidate
                        if (ROOT / candidate.replace(".", "/")).exists()
                        or (ROOT / (candidate.replace(".", "/") + ".py")).exists()
                        else base
                    )
                    found.append((target, inner))
            visit(child, inner)

    visit(tree, False)
    return [(m, f) for m, f in found if m.split(".")[0] in PACKAGES]


def main() -> int:
    files: Counter[str] = Counter()
    lines: Counter[str] = Counter()
    edges: Counter[tuple[str, str, bool]] = Counter()
    in_functions = 0
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            folder = str(path.parent.relative_to(ROOT))
            files[folder] += 1
            lines[folder] += len(path.read_text().splitlines())
            for target, in_function in imports(path):
                in_functions += in_function
                other = folder_of_module(target)
                if other != folder:
                    edges[(folder, other, in_function)] += 1
    print("| folder | files | lines |\n|---|---:|---:|")
    for folder in sorted(files):
        print(f"| {folder} | {files[folder]} | {lines[folder]} |")
    print(f"| total | {sum(files.values())} | {sum(lines.values())} |")
    print("\n| from | to | imports (module level) | inside functions |\n|---|---|---:|---:|")
    for a, b in sorted({(a, b) for a, b, _ in edges}):
        print(f"| {a} | {b} | {edges[(a, b, False)]} | {edges[(a, b, True)]} |")
    inner = sum(n for (a, _, f), n in edges.items() if f)
    print(f"\nproject imports inside functions: {in_functions} ({inner} between folders)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
