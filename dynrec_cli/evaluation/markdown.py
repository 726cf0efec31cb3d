"""Markdown text from values a user chose (run names, paths): shown as written, never interpreted.

`report.html` escapes them as HTML; these are the Markdown counterparts for report.md and
compare.md, so a run called `*new* [model](x)` or `<script>` reads as its name.
"""

from __future__ import annotations

import re

# CommonMark lets a backslash escape any ASCII punctuation; these are the ones that can start
# emphasis, links, images, HTML, headings, tables (| in GFM) or code spans
_SPECIAL = re.compile(r"([\\`*_\[\]<>|#!~&])")


def text(value: object) -> str:
    """`value` as literal Markdown text on one line (headings, table cells, link text)."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(value).splitlines()))


def code(value: object) -> str:
    """`value` as an inline code span, whatever backticks it holds (CommonMark's longer fence)."""
    flat = " ".join(str(value).splitlines())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def table(rows: list[list[str]]) -> list[str]:
    """A GFM table's lines from a header row and body rows (cells escaped as text)."""
    head, *body = rows
    lines = ["| " + " | ".join(text(c) for c in head) + " |", "|" + "---|" * len(head)]
    return lines + ["| " + " | ".join(text(c) for c in row) + " |" for row in body]
