"""Class/id token evidence against hand-computed ratios, and its cross-fitting."""

from __future__ import annotations

import math
from unittest.mock import patch

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import winnow.token_evidence
from winnow.token_evidence import CLASS_TOKEN, WORD, TokenEvidence

# 10 blocks: "nav" on 5 (4 chrome, 1 content), "story" on 5 (all content). Overall shares: chrome 0.4, content 0.6.
TOKENS = pd.Series(["nav"] * 5 + ["story"] * 5)
LABELS = np.array(["chrome"] * 4 + ["content"] * 6)


def test_ratios_by_hand():
    evidence = TokenEvidence(smoothing=5).fit(TOKENS, LABELS)
    assert list(evidence.names("near")) == ["near_tokens", "near_chrome_mean", "near_chrome_max", "near_chrome_min",
                                            "near_content_mean", "near_content_max", "near_content_min"]
    # smoothed shares: nav chrome (4 + 5*0.4) / (5 + 5) = 0.6, content (1 + 3) / 10 = 0.4;
    #                  story chrome (0 + 2) / 10 = 0.2, content (5 + 3) / 10 = 0.8
    nav_chrome, nav_content = math.log(0.6 / 0.4), math.log(0.4 / 0.6)
    story_chrome, story_content = math.log(0.2 / 0.4), math.log(0.8 / 0.6)
    values = evidence.transform(pd.Series(["nav story", "story", "unknown words", ""]))
    expected = [
        [2, (nav_chrome + story_chrome) / 2, nav_chrome, story_chrome,
         (nav_content + story_content) / 2, story_content, nav_content],
        [1, story_chrome, 0, story_chrome, story_content, story_content, 0],  # max/min count "no evidence" as 0
        [0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0],
    ]
    np.testing.assert_allclose(values, expected, rtol=1e-6, atol=1e-7)


def test_cross_fitting_hides_a_page_from_its_own_evidence():
    # "solo" appears on one page only: out of fold it is unknown, so its blocks get no evidence from it
    tokens = pd.Series(["solo"] * 5 + ["nav"] * 10)
    labels = np.array(["chrome"] * 5 + ["chrome"] * 5 + ["content"] * 5)
    pages = pd.Series(["a"] * 5 + ["b"] * 5 + ["c"] * 5)
    evidence = TokenEvidence(smoothing=1)
    crossed = evidence.fit_transform(tokens, labels, pages)
    plain = evidence.transform(tokens)
    chrome_max = evidence.names("x").index("x_chrome_max")
    assert (plain[:5, chrome_max] > 0).all()  # with every page: solo is always chrome
    assert (crossed[:5, chrome_max] == 0).all()  # without page a: solo was never seen
    assert (crossed[5:, 0] == 1).all()  # nav is known from the other pages


def test_one_page_is_encoded_with_its_own_tables():
    evidence = TokenEvidence()
    crossed = evidence.fit_transform(TOKENS, LABELS, pd.Series(["only"] * 10))
    np.testing.assert_array_equal(crossed, evidence.transform(TOKENS))


def test_no_frequent_token_gives_zero_evidence():
    evidence = TokenEvidence().fit(pd.Series(["", "a", "rare"]), np.array(["content", "chrome", "content"]))
    assert (evidence.transform(pd.Series(["rare", ""])) == 0).all()


@pytest.mark.parametrize("smoothing", [0.5, 5, 50])
def test_more_smoothing_pulls_ratios_toward_zero(smoothing):
    weak = TokenEvidence(smoothing=smoothing * 10).fit(TOKENS, LABELS).ratios_
    strong = TokenEvidence(smoothing=smoothing).fit(TOKENS, LABELS).ratios_
    assert (np.abs(weak) < np.abs(strong)).all()


