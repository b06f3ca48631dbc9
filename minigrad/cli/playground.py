"""``python -m minigrad playground SCRIPT.py``: the live playground page, without Jupyter.

The script runs like ``python SCRIPT.py`` with ``__name__`` set to
``"__minigrad_playground__"`` (an ``if __name__ == "__main__":`` block does not run) and
must define:

``model``
    an ``mg.nn.Module``;
``x``
    the input batch (a numpy array or Tensor), e.g. shape ``(1, 1, 9, 9)``;
``target``
    its targets: class indices ``(N,)``, or 0/1 values for a single sigmoid output;

and may define ``loss`` (a callable ``(output, target) -> scalar Tensor``), ``optimizer``
(an ``mg.optim`` optimizer over the model's parameters), ``classes`` (the output names) and
``lr`` (the default SGD's learning rate, 0.1). See :class:`minigrad.graph.Playground`.

The page is served by the standard library's ``http.server`` on 127.0.0.1 only, at a URL
holding a random token (``secrets.token_urlsafe``); a request without the token, or for
another host name, is refused (403). Every edit in the page is recomputed by the engine in
this process. Ctrl-C stops the server.

Exit codes: 0 stopped with Ctrl-C, 1 the script raised, 2 a name is missing or wrong.
"""

from __future__ import annotations

import argparse
import http.server
import json
import runpy
import secrets
import sys
import threading
import traceback
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["PlaygroundServer", "add_parser", "run", "session_from_script"]

#: an edit is a small JSON object; anything larger is refused
MAX_BODY = 1 << 20


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``playground`` subcommand."""
    p = subparsers.add_parser(
        "playground",
        help="serve the live playground page of a script's model on 127.0.0.1",
        description=(
            "Run SCRIPT.py (it defines model, x, target and optionally loss, optimizer, "
            "classes, lr) and serve the playground page on 127.0.0.1 with a random token: "
            "paint the input, edit weights and labels, step the optimizer; the engine "
            "recomputes every change. Ctrl-C stops."
        ),
    )
    p.add_argument("script", metavar="SCRIPT.py", help="Python file defining model, x, target")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--samples", type=int, default=4, help="batch samples the page shows (4)")
    p.set_defaults(func=run)
    return p


def session_from_script(script: Path) -> Any:
    """Run ``script`` and make a playground session of what it defines.

    Raises ``LookupError`` naming what is missing.
    """
    from minigrad.graph.playground import Session

    folder = str(script.resolve().parent)
    sys.path.insert(0, folder)
    try:
        ns = runpy.run_path(str(script), run_name="__minigrad_playground__")
    finally:
        sys.path.remove(folder)
    missing = [k for k in ("model", "x", "target") if k not in ns]
    if missing:
        raise LookupError(
            f"{script} defines no {', '.join(missing)}: a playground script defines model "
            "(an mg.nn.Module), x (the input batch) and target (class indices, or 0/1 "
            "values), and may define loss, optimizer, classes and lr"
        )
    options = {k: ns[k] for k in ("loss", "optimizer", "classes") if ns.get(k) is not None}
    if ns.get("lr") is not None:
        options["lr"] = ns["lr"]
    return Session(ns["model"], ns["x"], ns["target"], **options)


class PlaygroundServer(http.server.ThreadingHTTPServer):
    """The playground page and its edits over HTTP on 127.0.0.1, behind a token.

    ``GET /?token=T`` is the page (made anew, so a reload shows the current state);
    ``POST /api`` with header ``X-Minigrad-Token: T`` applies one edit (JSON, see
    :meth:`minigrad.graph.playground_page.LivePage.handle`) and answers the update. Edits
    run one at a time.
    """

    daemon_threads = True

    def __init__(self, session: Any, port: int = 0, samples: int = 4) -> None:
        from minigrad.graph.playground_page import LivePage

        self.token = secrets.token_urlsafe(24)
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)
        transport = {"kind": "http", "url": "/api", "token": self.token}
        self.page = LivePage(session, transport, samples=samples)

    @property
    def url(self) -> str:
        """The page's address, token included."""
        return f"http://127.0.0.1:{self.server_address[1]}/?token={self.token}"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: PlaygroundServer
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the URL is what matters
        pass

    def _send(self, code: int, body: bytes, kind: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        # the page may talk to this server only, and load nothing from anywhere
        self.send_header(
            "Content-Security-Policy",
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
            "img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'",
        )
        self.end_headers()
        self.wfile.write(body)

    def _allowed(self) -> bool:
        port = self.server.server_address[1]
        host = self.headers.get("Host", "")
        if host not in (f"127.0.0.1:{port}", f"localhost:{port}"):
            return False  # another host name pointing here (DNS rebinding) gets nothing
        query = parse_qs(urlsplit(self.path).query)
        given = self.headers.get("X-Minigrad-Token") or (query.get("token") or [""])[0]
        return secrets.compare_digest(given.encode(), self.server.token.encode())

    def _refuse(self) -> None:
        self._send(403, b"minigrad playground: this address needs the token it printed\n",
                   "text/plain; charset=utf-8")  # fmt: skip

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/favicon.ico":  # browsers ask unprompted; nothing to give
            self._send(204, b"", "image/x-icon")
            return
        if not self._allowed():
            self._refuse()
            return
        if path != "/":
            self._send(404, b"not found\n", "text/plain; charset=utf-8")
            return
        with self.server.lock:
            html = self.server.page.html()
        self._send(200, html.encode("utf-8"), "text/html; charset=utf-8")

    def do_POST(self) -> None:
        if not self._allowed():
            self._refuse()
            return
        if urlsplit(self.path).path != "/api":
            self._send(404, b"not found\n", "text/plain; charset=utf-8")
            return
        try:
            size = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            size = -1
        if not 0 < size <= MAX_BODY:
            self._send(413, b'{"error": "an edit is a JSON object under 1 MB"}', "application/json")
            return
        try:
            edit = json.loads(self.rfile.read(size))
        except ValueError:
            self._send(400, b'{"error": "the edit is not JSON"}', "application/json")
            return
        from minigrad.graph.explorer.page import payload_json

        with self.server.lock:
            reply = self.server.page.handle(edit)
        self._send(200, payload_json(reply).encode("utf-8"), "application/json")


def run(args: argparse.Namespace) -> int:
    """Run the script, serve the page until Ctrl-C; returns the exit code."""
    script = Path(args.script)
    if not script.is_file():
        print(f"minigrad playground: no such file: {script}", file=sys.stderr)
        return 2
    try:
        session = session_from_script(script)
    except LookupError as e:
        print(f"minigrad playground: {e}", file=sys.stderr)
        return 2
    except SystemExit as e:
        print(f"minigrad playground: {script} called exit({e.code})", file=sys.stderr)
        return 1
    except Exception:
        traceback.print_exc()
        print(f"minigrad playground: {script} (or the playground made of it) raised an error "
              "(traceback above)", file=sys.stderr)  # fmt: skip
        return 1
    server = PlaygroundServer(session, args.port, args.samples)
    print(f"minigrad playground: {server.url}", flush=True)
    print("(only this machine can open it; Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("minigrad playground: stopped", flush=True)
    finally:
        server.server_close()
    return 0
