"""Dataset loaders: the public sets (first pages only) and the native labeled format."""

from __future__ import annotations

import itertools

import pytest

from winnow.pages import detect_kind
from winnow.train.corpus import label_page, load_corpus
from winnow.train.datasets import DatasetError, iter_dataset, read_text_file, split_dragnet_gold, unpacked

PUBLIC_SPECS = ["dragnet:train", "dragnet:test", "wcxb-dev", "cleaneval", "cleanportaleval", "chinese-wce"]


# ---------------------------------------------------------------- dragnet gold separator (no data needed)


@pytest.mark.parametrize("separator", [
    "!@#$%^&*()  COMMENTS",
    "!@ $%^&*()  COMMENTS",  # malformed: a space instead of '#'
    "!@#$%^&**()  COMMENTS",  # malformed: doubled '*'
    "!@#$%^&*()\tCOMMENTS",  # a tab before COMMENTS
    "!@#$%^&*()  COMMENTS  ",  # trailing spaces
])
def test_split_dragnet_gold(separator):
    gold = f"Headline\nArticle text here.\n{separator}\nFirst comment.\nSecond comment.\n"
    article, comments = split_dragnet_gold(gold)
    assert article.strip() == "Headline\nArticle text here."
    assert comments.strip() == "First comment.\nSecond comment."


def test_split_dragnet_gold_crlf():
    article, comments = split_dragnet_gold("Article.\r\n!@#$%^&*()  COMMENTS\r\nA comment.\r\n")
    assert article.strip() == "Article."
    assert comments.strip() == "A comment."


def test_split_dragnet_gold_without_separator():
    gold = "Article only.\nThe word COMMENTS inside a sentence is no separator: COMMENTS\n"
    assert split_dragnet_gold(gold) == (gold, "")


def test_split_dragnet_gold_separator_at_end():
    article, comments = split_dragnet_gold("Article.\n!@#$%^&*()  COMMENTS\n")
    assert article.strip() == "Article."
    assert comments.strip() == ""


# ---------------------------------------------------------------- public datasets


@pytest.mark.parametrize("spec", PUBLIC_SPECS)
def test_public_dataset_first_pages(spec, shared_datasets):
    golds = list(itertools.islice(iter_dataset(spec, shared_datasets), 3))
    assert len(golds) == 3
    assert len({g.page.id for g in golds}) == 3
    for gold in golds:
        assert gold.page.kind == "html"
        assert detect_kind(gold.page.text) == "html"
        assert gold.gold_content.strip()
        assert not gold.native
        assert gold.dataset == spec.partition(":")[0]
        assert gold.group
        blocks, report = label_page(gold)
        assert report["content_coverage"] > 0.8, (gold.page.id, report["content_coverage"])
        labels = set(blocks["label"])
        assert "content" in labels and "chrome" in labels, (gold.page.id, labels)
        assert labels <= {"content", "comment", "chrome"}
        if spec.startswith("dragnet"):
            assert gold.page.id.startswith("dragnet/")
        else:
            assert "comment" not in labels  # only dragnet labels comments
        assert report["blocks"] == len(blocks)
        assert (blocks["dataset"] == gold.dataset).all()


def test_dragnet_page_with_comments(shared_datasets):
    for gold in itertools.islice(iter_dataset("dragnet:test", shared_datasets), 40):
        if gold.gold_comments.strip():
            break
    else:
        pytest.fail("no page with comments among the first 40 dragnet:test pages")
    assert "COMMENTS" not in gold.gold_content[-200:]
    blocks, report = label_page(gold)
    assert (blocks["label"] == "comment").sum() > 0
    assert report["comment_coverage"] > 0.8
    assert report["content_coverage"] > 0.8


def test_dragnet_malformed_separators_in_the_data(shared_datasets):
    # DATASET.md: these gold files have a typo in the separator line (R912: a tab before COMMENTS)
    root = unpacked("dragnet", shared_datasets)
    for page_id in ("271", "369", "419", "437", "503", "R316", "R928", "T126", "T50", "T71", "R912"):
        text = read_text_file(root / "Corrected" / f"{page_id}.html.corrected.txt")
        article, comments = split_dragnet_gold(text)
        assert article.strip(), page_id
        assert comments.strip(), page_id
        assert not article.rstrip().endswith("COMMENTS"), page_id


