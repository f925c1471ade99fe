"""Reading pages: decoding, kind detection, gzip, size limits, binary data, directory expansion."""

from __future__ import annotations

import codecs
import gzip
from pathlib import Path

import pytest

from winnow.pages import Page, PageError, as_page, decode, detect_kind, iter_page_paths, page_from_bytes, read_page

# ---------------------------------------------------------------- decode


def test_decode_utf8_bom_is_removed():
    assert decode(codecs.BOM_UTF8 + "café déjà vu".encode("utf-8")) == "café déjà vu"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_decode_utf16_with_bom(encoding):
    text = "<p>naïve café – ünïcode</p>"
    data = text.encode(encoding)
    if encoding != "utf-16":  # plain "utf-16" writes its own BOM; the explicit-endian codecs do not
        data = (codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE) + data
    assert decode(data) == text


def test_decode_meta_charset_windows_1252():
    data = b'<html><head><meta charset="windows-1252"></head><body><p>caf\xe9 \x93quoted\x94</p></body></html>'
    text = decode(data)
    assert "café" in text
    assert "\u201cquoted\u201d" in text


def test_decode_iso_8859_1_label_is_read_as_cp1252():
    # Pages that say iso-8859-1 usually mean windows-1252: 0x93/0x94 are curly quotes there, C1 controls in latin-1.
    data = (b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"></head>'
            b"<body><p>caf\xe9 \x93hi\x94</p></body></html>")
    text = decode(data)
    assert "café" in text
    assert "\u201chi\u201d" in text


def test_decode_declared_encoding_wins():
    assert decode(b"caf\xe9", declared="latin-1") == "café"


def test_decode_gb2312_meta_gives_chinese():
    markup = '<html><head><meta charset="gb2312"></head><body><p>中文网页的正文内容</p></body></html>'
    assert "中文网页的正文内容" in decode(markup.encode("gb2312"))


def test_decode_gb2312_page_with_a_stray_bad_byte_keeps_its_charset():
    # Seen in the wild (chinese-wce): a byte pair gb18030 cannot read; detection then took the page for
    # Cyrillic or cp1252. A browser decodes by the declaration and shows one replacement character.
    body = "中文网页的正文内容，" * 20
    data = ('<meta charset="gb2312"><p>' + body).encode("gb18030") + b"\xff\xff" + "结尾</p>".encode("gb18030")
    text = decode(data)
    assert body in text and "结尾" in text
    assert text.count("\ufffd") <= 2


def test_decode_wrong_gb2312_declaration_falls_back():
    # cp1252 bytes that gb18030 fails on at every accented letter: the declaration is wrong, not the page.
    text = decode(('<meta charset="gb2312"><p>' + "un café, une crème " * 20 + "</p>").encode("cp1252"))
    assert "un café, une crème" in text


def test_decode_utf8_page_declaring_latin1_is_read_as_utf8():
    # An old "iso-8859-1" declaration on a page saved as UTF-8 (dragnet/R441): "’" must not become "â€™".
    markup = '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"><p>don’t – café</p>'
    assert "don’t – café" in decode(markup.encode("utf-8"))
    assert decode("don’t".encode("utf-8"), declared="latin-1") == "don’t"  # a server's header says the same


def test_decode_utf16_declaration_is_kept_for_bytes_that_also_read_as_utf8():
    # U+80C3 is b"\xc3\x80" in UTF-16-LE: valid UTF-8 for "À", but the page says UTF-16.
    assert decode("\u80c3\u80c3".encode("utf-16-le"), declared="utf-16-le") == "\u80c3\u80c3"


def test_decode_xml_declaration_encoding():
    data = b'<?xml version="1.0" encoding="ISO-8859-1"?><html><body><p>gar\xe7on</p></body></html>'
    assert "garçon" in decode(data)


def test_decode_plain_utf8_without_declaration():
    assert decode("Ærøskøbing – 東京".encode("utf-8")) == "Ærøskøbing – 東京"


