"""Block features as a scikit-learn transformer over the blocks table.

Four kinds, all computed column-wise over whole tables (no per-block Python loops):
  text     counts and ratios of the block's own text, cue patterns (dates, "3 hours ago", "Reply")
           (text_features.py), what its first words say (learned label evidence, token_evidence.py)
  DOM      tag, depth, tag-path tokens, what the class/id tokens of the block and its ancestors say
  context  the text numbers of the blocks up to `context` places before and after, and where the
           block stands in its page (position, distance to the densest block, repeated text, the main
           run of prose)
  threads  wide windows over the rhythm of blocks (time stamps, comment words, short lines): comment
           threads and link lists
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from winnow.text_features import text_features
from winnow.token_evidence import CLASS_TOKEN, WORD, TokenEvidence

MAX_CLASS_TOKENS = 5000  # tokens per scope (class/id names, words) that get label evidence
WORD_CHARS = 100  # the words of a block's text that lend their evidence are those in its first characters
FEATURES_VERSION = 11  # bump when features change: models fitted on other features cannot be used
TAGS = ("p div li td th h1 h2 h3 h4 h5 h6 span a article section blockquote pre dd dt option figcaption "
        "caption label button form table tr ul ol br body header footer nav aside main center font").split()
# Not <main> nor <article>: no page of dragnet, the one set that labels comments, has a <main>, and few put
# comments in an <article>; learned from the other sets, they told the model that nothing in them is a comment.
PATH_MARKERS = ("aside nav footer header form li table blockquote ul ol dl section center "
                "font b strong em a").split()
CONTEXT_FEATURES = ["words", "link_density", "stopwords", "punct", "ends_punct", "density", "indent", "ago", "bullet"]


def words_before_share(page: pd.Series, words: pd.Series) -> pd.Series:
    """The share of its page's words that come before each block."""
    grouped = words.groupby(page, sort=False)
    return (grouped.cumsum() - words) / grouped.transform("sum").clip(lower=1)


def window_means(page: pd.Series, values: pd.DataFrame, window: int) -> pd.DataFrame:
    """The mean of each column over the `window` blocks centred on each block, within its page (fewer at the
    page's ends): pandas' centred rolling mean per page, from one cumulative sum over the whole batch."""
    codes = pd.factorize(page)[0]
    order = np.argsort(codes, kind="stable")  # each page's blocks together, in their order
    grouped = codes[order]
    spot = np.arange(len(order))
    reach = window // 2
    low = np.maximum(spot - reach, np.searchsorted(grouped, grouped, "left"))
    high = np.minimum(spot + reach + 1, np.searchsorted(grouped, grouped, "right"))
    sums = np.zeros((len(order) + 1, values.shape[1]))
    np.cumsum(values.to_numpy(np.float64)[order], axis=0, out=sums[1:])
    means = np.empty_like(sums[1:])
    means[order] = (sums[high] - sums[low]) / (high - low)[:, None]
    return pd.DataFrame(means, index=values.index, columns=values.columns)


LONG_BLOCK_WORDS = 20  # a block this long is prose: it spans the page's long span and its runs of prose


def page_features(blocks: pd.DataFrame, numbers: pd.DataFrame) -> pd.DataFrame:
    """Where a block stands in its page."""
    page = blocks["page"]
    grouped = numbers["words"].groupby(page)
    size = page.map(page.value_counts()).astype("float32")
    position = blocks.groupby("page", sort=False).cumcount().astype("float32")
    total_words = grouped.transform("sum").clip(lower=1)
    densest = numbers.assign(pos=position, page=page).sort_values("words", ascending=False).groupby("page").pos.first()
    long_block = numbers["words"] >= LONG_BLOCK_WORDS
    long_pos = position.where(long_block)
    first_long = long_pos.groupby(page).transform("min")
    last_long = long_pos.groupby(page).transform("max")
    repeats = blocks.groupby(["page", "text"], sort=False)["text"].transform("size").astype("float32")
    return pd.DataFrame({
        "page_blocks": size,
        "position": position / size,
        "words_before": words_before_share(page, numbers["words"]),
        "words_share": numbers["words"] / total_words,
        "words_vs_max": numbers["words"] / grouped.transform("max").clip(lower=1),
        "from_densest": (position - page.map(densest)) / size,
        "inside_long_span": ((position >= first_long) & (position <= last_long)).astype("float32"),
        "repeats": repeats,
    }, index=blocks.index).fillna(0).astype("float32")


MAIN_RUN_GAP = 2  # a run of prose goes on past this many shorter blocks (a subheading, a caption), not more
MAIN_RUN_REACH = 50  # blocks; farther from the main run counts as far


