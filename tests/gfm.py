"""What a GitHub-flavoured Markdown renderer would make live in a text: links, images,
raw HTML and autolink literals. For the tests that show user text stays text.

CommonMark parsing is markdown-it-py's (with GFM tables and strikethrough; with linkify
when linkify-it-py is installed). The GFM "autolink literal" rules are ported here from
mdast-util-gfm-autolink-literal, the pass Streamlit's renderer (remark-gfm) runs over the
finished text, with ``ftp://`` added as GitHub's own renderer (cmark-gfm) links it: a
``www.`` or ``scheme://`` or ``local@domain`` at the start of the text or after whitespace
or punctuation, whose domain has a dot and no ``_`` in its last two labels.
"""

from __future__ import annotations

import re
import unicodedata

from markdown_it import MarkdownIt

__all__ = ["autolink_literals", "live_markup"]

_URL = re.compile(r"(https?://|ftp://|www(?=\.))([-.\w]+)([^ \t\r\n]*)", re.I | re.A)
_EMAIL = re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)", re.A)


def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    try:
        import linkify_it  # noqa: F401
    except ImportError:
        return parser
    return parser.enable("linkify").set({"linkify": True})  # pragma: no cover


def _punctuation_or_space(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch)[0] in "PS"


def _previous_ok(text: str, index: int, email: bool = False) -> bool:
    if index == 0:
        return True
    ch = text[index - 1]
    return _punctuation_or_space(ch) and not (email and ch == "/")


def _domain_ok(domain: str) -> bool:
    parts = domain.split(".")
    if len(parts) < 2:
        return False
    return all(
        not part or ("_" not in part and re.search(r"[A-Za-z\d]", part)) for part in parts[-2:]
    )


def autolink_literals(text: str) -> list[str]:
    """The links GFM would make from bare text (one text node, escapes already resolved)."""
    found = []
    pos = 0
    while (m := _URL.search(text, pos)) is not None:
        protocol, domain = m.group(1), m.group(2)
        if protocol.lower().startswith("w"):
            domain = protocol + domain
        if _previous_ok(text, m.start()) and _domain_ok(domain):
            found.append(m.group(0))
            pos = m.end()
        else:
            pos = m.start() + 1
    pos = 0
    while (m := _EMAIL.search(text, pos)) is not None:
        if _previous_ok(text, m.start(), email=True) and not re.search(r"[-\d_]$", m.group(2)):
            found.append(m.group(0))
            pos = m.end()
        else:
            pos = m.start() + 1
    return found


def live_markup(markdown: str) -> list[str]:
    """Everything in ``markdown`` a GFM renderer would turn into a link, an image, an
    autolink or raw HTML; an empty list when all of it shows as text."""
    live: list[str] = []

    def visit(tokens) -> None:
        for token in tokens:
            if token.type in ("link_open", "image", "html_inline", "html_block"):
                live.append(f"{token.type}: {token.attrs or token.content}")
            elif token.type == "text":
                live.extend(f"autolink: {link}" for link in autolink_literals(token.content))
            if token.children:
                visit(token.children)

    visit(_parser().parse(markdown))
    return live
