"""The numbers of a block that need only its own text: counts and ratios of its characters and words, and
cue patterns (dates, "3 hours ago", "Reply", "© 2024"), counted over a whole batch of blocks at once.

Where the compiled module `winnow._textstats` is built (setup.py), it counts each block's characters in
one pass and finds which blocks hold the literals a cue needs, so that each cue regex scans only those;
else numpy counts over the blocks joined into one string (textstats.py), and a regex of the literals
sieves the blocks each cue scans. Both give the same numbers (tests/test_textstats.py).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from winnow.stopwords import CJK_FUNCTION_CHARS, STOPWORDS
from winnow.textstats import CharClasses, Joined, one_line

_WORD_CHAR = r"[^\W_]"
_WORD = _WORD_CHAR + "+"
_CJK = r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]"
_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
_MONTH = rf"(?:{'|'.join(_MONTHS)})[a-z]*"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
CUES = {
    # "Nov. 7", "November 7th", "7th November", "11/07/2012", "2012-11-07"
    "date": rf"\b{_MONTH}\.? {_DAY}\b|\b{_DAY} {_MONTH}\b"
            r"|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b|\b\d{4}-\d\d-\d\d\b",
    # No \b before the number: renderers glue fields ("Source3 days ago").
    "ago": r"(?:\d+|\ban?|\bone)\s*(?:s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?|mos?|months?"
           r"|y|yrs?|years?)\s+ago\b|\byesterday\b|\bjust now\b",
    "time": r"\b\d{1,2}:\d\d\b",
    "comment_cue": r"\breply\b|\bsays?:|\bsaid:|\bwrote:|\bcomments?\b|\breport abuse\b|\bpermalink\b|\bflag\b|\blikes?\b",
    "chrome_cue": r"©|\b(?:copyright|all rights reserved|privacy|terms|cookies?|subscribe|sign (?:in|up)|log ?in|share"
                  r"|tweet|follow us|related|read more|more from|newsletter)\b|\badvertis",
    "byline": r"^\s*(?:by|posted by|written by|von|par|por):?\s",
    "bullet": r"^\s*(?:[•·◦▪*\-–»›>|]|\d+[.)])\s",
    "url": r"^\s*(?:https?://|www\.)\S+\s*$",
    "separators": r"[|·»›•]",
    "counter": r"\b(?:comments?|replies|views|shares|likes)\s*[/:(]?\s*\d+|\b\d+\s+(?:comments?|replies|views|shares)\b",
    "image_url": r"^\S+\.(?:jpe?g|png|gif|webp|svg)\b|^https?://\S*(?:img|image|photo|media)\S*$",
    "avatar": r"avatar",  # a commenter's picture: its URL is a line of a text page's comment thread
}
CHAR_CLASSES = CharClasses({
    "word": r"\w", "token": _WORD_CHAR, "letter": r"[^\W\d_]", "digit": r"\d", "upper": r"[A-Z]",
    "lower": r"[a-z]", "space": r"\s", "punct": r"[^\w\s]", "cjk": _CJK, "stop": r"[.!?]", "cjk_stop": r"[。！？]",
    "closing": r"[.!?。！？:\"”')]", "cjk_function": "[" + "".join(sorted(CJK_FUNCTION_CHARS)) + "]",
})
# Chinese and Japanese pack a word into a character or two, and no training page is written in them. So
# that their prose measures like the prose the model learned from, a CJK character counts as the share of
# an English word and the English characters it stands for: translations run about 0.65 English words
# per Chinese character, and an English word takes 6 characters with its space. No column says "CJK":
# the training pages' only CJK blocks are language menus, so it taught that CJK text is chrome.
CJK_WORDS_PER_CHAR = 0.65
CJK_WIDTH = 4
_CUE_PATTERNS = {name: one_line(pattern) for name, pattern in CUES.items()}
# What every match of a cue holds in the lower-cased text: one of these literals, or all of a tuple of them
# ("^": at the first non-space character, "\d": a digit). The compiled module finds the blocks that hold
# them, and the cue's regex scans only those. Without it, numpy's counting sieves the blocks with a regex of
# each need's first literal (so a tuple lists its rarer literal first), unless one is anchored.
CUE_NEEDS = {
    "date": [*((r"\d", month) for month in _MONTHS), r"\d/\d", r"\d.\d", r"\d-\d"],
    "ago": ["ago", "yesterday", "just now"],
    "time": [r"\d:"],
    "comment_cue": ["reply", "say", "said:", "wrote:", "comment", "report abuse", "permalink", "flag", "like"],
    "chrome_cue": ["©", "copyright", "all rights reserved", "privacy", "terms", "cookie", "subscribe", "sign in",
                   "sign up", "log in", "login", "share", "tweet", "follow us", "related", "read more", "more from",
                   "newsletter", "advertis"],
    "byline": ["^by", "^posted by", "^written by", "^von", "^par", "^por"],
    "bullet": [*(f"^{mark}" for mark in "•·◦▪*-–»›>|"), r"^\d"],
    "url": ["^http", "^www."],
    "separators": list("|·»›•"),
    "counter": [(word, r"\d") for word in ("comment", "repl", "view", "share", "like")],
    "image_url": [".jp", ".png", ".gif", ".webp", ".svg", "^http"],
    "avatar": ["avatar"],
}
# How far before the first of its literals (those of any of its needs) a match of a cue can start: each match
# starts with one of them, or that many characters before one. The compiled counting starts the cue's regex
# there (a regex reads the characters before where it starts, for \b). None: no such bound; the regex
# reads the whole block ("ago" can follow any number; the anchored cues are quick to fail anyway).
CUE_LEADS = {"date": 0, "ago": None, "time": 1, "comment_cue": 0, "chrome_cue": 0, "byline": None, "bullet": None,
             "url": None, "separators": 0, "counter": 0, "image_url": None, "avatar": 0}


def lowered_lines(text: pd.Series) -> list[str]:
    """Each block's text as one line, lower-cased: what the cue patterns read (text_features, and
    features.thread_features' comment headers). Made once per batch and handed to each."""
    return [block.replace("\n", " ").lower() for block in text.tolist()]


