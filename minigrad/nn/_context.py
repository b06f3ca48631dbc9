"""State shared by a module call and a running summary (context variables, so threads and
async tasks each see their own)."""

from __future__ import annotations

from contextvars import ContextVar

# the dotted key path of the module being called ("features.0"), for error messages
module_path: ContextVar[str | None] = ContextVar("minigrad_module_path", default=None)
# rows collected by Module.summary(), or None when no summary is running
summary_rows: ContextVar[list | None] = ContextVar("minigrad_summary_rows", default=None)