def main_run_features(page: pd.Series, words: pd.Series) -> pd.DataFrame:
    """Where a block stands against its page's main run of prose: the run of long blocks, broken by no more
    than MAIN_RUN_GAP shorter ones, that holds the most words (a page's blocks are consecutive rows). An
    article's text is one such run; the comments after it start a run of their own, past a share bar or a
    "Previous post" link."""
    codes = pd.factorize(page)[0]
    rows = np.arange(len(codes))
    long = (words >= LONG_BLOCK_WORDS).to_numpy()
    long_rows = rows[long]
    new_run = np.ones(len(long_rows), bool)
    new_run[1:] = (np.diff(long_rows) > MAIN_RUN_GAP + 1) | (np.diff(codes[long_rows]) != 0)
    run = np.cumsum(new_run) - 1
    runs = pd.DataFrame({"page": codes[long_rows], "row": long_rows, "words": words.to_numpy()[long_rows],
                         "run": run}).groupby("run").agg(page=("page", "first"), start=("row", "min"),
                                                         end=("row", "max"), words=("words", "sum"))
    main = runs.sort_values("words", ascending=False, kind="stable").drop_duplicates("page").set_index("page")
    start = pd.Series(codes).map(main["start"]).to_numpy(float)  # NaN on pages without a long line
    end = pd.Series(codes).map(main["end"]).to_numpy(float)
    after = np.clip(rows - end, 0, MAIN_RUN_REACH)
    before = np.clip(start - rows, 0, MAIN_RUN_REACH)
    return pd.DataFrame({"inside_main_run": (rows >= start) & (rows <= end),
                         "after_main_run": np.nan_to_num(after, nan=-1),
                         "before_main_run": np.nan_to_num(before, nan=-1)},
                        index=words.index).astype("float32")


def context_features(page: pd.Series, numbers: pd.DataFrame, context: int) -> pd.DataFrame:
    """The chosen text numbers of neighbouring blocks in the same page (-1 where there is none)."""
    columns = {}
    grouped = numbers[CONTEXT_FEATURES].groupby(page, sort=False)
    for offset in [o for o in range(-context, context + 1) if o]:
        shifted = grouped.shift(offset)
        for name in CONTEXT_FEATURES:
            columns[f"{name}@{-offset:+d}"] = shifted[name]
    for window in (5, 15):
        means = window_means(page, numbers[["words", "link_density"]], window)
        columns[f"words_mean@{window}"] = means["words"]
        columns[f"link_density_mean@{window}"] = means["link_density"]
    return pd.DataFrame(columns, index=numbers.index).fillna(-1).astype("float32")


# "Comments", "{ 12 comments }", "One comment", "8 appreciated comments on ..."
_COMMENT_HEADER = re.compile(r"^[\s{(\[]*(?:(?:\d+|no|one|two|three|four|five|six|seven|eight|nine|ten)\s+"
                             r"(?:[a-z]+\s+)?)?(?:comments?|responses?|replies|reader comments|discussion|add a comment"
                             r"|leave a (?:comment|reply)|join the discussion|post a comment|view all comments)\b")
_DIGITS = re.compile(r"\d+")  # masked in a line's shape
RHYTHM_FEATURES = ["ago", "comment_cue", "counter", "short", "bullet", "time", "avatar", "date"]
STAMP_REACH = 20  # lines; farther from a stamp (time, date, avatar) counts as far
REPEAT_REACH = 10  # lines either side in which a line's shape, first or last word is looked for again
SHAPE_LINE_WORDS = 12  # longer lines are prose: their shape is not looked for
SHORT_LINE_WORDS = 5  # the first and last word of lines this short are their shape ("Kevin said,", "1. Al")


def _repeats(spots: np.ndarray, keys: pd.Series, reach: int = REPEAT_REACH) -> np.ndarray:
    """How many other blocks within `reach` places in the same page have the same key (an empty key: none).

    `spots` number the blocks so that two blocks of one page lie as far apart as their positions, and
    blocks of different pages lie far apart (repeat_features)."""
    codes = pd.factorize(keys)[0].astype(np.int64)
    spot = codes * (spots.max(initial=0) + 2 * reach + 1) + spots  # keys never overlap within reach
    ordered = np.sort(spot)
    count = np.searchsorted(ordered, spot + reach, "right") - np.searchsorted(ordered, spot - reach, "left") - 1
    return np.where(keys.to_numpy() == "", 0, count).astype("float32")


