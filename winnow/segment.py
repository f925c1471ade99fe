"""Split a page into text blocks: the blocks table every later stage works on.

One row per block, in page order. Columns (see BLOCK_COLUMNS):
  page, index       which page, and the block's position in it
  text              the block's text, whitespace collapsed
  tag, path, depth  the enclosing block element, its tag path from <html>, its depth
  link_chars        characters of the text that sit inside <a>
  classid           class/id tokens of the block element and its parent ("near")
  ancestor_classid  class/id tokens of all further ancestors
  indent            leading spaces of a text page's line (0 for HTML)
  gold              a label written into the page (data-label, or a text line's label), else ""

HTML and text pages differ only here: text pages have one block per non-empty
line and empty DOM columns.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import chain

import numpy as np
import pandas as pd
from lxml import etree

from winnow.pages import Page

LABELS = ("content", "comment", "chrome")
BLOCK_COLUMNS = ["page", "index", "text", "tag", "path", "depth", "link_chars", "classid", "ancestor_classid", "indent",
                 "gold"]
_NUMBER_COLUMNS = {"depth": np.int64, "link_chars": np.int64, "indent": np.int64}
LABEL_ATTRIBUTE = "data-label"
MAX_BLOCKS = 50_000  # blocks kept per page; the rest of a huge page is dropped
MAX_ELEMENTS = 300_000  # elements walked per page; bounds the time a page of a million tiny tags takes

# Elements that start and end a block. Inline elements add their text to the current block.
BLOCK_TAGS = frozenset(
    "address article aside blockquote body caption center dd details dialog dir div dl dt fieldset "
    "figcaption figure footer form frame h1 h2 h3 h4 h5 h6 header hgroup hr html legend li main menu nav "
    "ol option p pre section summary table tbody td tfoot th thead tr ul br button label select textarea".split()
)
_HEAD_TAGS = frozenset("title meta link style script base noscript template".split())
SKIP_TAGS = frozenset("script style noscript template svg math iframe head object embed canvas map".split())
_CLASS_TOKEN = re.compile(r"[a-z]{2,}")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
# A page may hide itself with visibility:hidden until its scripts have run (an anti-flicker wrapper): where
# a page shows next to nothing, only display:none hides (walk_page).
_UNDISPLAYED_STYLE = re.compile(r"display\s*:\s*none", re.I)
# React streams a page's late parts as <div hidden id="S:0"> and a script moves them into place: shown.
_REACT_STREAMED = re.compile(r"S:\d+")
# A page that shows next to nothing without its scripts (a Discourse forum, an app shell) gives
# readers without scripts its text in <noscript>: when the page shows fewer characters than this,
# and fewer than its <noscript> elements hold, they are read too.
NOSCRIPT_FALLBACK_CHARS = 500
# A plain etree parser: lxml.html's element classes cost a Python lookup for every element walked. Nothing
# looks an element up by its id: no table of ids (parsing dragnet:test 0.41 → 0.37 s). Pages go in as UTF-8
# (parse_html).
_HTML_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True, default_doctype=False,
                                collect_ids=False, encoding="utf-8")


def segment(page: Page, images: bool = False, max_blocks: int = MAX_BLOCKS) -> pd.DataFrame:
    """The blocks table of one page; `table.attrs["title"]` holds the HTML <title>.

    With `images`, each <img> of an HTML page becomes a block of its own (its URL, or its alt text):
    what a text rendering of the page shows.
    """
    rows, title = segment_rows(page, images, max_blocks)
    table = blocks_table([page.id], [rows])
    table.attrs["title"] = title
    return table


def segment_rows(page: Page, images: bool = False, max_blocks: int = MAX_BLOCKS) -> tuple[list[tuple], str]:
    """A page's block rows (the table's columns after `page` and `index`) and its <title>."""
    if page.kind == "text":
        return segment_text(page.text)[:max_blocks], ""
    root = parse_html(page.text)
    return ([], "") if root is None else (walk_page(root, images, max_blocks), page_title(root))


def blocks_table(page_ids: list, rows_per_page: list[list[tuple]]) -> pd.DataFrame:
    """One blocks table of several pages' rows, in order: a batch builds one table, not one per page."""
    counts = np.array([len(rows) for rows in rows_per_page], dtype=np.int64)
    # Plain object columns: pandas 3's inferred "str" columns check every string on the way in and out.
    table = pd.DataFrame(list(chain.from_iterable(rows_per_page)), columns=BLOCK_COLUMNS[2:], dtype=object)
    table = table.astype(_NUMBER_COLUMNS)
    table.insert(0, "index", np.arange(len(table)) - np.repeat(np.cumsum(counts) - counts, counts))
    table.insert(0, "page", pd.Series(np.repeat(np.array(page_ids, dtype=object), counts), dtype=object, copy=False))
    return table


