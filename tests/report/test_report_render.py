"""Tests of report.render: cell formatting and escaping in Markdown and HTML."""

import math

import pandas as pd
import pytest

from report.render import (
    Bullets,
    Code,
    Heading,
    Paragraph,
    Table,
    cell_text,
    render_html,
    render_markdown,
)

EVIL = "<script>alert(1)</script>"


@pytest.mark.parametrize(
    ("value", "text"), [(0.91234, "0.912"), (math.nan, "—"), (None, "—"), (3, "3"), ("a", "a")]
)
def test_cell_text(value, text):
    assert cell_text(value) == text


def _blocks():
    frame = pd.DataFrame({"regime": ["<1k", ">10k"], "name": [EVIL, "a|b"], "acc": [0.5, 0.25]})
    return [Heading(EVIL, 1), Paragraph(f"note {EVIL} & more"), Bullets((EVIL,)), Table(frame)]


def test_markdown_escapes_html_and_pipes_but_keeps_regimes():
    text = render_markdown(_blocks())
    assert "<script" not in text
    assert "| <1k | &lt;script>alert(1)&lt;/script> | 0.500 |" in text
    assert "| >10k | a\\|b | 0.250 |" in text
    assert "note &lt;script>alert(1)&lt;/script> &amp; more" in text


def test_html_escapes_everything():
    page = render_html(_blocks(), title=EVIL)
    assert "<script" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 5
    assert "<td>&lt;1k</td>" in page and "<td>a|b</td>" in page
    assert "<table>" in page and page.startswith("<!DOCTYPE html>")


def test_empty_table_renders_placeholder():
    blocks = [Table(pd.DataFrame({"a": []}))]
    assert "(none)" in render_markdown(blocks)
    assert "(none)" in render_html(blocks, "t")


def test_code_block_is_escaped_in_html_and_fenced_beyond_its_backticks_in_markdown():
    text = f"a: '{EVIL}'\nb: ```` four backticks\n"
    page = render_html([Code(text, summary=f"{EVIL}.yaml")], "t")
    assert "<script" not in page
    assert "<details><summary>&lt;script&gt;" in page and "<pre>a: &#x27;&lt;script&gt;" in page
    lines = render_markdown([Code(text)]).splitlines()
    assert lines[0] == lines[3] == "`" * 5  # longer than the longest run inside
    assert lines[1:3] == [f"a: '{EVIL}'", "b: ```` four backticks"]