def repeat_features(blocks: pd.DataFrame, numbers: pd.DataFrame) -> pd.DataFrame:
    """Lines whose shape comes back every few lines: the fields of comment threads ("August 9th, 2012 at
    8:38 am", "Kevin said,") and of link lists ("Source 3 days ago", "1. Al"), which rarely carry a cue.

    A line's shape is its lowercased text with numbers masked; short lines also have their first and last word.
    """
    shapes = [_DIGITS.sub("0", text[:60].lower()).strip() for text in blocks["text"].tolist()]
    short = (numbers["words"] <= SHORT_LINE_WORDS).to_numpy()
    first = pd.Series([line.partition(" ")[0] if is_short else "" for line, is_short in zip(shapes, short)])
    last = pd.Series([line.rpartition(" ")[2] if is_short else "" for line, is_short in zip(shapes, short)])
    shape = pd.Series(shapes, index=blocks.index)
    page = blocks["page"]
    position = page.groupby(page, sort=False).cumcount().to_numpy(np.int64)
    spots = pd.factorize(page)[0].astype(np.int64) * (position.max(initial=0) + 2 * REPEAT_REACH + 1) + position
    return pd.DataFrame({"shape_repeats": _repeats(spots, shape.where(numbers["words"] <= SHAPE_LINE_WORDS, "")),
                         "first_word_repeats": _repeats(spots, first), "last_word_repeats": _repeats(spots, last)},
                        index=blocks.index)


def thread_features(blocks: pd.DataFrame, numbers: pd.DataFrame) -> pd.DataFrame:
    """Wide windows over line rhythms: what finds comment threads and link lists without a DOM.

    The share of lines with a relative time, a date, a comment word, a counter, a bullet, an avatar or few
    words in windows of 7 and 21 lines; whether a comment header ("Comments", "{ 12 comments }", ...) came earlier in
    the page, and how far back; the share of the page's "ago" lines still to come; how many lines back the
    last stamp (time, date or avatar) was, and how many lines ahead the next.
    """
    page = blocks["page"]
    cues = [name for name in RHYTHM_FEATURES if name != "short"]
    rhythm = pd.DataFrame(np.minimum(numbers[cues].to_numpy(), 1), index=numbers.index, columns=cues).assign(
        short=(numbers["words"] <= 4).astype("float32"))
    columns = {}
    for window in (7, 21):
        means = window_means(page, rhythm, window)
        for name in RHYTHM_FEATURES:
            columns[f"{name}_share@{window}"] = means[name]
    header = pd.Series([_COMMENT_HEADER.match(text.lower()) is not None for text in blocks["text"].tolist()],
                       index=blocks.index, dtype="float32")
    position = blocks.groupby("page", sort=False).cumcount().astype("float32")
    first_header = position.where(header > 0).groupby(page).transform("min")
    size = page.map(page.value_counts()).astype("float32")
    columns["comment_header"] = header
    columns["after_comment_header"] = (position > first_header).astype("float32")
    columns["since_comment_header"] = ((position - first_header) / size).fillna(-1)
    # The last header before a line, not the first: a share bar's "Comments" link heads no thread.
    last_header = position.where(header > 0).groupby(page).ffill()
    columns["since_last_comment_header"] = (position - last_header).fillna(STAMP_REACH).clip(upper=STAMP_REACH)
    words_before = words_before_share(page, numbers["words"])
    columns["last_comment_header_words_before"] = words_before.where(header > 0).groupby(page).ffill().fillna(-1)
    ago = rhythm["ago"].groupby(page, sort=False)
    columns["ago_still_to_come"] = (ago.transform("sum") - ago.cumsum()) / ago.transform("sum").clip(lower=1)
    # A comment is a stamp line ("jane 3 days ago", "May 2, 2012 at 7:21 pm", "Luke, on November 7th, 2012",
    # an avatar) and lines after it.
    stamped = position.where((rhythm[["ago", "time", "avatar", "date"]].to_numpy() > 0).any(axis=1))
    columns["since_stamp"] = (position - stamped.groupby(page).ffill()).fillna(STAMP_REACH).clip(upper=STAMP_REACH)
    columns["until_stamp"] = (stamped.groupby(page).bfill() - position).fillna(STAMP_REACH).clip(upper=STAMP_REACH)
    return pd.DataFrame(columns, index=blocks.index).fillna(0).astype("float32")


def dom_features(blocks: pd.DataFrame) -> pd.DataFrame:
    tag_codes, tags = pd.factorize(blocks["tag"])  # a page uses few tags and paths: test each once
    codes, paths = pd.factorize(" " + blocks["path"] + " ")
    paths = pd.Series(paths)
    columns = {f"tag={t}": np.asarray(tags == t)[tag_codes] for t in TAGS}
    columns.update({f"in_{m}": paths.str.contains(f" {m} ", regex=False).to_numpy()[codes] for m in PATH_MARKERS})
    columns["depth"] = blocks["depth"]
    columns["text_page"] = np.asarray(tags == "")[tag_codes]
    return pd.DataFrame(columns, index=blocks.index).astype("float32")


