"""Which of winnow's compiled modules (setup.py) this install has. Each is optional: where one was not built
(no C compiler at install), Python, numpy or LightGBM gives the same results more slowly."""

from __future__ import annotations

from importlib.util import find_spec

MODULES = {
    "winnow._walk": "the walk over a parsed page (segment.py), 2.5 times as fast",
    "winnow._textstats": "the counting of block text, tokens and line shapes (text_features.py, token_evidence.py), 3 times as fast",
    "winnow._trees": "the walk through the classifier's trees (trees.py), 3.5 times as fast as LightGBM",
    "winnow._jsonlines": "the writing of `winnow predict`'s lines (predict/formats.py), 2.5 times as fast",
}


def unbuilt() -> list[str]:
    """The compiled modules this install lacks."""
    return [name for name in MODULES if find_spec(name) is None]
