"""The drawing object and the errors of drawing: a ``graphviz.Digraph`` that explains itself."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from typing import Any

import graphviz

__all__ = [
    "INSTALL_HELP",
    "GraphDrawing",
    "GraphTooLargeError",
    "GraphvizNotFoundError",
    "check_layout",
    "check_node_count",
    "pipe_within",
    "dot_failed",
]


INSTALL_HELP = (
    "Rendering needs the Graphviz 'dot' program, which was not found on PATH "
    "(pip install graphviz installs only the Python bindings). Install Graphviz: "
    "Debian/Ubuntu 'sudo apt-get install graphviz', macOS 'brew install graphviz', "
    "conda 'conda install graphviz', Windows 'winget install graphviz' (then reopen the shell)."
)


class GraphTooLargeError(ValueError):
    """The graph has more nodes than ``max_nodes``: drawing it would be slow and unreadable."""


class GraphvizNotFoundError(graphviz.ExecutableNotFound):
    """The Graphviz ``dot`` program is missing; the message says what to install.

    A :class:`RuntimeError` (and a ``graphviz.ExecutableNotFound``), raised by
    :func:`render` and by ``.render()`` / ``.pipe()`` on a drawing.
    """

    def __init__(self, message: str) -> None:
        RuntimeError.__init__(self, message)


def _not_found(dot_file: str | os.PathLike | None = None) -> GraphvizNotFoundError:
    where = (
        f"The DOT text was written to {os.fspath(dot_file)}; it is also"
        if dot_file is not None
        else "The DOT text is still"
    )
    return GraphvizNotFoundError(
        f"{INSTALL_HELP} {where} available as drawing.source (save it with "
        "drawing.save('graph.dot') and render it later with 'dot -Tsvg graph.dot -o graph.svg')."
    )


def check_layout(drawing: Any, who: str = "render()") -> None:
    """Refuse, before Graphviz runs, a drawing that folding could not bring within its
    ``max_nodes``: ``dot`` would take minutes on it and may run out of memory."""
    check_node_count(getattr(drawing, "node_count", 0), getattr(drawing, "max_nodes", None), who)


def check_node_count(
    n: int, cap: int | None, who: str, what: str = "the drawing", hint: str | None = None
) -> None:
    """:func:`check_layout` for a node count: ``n`` nodes after folding, ``cap`` allowed."""
    if cap is None or n <= cap:
        return
    hint = hint or (
        f"pass max_nodes={n} to lay it out anyway, collapse=True (one node per module / "
        "name_scope), or draw a smaller part of the computation"
    )
    raise GraphTooLargeError(
        f"{who}: {what} has {n} nodes even after folding, more than max_nodes={cap}, "
        f"so Graphviz would take minutes to lay it out (and may run out of memory); {hint}"
    )


def pipe_within(
    drawing: Any,
    fmt: str,
    seconds: float,
    who: str,
    hint: str,
    dot_file: str | os.PathLike | None = None,
) -> bytes:
    """Lay ``drawing`` out with Graphviz, giving up after ``seconds`` with a clear
    :class:`GraphTooLargeError` (``hint`` says how to give it more room)."""
    check_layout(drawing, who)
    exe = shutil.which(getattr(drawing, "engine", "dot") or "dot")
    if exe is None:
        raise _not_found(dot_file)
    cmd = [exe, f"-T{fmt}"]
    try:
        source = drawing.source.encode("utf-8")
        done = subprocess.run(cmd, input=source, capture_output=True, timeout=max(seconds, 0.1))
    except subprocess.TimeoutExpired:
        raise GraphTooLargeError(
            f"{who}: Graphviz did not lay out {getattr(drawing, 'node_count', '?')} nodes within "
            f"{seconds:.0f} s; {hint}"
        ) from None
    if done.returncode:
        raise dot_failed(
            drawing, subprocess.CalledProcessError(done.returncode, cmd, done.stdout, done.stderr)
        )
    return done.stdout


def dot_failed(drawing: Any, err: Exception) -> RuntimeError:
    """A clear error for a ``dot`` that crashed or was killed (often: out of memory)."""
    code = getattr(err, "returncode", None)
    killed = code is not None and code < 0
    stderr = getattr(err, "stderr", None) or b""
    first = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else str(stderr)
    first = first.strip().splitlines()[0] if first.strip() else ""
    n = getattr(drawing, "node_count", None)
    return RuntimeError(
        f"Graphviz 'dot' failed laying out {'the drawing' if n is None else f'{n} nodes'} "
        f"(exit status {code}{', killed: probably out of memory' if killed else ''})"
        f"{': ' + first if first else ''}; draw fewer nodes (a smaller max_nodes, or "
        "collapse=True)"
    )


# a node line of the DOT text (cluster titles are plain nodes named title_<k>, not counted)
_NODE_LINE = re.compile(r"^\t+(?!title_|graph |node |edge |subgraph )[^\s{}]+ \[")


_CLUSTER_LINE = re.compile(r'^\t+subgraph "?cluster_')


class GraphDrawing(graphviz.Digraph):
    """A ``graphviz.Digraph`` whose rendering explains how to install a missing Graphviz.

    Shows inline in Jupyter; ``.source`` is the DOT text; ``.render(path, format="svg")``
    writes a file. Without the ``dot`` program, Jupyter shows the install hint instead of
    a traceback. A drawing that folding could not bring within ``max_nodes``
    (``node_count > max_nodes``) is refused before Graphviz runs (:func:`check_layout`).
    """

    #: nodes in the drawing, and the cap it was drawn with (set by ``draw``)
    node_count: int = 0
    max_nodes: int | None = None

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        check_layout(self, "pipe()")
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound as e:
            if isinstance(e, GraphvizNotFoundError):
                raise
            raise _not_found() from e
        except graphviz.CalledProcessError as e:
            raise dot_failed(self, e) from e

    def render(self, *args: Any, **kwargs: Any) -> Any:
        """Write the picture (``render("out/fwd")`` writes ``out/fwd.svg``), and only it.

        Graphviz writes the DOT text first, to the name given; it is removed once the
        picture is written (pass ``cleanup=False`` to keep it). Without the ``dot`` program
        it stays, and :class:`GraphvizNotFoundError` says where it is and what to install.
        """
        kwargs.setdefault("cleanup", True)
        check_layout(self, "render()")
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound as e:
            if isinstance(e, GraphvizNotFoundError):
                raise
            raise _not_found(self.filepath) from e
        except graphviz.CalledProcessError as e:
            raise dot_failed(self, e) from e

    def __repr__(self) -> str:
        lines = self.source.splitlines()
        edges = sum(1 for line in lines if " -> " in line)
        nodes = sum(1 for line in lines if _NODE_LINE.match(line) and " -> " not in line)
        clusters = sum(1 for line in lines if _CLUSTER_LINE.match(line))
        where = f", {clusters} cluster{'s' if clusters > 1 else ''}" if clusters else ""
        return (
            f"<GraphDrawing {self.name}: {nodes} nodes, {edges} edges{where}; "
            ".source is the DOT text, .render(path, format='svg') writes a file>"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kw: Any) -> dict:
        try:
            check_layout(self, "display")
            return super()._repr_mimebundle_(include, exclude, **kw)
        except GraphTooLargeError as e:
            return {"text/plain": str(e)}
        except graphviz.ExecutableNotFound:
            return {"text/plain": f"{_not_found()}\n\n{self.source}"}