def segment_text(text: str) -> list[tuple]:
    """One block per non-empty line of a plain-text page.

    A line may start with a label and a tab ("content<TAB>..."): the native labeled text format.
    """
    rows = []
    for line in text.splitlines():
        label, tab, rest = line.partition("\t")
        gold = label.strip() if tab and label.strip() in LABELS else ""
        raw = (rest if gold else line).expandtabs(4)
        line = collapse(raw)
        if line:
            rows.append((line, "", "", 0, 0, "", "", len(raw) - len(raw.lstrip()), gold))
    return rows


_XML_DECLARATION = re.compile(r"\s*<\?xml[^>]*>")


def parse_html(markup: str) -> etree._Element | None:
    """Parse markup leniently; None when there is nothing to parse."""
    if not markup or markup.isspace():  # not strip(): that copies the page
        return None
    # lxml refuses str input that carries an XML encoding declaration.
    declaration = _XML_DECLARATION.match(markup)
    if declaration:
        markup = markup[declaration.end():]
    try:
        root = _parse(markup)
        if any("Excessive depth" in entry.message for entry in _HTML_PARSER.error_log):
            # libxml2 drops everything below depth 2048 without a word; such pages are broken markup
            # (unclosed containers), so their container tags go and their text is kept.
            root = _parse(_CONTAINER_TAG.sub(_flatten_tag, markup))
        if root is not None:
            _close_head(root)
        return root
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None


def _parse(markup: str) -> etree._Element | None:
    """libxml2's tree of the markup, given as UTF-8. lxml hands a str over in its own storage, which a
    single curly quote makes UTF-16, and libxml2 turns that into UTF-8 slower than Python does: parsing
    wcxb-dev's pages took 10 % fewer instructions (33.4 → 30.1 billion under callgrind), dragnet:test's,
    from 2012 and mostly ASCII or Latin-1, 1 % more; every dataset page gave the same tree."""
    try:
        data = markup.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, in a str made in Python rather than decoded: as it is
        data = markup
    return etree.fromstring(data, parser=_HTML_PARSER)


def _close_head(root: etree._Element) -> None:
    """Move what follows the first element of <head> that does not belong there into <body>. libxml2 keeps
    it in the head (a `<sohu_cms_include:...>` tag there held a whole page); a browser closes the head at
    that element and shows the rest."""
    head = root.find("head")
    if head is None:
        return
    children = list(head)
    stray = next((n for n, child in enumerate(children)
                  if isinstance(child.tag, str) and child.tag not in _HEAD_TAGS), None)
    if stray is None:
        return
    body = root.find("body")
    if body is None:
        body = etree.SubElement(root, "body")
    moved = [child for child in children[stray:] if child.tag not in _HEAD_TAGS]  # a <title> still titles
    for position, child in enumerate(moved):
        body.insert(position, child)


_CONTAINER_TAG = re.compile(r"</?(div|section|article|main|aside|header|footer|nav|table|tbody|thead|tr|td|th|"
                            r"ul|ol|li|dl|dd|dt|p|blockquote|center|form|span|font|b|i|em|strong|a|small|big|u)\b[^>]*>",
                            re.I)


def _flatten_tag(match: re.Match) -> str:
    return "<br>" if match.group(1).lower() in BLOCK_TAGS else " "


