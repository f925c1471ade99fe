"""Render an HTML page to plain text the way browsers' text views and scrapers do, labels kept per line.

There is no labeled corpus of text pages, so the text model learns from labeled HTML pages rendered to
text. Renderers differ (bullets or none, indentation, blank lines, image URLs, fields glued together
such as "Source1 day ago"), so each page is rendered in a randomly drawn style, seeded by the page, and
the model cannot learn one renderer's habits.
"""

from __future__ import annotations

import random
import re
import zlib
from dataclasses import dataclass

import pandas as pd

from winnow.pages import Page
from winnow.segment import segment

_RELATIVE_TIME = re.compile(r"(\w) ((?:\d+|an?|one)\s*(?:s|sec|second|m|min|minute|h|hr|hour|d|day|week|month|year)s?\s+ago)\b",
                            re.I)
BULLETS = ("•", "*", "-", "·", "◦")


@dataclass(frozen=True)
class RenderStyle:
    bullet: str = "•"  # before list items; "" for none
    indent: int = 0  # spaces before every line
    list_indent: int = 2  # further spaces before list items
    blank_lines: float = 0.0  # chance of a blank line between two blocks
    image_urls: bool = True  # image URLs (or alt text) on their own lines
    glue: float = 0.0  # chance that "Source 3 days ago" loses its space: "Source3 days ago"


def random_style(rng: random.Random) -> RenderStyle:
    return RenderStyle(bullet=rng.choice(BULLETS + ("", "")), indent=rng.choice((0, 0, 2, 4)),
                       list_indent=rng.choice((0, 2, 4)), blank_lines=rng.choice((0.0, 0.0, 0.5, 1.0)),
                       image_urls=rng.random() < 0.6, glue=rng.choice((0.0, 0.5, 1.0)))


def page_seed(page_id: str) -> int:
    return zlib.crc32(page_id.encode("utf-8"))


def render_lines(blocks: pd.DataFrame, style: RenderStyle, rng: random.Random | None = None) -> list[tuple[str, str]]:
    """(line, label) pairs; blank lines have label "". Labels come from a `label` column if present."""
    rng = rng or random.Random(0)
    labels = blocks["label"] if "label" in blocks else pd.Series("", index=blocks.index)
    lines: list[tuple[str, str]] = []
    for text, tag, label in zip(blocks["text"], blocks["tag"], labels):
        if tag == "img" and not style.image_urls:
            continue
        if style.glue and rng.random() < style.glue:
            text = _RELATIVE_TIME.sub(r"\1\2", text)
        prefix = " " * style.indent
        if tag == "li":
            prefix += " " * style.list_indent + (style.bullet + " " if style.bullet else "")
        if lines and style.blank_lines and rng.random() < style.blank_lines:
            lines.append(("", ""))
        lines.append((prefix + text, label))
    return lines


def format_lines(lines: list[tuple[str, str]], with_labels: bool) -> str:
    """Plain text, or the native labeled text format ("label<TAB>line") with `with_labels`."""
    if with_labels:
        return "".join(f"{label}\t{line}\n" if line else "\n" for line, label in lines)
    return "".join(line + "\n" for line, _ in lines)


def render_blocks(page_id: str, blocks: pd.DataFrame, style: RenderStyle | None = None) -> list[tuple[str, str]]:
    """Render the blocks of `segment(page, images=True)` in the page's own random style (unless given)."""
    rng = random.Random(page_seed(page_id))
    return render_lines(blocks, style or random_style(rng), rng)


def render_page(page: Page, with_labels: bool = False, get_model=None) -> str:
    """`winnow render`: a page as text; labels from its data-label attributes, else from `get_model()`."""
    blocks = segment(page, images=True)
    if with_labels:
        if (blocks["gold"] != "").any():
            blocks = blocks.assign(label=blocks["gold"].where(blocks["gold"] != "", "chrome"))
        else:
            blocks = blocks.assign(label=get_model().label_blocks(blocks)["predicted"])
    return format_lines(render_blocks(page.id, blocks), with_labels)


def as_labeled_text_page(page_id: str, blocks: pd.DataFrame) -> Page:
    """A labeled HTML page's rendering as a page in the native labeled text format."""
    return Page(page_id, format_lines(render_blocks(page_id, blocks), with_labels=True), "text")
