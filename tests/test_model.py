"""The model: save / load, load errors, predict and extract."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest

import winnow
from winnow.model import (CONTENT_REACH, CONTENT_SURE, CONTENT_SURE_SHARE, MODEL_FORMAT, SCANT_CONTENT_SHARE, SCANT_CONTENT_WORDS, THREAD_FLOOR,
                          PATH_SMOOTH, REG_LAMBDA, REPEAT_WORDS, THREAD_GAP, ModelError,
                          WinnowModel, decode, load_model)
from winnow.pages import Page
from winnow.predict.extract import assemble
from winnow.segment import BLOCK_COLUMNS, LABELS


def _proba(labeled: pd.DataFrame) -> np.ndarray:
    return labeled[[f"proba_{label}" for label in LABELS]].to_numpy()


def test_round_trip_gives_identical_probabilities(tiny_model, tiny_model_path, held_out_html):
    loaded = load_model(tiny_model_path)
    np.testing.assert_array_equal(_proba(loaded.predict(held_out_html)), _proba(tiny_model.predict(held_out_html)))
    assert json.dumps(loaded.card, sort_keys=True) == json.dumps(tiny_model.card, sort_keys=True)
    assert loaded.labels == tiny_model.labels


def test_save_leaves_no_scratch_file(tiny_model, tmp_path):
    path = tiny_model.save(tmp_path / "sub" / "m.joblib")
    assert path.is_file()
    assert [p.name for p in path.parent.iterdir()] == ["m.joblib"]


def test_card(tiny_model):
    card = tiny_model.card
    assert card["labels"] == sorted(LABELS)
    assert card["versions"]["scikit-learn"]
    assert card["features"]["count"] == len(card["features"]["names"])
    assert card["training_data"]["datasets"][0]["dataset"] == "native"
    assert card["training_data"]["datasets"][0]["pages"] == 12
    # The boosting's settings as fitted, the shrinking of its leaves among them.
    assert card["classifier_params"]["n_estimators"] == 20
    assert (card["classifier_params"]["reg_lambda"], card["classifier_params"]["path_smooth"]) == (REG_LAMBDA, PATH_SMOOTH)


def test_load_missing_file(tmp_path):
    path = tmp_path / "nope.joblib"
    with pytest.raises(ModelError) as caught:
        load_model(path)
    assert str(path) in str(caught.value)
    assert "not found" in str(caught.value)


def test_load_garbage_file(tmp_path):
    path = tmp_path / "garbage.joblib"
    path.write_bytes(b"this is not a pickle at all\x00\x01\x02" * 10)
    with pytest.raises(ModelError) as caught:
        load_model(path)
    assert str(path) in str(caught.value)


def test_load_truncated_model(tiny_model_path, tmp_path):
    data = tiny_model_path.read_bytes()
    path = tmp_path / "truncated.joblib"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError) as caught:
        load_model(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("stored", [
    {"some": "dict"},
    ["a", "list"],
    {"format": "winnow-model/0", "card": {}, "pipeline": None},
])
def test_load_other_object(tmp_path, stored):
    path = tmp_path / "other.joblib"
    joblib.dump(stored, path)
    with pytest.raises(ModelError) as caught:
        load_model(path)
    assert str(path) in str(caught.value)
    assert MODEL_FORMAT in str(caught.value)


@pytest.mark.parametrize("library", ["scikit-learn", "lightgbm"])
def test_load_other_library_version(tiny_model, tmp_path, library):
    card = {**tiny_model.card, "versions": {**tiny_model.card["versions"], library: "0.0.1"}}
    path = WinnowModel(tiny_model.pipeline, card).save(tmp_path / "old.joblib")
    with pytest.raises(ModelError) as caught:
        load_model(path)
    message = str(caught.value)
    assert str(path) in message
    assert f"pip install {library}==0.0.1" in message


def test_top_level_load_model(tiny_model_path):
    model = winnow.load_model(tiny_model_path)
    assert isinstance(model, WinnowModel)
    assert winnow.load_model(str(tiny_model_path)) is model  # cached


def test_predict_columns_and_probabilities(tiny_model, held_out_html):
    labeled = tiny_model.predict(held_out_html)
    assert list(labeled.columns) == BLOCK_COLUMNS + ["predicted"] + [f"proba_{label}" for label in tiny_model.labels]
    assert len(labeled) > 5
    proba = _proba(labeled)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert ((proba >= 0) & (proba <= 1)).all()
    assert set(labeled["predicted"]) <= set(LABELS)
    best = np.asarray(tiny_model.labels)[labeled[[f"proba_{label}" for label in tiny_model.labels]].to_numpy().argmax(1)]
    assert (labeled["predicted"] == best).all()


def test_predict_learns_the_hand_made_pages(tiny_model, held_out_html, held_out_labeled_html):
    labeled = tiny_model.predict(held_out_html)
    gold = winnow.segment(Page("gold", held_out_labeled_html, "html"))
    assert labeled["text"].tolist() == gold["text"].tolist()
    expected = gold["gold"].where(gold["gold"] != "", "chrome")
    assert set(expected) == set(LABELS)
    accuracy = (labeled["predicted"] == expected).mean()
    assert accuracy >= 0.9, labeled.assign(expected=expected)[["text", "predicted", "expected"]]


def test_predict_accepts_bytes_path_and_page(tiny_model, held_out_html, tmp_path):
    path = tmp_path / "held.html"
    path.write_text(held_out_html, encoding="utf-8")
    from_str = tiny_model.predict(held_out_html)
    for source in (held_out_html.encode("utf-8"), path, Page("x", held_out_html, "html")):
        other = tiny_model.predict(source)
        assert other["text"].tolist() == from_str["text"].tolist()
        assert other["predicted"].tolist() == from_str["predicted"].tolist()
    assert tiny_model.predict(path)["page"].iat[0] == str(path)


def test_predict_empty_page(tiny_model):
    labeled = tiny_model.predict("")
    assert len(labeled) == 0
    assert "predicted" in labeled.columns
    assert all(f"proba_{label}" in labeled.columns for label in LABELS)


def test_predict_text_page(tiny_model):
    labeled = tiny_model.predict("First line of a plain text page.\nSecond line.\n")
    assert labeled["text"].tolist() == ["First line of a plain text page.", "Second line."]
    np.testing.assert_allclose(_proba(labeled).sum(axis=1), 1.0, rtol=1e-6)


def test_extract(tiny_model, held_out_html):
    page = tiny_model.extract(held_out_html)
    assert set(page) == {"page", "title", "text", "comments"}
    assert page["page"] == "<string>"
    assert page["title"]
    assert page["title"] not in page["text"]  # given once, as the title
    assert "Copyright" not in page["text"]
    assert any("hours ago" in comment or "!" in comment or "." in comment for comment in page["comments"])
    blocks = tiny_model.predict(held_out_html)
    content = blocks[blocks["predicted"] == "content"]["text"].tolist()
    assert page["text"] == "\n\n".join(t for t in content if t != page["title"])


def test_extract_empty_page(tiny_model):
    assert tiny_model.extract("") == {"page": "<string>", "title": "", "text": "", "comments": []}


def _labeled(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["text", "tag", "predicted"])


def test_assemble_headline_matching_title():
    blocks = _labeled([
        ("Home", "li", "chrome"),
        ("Storm closes the harbor", "h1", "content"),
        ("The harbor was closed on Monday after the storm.", "p", "content"),
        ("Second paragraph.", "p", "content"),
        ("Great article!", "p", "comment"),
    ])
    page = assemble("p", blocks, "Storm closes the harbor | Daily News")
    assert page == {"page": "p", "title": "Storm closes the harbor",
                    "text": "The harbor was closed on Monday after the storm.\n\nSecond paragraph.",
                    "comments": ["Great article!"]}


def test_assemble_without_heading_uses_html_title():
    blocks = _labeled([("Just a paragraph of text.", "p", "content"), ("Footer", "p", "chrome")])
    page = assemble("p", blocks, "The HTML title")
    assert page["title"] == "The HTML title"
    assert page["text"] == "Just a paragraph of text."
    assert page["comments"] == []


def test_assemble_leading_content_heading_without_title():
    blocks = _labeled([("A heading", "h2", "content"), ("Body text here.", "p", "content")])
    page = assemble("p", blocks, "")
    assert page["title"] == "A heading"
    assert page["text"] == "Body text here."


def test_assemble_text_page_headline():
    blocks = _labeled([("Storm closes the harbor", "", "content"), ("The harbor was closed on Monday.", "", "content"),
                       ("Menu line", "", "chrome")])
    page = assemble("t", blocks, "")
    assert page["title"] == "Storm closes the harbor"
    assert page["text"] == "The harbor was closed on Monday."


def test_assemble_text_page_sentence_is_no_headline():
    blocks = _labeled([("A sentence that ends with a full stop.", "", "content"), ("More text.", "", "content")])
    page = assemble("t", blocks, "")
    assert page["title"] == ""
    assert page["text"] == "A sentence that ends with a full stop.\n\nMore text."


def test_top_level_predict_and_extract(tiny_model_path, held_out_html, tmp_path):
    # Bug check: winnow/__init__.py defines a function `predict`, but winnow/predict/ is also a subpackage.
    # Importing winnow.predict.extract (which WinnowModel.extract does) binds the subpackage to the attribute
    # `winnow.predict`, so after the first `winnow.extract(...)` the documented `winnow.predict(...)` is a module.
    # Run in a fresh interpreter: in this process other tests have already imported the subpackage.
    page = tmp_path / "page.html"
    page.write_text(held_out_html, encoding="utf-8")
    script = f"""
