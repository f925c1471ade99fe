"""What a block's tokens say about its label, learned from labeled blocks (target encoding).

The tokens are the class/id names of a block's element and its ancestors, or the first words of its
text ("reply", "share", "thanks"): the one lexical signal a plain-text page has.

Each token's label shares over the training blocks, pulled toward the overall shares by `smoothing`
pseudo-blocks, become log-ratios ("sidebar" blocks are chrome 3x more often than blocks are). A block
gets, per label, the mean of its tokens' ratios and the strongest for and against, plus how many known
tokens it has. A handful of columns instead of one per token: the boosting fits about 3x faster and
hears every token seen on 5+ blocks, not only the most frequent (docs/DESIGN.md).

On the training blocks themselves the ratios are cross-fitted, as scikit-learn's TargetEncoder does:
each page's blocks are encoded with tables learned from the other folds' pages, so a token seen on one
page only does not hand the model that page's labels.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer

from winnow.text_features import CHAR_CLASSES

STATISTICS = ("mean", "max", "min")
FOLDS = 5
CLASS_TOKEN = r"[a-z]{2,}"
WORD = r"[^\W\d_]{2,}"  # letters of any script


class TokenEvidence:
    """Token strings of blocks -> per-label evidence columns.

    max_tokens: how many tokens (most frequent, each on 5+ blocks) get a ratio.
    smoothing: pseudo-blocks at the overall label shares added to every token's counts.
    token_pattern: what a token is (regex over the lowercased string).
    """

    def __init__(self, max_tokens: int = 5000, smoothing: float = 5.0, token_pattern: str = CLASS_TOKEN):
        self.max_tokens = max_tokens
        self.smoothing = smoothing
        self.token_pattern = token_pattern

    def fit(self, tokens: pd.Series, labels: np.ndarray) -> TokenEvidence:
        self._fit(tokens, labels)
        return self

    def fit_transform(self, tokens: pd.Series, labels: np.ndarray, pages: pd.Series) -> np.ndarray:
        """Fit on all blocks; encode each fold of pages with the ratios of the other folds."""
        matrix = self._fit(tokens, labels)
        fold = pd.factorize(pages)[0] % FOLDS
        if fold.max() == 0:  # one page: nothing to hold out
            return self._encode(matrix, self.ratios_)
        out = np.empty((len(tokens), 1 + len(STATISTICS) * len(self.classes_)), np.float32)
        for f in range(FOLDS):
            rows = fold == f
            if rows.any():
                out[rows] = self._encode(matrix[rows], self._ratios(matrix[~rows], labels[~rows]))
        return out

    def transform(self, tokens: pd.Series) -> np.ndarray:
        codes, uniques = pd.factorize(tokens)  # a page's blocks share few class strings: encode each once
        if _compiled is not None and self.token_pattern in _COMPILED_TOKENS:  # no token matrix: straight to the columns
            return _compiled.token_evidence(_strings(uniques), CHAR_CLASSES, _COMPILED_TOKENS[self.token_pattern], 2,
                                            self._vocabulary_table(), np.ascontiguousarray(self.ratios_))[codes]
        return self._encode(self._known_tokens(uniques), self.ratios_)[codes]

    def _known_tokens(self, strings: np.ndarray) -> sparse.csr_matrix:
        """strings x vocabulary: 1 where the string holds the token, as the fitted CountVectorizer finds them:
        in C where the token pattern is a run of one character class, else with one regex scan over all the
        strings joined (CountVectorizer looks up each token in a Python loop)."""
        vocabulary = self.vocabulary_.vocabulary_
        if _compiled is not None and self.token_pattern in _COMPILED_TOKENS:
            owner, column = _compiled.token_columns(_strings(strings), CHAR_CLASSES, _COMPILED_TOKENS[self.token_pattern],
                                                    2, self._vocabulary_table())
            return _binary(owner, column, (len(strings), len(vocabulary)))
        joined = "\n".join(strings) + "\n"
        if joined.count("\n") != len(strings):  # a string holds a line break: a token boundary, not an end
            joined = "".join(string.replace("\n", " ") + "\n" for string in strings)
        found = np.array(re.findall(f"\n|{self.token_pattern}", joined.lower()), dtype=object)
        is_end = found == "\n"
        owner = np.cumsum(is_end)[~is_end]  # the string a token is in: the ends before it
        position = pd.Index(list(vocabulary)).get_indexer(found[~is_end])
        known = position >= 0
        column = np.fromiter(vocabulary.values(), np.int64, len(vocabulary))[position[known]]
        return _binary(owner[known], column, (len(strings), len(vocabulary)))

    def _vocabulary_table(self):
        """The vocabulary as the compiled module looks tokens up (a StringTable), made once per fitted vocabulary."""
        vocabulary = self.vocabulary_.vocabulary_
        made = self.__dict__.get("_table")
        if made is None or made[0] is not vocabulary:
            made = self.__dict__["_table"] = (vocabulary, _compiled.StringTable(vocabulary))
        return made[1]

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_table", None)  # made again where it is used: a model file must not need the compiled module
        return state

    def names(self, prefix: str) -> list[str]:
        return [f"{prefix}_tokens"] + [f"{prefix}_{label}_{stat}" for label in self.classes_ for stat in STATISTICS]

    def _fit(self, tokens: pd.Series, labels: np.ndarray) -> sparse.csr_matrix:
        """Learn the vocabulary and the ratios; return the blocks' token matrix.

        The vocabulary is what CountVectorizer(min_df=5, max_features=max_tokens) learns from the blocks,
        counted over each distinct string once, weighted by how many blocks hold it: a page's blocks share
        few class strings, and tokenizing every block again cost most of the fitting time.
        """
        self.classes_ = np.unique(labels)
        codes, uniques = pd.factorize(tokens)
        every = CountVectorizer(binary=True, token_pattern=self.token_pattern, dtype=np.float32)
        try:
            found = every.fit_transform(uniques).tocsc()
            kept = self._frequent(found, np.bincount(codes, minlength=len(uniques)))
        except ValueError:  # no token at all (e.g. only text pages)
            kept = []
        terms = list(every.get_feature_names_out()[kept]) if len(kept) else ["none"]
        self.vocabulary_ = CountVectorizer(binary=True, vocabulary=terms, token_pattern=self.token_pattern,
                                           dtype=np.float32).fit([])
        # The blocks' matrix is cut from the counts already made, not tokenized again.
        matrix = found[:, kept].tocsr()[codes] if len(kept) else self._matrix(tokens)
        self.ratios_ = self._ratios(matrix, labels)
        return matrix

    def _frequent(self, found: sparse.csc_matrix, copies: np.ndarray) -> np.ndarray:
        """Columns of the tokens on 5+ blocks, the `max_tokens` on most blocks, chosen as CountVectorizer does."""
        blocks = np.asarray(found.T @ copies).ravel().astype(np.float32)  # the dtype CountVectorizer sorts
        mask = blocks >= 5
        if mask.sum() > self.max_tokens:
            mask[np.flatnonzero(mask)[np.argsort(-blocks[mask])[self.max_tokens:]]] = False
        return np.flatnonzero(mask)

    def _matrix(self, tokens: pd.Series) -> sparse.csr_matrix:
        codes, uniques = pd.factorize(tokens)
        return self._known_tokens(uniques)[codes]

    def _ratios(self, matrix: sparse.csr_matrix, labels: np.ndarray) -> np.ndarray:
        """tokens x labels: log of (smoothed share of the label among the token's blocks / overall share)."""
        onehot = (np.asarray(labels)[:, None] == self.classes_[None, :]).astype(np.float32)
        prior = np.maximum(onehot.mean(axis=0, keepdims=True), 1e-6)
        counts = np.asarray(matrix.T @ onehot)
        shares = (counts + self.smoothing * prior) / (counts.sum(axis=1, keepdims=True) + self.smoothing)
        return np.log(shares / prior).astype(np.float32)

    @staticmethod
    def _encode(matrix: sparse.csr_matrix, ratios: np.ndarray) -> np.ndarray:
        """Per row: its count of known tokens, then per label the mean of their ratios (summed in double in
        column order, rounded once), the largest (at least 0) and the smallest (at most 0): the strongest
        evidence for and against. The compiled token_evidence gives the same numbers."""
        matrix = matrix.tocsr()
        matrix.sum_duplicates()  # one entry per token, in column order
        matrix.sort_indices()
        rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
        known = np.diff(matrix.indptr).astype(np.float64)
        out = np.zeros((matrix.shape[0], 1 + len(STATISTICS) * ratios.shape[1]), np.float32)
        out[:, 0] = known
        for label in range(ratios.shape[1]):
            values = ratios[matrix.indices, label]
            # bincount adds each row's values in order, in double, as the compiled loop does
            out[:, 1 + 3 * label] = np.bincount(rows, weights=values.astype(np.float64), minlength=len(known)) / np.maximum(known, 1)
            np.maximum.at(out[:, 2 + 3 * label], rows, values)
            np.minimum.at(out[:, 3 + 3 * label], rows, values)
        return out


def _strings(strings) -> list[str]:
    """A list of the strings (a pandas Index or array iterates one element at a time, through Python)."""
    return strings.tolist() if hasattr(strings, "tolist") else list(strings)


def _binary(rows: np.ndarray, columns: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    """1 at each (row, column) found, once however often: as CountVectorizer(binary=True)."""
    matrix = sparse.csr_matrix((np.ones(len(rows), np.float32), (rows, columns)), shape=shape)
    matrix.sum_duplicates()
    matrix.data[:] = 1
    return matrix


# Token patterns that are runs (2 or more) of one of text_features' character classes: those the compiled
# module finds itself.
_COMPILED_TOKENS = {CLASS_TOKEN: "lower", WORD: "letter"}
try:  # winnow._textstats (setup.py): the same tokens, found faster
    from winnow import _textstats as _compiled
except ImportError:
    _compiled = None
