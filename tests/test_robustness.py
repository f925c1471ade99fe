"""Dirty input: pages generated here that must give a clear error or a sane result, never a traceback."""

from __future__ import annotations

import gzip
import json
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from winnow.cli import app
from winnow.features import BlockFeatures
from winnow.pages import Page, PageError, decode, page_from_bytes, read_page
from winnow.segment import BLOCK_COLUMNS, segment

runner = CliRunner()

TAGS = ["div", "p", "span", "a", "li", "ul", "h1", "td", "tr", "table", "br", "script", "style", "b", "article"]


@st.composite
def html_fragments(draw, depth=0):
    """Random, often malformed, markup: tags opened and not closed, attributes, entities, text."""
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["text", "open", "close", "entity", "nest"]))
        if kind == "text":
            parts.append(draw(st.text(max_size=40)))
        elif kind == "open":
            tag = draw(st.sampled_from(TAGS))
            attrs = draw(st.sampled_from(["", ' class="comment-body"', " hidden", ' style="display:none"',
                                          ' data-label="content"', ' id="nav"']))
            parts.append(f"<{tag}{attrs}>")
        elif kind == "close":
            parts.append(f"</{draw(st.sampled_from(TAGS))}>")
        elif kind == "entity":
            parts.append(draw(st.sampled_from(["&amp;", "&#0;", "&#x110000;", "&nbsp;", "&bogus;", "&#65;"])))
        elif depth < 3:
            parts.append(draw(html_fragments(depth=depth + 1)))
    return "".join(parts)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(html_fragments())
def test_html_segmentation_never_raises_and_keeps_invariants(markup):
    blocks = segment(Page("random", markup, "html"))
    assert list(blocks.columns) == BLOCK_COLUMNS
    assert blocks["index"].tolist() == list(range(len(blocks)))
    assert all(text == text.strip() and text for text in blocks["text"])
    assert (blocks["link_chars"] <= blocks["text"].str.len()).all()


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_text_segmentation_never_raises_and_keeps_invariants(text):
    blocks = segment(Page("random", text, "text"))
    assert list(blocks.columns) == BLOCK_COLUMNS
    assert all(t and t == t.strip() and "\n" not in t for t in blocks["text"])
    assert len(blocks) <= len([line for line in text.splitlines() if line.strip()])