def test_dragnet_utf16_gold_is_decoded(shared_datasets):
    # DATASET.md: gold file 158 is UTF-16LE with BOM and has comments
    root = unpacked("dragnet", shared_datasets)
    text = read_text_file(root / "Corrected" / "158.html.corrected.txt")
    assert "\x00" not in text and "\ufeff" not in text
    assert split_dragnet_gold(text)[1].strip()


def test_dragnet_official_split(shared_datasets):
    root = unpacked("dragnet", shared_datasets)
    train_ids = (root / "training.txt").read_text().split()
    test_ids = (root / "test.txt").read_text().split()
    assert len(train_ids) == 966 == len(set(train_ids))
    assert len(test_ids) == 415 == len(set(test_ids))
    assert not set(train_ids) & set(test_ids)
    first_test = next(iter_dataset("dragnet:test", shared_datasets))
    assert first_test.page.id == f"dragnet/{test_ids[0]}"


def test_cleaneval_wrapper_is_stripped(shared_datasets):
    for gold in itertools.islice(iter_dataset("cleaneval", shared_datasets), 5):
        assert not gold.page.text.lstrip().lower().startswith("<text")
        assert "<text id=" not in gold.page.text[:500]
        assert "." in gold.group  # the group is the site from the wrapper's URL
        assert not gold.gold_content.lstrip().startswith("URL:")
        assert "<p>" not in gold.gold_content and "<h>" not in gold.gold_content


def test_chinese_wce_pages_are_read_in_their_charset(shared_datasets):
    # DATASET.md: 45 pages are GBK; two state it only in CleanEval's wrapper line or hold bytes gb18030
    # cannot read. Every page must come out as Chinese text, and its gold must align.
    golds = list(iter_dataset("chinese-wce", shared_datasets))
    assert len(golds) == 69
    for gold in golds:
        text = gold.page.text
        cjk = sum("\u4e00" <= char <= "\u9fff" for char in text)
        assert cjk > 200, (gold.page.id, cjk)
        assert text.count("\ufffd") < 20, gold.page.id
        assert "<text id=" not in text[:500], gold.page.id


def test_dragnet_unknown_split(shared_datasets):
    with pytest.raises(DatasetError, match="unknown split"):
        next(iter_dataset("dragnet:validation", shared_datasets))


def test_split_only_for_dragnet(shared_datasets):
    with pytest.raises(DatasetError, match="only dragnet"):
        next(iter_dataset("cleanportaleval:test", shared_datasets))


# ---------------------------------------------------------------- errors and the native format


def test_unknown_dataset_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatasetError, match="no-such-dataset"):
        next(iter_dataset("no-such-dataset"))


def test_missing_archive(tmp_path, monkeypatch):
    monkeypatch.setenv("WINNOW_CACHE", str(tmp_path / "cache"))
    with pytest.raises(DatasetError, match="archive not found"):
        next(iter_dataset("cleanportaleval", tmp_path / "empty"))


NATIVE_HTML = """<html><head><title>Native</title></head><body>
<ul><li><a href="/">Home</a></li></ul>
<div data-label="content"><h1>A native headline</h1><p>Native article paragraph.</p></div>
<div data-label="comment"><p>A native comment.</p></div>
<div data-label="chrome"><p>Explicit chrome.</p></div>
<p>Unlabeled footer.</p>
</body></html>"""

NATIVE_TEXT = "chrome\tSite menu\ncontent\tA text headline\ncontent\tA text paragraph.\ncomment\tA text comment.\nAn unlabeled line\n"


