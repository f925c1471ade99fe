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

from winnow.page_rows import PageRows
from winnow.text_features import line_keys, lowered_lines, text_features
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


def _frame(columns: dict[str, np.ndarray], index: pd.Index, fill: float | None = None) -> pd.DataFrame:
    """Named columns as one float32 frame (NaN: `fill`)."""
    matrix = np.empty((len(index), len(columns)), dtype=np.float32)
    for k, values in enumerate(columns.values()):
        matrix[:, k] = values
    if fill is not None:
        matrix[np.isnan(matrix)] = fill
    return pd.DataFrame(matrix, index=index, columns=list(columns), copy=False)  # the matrix is its own


def words_before_share(rows: PageRows, words: np.ndarray) -> np.ndarray:
    """The share of its page's words that come before each block (float32 words)."""
    return (rows.cumulative(words).astype(np.float32) - words) / np.maximum(rows.total(words).astype(np.float32), 1)


LONG_BLOCK_WORDS = 20  # a block this long is prose: it spans the page's long span and its runs of prose


def page_features(blocks: pd.DataFrame, numbers: pd.DataFrame, rows: PageRows | None = None) -> pd.DataFrame:
    """Where a block stands in its page."""
    rows = rows or PageRows(blocks["page"])
    words = numbers["words"].to_numpy(np.float32)
    size = rows.size().astype(np.float32)
    position = rows.position().astype(np.float32)
    long_block = words >= LONG_BLOCK_WORDS
    same_text = rows.numbers() * (len(words) + 1) + pd.factorize(blocks["text"])[0]
    _, same_text, repeats = np.unique(same_text, return_inverse=True, return_counts=True)
    return _frame({
        "page_blocks": size,
        "position": position / size,
        "words_before": words_before_share(rows, words),
        "words_share": words / np.maximum(rows.total(words).astype(np.float32), 1),
        "words_vs_max": words / np.maximum(rows.maximum(words), 1),
        "from_densest": (position - rows.first_place_of_max(words).astype(np.float32)) / size,
        "inside_long_span": (position >= rows.first_place(long_block)) & (position <= rows.last_place(long_block)),
        "repeats": repeats[same_text],
    }, blocks.index)


MAIN_RUN_GAP = 2  # a run of prose goes on past this many shorter blocks (a subheading, a caption), not more
MAIN_RUN_REACH = 50  # blocks; farther from the main run counts as far


def main_run_features(page: pd.Series, words: pd.Series, rows: PageRows | None = None) -> pd.DataFrame:
    """Where a block stands against its page's main run of prose: the run of long blocks, broken by no more
    than MAIN_RUN_GAP shorter ones, that holds the most words (the first such run on a tie). An article's
    text is one such run; the comments after it start a run of their own, past a share bar or a "Previous
    post" link."""
    rows = rows or PageRows(page)
    values = words.to_numpy(np.float64)
    page_of, place = rows.numbers(), rows.position()
    long_rows = np.flatnonzero(values >= LONG_BLOCK_WORDS)
    long_rows = long_rows[np.lexsort((place[long_rows], page_of[long_rows]))]  # page by page, in order
    long_pages, long_places = page_of[long_rows], place[long_rows]
    new_run = np.ones(len(long_rows), bool)
    new_run[1:] = (np.diff(long_places) > MAIN_RUN_GAP + 1) | (np.diff(long_pages) != 0)
    run_starts = np.flatnonzero(new_run)
    run_ends = np.append(run_starts[1:], len(long_rows)) - 1
    run_words = np.add.reduceat(values[long_rows], run_starts) if len(run_starts) else np.zeros(0)
    best = np.lexsort((run_starts, -run_words, long_pages[run_starts]))  # per page: most words, then first
    best = best[np.unique(long_pages[run_starts][best], return_index=True)[1]]
    start = np.full(len(rows.starts), np.nan)  # NaN on pages without a long line
    end = start.copy()
    start[long_pages[run_starts[best]]] = long_places[run_starts[best]]
    end[long_pages[run_starts[best]]] = long_places[run_ends[best]]
    start, end = start[page_of], end[page_of]
    return _frame({"inside_main_run": (place >= start) & (place <= end),
                   "after_main_run": np.clip(place - end, 0, MAIN_RUN_REACH),
                   "before_main_run": np.clip(start - place, 0, MAIN_RUN_REACH)}, words.index, fill=-1)


def context_features(page: pd.Series, numbers: pd.DataFrame, context: int, rows: PageRows | None = None
                     ) -> pd.DataFrame:
    """The chosen text numbers of neighbouring blocks in the same page (-1 where there is none)."""
    rows = rows or PageRows(page)
    values = numbers[CONTEXT_FEATURES].to_numpy(np.float32)
    columns = {}
    for offset in [o for o in range(-context, context + 1) if o]:
        shifted = rows.shifted(values, offset)
        for k, name in enumerate(CONTEXT_FEATURES):
            columns[f"{name}@{-offset:+d}"] = shifted[:, k]
    for window in (5, 15):
        means = rows.window_means(numbers[["words", "link_density"]].to_numpy(np.float64), window)
        columns[f"words_mean@{window}"] = means[:, 0]
        columns[f"link_density_mean@{window}"] = means[:, 1]
    return _frame(columns, numbers.index, fill=-1)


