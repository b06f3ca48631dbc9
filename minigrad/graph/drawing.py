"""The drawing object and the errors of drawing: a ``graphviz.Digraph`` that explains itself."""

from __future__ import annotations

import os
import re
from typing import Any

import graphviz

__all__ = ["INSTALL_HELP", "GraphDrawing", "GraphTooLargeError", "GraphvizNotFoundError"]


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


# a node line of the DOT text (cluster titles are plain nodes named title_<k>, not counted)
_NODE_LINE = re.compile(r"^\t+(?!title_|graph |node |edge |subgraph )[^\s{}]+ \[")


_CLUSTER_LINE = re.compile(r'^\t+subgraph "?cluster_')


class GraphDrawing(graphviz.Digraph):
    """A ``graphviz.Digraph`` whose rendering explains how to install a missing Graphviz.

    Shows inline in Jupyter; ``.source`` is the DOT text; ``.render(path, format="svg")``
    writes a file. Without the ``dot`` program, Jupyter shows the install hint instead of
    a traceback.
    """

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound as e:
            if isinstance(e, GraphvizNotFoundError):
                raise
            raise _not_found() from e

    def render(self, *args: Any, **kwargs: Any) -> Any:
        """Write the picture (``render("out/fwd")`` writes ``out/fwd.svg``), and only it.

        Graphviz writes the DOT text first, to the name given; it is removed once the
        picture is written (pass ``cleanup=False`` to keep it). Without the ``dot`` program
        it stays, and :class:`GraphvizNotFoundError` says where it is and what to install.
        """
        kwargs.setdefault("cleanup", True)
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound as e:
            if isinstance(e, GraphvizNotFoundError):
                raise
            raise _not_found(self.filepath) from e

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
            return super()._repr_mimebundle_(include, exclude, **kw)
        except graphviz.ExecutableNotFound:
            return {"text/plain": f"{_not_found()}\n\n{self.source}"}