@pytest.mark.parametrize("data", [
    b"<p>na\xefve caf\xe9 \x81\x8d\x8f\x90\x9d end</p>",  # invalid UTF-8, bytes undefined even in cp1252
    b'<meta charset="utf-8"><p>caf\xe9 lies about its charset</p>',  # the declaration is wrong
    b'<meta charset="x-no-such-charset"><p>caf\xe9</p>',  # unknown charset name
    b"\xff" * 50,
])
def test_decode_invalid_utf8_falls_back_without_raising(data):
    text = decode(data)
    assert isinstance(text, str)
    assert len(text) > 0


def test_decode_wrong_utf8_declaration_still_recovers_latin_letters():
    text = decode(b'<meta charset="utf-8"><p>caf\xe9 lies about its charset</p>')
    assert "lies about its charset" in text
    assert "caf" in text


# ---------------------------------------------------------------- detect_kind


@pytest.mark.parametrize("text", [
    "<!DOCTYPE html><html><body>x</body></html>",
    "  <html><body><p>hello</p></body></html>",
    "<div>fragment</div>",
    "<P>Upper case paragraph",
])
def test_detect_kind_html(text):
    assert detect_kind(text) == "html"


@pytest.mark.parametrize("text", [
    "Just some text.\nAnother line of text.",
    "if a < b and c > d then print(b)",
    "",
    "x" * 6000 + "<html><body>markup after the first 5000 characters</body></html>",
])
def test_detect_kind_text(text):
    assert detect_kind(text) == "text"


# ---------------------------------------------------------------- read_page


def test_read_page_html_file(tmp_path):
    path = tmp_path / "a.html"
    path.write_bytes("<html><body><p>Grüße</p></body></html>".encode("utf-8"))
    page = read_page(path)
    assert page == Page(str(path), "<html><body><p>Grüße</p></body></html>", "html")


def test_read_page_gzip(tmp_path):
    path = tmp_path / "page.html.gz"
    markup = "<html><body><p>compressed page, café</p></body></html>"
    with gzip.open(path, "wb") as handle:
        handle.write(markup.encode("utf-8"))
    page = read_page(path)
    assert page.text == markup
    assert page.kind == "html"
    assert page.id == str(path)


def test_read_page_txt_suffix_means_text_even_with_markup(tmp_path):
    path = tmp_path / "notes.txt.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(b"<div>looks like markup</div>\nsecond line")
    assert read_page(path).kind == "text"
    assert read_page(path, input_format="html").kind == "html"


def test_read_page_size_limit(tmp_path):
    path = tmp_path / "big.html"
    path.write_bytes(b"<p>" + b"x" * 97)  # 100 bytes
    assert len(read_page(path, max_bytes=100).text) == 100  # at the limit: fine
    with pytest.raises(PageError) as caught:
        read_page(path, max_bytes=99)
    assert str(path) in str(caught.value)
    assert "limit" in str(caught.value)


def test_read_page_size_limit_counts_decompressed_bytes(tmp_path):
    path = tmp_path / "bomb.html.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(b"<p>" + b"a" * 10_000 + b"</p>")
    assert path.stat().st_size < 1000
    with pytest.raises(PageError, match="big|limit"):
        read_page(path, max_bytes=5_000)


def test_read_page_binary_data(tmp_path):
    path = tmp_path / "image.html"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)))
    with pytest.raises(PageError) as caught:
        read_page(path)
    assert str(path) in str(caught.value)
    assert "binary" in str(caught.value)


def test_read_page_missing_file(tmp_path):
    path = tmp_path / "missing.html"
    with pytest.raises(PageError, match="missing.html"):
        read_page(path)


def test_read_page_bad_gzip(tmp_path):
    path = tmp_path / "fake.html.gz"
    path.write_bytes(b"<html>not gzip at all</html>")
    with pytest.raises(PageError, match="fake.html.gz"):
        read_page(path)