def collapse(text: str) -> str:
    """Runs of whitespace as one space, none at the ends (as re's \\s+ and strip(), four times as fast)."""
    return " ".join(text.split())


def page_title(root: etree._Element | None) -> str:
    """The <title> text, whitespace collapsed."""
    if root is None:
        return ""
    # The first <title> of the page is nearly always in <head>, the root's first child: look there before the
    # whole page (searching the root for it took a tenth of the time the page's parse takes).
    head = root[0] if len(root) and root[0].tag == "head" else None
    title = next(head.iter("title"), None) if head is not None else None
    if title is None:
        title = root.find(".//title")
    return collapse("".join(title.itertext())) if title is not None else ""


@lru_cache(maxsize=65536)  # a site repeats its class names on every page
def _tokens_of(attrs: str) -> str:
    return " ".join(_CLASS_TOKEN.findall(attrs.lower()))


def _hidden(attributes: dict, hidden_style: re.Pattern = _HIDDEN_STYLE) -> bool:
    if "hidden" in attributes:
        return not _REACT_STREAMED.fullmatch(attributes.get("id") or "")
    if attributes.get("aria-hidden") == "true":
        return True
    style = attributes.get("style")
    return bool(style and hidden_style.search(style))


class _Open:
    """An open element on the walk's stack, with what a block flushed inside it needs, gathered as the walk
    descends (so a flush costs the same at any depth): the tag path of the open block elements, the class/id
    tokens of the open elements up to this one, and the nearest label."""

    __slots__ = ("tokens", "label", "is_block", "skipped", "path", "owner", "all_tokens")

    def __init__(self, tag: str, parent: _Open | None, tokens: str = "", label: str = "", is_block: bool = False,
                 skipped: bool = False):
        self.tokens, self.is_block, self.skipped = tokens, is_block, skipped
        self.label = label or (parent.label if parent else "")
        self.path, self.owner = (parent.path, parent.owner) if parent else ("", "")
        if is_block:
            self.path, self.owner = f"{self.path} {tag}".lstrip(), tag
        self.all_tokens = parent.all_tokens if parent else ""
        if tokens:
            self.all_tokens = f"{self.all_tokens} {tokens}".lstrip()


def _image_text(element: etree._Element) -> str:
    src = (element.get("src") or "").strip()
    return src if src and not src.startswith("data:") else (element.get("alt") or "")


def walk_page(root: etree._Element, images: bool = False, max_blocks: int = MAX_BLOCKS,
              anchors: list | None = None) -> list[tuple]:
    """The block rows of a parsed page (see _walk). A page that shows almost no text is read with its
    <noscript> text where that holds more, and then through what visibility:hidden hides where that shows
    a page's worth and twice as much: a wrapper its scripts reveal once loaded."""
    walk = _walk if anchors is not None or _compiled_walk is None else _walk_compiled
    rows = walk(root, images, max_blocks, anchors)
    shown = _shown(rows)
    if shown >= NOSCRIPT_FALLBACK_CHARS:  # nearly every page: one walk
        return rows
    skip = SKIP_TAGS
    if _noscript_chars(root) > shown:
        if anchors is not None:
            anchors.clear()
        skip = SKIP_TAGS - {"noscript"}
        rows = walk(root, images, max_blocks, anchors, skip=skip)
        shown = _shown(rows)
    if shown < NOSCRIPT_FALLBACK_CHARS:
        revealed_anchors = None if anchors is None else []
        revealed = walk(root, images, max_blocks, revealed_anchors, skip=skip, hidden_style=_UNDISPLAYED_STYLE)
        if _shown(revealed) >= max(NOSCRIPT_FALLBACK_CHARS, 2 * shown):
            rows = revealed
            if anchors is not None:
                anchors[:] = revealed_anchors
    return rows


def _shown(rows: list[tuple]) -> int:
    return sum(len(row[0]) for row in rows)


