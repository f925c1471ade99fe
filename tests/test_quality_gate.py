"""Regression gate: the shipped default model must keep its accuracy on the held-out dragnet test split.

Runs in the normal suite; skips when ../shared/datasets or the default model file is missing.
"""

from __future__ import annotations

import pytest

import winnow
from winnow.model import default_model_path

FLOOR_CONTENT = 0.92  # content token F1 (macro over pages) on dragnet:test
FLOOR_COMMENT = 0.85  # comment token F1 (macro over pages with comments) on dragnet:test

pytestmark = pytest.mark.quality


@pytest.fixture(scope="module")
def report(shared_datasets):
    if not default_model_path().is_file():
        pytest.skip(f"default model {default_model_path()} not built yet (winnow train --preset default)")
    from winnow.train.evaluate import evaluate

    return evaluate(winnow.load_model(), ["dragnet:test"], shared_datasets)


def test_scored_on_the_whole_test_split(report):
    assert report["pages"] == 415
    assert report["tokens"]["comment"]["pages"] > 100  # DATASET.md: 121 test pages have comments


def test_content_token_f1(report):
    assert report["tokens"]["content"]["f1"] >= FLOOR_CONTENT, report["tokens"]["content"]


def test_comment_token_f1(report):
    assert report["tokens"]["comment"]["f1"] >= FLOOR_COMMENT, report["tokens"]["comment"]