# "Comments", "{ 12 comments }", "One comment", "8 appreciated comments on ..."
_COMMENT_HEADER = re.compile(r"^[\s{(\[]*(?:(?:\d+|no|one|two|three|four|five|six|seven|eight|nine|ten)\s+"
                             r"(?:[a-z]+\s+)?)?(?:comments?|responses?|replies|reader comments|discussion|add a comment"
                             r"|leave a (?:comment|reply)|join the discussion|post a comment|view all comments)\b")
RHYTHM_FEATURES = ["ago", "comment_cue", "counter", "short", "bullet", "time", "avatar", "date"]
STAMP_REACH = 20  # lines; farther from a stamp (time, date, avatar) counts as far
REPEAT_REACH = 10  # lines either side in which a line's shape, first or last word is looked for again
SHAPE_LINE_WORDS = 12  # longer lines are prose: their shape is not looked for
SHORT_LINE_WORDS = 5  # the first and last word of lines this short are their shape ("Kevin said,", "1. Al")


def _repeats(spots: np.ndarray, keys: np.ndarray, reach: int = REPEAT_REACH) -> np.ndarray:
    """How many other blocks within `reach` places in the same page have the same key (key 0: none).

    `spots` number the blocks so that two blocks of one page lie as far apart as their positions, and
    blocks of different pages lie far apart (repeat_features)."""
    codes = pd.factorize(keys)[0].astype(np.int64)
    spot = codes * (spots.max(initial=0) + 2 * reach + 1) + spots  # keys never overlap within reach
    ordered = np.sort(spot)
    count = np.searchsorted(ordered, spot + reach, "right") - np.searchsorted(ordered, spot - reach, "left") - 1
    return np.where(keys == 0, 0, count)


def repeat_features(blocks: pd.DataFrame, numbers: pd.DataFrame, rows: PageRows | None = None,
                    lowered: list[str] | None = None) -> pd.DataFrame:
    """Lines whose shape comes back every few lines: the fields of comment threads ("August 9th, 2012 at
    8:38 am", "Kevin said,") and of link lists ("Source 3 days ago", "1. Al"), which rarely carry a cue.

    A line's shape is its lowercased text with numbers masked; short lines also have their first and last
    word (text_features.line_keys; `lowered`: the blocks' lowered_lines, where the caller has them).
    """
    rows = rows or PageRows(blocks["page"])
    words = numbers["words"].to_numpy()
    shape, first, last = line_keys(blocks["text"].tolist(), words <= SHORT_LINE_WORDS, words <= SHAPE_LINE_WORDS,
                                   lowered)
    position = rows.position()
    spots = rows.numbers() * (position.max(initial=0) + 2 * REPEAT_REACH + 1) + position
    return _frame({"shape_repeats": _repeats(spots, shape), "first_word_repeats": _repeats(spots, first),
                   "last_word_repeats": _repeats(spots, last)}, blocks.index)


def thread_features(blocks: pd.DataFrame, numbers: pd.DataFrame, rows: PageRows | None = None,
                    lowered: list[str] | None = None) -> pd.DataFrame:
    """Wide windows over line rhythms: what finds comment threads and link lists without a DOM.

    The share of lines with a relative time, a date, a comment word, a counter, a bullet, an avatar or few
    words in windows of 7 and 21 lines; whether a comment header ("Comments", "{ 12 comments }", ...) came earlier in
    the page, and how far back; the share of the page's "ago" lines still to come; how many lines back the
    last stamp (time, date or avatar) was, and how many lines ahead the next. `lowered`: the blocks'
    lowered_lines, where the caller has them.
    """
    rows = rows or PageRows(blocks["page"])
    words = numbers["words"].to_numpy(np.float32)
    rhythm = np.column_stack([(words <= 4).astype(np.float32) if name == "short" else
                              np.minimum(numbers[name].to_numpy(np.float32), 1) for name in RHYTHM_FEATURES])
    columns = {}
    for window in (7, 21):
        means = rows.window_means(rhythm, window)
        for k, name in enumerate(RHYTHM_FEATURES):
            columns[f"{name}_share@{window}"] = means[:, k]
    lowered = lowered_lines(blocks["text"]) if lowered is None else lowered
    header = np.array([_COMMENT_HEADER.match(text) is not None for text in lowered], bool)
    position = rows.position().astype(np.float32)
    size = rows.size().astype(np.float32)
    first_header = rows.first_place(header).astype(np.float32)
    columns["comment_header"] = header
    columns["after_comment_header"] = position > first_header
    columns["since_comment_header"] = np.nan_to_num((position - first_header) / size, nan=-1)
    # The last header before a line, not the first: a share bar's "Comments" link heads no thread.
    since_header = position - rows.place_before(header).astype(np.float32)
    columns["since_last_comment_header"] = np.minimum(np.nan_to_num(since_header, nan=STAMP_REACH), STAMP_REACH)
    words_before = rows.value_before(words_before_share(rows, words), header)
    columns["last_comment_header_words_before"] = np.nan_to_num(words_before, nan=-1)
    ago = rhythm[:, RHYTHM_FEATURES.index("ago")]
    total_ago = rows.total(ago).astype(np.float32)
    columns["ago_still_to_come"] = (total_ago - rows.cumulative(ago).astype(np.float32)) / np.maximum(total_ago, 1)
    # A comment is a stamp line ("jane 3 days ago", "May 2, 2012 at 7:21 pm", "Luke, on November 7th, 2012",
    # an avatar) and lines after it.
    stamped = (numbers[["ago", "time", "avatar", "date"]].to_numpy() > 0).any(axis=1)
    since_stamp = position - rows.place_before(stamped).astype(np.float32)
    until_stamp = rows.place_after(stamped).astype(np.float32) - position
    columns["since_stamp"] = np.minimum(np.nan_to_num(since_stamp, nan=STAMP_REACH), STAMP_REACH)
    columns["until_stamp"] = np.minimum(np.nan_to_num(until_stamp, nan=STAMP_REACH), STAMP_REACH)
    return _frame(columns, blocks.index, fill=0)


