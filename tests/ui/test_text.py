import pytest
from streamlit.testing.v1 import AppTest

from ui.text import md, money, percent

NASTY = [
    "<script>alert(1)</script>",
    '=HYPERLINK("http://x","y")',
    "**bold** _it_ [link](javascript:alert(1))",
    ":red[alarm] $x^2$ `code` # heading",
    "back\\slash | pipe ~strike~",
]


@pytest.mark.parametrize("text", NASTY)
def test_markdown_shows_exactly_what_was_typed(text):
    def page(text):
        import streamlit as st

        from ui.text import md

        st.markdown(md(text))
        st.title(md(text))

    at = AppTest.from_function(page, args=(text,)).run()
    # What reaches the browser is the escaped source; CommonMark turns every "\x" back into
    # "x" and renders no tags, links, maths or colours from it (the word joiner that stops
    # bare links is invisible).
    rendered = at.markdown[0].value.replace("\u2060", "")
    assert rendered.replace("\\", "") == text.replace("\\", "")
    assert "<" not in rendered.replace("\\<", "")


def test_every_markup_character_is_escaped():
    assert md("<b>") == "\\<b\\>"
    assert md("a*b_c") == "a\\*b\\_c"
    assert md("line one\nline two") == "line one  \nline two"
    assert md("中文 渠道") == "中文 渠道"


def test_numbers_for_people():
    assert money(1234.5, "CNY") == "1,234.50 CNY"
    assert money(None) == "–"
    assert percent(0.256) == "25.6%"
    assert percent(float("nan")) == "–"


def test_plural():
    from ui.text import plural

    assert plural(1, "order") == "1 order"
    assert plural(2, "order") == "2 orders"
    assert plural(1_200, "day") == "1,200 days"
    assert plural(2, "entry", "entries") == "2 entries"


HOSTILE = [
    "![x](http://127.0.0.1:9/x.png)",
    "http://evil.example/",
    "HTTPS://EVIL.EXAMPLE/a?b=c",
    "see www.evil.example now",
    "WWW.EVIL.EXAMPLE",
    "(www.evil.example)",
    "<b>x</b>",
    "[link](http://x)",
    "<http://evil.example>",
    "mail me: boss@evil.example",
    "mailto:boss@evil.example",
    "ftp://evil.example/file",
    "[x]: http://evil.example\n\n[x]",
    '<img src="http://evil.example/x.png">',
    "a\n\n<div>block</div>",
    "| a | b |\n| - | - |\n| http://evil.example | www.evil.example |",
]


def test_the_checker_sees_what_gfm_would_link():
    # The checker itself: raw hostile text is live (else the test below proves nothing).
    from tests.gfm import live_markup

    for text in HOSTILE:
        assert live_markup(text), text
    assert live_markup("plain words, 1.5 and 3 @ 4") == []


@pytest.mark.parametrize("text", HOSTILE)
def test_nothing_typed_becomes_a_link_an_image_or_html(text):
    from tests.gfm import live_markup

    assert live_markup(md(text)) == []
    # Every character still shows as typed (the word joiner is invisible).
    shown = md(text).replace("\\", "").replace("\u2060", "").replace("  \n", "\n")
    assert shown == text.replace("\\", "")
