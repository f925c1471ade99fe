"""winnow: learn to separate the parts of a web page.

    import winnow
    model = winnow.load_model()            # the shipped default model
    blocks = model.predict(html)           # one row per block: text, predicted, proba_<label>
    page = model.extract(html)             # {"page", "title", "text", "comments"}

`winnow.predict(source)` and `winnow.extract(source)` do the same with the default model; a source is
markup or text (str or bytes), a `pathlib.Path`, or a `winnow.Page`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

# Import the `winnow.predict` subpackage before defining the `predict` function below: importing a
# submodule later would otherwise rebind the name `winnow.predict` to the subpackage.
import winnow.predict.batch  # noqa: F401
from winnow.model import ModelError, WinnowModel
from winnow.model import load_model as _load_model
from winnow.pages import Page, PageError, read_page
from winnow.segment import LABELS, segment

__all__ = ["LABELS", "ModelError", "Page", "PageError", "WinnowModel", "extract", "load_model", "predict",
           "read_page", "segment"]


@lru_cache(maxsize=4)
def _cached(path: str | None) -> WinnowModel:
    return _load_model(path)


def load_model(path: str | Path | None = None) -> WinnowModel:
    """Load a model file, or the shipped default model when `path` is None (loaded once, then cached)."""
    return _cached(str(path) if path else None)


def predict(source, model: WinnowModel | None = None, input_format: str = "auto") -> pd.DataFrame:
    """Every block of one page with its predicted label and probabilities."""
    return (model or load_model()).predict(source, input_format)


def extract(source, model: WinnowModel | None = None, input_format: str = "auto") -> dict:
    """{"page", "title", "text", "comments"} of one page."""
    return (model or load_model()).extract(source, input_format)