@pytest.fixture(scope="module")
def fitted_features():
    pages = [Page(f"p{i}", f"<div class='nav'><p>Item {i}</p></div><article><p>{'word ' * (i + 3)}.</p></article>", "html")
             for i in range(8)]
    import pandas as pd
    blocks = pd.concat([segment(p) for p in pages], ignore_index=True)
    return BlockFeatures().fit(blocks, np.where(blocks["classid"].str.contains("nav"), "chrome", "content"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(html_fragments())
def test_feature_table_shape_is_fixed_and_finite(fitted_features, markup):
    blocks = segment(Page("random", markup, "html"))
    matrix = fitted_features.transform(blocks)
    assert matrix.shape == (len(blocks), len(fitted_features.get_feature_names_out()))
    assert np.isfinite(matrix).all()


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_decoding_any_bytes_never_raises(data):
    text = decode(data)
    assert isinstance(text, str)
    try:
        page = page_from_bytes(data, "bytes")
    except PageError as error:
        assert str(error).startswith("bytes: ")
    else:
        assert page.kind in ("html", "text")


# ------------------------------------------------------------ bad pages in a batch, one test each

GOOD = "<html><head><title>Good</title></head><body><article class=\"post\"><p>" + "A sentence of good text. " * 20 + "</p></article></body></html>"


def _bad_pages(tmp_path):
    """name -> (file path, expected phrase in the failure message or None for a sane empty result)."""
    cases = {}

    def write(name, data: bytes, expect):
        path = tmp_path / name
        path.write_bytes(data)
        cases[name] = (path, expect)

    write("empty.html", b"", None)
    draw = random.Random(0)
    noise = bytes(draw.randrange(1, 256) for _ in range(3000))
    write("garbage.html", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + noise, "binary data")
    full = gzip.compress(GOOD.encode())
    write("truncated.html.gz", full[: len(full) // 2], "cannot read")
    write("corrupt.html.gz", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"zz" * 50, "cannot read")
    write("notext.html", b"<html><body><div><img src=a.png></div></body></html>", None)
    write("utf16.html", "\ufeff<html><body><p>caf\u00e9 text</p></body></html>".encode("utf-16"), None)
    write("lying-charset.html", b'<meta charset="utf-8"><p>caf\xe9 cr\xe8me</p>', None)
    return cases


@pytest.fixture
def bad_batch(tmp_path):
    cases = _bad_pages(tmp_path)
    good_first, good_last = tmp_path / "a_good.html", tmp_path / "z_good.html"
    good_first.write_text(GOOD)
    good_last.write_text(GOOD)
    return cases, [good_first, *[p for p, _ in cases.values()], good_last]


def test_each_bad_page_is_reported_and_good_pages_come_out(bad_batch, tiny_model_path, tmp_path):
    cases, paths = bad_batch
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["extract", *map(str, paths), "--model", str(tiny_model_path), "-o", str(out)])
    failing = {name for name, (_, expect) in cases.items() if expect}
    assert result.exit_code == (1 if failing else 0), result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    pages = [r["page"] for r in records]
    assert str(paths[0]) in pages and str(paths[-1]) in pages
    good = [r for r in records if r["page"] in (str(paths[0]), str(paths[-1]))]
    assert all("good text" in r["text"] for r in good)
    for name, (path, expect) in cases.items():
        if expect:
            line = next(line for line in result.stderr.splitlines() if str(path) in line)
            assert expect in line
            assert str(path) not in pages
        else:
            assert str(path) in pages


def test_lying_charset_falls_back(tmp_path):
    path = tmp_path / "lie.html"
    path.write_bytes(b'<meta charset="utf-8"><p>caf\xe9 cr\xe8me</p>')
    assert "café crème" in read_page(path).text


def test_gzip_bomb_is_capped(tmp_path):
    path = tmp_path / "bomb.html.gz"
    with gzip.open(path, "wb") as handle:
        chunk = b"<p>" + b"a" * (1 << 20)
        for _ in range(30):
            handle.write(chunk)
    assert path.stat().st_size < 1_000_000
    with pytest.raises(PageError, match=r"bomb\.html\.gz: larger than"):
        read_page(path, max_bytes=10_000_000)


def test_very_deep_page_keeps_its_text():
    markup = "<html><body>" + "<div>x " * 20_000 + "<p>the end</p></body></html>"  # far past libxml2's depth 2048
    blocks = segment(Page("deep", markup, "html"))
    assert blocks["text"].iloc[-1] == "the end"


def test_one_huge_text_line():
    blocks = segment(Page("line", "word " * 2_000_000, "text"))
    assert len(blocks) == 1


def test_million_tiny_elements_are_bounded():
    from winnow.segment import MAX_ELEMENTS

    markup = "<html><body><p>first paragraph</p>" + "<span>a</span>" * 1_000_000 + "</body></html>"
    blocks = segment(Page("many", markup, "html"))
    assert blocks["text"].iloc[0] == "first paragraph"
    assert blocks["text"].str.len().sum() < MAX_ELEMENTS + 100  # the walk stopped at the element limit


def test_errors_file_and_page_size_limit(tmp_path, tiny_model_path):
    small, big = tmp_path / "small.html", tmp_path / "big.html"
    small.write_text(GOOD)
    big.write_text(GOOD * 50)
    errors = tmp_path / "errors.jsonl"
    result = runner.invoke(app, ["extract", str(small), str(big), "--model", str(tiny_model_path),
                                 "--max-page-bytes", "10000", "--errors", str(errors)])
    assert result.exit_code == 1
    assert [json.loads(line)["page"] for line in result.stdout.splitlines()] == [str(small)]
    failures = [json.loads(line) for line in errors.read_text().splitlines()]
    assert failures == [{"page": str(big), "reason": "larger than the 10,000-byte page limit"}]


def test_interrupted_batch_keeps_whole_pages(tmp_path, tiny_model_path, monkeypatch):
    from winnow.predict import batch  # `import winnow.predict.batch as x` would find the function winnow.predict

    paths = []
    for i in range(5):
        path = tmp_path / f"p{i}.html"
        path.write_text(GOOD)
        paths.append(str(path))
    real = batch.label_chunk
    calls = []

    def interrupt_on_third_chunk(model, segmented):
        calls.append(len(segmented))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(model, segmented)

    monkeypatch.setattr(batch, "CHUNK_PAGES", 1)
    monkeypatch.setattr(batch, "label_chunk", interrupt_on_third_chunk)
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["predict", *paths, "--model", str(tiny_model_path), "-o", str(out), "--jobs", "1"])
    assert result.exit_code == 130
    records = [json.loads(line) for line in out.read_text().splitlines()]  # every line parses
    assert sorted({r["page"] for r in records}) == paths[:2]
    assert not list(tmp_path.glob(".out.jsonl.tmp"))


def test_symlink_loop_in_a_directory(tmp_path, tiny_model_path):
    (tmp_path / "pages" / "sub").mkdir(parents=True)
    (tmp_path / "pages" / "sub" / "a.html").write_text(GOOD)
    (tmp_path / "pages" / "sub" / "loop").symlink_to(tmp_path / "pages", target_is_directory=True)
    result = runner.invoke(app, ["extract", str(tmp_path / "pages"), "--model", str(tiny_model_path)])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["page"] for line in result.stdout.splitlines()] == [str(tmp_path / "pages" / "sub" / "a.html")]


def test_entity_tricks_are_not_expanded():
    markup = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
              '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><html><body><p>&c;&c;&c; &lt;b&gt; &#x26;</p></body></html>')
    texts = segment(Page("entities", markup, "html"))["text"].tolist()
    assert sum(len(t) for t in texts) < 200  # the "billion laughs" entities stay unexpanded
    assert "<b> &" in texts[-1]


