"""Keeping Markdown renderers from turning plain text into links.

GitHub-flavoured Markdown links bare ``http://…``, ``https://…``, ``ftp://…``, ``www.…`` and
e-mail addresses found in *text*, after backslash escapes are resolved (remark-gfm, which
Streamlit uses, runs its "autolink literal" pass over the finished text nodes), so escaping
punctuation alone does not stop them. An invisible WORD JOINER (U+2060) placed where such
a link must start breaks every one of those patterns and shows nothing: after the ``:`` of
``scheme://``, before the ``.`` of ``www.``, and after ``@``.
"""

from __future__ import annotations

import re

__all__ = ["WORD_JOINER", "break_autolinks"]

WORD_JOINER = "\u2060"

_SCHEME = re.compile(r":(?=/)")
_WWW = re.compile(r"(?<=www)\.", re.IGNORECASE)
_AT = re.compile("@(?!" + WORD_JOINER + ")")


def break_autolinks(text: str) -> str:
    """``text`` with a word joiner wherever a GFM autolink literal could start."""
    text = _SCHEME.sub(":" + WORD_JOINER, text)
    text = _WWW.sub(WORD_JOINER + ".", text)
    return _AT.sub("@" + WORD_JOINER, text)
