"""Block features: shape, dtype and hand-checked values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from winnow.features import WORD_CHARS, BlockFeatures, text_features
from winnow.pages import Page
from winnow.segment import segment

FIRST_PAGE = """<html><body>
<p>one two three</p>
<p><a href="/story">Read the whole story</a></p>
<p>Posted 3 hours ago by someone</p>
<p>Last seen 5 minutes ago, 2 days ago and yesterday.</p>
<p>the cat and the dog</p>
</body></html>"""


def _other_page(n: int) -> str:
    rare = '<div class="rare"><p>Rare block text.</p></div>' if n < 2 else ""
    return (f"<html><body><div class='sidebar'><p>Side note number {n}.</p></div>"
            f"<div class='wrapper'><div><p>Wrapped text {n} with a few more words in it.</p></div></div>"
            f"{rare}<p>Plain paragraph {n}.</p></body></html>")


@pytest.fixture(scope="module")
def blocks() -> pd.DataFrame:
    tables = [segment(Page("first", FIRST_PAGE, "html"))]
    tables += [segment(Page(f"other{n}", _other_page(n), "html")) for n in range(6)]
    return pd.concat(tables, ignore_index=True)


def _labels(blocks: pd.DataFrame) -> np.ndarray:
    """Blocks in a sidebar are chrome, the rest content."""
    in_sidebar = blocks["classid"].str.split().apply(lambda tokens: "sidebar" in tokens)
    return np.where(in_sidebar, "chrome", "content")


@pytest.fixture(scope="module")
def fitted(blocks) -> BlockFeatures:
    return BlockFeatures().fit(blocks, _labels(blocks))


@pytest.fixture(scope="module")
def matrix(fitted, blocks) -> pd.DataFrame:
    values = fitted.transform(blocks)
    return pd.DataFrame(values, columns=fitted.get_feature_names_out())


def test_shape_dtype_no_nan(fitted, blocks):
    values = fitted.transform(blocks)
    names = fitted.get_feature_names_out()
    assert values.shape == (len(blocks), len(names))
    assert values.dtype == np.float32
    assert not np.isnan(values).any()
    assert len(set(names)) == len(names)


def test_first_page_blocks(blocks):
    # the values below are computed by hand from these texts
    assert blocks["text"].head(5).tolist() == [
        "one two three", "Read the whole story", "Posted 3 hours ago by someone",
        "Last seen 5 minutes ago, 2 days ago and yesterday.", "the cat and the dog"]


def test_word_counts_and_link_density(matrix):
    assert matrix.loc[0, "words"] == 3
    assert matrix.loc[0, "chars"] == len("one two three")
    assert matrix.loc[1, "words"] == 4
    assert matrix.loc[1, "link_density"] == 1.0
    assert matrix.loc[0, "link_density"] == 0.0


def test_cues(matrix):
    assert matrix.loc[2, "ago"] == 1
    assert matrix.loc[3, "ago"] == 3  # "5 minutes ago", "2 days ago", "yesterday"
    assert matrix.loc[0, "ago"] == 0
    assert matrix.loc[3, "ends_punct"] == 1
    assert matrix.loc[0, "ends_punct"] == 0


def test_stopword_share(matrix):
    assert matrix.loc[4, "stopwords"] == pytest.approx(3 / 5)  # the, and, the of 5 words
    assert matrix.loc[0, "stopwords"] == pytest.approx(2 / 3)  # "one" and "two" are English stopwords
    assert matrix.loc[2, "stopwords"] == pytest.approx(1 / 6)  # "by" of posted, 3, hours, ago, by, someone


def test_position(matrix):
    assert matrix.loc[0, "position"] == 0
    assert matrix.loc[2, "position"] == pytest.approx(2 / 5)
    assert matrix.loc[0, "page_blocks"] == 5
    assert matrix.loc[5, "position"] == 0  # first block of the next page


def test_context_features(matrix):
    assert matrix.loc[0, "words@-1"] == -1  # no block before
    assert matrix.loc[1, "words@-1"] == 3  # the first block's words
    assert matrix.loc[0, "words@+1"] == 4
    assert matrix.loc[1, "words@-2"] == -1
    assert matrix.loc[2, "words@-2"] == 3
    assert matrix.loc[4, "words@+1"] == -1  # last block of its page: the next page does not leak in
    assert matrix.loc[5, "words@-1"] == -1  # first block of the second page


def test_class_tokens_lend_their_label_evidence(fitted, matrix, blocks):
    sidebar = blocks["classid"].str.split().apply(lambda tokens: "sidebar" in tokens)
    assert sidebar.sum() == 6  # 6 blocks, class of the block's parent: always chrome
    assert (matrix.loc[sidebar, "near_chrome_max"] > 0).all()
    assert (matrix.loc[sidebar, "near_content_min"] < 0).all()
    assert (matrix.loc[~sidebar, "near_chrome_max"] == 0).all()
    assert "rare" not in fitted.near_tokens_.vocabulary_.vocabulary_  # only 2 blocks: below min_df=5
    wrapper = blocks["ancestor_classid"].str.split().apply(lambda tokens: "wrapper" in tokens)
    assert (matrix.loc[wrapper, "far_tokens"] >= 1).all()  # 6 blocks, class of a grandparent


def test_first_words_lend_their_label_evidence(fitted, matrix, blocks):
    side_note = blocks["text"].str.startswith("Side note")
    assert side_note.sum() == 6  # the sidebar blocks: chrome
    assert (matrix.loc[side_note, "words_tokens"] == 3).all()  # side, note, number
    assert (matrix.loc[side_note, "words_chrome_max"] > 0).all()
    assert (matrix.loc[~side_note, "words_chrome_max"] == 0).all()  # their known words were never chrome
    late = "x" * WORD_CHARS + " side note"  # the same words after the first WORD_CHARS characters do not count
    page = segment(Page("late", f"<html><body><p>side note</p><p>{late}</p></body></html>", "html"))
    known = pd.DataFrame(fitted.transform(page), columns=fitted.get_feature_names_out())["words_tokens"]
    assert known.tolist() == [2, 0]


def test_training_blocks_get_cross_fitted_evidence(blocks):
    # fit_transform encodes each page's blocks with what the other pages' blocks taught
    features = BlockFeatures()
    crossed = features.fit_transform(blocks, _labels(blocks))
    names = list(features.get_feature_names_out())
    plain = features.transform(blocks)
    column = names.index("near_chrome_max")
    sidebar = (blocks["classid"].str.split().apply(lambda tokens: "sidebar" in tokens)).to_numpy()
    assert (crossed[sidebar, column] > 0).all()  # other pages' sidebars are chrome too
    assert (crossed[sidebar, column] < plain[sidebar, column]).all()  # without the page's own blocks: weaker
    numeric = [i for i, name in enumerate(names) if not name.startswith(("near_", "far_", "words_"))]
    assert (crossed[:, numeric] == plain[:, numeric]).all()


def test_fitting_needs_labels(blocks):
    with pytest.raises(ValueError, match="labeled blocks"):
        BlockFeatures().fit(blocks.drop(columns=["label"], errors="ignore"))


def test_dom_features(matrix, blocks):
    assert (matrix["tag=p"] == (blocks["tag"] == "p")).all()
    assert (matrix["depth"] == blocks["depth"]).all()
    assert (matrix["text_page"] == 0).all()


def test_pages_are_independent(fitted, blocks):
    """A page's features do not depend on the other pages in the same table."""
    together = fitted.transform(blocks)
    first = blocks[blocks["page"] == "first"]
    alone = fitted.transform(first)
    np.testing.assert_array_equal(together[: len(first)], alone)