@pytest.mark.parametrize("max_tokens", [3, 8, 1000])
def test_vocabulary_is_what_count_vectorizer_learns_from_every_block(max_tokens):
    # Counted over distinct strings weighted by their blocks: the same tokens as counting block by block,
    # ties at the cut included (twelve tokens on 6 blocks each, one on 20, one on 4: below min_df).
    from sklearn.feature_extraction.text import CountVectorizer

    tied = [f"t{chr(97 + i)}" for i in range(12)]
    tokens = pd.Series([f"{a} {b}" for a, b in zip(tied * 3, (tied[1:] + tied[:1]) * 3)] + ["top"] * 20 + ["rare"] * 4)
    labels = np.array(["chrome", "content"] * (len(tokens) // 2))
    learned = TokenEvidence(max_tokens).fit(tokens, labels).vocabulary_.vocabulary_
    plain = CountVectorizer(binary=True, min_df=5, max_features=max_tokens, token_pattern=r"[a-z]{2,}").fit(tokens)
    assert learned == plain.vocabulary_


# Fitted once: tokens on 5+ blocks each, in several scripts and cases.
_VOCABULARY_BLOCKS = pd.Series(["ab cd", "Üb straße", "reply share", "ab ÉÉ"] * 5)
_EVIDENCE = [TokenEvidence(token_pattern=pattern).fit(_VOCABULARY_BLOCKS, np.array(["chrome", "content"] * 10))
             for pattern in (WORD, CLASS_TOKEN)]


_PIECES = ["ab", "AB", "Üb", "üB", "cd", "straße", "STRAßE", "Reply", "share", "ÉÉ", "éé", "x_y", "a1b", "q", " ", "\n", "-"]


@settings(max_examples=300, deadline=None)
@example([["ab", " ", "AB", "-", "ab"], ["Üb", "\n", "üB"], [], ["x_y", "\n", "a1b"]])
@given(st.lists(st.lists(st.sampled_from(_PIECES), max_size=8), max_size=6))
def test_known_tokens_are_what_countvectorizer_finds(pieces):
    """The token finders (compiled, and one regex scan) must give the fitted CountVectorizer's matrix: cases,
    scripts, line breaks."""
    strings = np.array(["".join(string) for string in pieces], dtype=object)
    for evidence in _EVIDENCE:
        expected = evidence.vocabulary_.transform(strings).toarray()
        assert np.array_equal(evidence._known_tokens(strings).toarray(), expected)
        with patch.object(winnow.token_evidence, "_compiled", None):
            assert np.array_equal(evidence._known_tokens(strings).toarray(), expected)


def test_compiled_token_finder_is_used_for_runs_of_one_class():
    pytest.importorskip("winnow._textstats", reason="winnow._textstats is not built")
    evidence = _EVIDENCE[0]
    with patch.object(winnow.token_evidence._compiled, "token_columns", side_effect=AssertionError("called")):
        with pytest.raises(AssertionError, match="called"):
            evidence._known_tokens(np.array(["ab cd"], dtype=object))


@settings(max_examples=300, deadline=None)
@example([["ab", " ", "AB", "-", "ab"], ["Üb", "\n", "üB"], [], ["x_y", "\n", "a1b"]])
@example([["ab", " ", "cd", " ", "straße", " ", "Reply", " ", "share", " "] * 30])  # many tokens, each repeated
@given(st.lists(st.lists(st.sampled_from(_PIECES), max_size=12), max_size=6))
def test_compiled_evidence_is_the_matrix_encoding(pieces):
    """The compiled columns (no token matrix) must equal _encode over the token matrix, bit for bit: repeated
    tokens count once, and the ratios are summed in the same order."""
    pytest.importorskip("winnow._textstats", reason="winnow._textstats is not built")
    strings = pd.Series(["".join(string) for string in pieces], dtype=object)
    for evidence in _EVIDENCE:
        expected = evidence._encode(evidence._known_tokens(strings.to_numpy()), evidence.ratios_)
        assert np.array_equal(evidence.transform(strings), expected)
        with patch.object(winnow.token_evidence, "_compiled", None):
            assert np.array_equal(evidence.transform(strings), expected)


def test_mean_evidence_is_summed_in_double():
    """Ratios that cancel: summed in float32 one after another, (1e8 + 1 - 1e8) / 3 would be 0."""
    evidence = TokenEvidence(smoothing=5).fit(TOKENS, LABELS)
    evidence.vocabulary_.vocabulary_ = {"aa": 0, "bb": 1, "cc": 2}
    evidence.ratios_ = np.array([[1e8, 0], [1, 0], [-1e8, 0]], dtype=np.float32)
    strings = pd.Series(["aa bb cc"])
    assert evidence.transform(strings)[0, 1] == pytest.approx(1 / 3)
    with patch.object(winnow.token_evidence, "_compiled", None):
        assert evidence.transform(strings)[0, 1] == pytest.approx(1 / 3)


def test_evidence_pickles_after_use_and_rebuilds_its_lookup_table():
    """The compiled lookup table made on first use is not saved with the model, and is made again after loading."""
    import pickle

    evidence = TokenEvidence(smoothing=5).fit(TOKENS, LABELS)
    strings = pd.Series(["aa bb", "cc", ""])
    before = evidence.transform(strings)
    copy = pickle.loads(pickle.dumps(evidence))
    assert "_table" not in copy.__dict__
    assert np.array_equal(copy.transform(strings), before)
