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
    # "x" and renders no tags, links, maths or colours from it.
    rendered = at.markdown[0].value
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