def _walk_compiled(root: etree._Element, images: bool = False, max_blocks: int = MAX_BLOCKS,
                   anchors: None = None, skip: frozenset = SKIP_TAGS, hidden_style: re.Pattern = _HIDDEN_STYLE
                   ) -> list[tuple]:
    """_walk's rows from the compiled walk (which gives no anchors)."""
    return _compiled_walk(root, images, max_blocks, skip, MAX_ELEMENTS, hidden_style)


def _noscript_chars(root: etree._Element) -> int:
    return sum(len(collapse("".join(element.itertext()))) for element in root.iter("noscript"))


def _walk(root: etree._Element, images: bool = False, max_blocks: int = MAX_BLOCKS,
          anchors: list | None = None, skip: frozenset = SKIP_TAGS, hidden_style: re.Pattern = _HIDDEN_STYLE
          ) -> list[tuple]:
    """Iterative walk (deep pages must not hit the recursion limit) that flushes a block at block tags.

    A block's label (`data-label` of the nearest labeled element) is taken where its first visible
    text is, so that a label written on an inline element around that text applies. With `anchors`,
    where that text sits is appended per block: (element, "text" | "tail" | "image").
    """
    rows: list[tuple] = []
    stack: list[_Open] = []
    parts: list[str] = []
    link_chars = 0
    in_link = 0
    label: str | None = None  # of the block being gathered, once it has visible text
    anchor: tuple | None = None

    def add(text: str, element: etree._Element, where: str) -> None:
        nonlocal label, anchor
        parts.append(text)
        if label is None and not text.isspace():
            label = stack[-1].label if stack else ""
            anchor = (element, where)

    def flush() -> None:
        nonlocal link_chars, label, anchor
        if label is not None:  # set by the first visible text: most block boundaries hold none
            text = collapse("".join(parts))
            if text and len(rows) < max_blocks:
                top = stack[-1] if stack else None
                near = " ".join(o.tokens for o in stack[-2:] if o.tokens)
                far = stack[-3].all_tokens if len(stack) > 2 else ""
                rows.append((text, top.owner if top else "", top.path if top else "", len(stack),
                             min(link_chars, len(text)), near, far, 0, label))
                if anchors is not None:
                    anchors.append(anchor)
        parts.clear()
        link_chars, label, anchor = 0, None, None

    walker = etree.iterwalk(root, events=("start", "end"))
    started = 0
    for event, element in walker:
        tag = element.tag
        tag = tag.lower() if tag.__class__ is str else ""
        if event == "start":
            started += 1
            if started > MAX_ELEMENTS:
                break
            attributes = dict(element.items())
            parent = stack[-1] if stack else None
            if tag in skip or not tag or (attributes and _hidden(attributes, hidden_style)):
                walker.skip_subtree()
                stack.append(_Open(tag, parent, skipped=True))
                continue
            is_image = images and tag == "img"
            is_block = tag in BLOCK_TAGS or is_image
            if is_block:
                flush()
            tokens = _tokens_of(attributes.get("class", "") + " " + attributes.get("id", "")) if attributes else ""
            stack.append(_Open(tag, parent, tokens, attributes.get(LABEL_ATTRIBUTE, ""), is_block))
            if is_image:
                add(_image_text(element), element, "image")
            if tag == "a":
                in_link += 1
            text = element.text
            if text:
                add(text, element, "text")
                if in_link:
                    link_chars += len(text.strip())
        else:
            opened = stack.pop()
            if opened.is_block:
                stack.append(opened)  # the block's own tokens and label still apply to its last text
                flush()
                stack.pop()
            if tag == "a" and not opened.skipped:
                in_link -= 1
            tail = element.tail
            if tail:
                add(" " + tail if tag == "br" else tail, element, "tail")
                if in_link:
                    link_chars += len(tail.strip())
    flush()
    return rows


# Last: the compiled module reads this module's constants as it loads.
try:  # _walk compiled (setup.py): the same rows, 2.5 times as fast
    from winnow._walk import walk as _compiled_walk
except ImportError:  # not built where winnow was installed without a C compiler
    _compiled_walk = None