def text_features(text: pd.Series, link_chars: pd.Series, indent: pd.Series, lowered: list[str] | None = None
                  ) -> pd.DataFrame:
    """Per-block numbers that need only the block's text, counted over all blocks at once (`lowered`: the
    blocks' lowered_lines, where the caller has them)."""
    texts = [block.replace("\n", " ") for block in text.tolist()]  # one line each, as in a Joined batch
    lowered = lowered_lines(text) if lowered is None else lowered
    count = _counts if _compiled is None else _compiled_counts
    counts, cues = count(texts, lowered)
    n_chars = counts["chars"].astype("float32")
    safe_chars = np.maximum(n_chars, 1)
    cjk = counts["cjk"]
    width = np.maximum(n_chars + (CJK_WIDTH - 1) * cjk, 1)  # in English characters
    words = counts["words"] + CJK_WORDS_PER_CHAR * cjk
    n_tokens = np.maximum(words, 1)
    upper = counts["upper"]
    out = pd.DataFrame({
        "chars": width,
        "words": words,
        "word_len": width / n_tokens,
        "sentences": counts["sentences"],
        "ends_punct": counts["ends_punct"].astype(bool),
        "punct": counts["punct"] / width,
        "digits": counts["digit"] / width,
        "upper": upper / np.maximum(counts["letter"], 1),
        "capitalized": counts["capitalized"] / n_tokens,
        "stopwords": (counts["function_words"] + counts["cjk_function"]) / n_tokens,
        "link_density": link_chars.to_numpy() / safe_chars,
        "density": n_tokens / np.ceil(width / 80),
        "indent": indent.to_numpy(),
        "caps_line": (counts["lower"] == 0) & (upper >= 2),
        **cues,
    }, index=text.index)
    return out.astype("float32")


_DIGITS = re.compile(r"\d+")
SHAPE_CHARS = 60  # a line's shape is made of its first characters


def line_keys(texts: list[str], short: np.ndarray, shaped: np.ndarray, lowered: list[str] | None = None) -> np.ndarray:
    """Keys of each line's shape (its first SHAPE_CHARS characters lower-cased, runs of digits as "0",
    spaces at the ends dropped; for the `shaped` lines), and of the shape's first and last word (split at " ";
    for the `short` lines): (3, lines) uint64, equal keys for equal strings, 0 for none or an empty one.
    `lowered` (the texts' lowered_lines, where the caller has them) saves lower-casing them again."""
    if _compiled is not None:  # 64-bit hashes of the same strings, without making them
        return _compiled.line_keys(texts, lowered, CHAR_CLASSES, SHAPE_CHARS, short.astype(np.uint8),
                                   shaped.astype(np.uint8))
    shapes = [_DIGITS.sub("0", text[:SHAPE_CHARS].lower()).strip() for text in texts]
    first = [shape.partition(" ")[0] if is_short else "" for shape, is_short in zip(shapes, short)]
    last = [shape.rpartition(" ")[2] if is_short else "" for shape, is_short in zip(shapes, short)]
    shapes = [shape if is_shaped else "" for shape, is_shaped in zip(shapes, shaped)]
    return np.array([_keys(strings) for strings in (shapes, first, last)], dtype=np.uint64).reshape(3, len(texts))


def _keys(strings: list[str]) -> np.ndarray:
    codes, uniques = pd.factorize(np.array(strings, dtype=object))
    return np.where(np.asarray(uniques, dtype=object)[codes] == "", 0, codes + 1) if len(strings) else codes


