"""The block classifier: content first, then comment vs chrome among the rest.

Most labeled sets say only what the article is: their reader comments count as chrome (or, on forums,
as content). Learned as three flat classes, such sets teach the model that comments on pages like
theirs are chrome, and it stops finding comments on modern pages. So the decision is split in two:
  1. content vs the rest, learned from every set;
  2. comment vs chrome among the rest, learned only from blocks of sets that label comments.
P(content) = p1, P(comment) = (1 - p1) * p2, P(chrome) = (1 - p1) * (1 - p2).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone


def _fit_binary(estimator, X, target: np.ndarray):
    """A fitted estimator, or the constant share when `target` holds one value only."""
    if target.size == 0:
        return 0.0
    if target.all() or not target.any():
        return float(target[0])
    return clone(estimator).fit(X, target)


def _proba_true(model, X) -> np.ndarray:
    if isinstance(model, float):
        return np.full(len(X), model)
    return model.predict_proba(X)[:, list(model.classes_).index(True)]


class ContentThenComment(ClassifierMixin, BaseEstimator):
    """Two binary classifiers composed into content / comment / chrome probabilities.

    content_model: estimator for content vs the rest (fitted on all rows).
    comment_model: estimator for comment vs chrome (fitted on non-content rows whose set labels comments).
    """

    def __init__(self, content_model=None, comment_model=None):
        self.content_model = content_model
        self.comment_model = comment_model

    def fit(self, X, y, comment_labeled=None):
        """`comment_labeled`: per row, whether its set labels comments (default: all rows)."""
        y = np.asarray(y)
        trusted = np.ones(len(y), bool) if comment_labeled is None else np.asarray(comment_labeled, bool)
        self.classes_ = np.array(sorted(set(y.tolist())))
        is_content = y == "content"
        self.content_model_ = _fit_binary(self.content_model, X, is_content)
        rest = ~is_content & trusted
        self.comment_model_ = _fit_binary(self.comment_model, X[rest], y[rest] == "comment")
        return self

    def predict_proba(self, X) -> np.ndarray:
        content = _proba_true(self.content_model_, X)
        comment = (1 - content) * _proba_true(self.comment_model_, X)
        by_label = {"content": content, "comment": comment, "chrome": 1 - content - comment}
        proba = np.column_stack([by_label[label] for label in self.classes_])
        return proba / proba.sum(axis=1, keepdims=True).clip(min=1e-12)

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