def test_native_format(tmp_path):
    (tmp_path / "one.html").write_text(NATIVE_HTML, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "two.txt").write_text(NATIVE_TEXT, encoding="utf-8")
    (tmp_path / "notes.md").write_text("not a page")
    golds = list(iter_dataset(str(tmp_path)))
    assert [g.page.id for g in golds] == [str(tmp_path / "one.html"), str(tmp_path / "sub" / "two.txt")]
    assert all(g.native and g.dataset == "native" for g in golds)

    html_blocks, html_report = label_page(golds[0])
    assert html_blocks[["text", "label"]].values.tolist() == [
        ["Home", "chrome"], ["A native headline", "content"], ["Native article paragraph.", "content"],
        ["A native comment.", "comment"], ["Explicit chrome.", "chrome"], ["Unlabeled footer.", "chrome"]]
    assert html_report["native"] is True

    text_blocks, _ = label_page(golds[1])
    assert golds[1].page.kind == "text"
    assert text_blocks[["text", "label"]].values.tolist() == [
        ["Site menu", "chrome"], ["A text headline", "content"], ["A text paragraph.", "content"],
        ["A text comment.", "comment"], ["An unlabeled line", "chrome"]]


def test_native_single_file(tmp_path):
    path = tmp_path / "one.html"
    path.write_text(NATIVE_HTML, encoding="utf-8")
    golds = list(iter_dataset(str(path)))
    assert [g.page.id for g in golds] == [str(path)]


def test_native_unknown_label(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><div data-label="article"><p>Text.</p></div></body></html>', encoding="utf-8")
    gold = next(iter_dataset(str(tmp_path)))
    with pytest.raises(ValueError) as caught:
        label_page(gold)
    assert str(bad) in str(caught.value)
    assert "article" in str(caught.value)


def test_native_empty_folder(tmp_path):
    with pytest.raises(DatasetError, match="no pages"):
        next(iter_dataset(str(tmp_path)))


def test_label_cache_written_by_other_labeling_code_is_not_read(tmp_path, monkeypatch):
    # A public set's labeled tables are cached under a hash of the labeling code: after an edit (here a
    # pretended one), the pages are labeled again and the old cache file goes.
    import pandas as pd

    from winnow.train import corpus

    monkeypatch.setenv("WINNOW_CACHE", str(tmp_path))
    monkeypatch.setattr(corpus, "iter_dataset", lambda base, datasets_dir: [])
    labelings = []

    def label_all(golds, jobs, rendering):
        labelings.append(len(labelings))
        return pd.DataFrame({"run": [len(labelings)]}), pd.DataFrame()

    monkeypatch.setattr(corpus, "_label_all", label_all)
    first = corpus.load_dataset("cleaneval")
    assert corpus.load_dataset("cleaneval")[0].equals(first[0]) and len(labelings) == 1  # read from the cache
    monkeypatch.setattr(corpus, "labeling_fingerprint", lambda: "edited")
    assert corpus.load_dataset("cleaneval")[0]["run"].tolist() == [2]
    assert [p.name for p in (tmp_path / "corpus").iterdir()] == [f"cleaneval-v{corpus.CORPUS_VERSION}-edited.joblib"]


def test_labeling_fingerprint_follows_the_labeling_code(tmp_path, monkeypatch):
    from winnow.train import corpus

    assert {"winnow.segment", "winnow.tokens"} <= set(corpus.LABELING_MODULES)
    module = tmp_path / "pretend_segment.py"
    module.write_text("RULE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(corpus, "LABELING_MODULES", ("pretend_segment",))
    before = corpus.labeling_fingerprint()
    module.write_text("RULE = 2\n")
    assert corpus.labeling_fingerprint() != before


def test_labeling_fingerprint_follows_the_compiled_walk_where_it_is_built(tmp_path, monkeypatch):
    from winnow.train import corpus

    assert "winnow._walk" in corpus.COMPILED_LABELING_MODULES
    (tmp_path / "pretend_walk.py").write_text("STEP = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(corpus, "LABELING_MODULES", ())
    monkeypatch.setattr(corpus, "COMPILED_LABELING_MODULES", ("pretend_walk", "not_built_walk"))
    before = corpus.labeling_fingerprint()  # a compiled module that is not built is left out
    (tmp_path / "pretend_walk.py").write_text("STEP = 2\n")
    assert corpus.labeling_fingerprint() != before


def test_a_set_with_its_own_rendering_is_refused(native_dir):
    # The @text rendering keeps the page ids: scored together, each page's text would count twice.
    html, _ = load_corpus([str(native_dir)])
    text, _ = load_corpus([f"{native_dir}@text"])
    assert len(html) and len(text)
    with pytest.raises(DatasetError, match="pages come twice"):
        load_corpus([str(native_dir), f"{native_dir}@text"])
