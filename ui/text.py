"""Showing what users typed as text, never as markup, and formatting numbers for people."""

from __future__ import annotations

import math
import string

from trials.reports.autolinks import break_autolinks

__all__ = ["md", "money", "number", "percent", "plural"]

_PUNCTUATION = frozenset(string.punctuation)


def md(text: object) -> str:
    """``text`` escaped for ``st.markdown``, ``st.error``, captions, labels and tooltips:
    every character shows literally and nothing in it becomes a link, an image or a tag.

    Backslash-escapes all ASCII punctuation (CommonMark allows it), so ``<script>``,
    ``**``, ``[x](y)``, ``![x](y)``, ``<http://x>``, ``$x$`` and Streamlit's ``:red[...]``
    directives stay text; and puts an invisible word joiner where GFM would link bare text
    (``http://``, ``www.``, ``name@host``), which escapes alone do not stop.
    """
    escaped = "".join("\\" + c if c in _PUNCTUATION else c for c in break_autolinks(str(text)))
    return escaped.replace("\n", "  \n")


def money(amount: float | None, currency: str = "") -> str:
    if amount is None or (isinstance(amount, float) and math.isnan(amount)):
        return "–"
    return f"{amount:,.2f} {currency}".strip()


def number(value: float | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def percent(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}%}"


def plural(count: int, word: str, many: str | None = None) -> str:
    """ "1 order", "3 orders"."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"
