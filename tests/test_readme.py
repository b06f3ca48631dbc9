"""The README's Python examples run verbatim, in order, in a fresh interpreter.

Every ```python block is fed line by line to an interactive console in a new Python process
started in an empty folder, as a reader pasting the blocks into a REPL would: no names are
supplied by the test, and a blank line inside a class or function body (which ends the body
in a REPL) is an error.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"

# runs in the child process: reads the blocks as JSON on stdin, reports per block on stdout
_DRIVER = textwrap.dedent(
    """
    import code, json, sys, traceback

    class Console(code.InteractiveConsole):
        failed = None
        def showsyntaxerror(self, filename=None, **kwargs):
            self.failed = traceback.format_exc()
        def showtraceback(self):
            self.failed = traceback.format_exc()

    blocks = json.loads(sys.stdin.read())
    console = Console({"__name__": "__main__"})
    for number, block in enumerate(blocks, 1):
        more = False
        for line in block.splitlines():
            more = console.push(line)
            if console.failed:
                break
        if more and not console.failed:
            more = console.push("")  # the blank line that ends a final compound statement
        status = console.failed or ("incomplete" if more else "ok")
        print("@@BLOCK", json.dumps([number, status]), flush=True)
        if console.failed:
            break
    """
)


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_examples() -> None:
    assert len(python_blocks()) >= 5


def test_readme_examples_run_verbatim_in_a_fresh_repl(tmp_path: Path) -> None:
    blocks = python_blocks()
    proc = subprocess.run(
        [sys.executable, "-c", _DRIVER],
        input=json.dumps(blocks),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    reports = [
        json.loads(line[len("@@BLOCK ") :])
        for line in proc.stdout.splitlines()
        if line.startswith("@@BLOCK ")
    ]
    for number, status in reports:
        assert status == "ok", f"README python block {number} failed:\n{status}"
    assert len(reports) == len(blocks)
    # the training example saved its model and printed a summary table and its epochs
    assert (tmp_path / "xo.npz").is_file()
    assert "Total params:" in proc.stdout and "epoch 5: loss" in proc.stdout
    # the summary table is shown once, not once printed and once more as a repr
    assert proc.stdout.count("Total params:") == 1
    assert (tmp_path / "out" / "forward.svg").is_file() or "Graphviz" in proc.stdout
    # the tour's model trains healthily, as its text says: rec.health() echoes no flag
    assert "Flag(" not in proc.stdout


def test_readme_blocks_have_no_blank_lines_inside_a_class() -> None:
    for block in python_blocks():
        lines = block.splitlines()
        for i, line in enumerate(lines):
            if line.strip() or i == 0:
                continue
            following = next((n for n in lines[i + 1 :] if n.strip()), "")
            assert not following.startswith((" ", "\t")), (
                f"a blank line inside an indented body breaks pasting into a REPL:\n{block}"
            )


def test_readme_names_every_data_loader() -> None:
    import minigrad as mg

    text = README.read_text(encoding="utf-8")
    missing = [name for name in mg.data.__all__ if f"`{name}" not in text]
    assert not missing, f"README does not list mg.data's {missing}"
