"""Shared fixtures: the public datasets folder, a tiny model trained on hand-made pages."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

# Unpacked public datasets are reused across runs (unpacking takes seconds to minutes): never a tmp dir.
os.environ.setdefault("WINNOW_CACHE", str(Path.home() / ".cache" / "winnow"))

DATASETS_MISSING = "../shared/datasets not found: the public datasets are needed for this test"

_WORDS = ("river mountain lantern quiet harbor engine garden winter copper signal meadow orbit canvas "
          "valley thunder pepper silver window marble forest ribbon candle desert puzzle rocket anchor "
          "violet meadow crystal tunnel island shadow beacon falcon timber glacier harvest compass").split()
_SUBJECTS = ("The council", "A small team", "Local farmers", "The researchers", "Her neighbours", "The old mayor",
             "Several engineers", "The museum")
_VERBS = ("announced", "described", "tested", "questioned", "rebuilt", "measured", "painted", "explained")
_COMMENTS = ("Great article, thanks!", "I disagree with most of this, but well written.",
             "Thanks for sharing, very helpful.", "Does anyone know where to find the full report?",
             "Nice read. Bookmarked.", "This happened in my town too, last winter.",
             "Could you write a follow-up on this?", "Interesting point about the costs.")
_NAMES = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi")


def _sentence(rng: random.Random) -> str:
    words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(5, 12)))
    return f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} the {words} on {rng.choice(('Monday', 'Friday', 'Sunday'))}."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(2, 4)))


def make_article_page(seed: int, labeled: bool = True) -> str:
    """A small news page: nav menu, article (h1 + 3 paragraphs), 2-3 comments, footer.

    With `labeled`, the article carries data-label="content" and the comment section data-label="comment";
    everything else is unlabeled (chrome in the native format).
    """
    rng = random.Random(seed)
    title = f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} the {rng.choice(_WORDS)} {rng.choice(_WORDS)}"
    content_attr = ' data-label="content"' if labeled else ""
    comment_attr = ' data-label="comment"' if labeled else ""
    paragraphs = "".join(f"<p>{_paragraph(rng)}</p>" for _ in range(3))
    comments = "".join(
        f'<div class="comment"><p class="meta">{rng.choice(_NAMES)} said {rng.randint(1, 9)} hours ago</p>'
        f"<p>{rng.choice(_COMMENTS)} {_sentence(rng)}</p></div>"
        for _ in range(rng.randint(2, 3))
    )
    return (
        f"<!DOCTYPE html><html><head><title>{title} | Tiny Times</title></head><body>"
        '<div class="header"><ul class="nav"><li><a href="/">Home</a></li><li><a href="/news">News</a></li>'
        '<li><a href="/sport">Sport</a></li><li><a href="/about">About us</a></li></ul></div>'
        f'<article class="post"{content_attr}><h1>{title}</h1>{paragraphs}</article>'
        f'<div class="comments"{comment_attr}><h3>Comments</h3>{comments}</div>'
        '<footer class="footer"><p>Copyright 2024 Tiny Times. All rights reserved.</p>'
        '<p><a href="/privacy">Privacy</a> | <a href="/terms">Terms</a></p></footer>'
        "</body></html>"
    )


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The public datasets folder ($WINNOW_DATASETS, else ../shared/datasets beside the repository)."""
    configured = os.environ.get("WINNOW_DATASETS")
    path = Path(configured) if configured else Path(__file__).resolve().parents[2] / "shared" / "datasets"
    if not path.is_dir():
        pytest.skip(DATASETS_MISSING)
    return path


@pytest.fixture(scope="session")
def native_dir(tmp_path_factory) -> Path:
    """12 hand-made pages in the native labeled format (data-label attributes)."""
    folder = tmp_path_factory.mktemp("native")
    for seed in range(12):
        (folder / f"page{seed:02d}.html").write_text(make_article_page(seed), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def tiny_model(native_dir):
    from winnow.train.fit import train

    return train([str(native_dir)], max_iter=20, log=lambda message: None)


@pytest.fixture(scope="session")
def tiny_model_path(tiny_model, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "tiny.joblib"
    tiny_model.save(path)
    return path


@pytest.fixture()
def held_out_html() -> str:
    """An unlabeled page like the training pages, but not one of them."""
    return make_article_page(1000, labeled=False)


@pytest.fixture()
def held_out_labeled_html() -> str:
    """`held_out_html` with its data-label attributes: the same blocks, with gold labels."""
    return make_article_page(1000, labeled=True)


def pytest_configure(config):
    config.addinivalue_line("markers", "quality: regression gate on the shipped default model (needs ../shared "
                                       "and winnow/models/default.joblib; skips when either is missing)")