def test_mixed_encodings_decode_without_error():
    data = "<p>utf-8 café</p>".encode("utf-8") + "<p>latin-1 crème</p>".encode("latin-1")
    text = decode(data)
    assert "utf-8 caf" in text and "latin-1 cr" in text


def test_page_over_the_default_size_limit(tmp_path):
    path = tmp_path / "huge.html"
    path.write_bytes(b"<p>" + b"x" * 21_000_000)
    with pytest.raises(PageError, match=r"huge\.html: larger than the 20,000,000-byte page limit"):
        read_page(path)


def test_very_deep_page_completes():
    blocks = segment(Page("deeper", "<html><body>" + "<div>x " * 100_000 + "</body></html>", "html"))
    assert 0 < len(blocks) <= 50_000


def test_badly_aligned_pages_are_named():
    import pandas as pd

    from winnow.train.fit import warn_low_coverage

    messages = []
    pages = pd.DataFrame({"page": ["good", "bad"], "content_coverage": [0.99, 0.1]})
    warn_low_coverage(pages, log=messages.append)
    assert len(messages) == 1 and "1 of 2 pages" in messages[0] and "bad" in messages[0]


def test_page_time_limit(tmp_path, tiny_model_path, monkeypatch):
    import time

    from winnow.predict import batch

    slow, good = tmp_path / "slow.html", tmp_path / "good.html"
    slow.write_text("<p>slow</p>")
    good.write_text(GOOD)
    real = batch.segment_rows

    def segment_slowly(page, **options):
        if page.id.endswith("slow.html"):
            time.sleep(5)
        return real(page, **options)

    monkeypatch.setattr(batch, "segment_rows", segment_slowly)
    result = runner.invoke(app, ["extract", str(slow), str(good), "--model", str(tiny_model_path), "--page-timeout", "0.5"])
    assert result.exit_code == 1
    assert [json.loads(line)["page"] for line in result.stdout.splitlines()] == [str(good)]
    assert f"{slow}: took longer than the 0.5-second page time limit" in result.stderr


@pytest.mark.parametrize("command", ["predict", "extract"])
def test_a_page_the_classifier_fails_on_costs_only_itself(tmp_path, tiny_model_path, monkeypatch, command):
    """A chunk whose labeling fails is labeled again page by page: the other pages of the chunk come out,
    in order, as a batch without the bad page writes them."""
    from winnow.model import WinnowModel

    paths = []
    for name, text in [("a", GOOD), ("poison", GOOD.replace("good text", "POISON text")), ("b", GOOD.replace("good", "fine"))]:
        (tmp_path / f"{name}.html").write_text(text)
        paths.append(str(tmp_path / f"{name}.html"))
    clean = runner.invoke(app, [command, paths[0], paths[2], "--model", str(tiny_model_path), "--jobs", "1"])
    real = WinnowModel.label_blocks

    def fail_on_poison(model, blocks):
        if blocks["text"].str.contains("POISON").any():
            raise ValueError("poisoned")
        return real(model, blocks)

    monkeypatch.setattr(WinnowModel, "label_blocks", fail_on_poison)
    result = runner.invoke(app, [command, *paths, "--model", str(tiny_model_path), "--jobs", "1"])
    assert result.exit_code == 1
    assert result.stdout == clean.stdout and clean.stdout
    assert f"{paths[1]}: ValueError: poisoned" in result.stderr


def test_duplicate_page_under_another_name_is_named(tmp_path):
    import pandas as pd

    from winnow.train.fit import TrainingError, check_test_overlap

    def table(names_and_texts):
        rows = [{"page": name, "text": text} for name, texts in names_and_texts for text in texts]
        blocks = pd.DataFrame(rows)
        return blocks, pd.DataFrame({"page": [name for name, _ in names_and_texts]})

    train = table([("a", ["one", "two"]), ("b", ["three"])])
    messages = []
    check_test_overlap(*train, *table([("copy-of-a", ["one", "two"]), ("c", ["four"])]), log=messages.append)
    assert len(messages) == 1 and "copy-of-a = a" in messages[0]
    with pytest.raises(TrainingError, match="also in the training data"):
        check_test_overlap(*train, *table([("b", ["other"])]), log=messages.append)


def test_max_blocks_option(tmp_path, tiny_model_path):
    page = tmp_path / "long.html"
    page.write_text("<html><body>" + "".join(f"<p>paragraph {i}</p>" for i in range(50)) + "</body></html>")
    result = runner.invoke(app, ["predict", str(page), "--model", str(tiny_model_path), "--max-blocks", "7"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["text"] for line in result.stdout.splitlines()] == [f"paragraph {i}" for i in range(7)]
    # What was dropped is said, not silent; a page under the limit is not named.
    short = tmp_path / "short.html"
    short.write_text("<html><body><p>one paragraph</p><p>and another</p></body></html>")
    result = runner.invoke(app, ["predict", str(page), str(short), "--model", str(tiny_model_path), "--max-blocks", "7",
                                 "-q"])
    assert result.exit_code == 0
    assert f"cut: {page}: kept its first 7 blocks (--max-blocks)" in result.stderr
    assert str(short) not in result.stderr
