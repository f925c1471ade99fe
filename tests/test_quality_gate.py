"""Regression gate: the shipped default model must keep its accuracy on the held-out dragnet test split.

The floors sit under what the shipped model scored when it was built (winnow/models/default.card.json), by
about the spread between equivalent fits of its recipe: a change that lowers accuracy beyond that fails here.
Runs in the normal suite; skips when ../shared/datasets or the default model file is missing.
"""

from __future__ import annotations

import pytest

import winnow
from winnow.model import default_model_path

# Measured on the shipped model (stop 30): HTML content 0.951, comment 0.925; text content 0.915, comment 0.893.
# Equivalent fits of the recipe (other draws of its chrome blocks, stop 23) scored HTML content 0.941-0.946
# and comment 0.900-0.927 (docs/DESIGN.md), before stop 30's shrunk leaves gained 0.004 in cross-validation:
# the floors sit under that range, so that a refit never has to be picked by its test score to pass.
FLOORS = {
    "dragnet:test": {"content": 0.94, "comment": 0.89},
    "dragnet:test@text": {"content": 0.905, "comment": 0.87},
}

pytestmark = pytest.mark.quality


@pytest.fixture(scope="module", params=sorted(FLOORS))
def report(request, shared_datasets):
    if not default_model_path().is_file():
        pytest.skip(f"default model {default_model_path()} not built yet (winnow train --preset default)")
    from winnow.train.evaluate import evaluate

    return evaluate(winnow.load_model(), [request.param], shared_datasets)


def test_scored_on_the_whole_test_split(report):
    assert report["pages"] == 415
    assert report["tokens"]["comment"]["pages"] > 100  # DATASET.md: 121 test pages have comments


@pytest.mark.parametrize("part", ["content", "comment"])
def test_token_f1_floor(report, part):
    floor = FLOORS[report["data"][0]][part]
    assert report["tokens"][part]["f1"] >= floor, report["tokens"][part]


def test_modern_markup_does_not_hide_comments(shared_datasets):
    """The test split's pages as if each wrapped its body in <main>, as pages since 2013 do. dragnet, the one set
    that labels comments, has no <main>: a model that learned "inside <main>" from the other sets took it to mean
    "not a comment" (comment F1 0.922 -> 0.859 before the marker was dropped)."""
    if not default_model_path().is_file():
        pytest.skip(f"default model {default_model_path()} not built yet (winnow train --preset default)")
    from winnow.train.corpus import load_corpus
    from winnow.train.evaluate import evaluate_blocks

    blocks, pages = load_corpus(["dragnet:test"], shared_datasets)
    in_main = blocks.assign(path=blocks["path"].str.replace("html body", "html body main", n=1, regex=False))
    assert (in_main["path"] != blocks["path"]).mean() > 0.9
    model = winnow.load_model()
    as_is, wrapped = (evaluate_blocks(model, b, pages)["tokens"] for b in (blocks, in_main))
    for part in ("content", "comment"):
        assert wrapped[part]["f1"] >= as_is[part]["f1"] - 0.01, (part, as_is[part], wrapped[part])


# Chinese pages, of which no training set holds one (chinese-wce is for checking only). The shipped model
# scored 0.900 content token F1 (stop 29; 0.894 at stop 28, 0.900 at stop 26); before stop 23's fixes (GBK pages read as
# cp1252, pages swallowed by <head>, CJK text measured as if each character were an English word) 0.838.
# One page of 69 moves the mean by up to 0.015: the floor leaves two of them.
CHINESE_FLOOR = 0.865


def test_chinese_pages_keep_their_accuracy(shared_datasets):
    if not default_model_path().is_file():
        pytest.skip(f"default model {default_model_path()} not built yet (winnow train --preset default)")
    from winnow.train.evaluate import evaluate

    report = evaluate(winnow.load_model(), ["chinese-wce"], shared_datasets)
    assert report["pages"] == 69
    assert report["tokens"]["content"]["f1"] >= CHINESE_FLOOR, report["tokens"]["content"]


def test_early_stopped_boosting_labels_blocks_as_the_whole_boosting_does(shared_datasets):
    """Prediction stops adding trees for blocks the model is already sure of (model.EARLY_STOP): fewer than
    one label in a thousand may differ from what all the trees give (measured: 1 of 81,963 blocks)."""
    if not default_model_path().is_file():
        pytest.skip(f"default model {default_model_path()} not built yet (winnow train --preset default)")
    from winnow.model import decode
    from winnow.train.corpus import load_corpus

    blocks, _ = load_corpus(["dragnet:test"], shared_datasets)
    model = winnow.load_model()
    early = model.label_blocks(blocks)
    whole = model.pipeline.predict_proba(blocks)
    assert list(model.pipeline.classes_) == model.labels
    assert (early["predicted"].to_numpy() != decode(early, whole, model.labels)).mean() < 0.001
    assert (early[[f"proba_{label}" for label in model.labels]].to_numpy() != whole).any()  # it did stop early