import pathlib, winnow
model = winnow.load_model({str(tiny_model_path)!r})
html = pathlib.Path({str(page)!r}).read_text(encoding="utf-8")
before = winnow.predict(html, model=model)["predicted"].tolist()
page = winnow.extract(html, model=model)
assert set(page) == {{"page", "title", "text", "comments"}}
after = winnow.predict(html, model=model)["predicted"].tolist()
assert before == after
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


# ---------------------------------------------------------------- the skops format

def test_skops_is_imported_only_for_skops_files(tiny_model_path):
    # Importing skops imports every scikit-learn estimator: a second of start-up for each command and each
    # batch worker, which most runs (a joblib model) never need.
    script = f"""
import sys, winnow.cli, winnow.predict.batch
from winnow.model import load_model
load_model({str(tiny_model_path)!r})
print("skops" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"


def test_skops_round_trip(tiny_model, tmp_path, held_out_html):
    from winnow.model import load_model

    path = tiny_model.save(tmp_path / "m.skops")
    assert path.read_bytes().startswith(b"WINNOW-SKOPS/1 ")
    loaded = load_model(path)
    assert loaded.card == tiny_model.card
    assert np.allclose(loaded.predict(held_out_html).filter(like="proba_").to_numpy(),
                       tiny_model.predict(held_out_html).filter(like="proba_").to_numpy())


def test_skops_damaged_file_is_refused(tiny_model, tmp_path):
    from winnow.model import ModelError, load_model

    path = tiny_model.save(tmp_path / "m.skops")
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="damaged"):
        load_model(path)
    path.write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(ModelError, match="damaged"):
        load_model(path)


class _Sneaky:
    """A type no skops allow-list holds."""


def test_skops_untrusted_types_are_refused(tmp_path):
    import hashlib

    import skops.io as sio

    from winnow.model import ModelError, load_model

    payload = sio.dumps({"format": "winnow-model/1", "pipeline": _Sneaky()})
    path = tmp_path / "evil.skops"
    path.write_bytes(f"WINNOW-SKOPS/1 {hashlib.sha256(payload).hexdigest()}\n".encode() + payload)
    with pytest.raises(ModelError, match="does not trust"):
        load_model(path)


def test_convert_command(tiny_model_path, tmp_path):
    from typer.testing import CliRunner

    from winnow.cli import app
    from winnow.model import load_model

    target = tmp_path / "shared.skops"
    result = CliRunner().invoke(app, ["convert", str(tiny_model_path), str(target)])
    assert result.exit_code == 0, result.output
    assert load_model(target).labels == load_model(tiny_model_path).labels


def test_decode_fills_a_page_with_scant_content_from_its_most_content_like_blocks():
    labels = ["chrome", "comment", "content"]
    long_text = " ".join(["word"] * SCANT_CONTENT_WORDS)
    blocks = pd.DataFrame({"page": ["a", "a", "a", "a", "b", "b"],
                           "text": ["Product name", "Short description here", "Footer", "A reply",
                                    long_text, "Sidebar"]})
    near, far = SCANT_CONTENT_SHARE * 0.45 + 0.01, SCANT_CONTENT_SHARE * 0.45 - 0.01
    proba = np.array([[0.55, 0.0, 0.45],   # a: the page's most content-like block, yet chrome by argmax
                      [1 - near, 0.0, near],   # a: within the share of the best: content too
                      [1 - far, 0.0, far],     # a: below the share: stays chrome
                      [0.10, 0.5, 0.40],   # a: a comment stays a comment
                      [0.10, 0.0, 0.90],   # b: enough content words: argmax everywhere
                      [0.60, 0.0, 0.40]])
    assert decode(blocks, proba, labels).tolist() == ["content", "content", "chrome", "comment", "content", "chrome"]


def test_decode_is_argmax_when_pages_have_content():
    labels = ["chrome", "comment", "content"]
    blocks = pd.DataFrame({"page": [0, 0], "text": [" ".join(["w"] * SCANT_CONTENT_WORDS), "menu"]})
    proba = np.array([[0.2, 0.1, 0.7], [0.5, 0.1, 0.4]])
    assert decode(blocks, proba, labels).tolist() == ["content", "chrome"]


def test_decode_leaves_a_page_without_anything_content_like_alone():
    blocks = pd.DataFrame({"page": ["error", "error"], "text": ["Not found", "Home"]})
    proba = np.array([[0.95, 0.0, 0.05], [0.97, 0.0, 0.03]])  # the best block is far below the floor
    assert decode(blocks, proba, ["chrome", "comment", "content"]).tolist() == ["chrome", "chrome"]


def test_decode_comment_threshold_per_block():
    blocks = pd.DataFrame({"page": [0, 0, 0], "text": [" ".join(["w"] * SCANT_CONTENT_WORDS), "a", "b"]})
    proba = np.array([[0.1, 0.2, 0.7], [0.6, 0.35, 0.05], [0.6, 0.35, 0.05]])
    labels = ["chrome", "comment", "content"]
    assert decode(blocks, proba, labels).tolist() == ["content", "chrome", "chrome"]
    assert decode(blocks, proba, labels, np.array([0.3, 0.3, np.inf])).tolist() == ["content", "comment", "chrome"]


def _page_with_sure_content_first(page: str, unsure: list[float]) -> tuple[pd.DataFrame, list[list[float]]]:
    """A page whose first block is sure content (and long enough), then one block per unsure content probability."""
    texts = [" ".join(["word"] * SCANT_CONTENT_WORDS)] + ["a teaser"] * len(unsure)
    proba = [[0.05, 0.0, 0.95]] + [[0.9 - p, 0.1, p] for p in unsure]
    return pd.DataFrame({"page": page, "text": texts}), proba


def test_decode_takes_unsure_content_far_from_the_sure_content_for_its_runner_up():
    unsure = CONTENT_SURE - 0.05  # content by argmax, yet not sure
    blocks, proba = _page_with_sure_content_first("a", [unsure] * (CONTENT_REACH + 2))
    proba[-1] = [0.0, 0.3, 0.7 - 0.01]  # far, and a comment more than chrome
    predicted = decode(blocks, np.array(proba), ["chrome", "comment", "content"]).tolist()
    assert predicted == ["content"] * (CONTENT_REACH + 1) + ["chrome", "comment"]


def test_decode_keeps_sure_content_anywhere_and_unsure_content_near_it():
    blocks, proba = _page_with_sure_content_first("a", [0.6] * CONTENT_REACH + [0.5, CONTENT_SURE] + [0.6] * CONTENT_REACH)
    predicted = decode(blocks, np.array(proba), ["chrome", "comment", "content"]).tolist()
    # the 0.5 block is CONTENT_REACH + 1 from the first block but 1 from the sure block after it
    assert predicted == ["content"] * len(blocks)


def test_decode_measures_distance_to_sure_content_within_the_page():
    sure_last = pd.DataFrame({"page": "a", "text": ["menu", " ".join(["word"] * SCANT_CONTENT_WORDS)]})
    after, after_proba = _page_with_sure_content_first("b", [0.6] * (CONTENT_REACH + 1))
    after = after.iloc[::-1].reset_index(drop=True)  # b: unsure blocks first, its sure block last
    unsure_only = pd.DataFrame({"page": "c", "text": [" ".join(["word"] * SCANT_CONTENT_WORDS)]})
    blocks = pd.concat([sure_last, after, unsure_only], ignore_index=True)
    proba = np.array([[0.9, 0.0, 0.1], [0.05, 0.0, 0.95]] + after_proba[::-1] + [[0.4, 0.0, 0.6]])
    predicted = decode(blocks, proba, ["chrome", "comment", "content"]).tolist()
    # b's first block follows a's sure block but is CONTENT_REACH + 1 from b's own; c has no sure block
    assert predicted == ["chrome", "content", "chrome"] + ["content"] * (CONTENT_REACH + 1) + ["content"]


def test_decode_keeps_scattered_content_where_the_sure_blocks_hold_little_of_it():
    # a listing: one sure block, and far from it unsure items holding more words than the share allows
    sure_words = SCANT_CONTENT_WORDS
    item_words = int(sure_words * (1 - CONTENT_SURE_SHARE) / CONTENT_SURE_SHARE) + 1
    texts = [" ".join(["word"] * sure_words)] + ["menu"] * (CONTENT_REACH + 1) + [" ".join(["item"] * item_words)]
    blocks = pd.DataFrame({"page": "listing", "text": texts})
    proba = np.array([[0.05, 0.0, 0.95]] + [[0.9, 0.0, 0.1]] * (CONTENT_REACH + 1) + [[0.4, 0.0, 0.6]])
    labels = ["chrome", "comment", "content"]
    assert decode(blocks, proba, labels).tolist()[-1] == "content"
    blocks.loc[len(texts) - 1, "text"] = " ".join(["item"] * (item_words - 2))  # now the sure block holds the share
    assert decode(blocks, proba, labels).tolist()[-1] == "chrome"


def _thread_page(page: str, gap_lines: int, gap_comment: float) -> tuple[pd.DataFrame, list[list[float]]]:
    """An article, a stamp line, `gap_lines` lines of comment text the model doubts, another stamp line."""
    texts = [" ".join(["word"] * SCANT_CONTENT_WORDS), "May 2 at 7:21 pm"] + ["I agree"] * gap_lines + ["May 3"]
    proba = ([[0.05, 0.0, 0.95], [0.2, 0.7, 0.1]] + [[0.1, gap_comment, 0.9 - gap_comment]] * gap_lines
             + [[0.2, 0.7, 0.1]])
    return pd.DataFrame({"page": page, "text": texts}), proba


def test_decode_fills_short_gaps_in_comment_threads():
    labels = ["chrome", "comment", "content"]
    filled, filled_proba = _thread_page("filled", THREAD_GAP, THREAD_FLOOR)
    too_long, long_proba = _thread_page("too long", THREAD_GAP + 1, THREAD_FLOOR)
    unlikely, unlikely_proba = _thread_page("unlikely", 1, THREAD_FLOOR / 2)
    blocks = pd.concat([filled, too_long, unlikely], ignore_index=True)
    proba = np.array(filled_proba + long_proba + unlikely_proba)
    predicted = decode(blocks, proba, labels).tolist()
    assert predicted == (["content"] + ["comment"] * (THREAD_GAP + 2)  # a gap of THREAD_GAP lines is filled
                         + ["content", "comment"] + ["content"] * (THREAD_GAP + 1) + ["comment"]  # a longer one not
                         + ["content", "comment", "content", "comment"])  # below the floor


def test_decode_fills_threads_within_a_page_only():
    a, a_proba = _thread_page("a", 1, 0.3)
    b, b_proba = _thread_page("b", 1, 0.3)
    blocks = pd.concat([a.iloc[:2], b.iloc[2:]], ignore_index=True)  # a ends on a stamp, b starts with doubt
    proba = np.array(a_proba[:2] + b_proba[2:])
    predicted = decode(blocks, proba, ["chrome", "comment", "content"]).tolist()
    assert predicted[2] == "content"  # a comment block of page a does not reach into page b


def test_decode_keeps_the_first_copy_of_repeated_content_only():
    paragraph = " ".join(["word"] * REPEAT_WORDS)
    short = " ".join(["word"] * (REPEAT_WORDS - 1))
    article = " ".join(["other"] * SCANT_CONTENT_WORDS)  # enough content words: no scant-content rule
    blocks = pd.DataFrame({"page": ["a"] * 6 + ["b"],
                           "text": [article, paragraph, short, paragraph, short, paragraph, paragraph]})
    proba = np.array([[0.05, 0.0, 0.95]] * 5 + [[0.1, 0.6, 0.3], [0.05, 0.0, 0.95]])
    assert decode(blocks, proba, ["chrome", "comment", "content"]).tolist() == [
        "content", "content", "content",
        "chrome",  # the second copy of the paragraph on page a
        "content",  # shorter than REPEAT_WORDS: a repeated line may be the article's own
        "comment",  # a comment quoting the article stays a comment
        "content"]  # the first copy on page b


def test_thread_limits_reach_lightgbm():
    """Batch workers and benchmarks hold the classifier to one thread with threadpool_limits."""
    from threadpoolctl import threadpool_info, threadpool_limits

    def lightgbm_caps():
        return [entry["num_threads"] for entry in threadpool_info() if entry["internal_api"] == "lightgbm"]

    before = lightgbm_caps()
    with threadpool_limits(1):
        assert lightgbm_caps() == [1]
    assert lightgbm_caps() == before


@pytest.mark.parametrize("setting, cap", [("1", 1), ("3", 3), (None, -1)])
def test_omp_num_threads_caps_lightgbm(setting, cap):
    """LightGBM asks for a thread per core whatever OMP_NUM_THREADS says; winnow makes it listen."""
    env = {key: value for key, value in os.environ.items() if key != "OMP_NUM_THREADS"}
    if setting is not None:
        env["OMP_NUM_THREADS"] = setting
    code = ("import winnow.model; from threadpoolctl import threadpool_info; "
            "print([e['num_threads'] for e in threadpool_info() if e['internal_api'] == 'lightgbm'])")
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == f"[{cap}]"