def test_index_labels_do_not_matter(fitted, blocks):
    shuffled_index = blocks.set_axis(np.arange(len(blocks))[::-1] * 7 + 3)
    np.testing.assert_array_equal(fitted.transform(shuffled_index), fitted.transform(blocks))


def test_text_only_training_data():
    rows = segment(Page("t", "content\tA line of text.\nchrome\tMenu\n" * 3, "text"))
    features = BlockFeatures().fit(rows, rows["gold"])
    values = features.transform(rows)
    assert values.shape == (6, len(features.get_feature_names_out()))
    assert not np.isnan(values).any()
    assert (pd.DataFrame(values, columns=features.get_feature_names_out())["text_page"] == 1).all()


def test_cjk_text(fitted):
    rows = segment(Page("zh", "<html><body><p>这是一个中文段落。</p></body></html>", "html"))
    values = pd.DataFrame(fitted.transform(rows), columns=fitted.get_feature_names_out())
    assert values.loc[0, "words"] == pytest.approx(1 + 0.65 * 8)  # one run of 8 CJK characters
    assert "cjk" not in values.columns
    assert not values.isna().any().any()


def test_chinese_prose_measures_like_its_english_translation():
    # No training page is Chinese: its prose must land where English prose lies, not where menus do.
    chinese = ("今天，政协第五届委员会第一次会议在市里隆重开幕。我们对大会的召开表示热烈的祝贺。"
               "本次大会是在全市上下团结奋斗的关键时期召开的。")
    english = ("Today the first session of the fifth committee opened in the city with great ceremony. We warmly "
               "congratulate the meeting on its opening. This meeting is held at a key time of united struggle.")
    menu = "首页 市情概况 信息公开 政务服务"
    values = text_features(pd.Series([chinese, english, menu]), pd.Series([0, 0, 0]), pd.Series([0, 0, 0]))
    zh, en, nav = (values.loc[row] for row in range(3))
    assert zh["sentences"] == en["sentences"] == 3
    for name in ("words", "chars", "density", "word_len"):
        assert 0.6 < zh[name] / en[name] < 1.6, (name, zh[name], en[name])
    assert zh["stopwords"] > 0.15 and nav["stopwords"] == 0
    assert zh["punct"] < 0.05  # "，" and "。" per English-width character, as English commas and stops


def test_main_run_is_the_run_of_prose_with_most_words():
    from winnow.features import MAIN_RUN_REACH, main_run_features

    # Page a: prose at 1-2 and 4 (one short line between: the same run, 95 words), then 3 short lines and a
    # second run at 8 and 10 (43 words: a comment thread). Page b has no long line.
    page = pd.Series(["a"] * 12 + ["b"] * 3)
    words = pd.Series([3, 25, 30, 2, 40, 3, 1, 2, 22, 2, 21, 5, 1, 2, 3])
    got = main_run_features(page, words)
    assert got["inside_main_run"].tolist() == [0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    assert got["after_main_run"].tolist()[:12] == [0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7]
    assert got["before_main_run"].tolist()[:2] == [1, 0]
    assert got.loc[12:, ["after_main_run", "before_main_run"]].eq(-1).all().all()  # no run: neither
    far = main_run_features(pd.Series(["c"] * 80), pd.Series([30] + [1] * 79))
    assert far["after_main_run"].max() == MAIN_RUN_REACH


def test_main_run_gap_of_more_short_lines_starts_another_run():
    from winnow.features import MAIN_RUN_GAP, main_run_features

    words = pd.Series([30] + [1] * (MAIN_RUN_GAP + 1) + [50])  # the later run holds more words
    got = main_run_features(pd.Series(["a"] * len(words)), words)
    assert got["inside_main_run"].tolist() == [0] * (MAIN_RUN_GAP + 2) + [1]
    assert got["before_main_run"].iloc[0] == MAIN_RUN_GAP + 2