def test_read_page_utf16_is_not_taken_for_binary(tmp_path):
    path = tmp_path / "wide.html"
    path.write_bytes("<html><body><p>wide text</p></body></html>".encode("utf-16"))
    page = read_page(path)
    assert "wide text" in page.text
    assert page.kind == "html"


@pytest.mark.parametrize("nuls", [1, 3, 10])
def test_a_page_with_stray_nul_bytes_is_read_not_refused(nuls):
    # Crawled pages now and then hold a NUL (a browser shows U+FFFD): the page is text, not a file of another kind.
    article = "<html><body><p>An article paragraph" + "\x00" * nuls + " with its words.</p></body></html>"
    page = page_from_bytes(article.encode(), "stray.html")
    assert page.kind == "html"
    assert "An article paragraph" in page.text and "with its words." in page.text


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-32-be"])
def test_a_wide_encoding_with_its_byte_order_mark_is_not_binary(encoding):
    data = ("\ufeff" if encoding == "utf-32-be" else "") + "<html><body><p>wide text</p></body></html>"
    assert "wide text" in page_from_bytes(data.encode(encoding), "wide.html").text


def test_a_nul_among_many_control_bytes_is_binary():
    with pytest.raises(PageError, match="data.bin: binary data"):
        page_from_bytes(b"<p>" + b"\x01" * 10 + b"\x00</p>", "data.bin")


def test_page_from_bytes_unknown_format():
    with pytest.raises(PageError, match="unknown input format"):
        page_from_bytes(b"<p>x</p>", "p1", "pdf")


def test_as_page_accepts_str_bytes_path_and_page(tmp_path):
    assert as_page("<p>hello</p>") == Page("<string>", "<p>hello</p>", "html")
    assert as_page("plain words") == Page("<string>", "plain words", "text")
    assert as_page("<p>hello</p>", input_format="text").kind == "text"
    assert as_page(b"caf\xc3\xa9 text").text == "café text"
    path = tmp_path / "x.htm"
    path.write_text("<p>from file</p>", encoding="utf-8")
    assert as_page(path) == Page(str(path), "<p>from file</p>", "html")
    page = Page("id", "t", "text")
    assert as_page(page) is page


# ---------------------------------------------------------------- iter_page_paths


def test_iter_page_paths_recursive_sorted_and_filtered(tmp_path):
    root = tmp_path / "site"
    files = ["b.html", "a.htm", "sub/c.txt", "sub/deeper/d.html.gz", "sub/e.xhtml", "sub/deeper/F.HTML",
             "z.txt.gz", "skip.png", "skip.json", "sub/skip.html.bak", "sub/deeper/skip.gz"]
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x")
    (root / "dir.html").mkdir()  # a directory with a page suffix is not a page
    expected = sorted(str(root / name) for name in files if not name.split("/")[-1].startswith("skip"))
    assert iter_page_paths([str(root)]) == expected
    assert len(expected) == 7


def test_an_empty_path_is_kept_to_fail_not_read_as_the_current_directory(tmp_path, monkeypatch):
    (tmp_path / "page.html").write_text("<p>x</p>")
    monkeypatch.chdir(tmp_path)
    assert iter_page_paths([""]) == [""]  # Path("") is "."; the batch reports it as a failure
    with pytest.raises(PageError):
        read_page("")


def test_iter_page_paths_keeps_input_order_files_and_stdin(tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "b.html").write_text("x")
    (folder / "a.html").write_text("x")
    single = tmp_path / "zzz.data"  # named explicitly: taken whatever its suffix
    single.write_text("x")
    missing = str(tmp_path / "missing.html")  # passed through, so that reading it reports the error
    assert iter_page_paths([str(single), str(folder), "-", missing]) == [
        str(single), str(folder / "a.html"), str(folder / "b.html"), "-", missing]


def test_iter_page_paths_empty_dir(tmp_path):
    assert iter_page_paths([str(tmp_path)]) == []


def test_read_page_id_is_the_path_given(tmp_path):
    path = Path(tmp_path) / "x.html"
    path.write_text("<p>x</p>")
    assert read_page(str(path)).id == str(path)