def _counts(texts: list[str], lowered: list[str]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The character and word counts of each block, and its cue counts, with numpy over the joined blocks."""
    joined, lower = Joined.of(texts), Joined.of(lowered)
    chars = CHAR_CLASSES.flags(joined.codes)
    token = CHAR_CLASSES.flags(lower.codes, ["token"])["token"]
    word_starts = np.flatnonzero(token & ~lower.previous(token))
    is_stop = pd.Series(re.findall(_WORD, lower.string)).isin(STOPWORDS).to_numpy(dtype=float)
    counts = {name: joined.count_chars(chars[name])
              for name in ("cjk", "upper", "letter", "digit", "punct", "lower", "cjk_function")}
    counts.update({
        "chars": joined.lengths,
        # "。" needs no space after it, "." does ("3.5", "U.S.").
        "sentences": joined.count_chars(chars["stop"] & joined.next(chars["space"]) | chars["cjk_stop"]),
        "ends_punct": joined.last_nonspace(chars["space"], chars["closing"]),
        "capitalized": joined.count_chars(chars["upper"] & ~joined.previous(chars["word"])),
        "words": lower.per_string(word_starts),
        "function_words": lower.per_string(word_starts, weights=is_stop),
    })
    cues = {}
    for name, pattern in _CUE_PATTERNS.items():
        if _SIEVES[name] is None:
            cues[name] = lower.count_matches(pattern)
        else:
            sieved = lower.owner[[match.start() for match in _SIEVES[name].finditer(lower.string)]]
            cues[name] = _count_in(pattern, lowered, np.unique(sieved))
    return counts, cues


def _compiled_counts(texts: list[str], lowered: list[str]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """_counts, block by block in C; each cue's regex scans only the blocks holding what it needs, from the
    first place a match can start (CUE_LEADS)."""
    counts = _compiled.text_counts(texts, lowered, CHAR_CLASSES, _STOPWORD_TABLE)
    first = _LITERAL_FINDER.first(lowered)
    hits = first >= 0
    cues = {}
    for name, pattern in _CUE_PATTERNS.items():
        candidates = np.flatnonzero(np.any([hits[:, columns].all(axis=1) for columns in _NEEDED_BY[name]], axis=0))
        starts = None
        if CUE_LEADS[name] is not None and len(candidates):
            found = first[np.ix_(candidates, _LITERALS_OF[name])]
            starts = np.where(found >= 0, found, np.iinfo(np.int32).max).min(axis=1) - CUE_LEADS[name]
        cues[name] = _count_in(pattern, lowered, candidates, starts)
    return counts, cues


def _count_in(pattern: re.Pattern, lowered: list[str], candidates: np.ndarray, starts: np.ndarray | None = None
              ) -> np.ndarray:
    """Matches of `pattern` in each block, scanning only the `candidates` (others: none), each from its
    `starts` (a position no match starts before; default 0). A block is one line, so the one-line pattern
    finds in it alone what it finds in it among others joined."""
    counts = np.zeros(len(lowered), dtype=np.int64)
    if len(candidates):
        findall = pattern.findall
        if starts is None:
            counts[candidates] = [len(findall(lowered[k])) for k in candidates.tolist()]
        else:
            counts[candidates] = [len(findall(lowered[k], max(start, 0)))
                                  for k, start in zip(candidates.tolist(), starts.tolist())]
    return counts


def _literals(need: str | tuple[str, ...]) -> tuple[str, ...]:
    return (need,) if isinstance(need, str) else need


def _sieve(needs: list) -> re.Pattern | None:
    """A regex finding the first literal of each need, or None where one is anchored."""
    firsts = dict.fromkeys(_literals(need)[0] for need in needs)
    if any(literal.startswith("^") for literal in firsts):
        return None
    return re.compile("|".join(r"\d".join(map(re.escape, literal.split("\\d"))) for literal in firsts))


_SIEVES = {name: _sieve(needs) for name, needs in CUE_NEEDS.items()}
_NEEDED_LITERALS = sorted({literal for needs in CUE_NEEDS.values() for need in needs for literal in _literals(need)})
# cue -> for each of its needs, the columns of its literals in LiteralFinder.first's answer; and all of them
_NEEDED_BY = {name: [[_NEEDED_LITERALS.index(literal) for literal in _literals(need)] for need in needs]
              for name, needs in CUE_NEEDS.items()}
_LITERALS_OF = {name: sorted({column for columns in needs for column in columns}) for name, needs in _NEEDED_BY.items()}
try:  # winnow._textstats (setup.py): the same counts, several times as fast
    from winnow import _textstats as _compiled
except ImportError:
    _compiled = None
else:
    _STOPWORD_TABLE = _compiled.StringTable(dict.fromkeys(STOPWORDS, 1))
    _LITERAL_FINDER = _compiled.LiteralFinder(_NEEDED_LITERALS, CHAR_CLASSES)

