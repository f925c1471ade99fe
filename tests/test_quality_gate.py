"""Regression gate: the shipped default model must keep its accuracy on the held-out dragnet test split.

The floors sit just under what the shipped model scored when it was built (winnow/models/default.card.json):
a change that quietly lowers accuracy fails here. Runs in the normal suite; skips when ../shared/datasets
or the default model file is missing.
"""

from __future__ import annotations

import pytest

import winnow
from winnow.model import default_model_path

# Measured on the shipped model: HTML content 0.938, comment 0.916; text content 0.895, comment 0.833.
FLOORS = {
    "dragnet:test": {"content": 0.93, "comment": 0.91},
    "dragnet:test@text": {"content": 0.88, "comment": 0.82},
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
