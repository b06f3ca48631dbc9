"""Text Graphviz always accepts: user-given names made safe for DOT strings and HTML-like labels.

Any string a user can give (tensor names, ``name_scope`` names, module names, titles) goes
through here before it reaches DOT text, so that ``dot`` renders every drawing:

- control characters, lone surrogates and XML non-characters (which make invalid DOT or
  invalid UTF-8) are shown as Python-style escapes (``\\x07``, ``\\n``, ``\\udc80``);
- backslashes are doubled, so Graphviz shows ``\\N`` or ``\\G`` as typed instead of expanding
  them to the node or graph name (this also holds inside HTML-like labels);
- long names are shortened visibly with an ellipsis (Graphviz rejects any string longer than
  16,384 characters); networkx export keeps the full name.

>>> html_text("a<b\\\\N")
'a&lt;b\\\\\\\\N'
>>> shorten("x" * 100, 10)
'xxxxxx…xxx'
"""

from __future__ import annotations

import hashlib
import html
import re

__all__ = ["MAX_NAME", "dot_quote", "html_text", "id_part", "shorten", "visible"]

#: characters of a name shown in a label (longer names are shortened with "…")
MAX_NAME = 60
#: characters of any one label line (attributes, values): a safety net far below the limit
MAX_LINE = 400
#: characters of a whole label or tooltip (Graphviz's own limit per string is 16,384)
MAX_STRING = 12_000

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
_PLAIN_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|-?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)")
_DOT_KEYWORDS = frozenset({"node", "edge", "graph", "digraph", "subgraph", "strict"})


def _escape_char(m: re.Match[str]) -> str:
    c = m.group()
    named = _NAMED.get(c)
    if named is not None:
        return named
    code = ord(c)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with the characters DOT cannot carry written as escapes (``\\x07``, ``\\n``)."""
    return _UNSAFE.sub(_escape_char, text)


def shorten(text: str, limit: int = MAX_NAME) -> str:
    """``text`` cut to ``limit`` characters, keeping its start and end around an ellipsis."""
    if len(text) <= limit:
        return text
    head = max(1, (limit * 2) // 3)
    tail = max(0, limit - head - 1)
    return text[:head] + "…" + (text[-tail:] if tail else "")


def html_text(text: object, limit: int = MAX_LINE) -> str:
    """``text`` as content of a Graphviz HTML-like label: escaped, visible, at most ``limit``."""
    s = shorten(visible(str(text)), limit)
    s = html.escape(s, quote=False).replace("\\", "\\\\")
    if s and not s.strip("]"):  # Graphviz's HTML lexer rejects a text of only "]"
        s = s.replace("]", "&#93;")
    return s


def dot_quote(text: str, limit: int = MAX_STRING) -> str:
    """``text`` as a DOT string: bare when it is a plain identifier, else quoted and escaped.

    >>> dot_quote("fc1"), dot_quote("a\\\\"), dot_quote('say "hi"')
    ('fc1', '"a\\\\\\\\"', '"say \\\\"hi\\\\""')
    """
    s = shorten(visible(text), limit)
    if _PLAIN_ID.fullmatch(s) and s.lower() not in _DOT_KEYWORDS:
        return s
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


_ID_SAFE = re.compile(r"[A-Za-z0-9_/.\-]*")


def id_part(text: str, limit: int = 120) -> str:
    """A DOT-identifier-safe, unique form of ``text``: plain names stay as they are.

    Other characters are percent-encoded; a long result is cut and given a digest, so that
    different names never share an id.

    >>> id_part("net/fc1"), id_part("a\\\\"), id_part("a b%")
    ('net/fc1', 'a%5C', 'a%20b%25')
    """
    if _ID_SAFE.fullmatch(text) and len(text) <= limit:
        return text
    raw = text.encode("utf-8", "surrogatepass")
    out = "".join(
        chr(b) if (chr(b).isalnum() and b < 128) or chr(b) in "_/.-" else f"%{b:02X}" for b in raw
    )
    if len(out) > limit:
        out = out[: limit - 17] + "~" + hashlib.sha1(raw).hexdigest()[:16]
    return out