def _labels(blocks: pd.DataFrame, y) -> np.ndarray:
    if y is None and "label" not in blocks:
        raise ValueError("BlockFeatures learns from labeled blocks: pass y or a 'label' column")
    return np.asarray(blocks["label"] if y is None else y).astype(str)


class BlockFeatures(TransformerMixin, BaseEstimator):
    """Blocks table -> dense float32 feature matrix.

    max_class_tokens: how many tokens (most frequent in training) lend their label evidence, in each
        scope: class/id tokens of the block's own element and parent, those of the further ancestors,
        and the words at the start of its text (token_evidence.py).
    context: how many neighbouring blocks on each side lend their numbers.
    threads: add wide windows over line rhythms (thread_features): they find comment threads.
    dom: add the features of the markup (tags, path, class/id tokens). A model for plain-text pages goes
        without: there they are the same for every block, and the boosting would still scan them.

    `numbers(blocks)` are the label-free columns; `fit_transform` and `transform` take them precomputed,
    so that training computes them once over whole pages for the blocks it fits on and those it leaves out.
    """

    def __init__(self, max_class_tokens: int = MAX_CLASS_TOKENS, context: int = 2, threads: bool = True,
                 dom: bool = True):
        self.max_class_tokens = max_class_tokens
        self.context = context
        self.threads = threads
        self.dom = dom

    def fit(self, blocks: pd.DataFrame, y=None):
        labels = _labels(blocks, y)
        for name, _, strings, pattern in self._token_scopes(blocks):
            setattr(self, name, TokenEvidence(self.max_class_tokens, token_pattern=pattern).fit(strings, labels))
        self._name_features()
        return self

    def fit_transform(self, blocks: pd.DataFrame, y=None, numbers: pd.DataFrame | None = None) -> np.ndarray:
        """Fit, and the training blocks' features with their token evidence cross-fitted (token_evidence.py)."""
        labels = _labels(blocks, y)
        evidence = []
        for name, _, strings, pattern in self._token_scopes(blocks):
            setattr(self, name, TokenEvidence(self.max_class_tokens, token_pattern=pattern))
            evidence.append(getattr(self, name).fit_transform(strings, labels, blocks["page"]))
        self._name_features()
        return self._matrix(self.numbers(blocks) if numbers is None else numbers, *evidence)

    def _token_scopes(self, blocks: pd.DataFrame) -> list[tuple[str, str, pd.Series, str]]:
        """(attribute, column name prefix, token strings, token pattern) of each kind of token evidence."""
        # The first words say most ("reply", "share this", "posted in"); the whole text costs more.
        scopes = [("words_", "words", blocks["text"].str.slice(0, WORD_CHARS), WORD)]
        if self.dom:
            scopes = [("near_tokens_", "near", blocks["classid"], CLASS_TOKEN),
                      ("far_tokens_", "far", blocks["ancestor_classid"], CLASS_TOKEN), *scopes]
        return scopes

    def _name_features(self) -> None:
        example = pd.DataFrame({"page": ["p"], "text": ["x"], "link_chars": [0], "tag": ["p"], "path": ["p"],
                                "depth": [1], "indent": [0], "classid": [""], "ancestor_classid": [""]})
        self.feature_names_out_ = np.array(list(self.numbers(example).columns) + [
            name for attribute, prefix, _, _ in self._token_scopes(example)
            for name in getattr(self, attribute).names(prefix)])

    def numbers(self, blocks: pd.DataFrame) -> pd.DataFrame:
        """The columns that need no labels, computed page by page: whole pages give them their meaning."""
        # Pages as numbers: each grouping by page hashes its keys again, and page ids are long strings.
        blocks = blocks.reset_index(drop=True).assign(page=pd.factorize(blocks["page"])[0])
        numbers = text_features(blocks["text"], blocks["link_chars"], blocks["indent"])
        parts = [numbers, page_features(blocks, numbers), main_run_features(blocks["page"], numbers["words"]),
                 context_features(blocks["page"], numbers, self.context)]
        if self.dom:
            parts.append(dom_features(blocks))
        if self.threads:
            parts += [thread_features(blocks, numbers), repeat_features(blocks, numbers)]
        return pd.concat(parts, axis=1)

    def transform(self, blocks: pd.DataFrame, numbers: pd.DataFrame | None = None) -> np.ndarray:
        return self._matrix(self.numbers(blocks) if numbers is None else numbers,
                            *(getattr(self, name).transform(strings) for name, _, strings, _ in self._token_scopes(blocks)))

    @staticmethod
    def _matrix(numbers: pd.DataFrame, *parts: np.ndarray) -> np.ndarray:
        # Row-major: LightGBM predicts row by row (a column-major matrix served scikit-learn's boosting).
        return np.hstack([numbers.to_numpy(dtype=np.float32), *parts], dtype=np.float32)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return self.feature_names_out_