def dom_features(blocks: pd.DataFrame) -> pd.DataFrame:
    """The block's tag, the tags on its path, its depth."""
    tag_codes, tags = pd.factorize(blocks["tag"])  # a page uses few tags and paths: test each once
    path_codes, paths = pd.factorize(blocks["path"])
    tag_table = np.array([[tag == name for name in (*TAGS, "")] for tag in tags], dtype=bool).reshape(-1, len(TAGS) + 1)
    on_path = [set(path.split()) for path in paths]
    path_table = np.array([[marker in names for marker in PATH_MARKERS] for names in on_path], dtype=bool)
    columns = {f"tag={name}": tag_table[tag_codes, k] for k, name in enumerate(TAGS)}
    columns.update({f"in_{marker}": path_table.reshape(-1, len(PATH_MARKERS))[path_codes, k]
                    for k, marker in enumerate(PATH_MARKERS)})
    columns["depth"] = blocks["depth"].to_numpy()
    columns["text_page"] = tag_table[tag_codes, -1]
    return _frame(columns, blocks.index)


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
        return self._matrix([self.numbers(blocks) if numbers is None else numbers], *evidence)

    def _token_scopes(self, blocks: pd.DataFrame) -> list[tuple[str, str, pd.Series, str]]:
        """(attribute, column name prefix, token strings, token pattern) of each kind of token evidence."""
        # The first words say most ("reply", "share this", "posted in"); the whole text costs more.
        first_words = pd.Series([text[:WORD_CHARS] for text in blocks["text"].tolist()], blocks.index, dtype=object)
        scopes = [("words_", "words", first_words, WORD)]
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
        return pd.concat(self._number_parts(blocks), axis=1)

    def _number_parts(self, blocks: pd.DataFrame) -> list[pd.DataFrame]:
        """numbers' columns, in frames of a kind each."""
        blocks = blocks.reset_index(drop=True)
        rows = PageRows(blocks["page"])  # grouped once: page ids are long strings, and pandas hashes them per groupby
        lowered = lowered_lines(blocks["text"])  # for the cues, comment headers and line shapes alike
        numbers = text_features(blocks["text"], blocks["link_chars"], blocks["indent"], lowered)
        parts = [numbers, page_features(blocks, numbers, rows), main_run_features(blocks["page"], numbers["words"], rows),
                 context_features(blocks["page"], numbers, self.context, rows)]
        if self.dom:
            parts.append(dom_features(blocks))
        if self.threads:
            parts += [thread_features(blocks, numbers, rows, lowered), repeat_features(blocks, numbers, rows, lowered)]
        return parts

    def transform(self, blocks: pd.DataFrame, numbers: pd.DataFrame | None = None) -> np.ndarray:
        return self._matrix(self._number_parts(blocks) if numbers is None else [numbers],
                            *(getattr(self, name).transform(strings) for name, _, strings, _ in self._token_scopes(blocks)))

    @staticmethod
    def _matrix(numbers: list[pd.DataFrame], *evidence: np.ndarray) -> np.ndarray:
        # Row-major: LightGBM predicts row by row (a column-major matrix served scikit-learn's boosting). A frame
        # of one float32 block gives a view of it, so the features are copied once, here.
        return np.hstack([part.to_numpy(dtype=np.float32) for part in numbers] + list(evidence), dtype=np.float32)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return self.feature_names_out_
