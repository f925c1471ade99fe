"""Word tokens shared by alignment and metrics: one definition, so labels and scores agree."""

from __future__ import annotations

import re

# CJK and kana have no spaces between words: each character is a token. Elsewhere a token is a run of
# letters and digits.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+")


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens of `text`."""
    return _TOKEN.findall(text.lower())
