"""The page: one self-contained HTML file from a JSON-able payload and the static files.

The page carries its data once, as JSON in a ``<script type="application/json">`` element,
and every ``*.css`` and ``*.js`` file of ``static/`` inline, in sorted file-name order. The
JavaScript only shows the data (see ``static/00_core.js`` for the module pattern). Nothing is
fetched: no URL appears in the page, so it works offline and from ``file://``.

A page with graphs also carries the graph layout library, ``static/vendor/dagre.min.js``
(@dagrejs/dagre, MIT licence in ``static/vendor/dagre.LICENSE``, version in
``static/vendor/VERSION``), inline and unmodified but for its source-map comment: the page
lays graphs out itself, so building it needs no Graphviz program.

Same payload, same bytes: the JSON is written with sorted keys and the static files are
read in a fixed order.

>>> html = render_page({"graph": None}, "demo")
>>> html.startswith("<!DOCTYPE html>") and "MG.boot" in html
True
"""

from __future__ import annotations

import html as _html
import json
from importlib import resources
from typing import Any

from ..dot_text import visible

__all__ = ["inline_html", "payload_json", "render_page", "static_files", "vendor_script"]


def static_files(suffix: str, extras: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """``(name, text)`` of every static file ending in ``suffix``, sorted by name; with
    ``extras``, also those of the named subfolders (``"live"``: the playground's files, for
    a page that talks to Python), sorted among them."""
    root = resources.files("minigrad.graph.explorer") / "static"
    files = [f for f in root.iterdir() if f.name.endswith(suffix)]
    for sub in extras:
        files += [f for f in (root / sub).iterdir() if f.name.endswith(suffix)]
    return [(f.name, f.read_text(encoding="utf-8")) for f in sorted(files, key=lambda f: f.name)]


def vendor_script(name: str) -> str:
    """A library of ``static/vendor/`` as it ships, less its ``//# sourceMappingURL`` line
    (the page has no source map to point to)."""
    folder = resources.files("minigrad.graph.explorer") / "static" / "vendor"
    text = (folder / name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("//# sourceMappingURL=")]
    return "\n".join(lines)


def payload_json(payload: Any) -> str:
    """The payload as JSON that is safe inside a ``<script>`` element.

    NaN and infinities are not JSON: encode them before (see :mod:`.encode`); here they
    raise ``ValueError``.
    """
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    # "</script>" or "<!--" inside a string would end the element early
    # (a JSON string may spell "/" as "\\/" and "<" as "\\u003c")
    return text.replace("</", "<\\/").replace("<!--", "\\u003c!--")


def render_page(payload: dict[str, Any], title: str, extras: tuple[str, ...] = ()) -> str:
    """One HTML document showing ``payload`` (``payload["graph"]``, ``payload["timeline"]``).

    Each key of ``payload`` is read by the static modules that know it; a missing key hides
    that part of the page. ``extras`` adds the static files of those subfolders (see
    :func:`static_files`); offline pages have none.
    """
    css = "\n".join(f"/* {name} */\n{text}" for name, text in static_files(".css", extras))
    js = "\n".join(f"// ---- {name}\n{text}" for name, text in static_files(".js", extras))
    if payload.get("graph") is not None:  # graphs are laid out in the page
        js = f"// ---- vendor/dagre.min.js\n{vendor_script('dagre.min.js')}\n{js}"
    # the title may carry a user's names: lone surrogates and control characters cannot be
    # written as UTF-8 HTML text, so they are shown as escapes (\ud800), as in the drawings
    esc = _html.escape(visible(title))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc}</title>\n<style>\n{css}\n</style>\n</head>\n<body>\n"
        '<div id="mg-app" class="mg-app"></div>\n'
        f'<script type="application/json" id="mg-payload">{payload_json(payload)}</script>\n'
        f"<script>\n{js}\n</script>\n"
        "<script>MG.boot(JSON.parse(document.getElementById('mg-payload').textContent), "
        f"{payload_json(title)});</script>\n"
        "</body>\n</html>\n"
    )


#: shown instead of the page where a notebook's HTML is sanitised (an untrusted notebook in
#: JupyterLab or Notebook 7, some previews): the iframe and the style that hides this text
#: are both removed there, the text stays
NOT_RUN = (
    "The minigrad page is not shown here: this viewer does not run the scripts of a notebook "
    "it does not trust. Run the cell again, or trust the notebook (JupyterLab and Notebook 7: "
    '"Trust Notebook" in the command palette; a terminal: jupyter trust NAME.ipynb).'
)


def inline_html(page: str, title: str) -> str:
    """The page for a notebook's ``text/html`` output: an ``<iframe srcdoc>`` (shown the same
    in JupyterLab, Notebook 7, VS Code, Colab and nbconvert's HTML), then a sentence, hidden
    by a style rule while the iframe is there, that a viewer which strips iframes and styles
    shows instead.

    >>> out = inline_html("<!DOCTYPE html><p>hi</p>", "demo")
    >>> out.startswith('<iframe srcdoc="&lt;!DOCTYPE html&gt;'), "jupyter trust" in out
    (True, True)
    """
    doc = _html.escape(page, quote=True)
    return (
        f'<iframe srcdoc="{doc}" title="{_html.escape(title)}" class="minigrad-page" '
        'style="width:100%;height:760px;border:1px solid #ccc" '
        'sandbox="allow-scripts"></iframe>'
        # only the sentence beside a page: styles are global in JupyterLab, and another
        # (untrusted) output's sentence must stay visible
        "<style>iframe.minigrad-page ~ .minigrad-not-run{display:none}</style>"
        f'<p class="minigrad-not-run">{_html.escape(NOT_RUN, quote=False)}</p>'
        # where the output runs scripts, the page says how tall its first view is and the
        # frame takes that height (360 to 1400 px); elsewhere it stays 760 px
        f"<script>{_FIT_FRAME}</script>"
    )


#: the output's listener: the page in the frame posts {minigrad: "page-height", height}
_FIT_FRAME = (
    "(function(s){var f=s;while(f&&!(f.tagName==='IFRAME'&&"
    "f.classList.contains('minigrad-page')))f=f.previousElementSibling;if(!f)return;"
    "window.addEventListener('message',function(e){var d=e.data;"
    "if(e.source!==f.contentWindow||!d||d.minigrad!=='page-height'||!(d.height>0))return;"
    "f.style.height=Math.max(360,Math.min(1400,Math.round(d.height)))+'px';});"
    "})(document.currentScript)"
)
