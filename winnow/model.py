"""The model: a scikit-learn pipeline over the blocks table, saved with its model card.

A model holds two pipelines: one for HTML pages and, optionally, one for plain-text pages (trained on
labeled HTML pages rendered to text); each block goes to the pipeline of its page's kind. A model file is
a joblib pickle of {"format", "card", "pipeline", "text_pipeline"}. Loading a pickle runs code: load
only model files you trust.
"""

from __future__ import annotations

import hashlib
import platform
import warnings
from importlib import metadata, resources
from pathlib import Path

import joblib
import lightgbm
import numpy as np
import pandas as pd
import sklearn
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.pipeline import Pipeline

import winnow.lightgbm_threads  # noqa: F401 - threadpoolctl limits now reach LightGBM
from winnow.features import FEATURES_VERSION, MAX_CLASS_TOKENS, BlockFeatures
from winnow.page_rows import PageRows
from winnow.pages import Page, as_page
from winnow.segment import LABELS, segment
from winnow.trees import CompiledTrees

MODEL_FORMAT = "winnow-model/1"
SKOPS_SUFFIX = ".skops"
SKOPS_HEADER = "WINNOW-SKOPS/1"
# Beyond what skops trusts by default: the types a winnow pipeline is made of.
# A LightGBM booster is rebuilt from its model text, which LightGBM parses; no pickled code runs. Models
# made before stop 22 hold scikit-learn's boosting instead (TreePredictor): they still load.
TRUSTED_TYPES = ["lightgbm.sklearn.LGBMClassifier", "lightgbm.basic.Booster", "collections.OrderedDict",
                 "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
                 "winnow.features.BlockFeatures", "winnow.token_evidence.TokenEvidence"]
DEFAULT_MODEL = "default.joblib"


class ModelError(RuntimeError):
    """A model file that cannot be used; the message says what to do."""


# Boosting for HTML pages; on a held-out fifth of dragnet:train (with the default recipe's other sets)
# it beat 100 iterations at 0.2 with 31 leaves, at 2.3 times the fitting time (docs/DESIGN.md). LightGBM
# scales its multiclass hessians by classes / (classes - 1): its rate 0.15 takes scikit-learn's steps of 0.1.
MAX_ITER, LEARNING_RATE, MAX_LEAF_NODES = 200, 0.15, 63
# A leaf's value shrinks toward its parent's by how few blocks back it (path smoothing) and toward 0 (the L2
# penalty): on the five held-out fifths of dragnet:train (the default recipe) content rose on every fifth,
# from 0.9543 to 0.9579 in the mean, comment level; wcxb-dev's three folds by site fell by 0.002
# (docs/DESIGN.md). Either one alone gained half as much.
REG_LAMBDA, PATH_SMOOTH = 5.0, 10.0


# Prediction stops adding trees for a block once its most probable label leads the next by 4 in raw score,
# checked every 10 iterations (LightGBM's pred_early_stop): the classifier runs 2.3 times as fast. Against
# all the trees, it changed the labels of 21 of 183,593 dragnet blocks, 3 of 373,707 wcxb blocks and 34 of
# 200,371 text lines of the default model's training sets (stop 30's model; docs/DESIGN.md).
EARLY_STOP = {"pred_early_stop": True, "pred_early_stop_margin": 4.0, "pred_early_stop_freq": 10}


def make_pipeline(max_iter: int = MAX_ITER, learning_rate: float = LEARNING_RATE, max_leaf_nodes: int = MAX_LEAF_NODES,
                  max_class_tokens: int = MAX_CLASS_TOKENS, context: int = 2, threads: bool = True,
                  dom: bool = True, random_state: int = 0) -> Pipeline:
    # n_jobs=None: LightGBM asks for a thread per physical core on every call; OMP_NUM_THREADS and
    # threadpool_limits (batch workers, benchmarks) cap it (lightgbm_threads.py).
    classifier = lightgbm.LGBMClassifier(n_estimators=max_iter, learning_rate=learning_rate,
                                         num_leaves=max_leaf_nodes, reg_lambda=REG_LAMBDA, path_smooth=PATH_SMOOTH,
                                         min_child_samples=20,
                                         n_jobs=None, random_state=random_state, verbose=-1)
    return Pipeline([("features", BlockFeatures(max_class_tokens=max_class_tokens, context=context, threads=threads,
                                                dom=dom)),
                     ("classifier", classifier)])


def library_versions() -> dict:
    return {"winnow": _version("winnow"), "scikit-learn": sklearn.__version__, "lightgbm": lightgbm.__version__,
            "numpy": np.__version__, "pandas": pd.__version__, "python": platform.python_version()}


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


# Every page has a main text. On a page whose blocks labeled content hold fewer words than this (a
# product, a listing, a forum thread, where the model finds no article), the blocks whose content
# probability comes closest to the page's highest are taken as its content (docs/DESIGN.md).
SCANT_CONTENT_WORDS = 300
SCANT_CONTENT_SHARE = 0.45  # of the page's highest content probability
SCANT_CONTENT_FLOOR = 0.1  # a page where no block comes this close to content (an error page) is left alone
# An article's text sits together. On a page whose sure content blocks hold most of its content words, a
# block labeled content though the model is unsure of it, more than CONTENT_REACH blocks from any block it
# is sure of, is a teaser, a caption of another story or a stray quote: it takes its next most probable
# label (docs/DESIGN.md).
CONTENT_SURE = 0.7
CONTENT_SURE_SHARE = 0.5  # of the page's content words, in sure blocks
CONTENT_REACH = 3
# In a comment thread the model is often surer of the stamp and name lines ("August 9th, 2012 at 8:38 am",
# "Kevin said,") than of the comment text between them. The blocks of a gap of at most THREAD_GAP blocks
# between two comment blocks of a page are comments too, those with a comment probability of at least
# THREAD_FLOOR (docs/DESIGN.md).
THREAD_GAP = 10
THREAD_FLOOR = 0.05
# A page may hold its article twice (a hidden copy for another layout, a print version); the extracted text
# should not. A content block that repeats an earlier content block of its page word for word, REPEAT_WORDS
# words or more, is chrome (docs/DESIGN.md).
REPEAT_WORDS = 8


def decode(blocks: pd.DataFrame, proba: np.ndarray, labels: list[str],
           comment_threshold: np.ndarray | float | None = None) -> np.ndarray:
    """Each block's label from its probabilities (columns in `labels` order): the most probable one, except
    that a block whose comment probability reaches `comment_threshold` (per block, or one for all) is a
    comment, that on a page with scant content (grouped by `page`) the most content-like blocks not
    labeled comment become content, that content far from the page's sure content is not content, that
    short gaps in a comment thread are comments, and that content repeated word for word is chrome.
    A page's blocks are consecutive rows, in reading order."""
    best = proba.argmax(axis=1)
    predicted = np.asarray(labels)[best]
    if comment_threshold is not None and "comment" in labels:
        predicted[proba[:, labels.index("comment")] >= comment_threshold] = "comment"
    words = np.array([text.count(" ") for text in blocks["text"].tolist()], dtype=np.int64) + 1  # pandas' is a regex
    rows = PageRows(blocks["page"])
    if "content" in labels:
        _content_rules(rows, proba, labels, predicted, words)
    if "comment" in labels:
        back, ahead = _anchor_distances(predicted == "comment", rows)
        in_gap = back + ahead - 1 <= THREAD_GAP  # the gap's length
        predicted[in_gap & (proba[:, labels.index("comment")] >= THREAD_FLOOR)] = "comment"
    if "content" in labels and "chrome" in labels:
        predicted[_repeated(blocks, (predicted == "content") & (words >= REPEAT_WORDS))] = "chrome"
    return predicted


def _content_rules(rows: PageRows, proba: np.ndarray, labels: list[str], predicted: np.ndarray,
                   words: np.ndarray) -> None:
    """The scant-content and stray-content rules of `decode`, applied to `predicted` in place."""
    content = proba[:, labels.index("content")]
    page_best = rows.maximum(content)
    scant = (rows.total(np.where(predicted == "content", words, 0)) < SCANT_CONTENT_WORDS) & (page_best >= SCANT_CONTENT_FLOOR)
    predicted[scant & (content >= SCANT_CONTENT_SHARE * page_best) & (predicted != "comment")] = "content"
    stray = _stray_content(predicted == "content", content, words, rows)
    if stray.any():
        runner_up = np.where(np.arange(len(labels)) == labels.index("content"), -1.0, proba[stray]).argmax(axis=1)
        predicted[stray] = np.asarray(labels)[runner_up]


def _stray_content(is_content: np.ndarray, content: np.ndarray, words: np.ndarray, rows: PageRows) -> np.ndarray:
    """Content blocks the model is unsure of, far from the sure ones, on pages whose sure blocks hold most
    of the content's words (an article; on a listing, the scattered parts are the content)."""
    sure = content >= CONTENT_SURE
    article = rows.total(np.where(is_content & sure, words, 0)) >= CONTENT_SURE_SHARE * rows.total(np.where(is_content, words, 0))
    return is_content & ~sure & article & _far_from(sure, rows)


def _repeated(blocks: pd.DataFrame, flagged: np.ndarray) -> np.ndarray:
    """Flagged blocks whose text a flagged block before them in the same page has."""
    rows = np.flatnonzero(flagged)
    repeated = np.zeros(len(blocks), bool)
    repeated[rows[blocks[["page", "text"]].iloc[rows].duplicated().to_numpy()]] = True
    return repeated


def _anchor_distances(anchors: np.ndarray, rows: PageRows) -> tuple[np.ndarray, np.ndarray]:
    """Per row, how many rows back the nearest anchor row of its page is, and how many ahead (inf: none)."""
    position = rows.position()
    back, ahead = position - rows.place_before(anchors), rows.place_after(anchors) - position
    return np.where(np.isnan(back), np.inf, back), np.where(np.isnan(ahead), np.inf, ahead)


def _far_from(anchors: np.ndarray, rows: PageRows, reach: int = CONTENT_REACH) -> np.ndarray:
    """Rows more than `reach` rows from every anchor row of their page; False on pages without anchors."""
    back, ahead = _anchor_distances(anchors, rows)
    return (np.isfinite(back) | np.isfinite(ahead)) & (back > reach) & (ahead > reach)


class WinnowModel:
    """Fitted pipelines and their card, with the verbs users need: predict blocks, extract pages."""

    def __init__(self, pipeline: Pipeline, card: dict | None = None, text_pipeline: Pipeline | None = None):
        self.pipeline = pipeline
        self.card = card or {}
        self.text_pipeline = text_pipeline

    @property
    def labels(self) -> list[str]:
        return [str(c) for c in self.pipeline.classes_]

    def _proba(self, pipeline: Pipeline, blocks: pd.DataFrame) -> np.ndarray:
        """Probabilities in the column order of `self.labels`, whatever the pipeline's own order."""
        boosted = isinstance(pipeline, Pipeline) and isinstance(pipeline[-1], lightgbm.LGBMClassifier)
        trees = self._compiled_trees(pipeline[-1]) if boosted else None
        if trees is not None:
            proba = trees.predict_proba(pipeline[:-1].transform(blocks), **EARLY_STOP)
        else:
            proba = pipeline.predict_proba(blocks, **(EARLY_STOP if boosted else {}))
        order = [str(c) for c in pipeline.classes_]
        return np.column_stack([proba[:, order.index(lab)] if lab in order else np.zeros(len(blocks))
                                for lab in self.labels])

    def _compiled_trees(self, classifier: lightgbm.LGBMClassifier) -> CompiledTrees | None:
        """The classifier's trees walked in C (trees.py), made on first use; None where they cannot be."""
        made = self.__dict__.setdefault("_trees", {})
        if id(classifier) not in made or made[id(classifier)][0] is not classifier:
            made[id(classifier)] = (classifier, CompiledTrees.of(classifier.booster_))
        return made[id(classifier)][1]

    def label_blocks(self, blocks: pd.DataFrame) -> pd.DataFrame:
        """The blocks table with `predicted` and one `proba_<label>` column per label added."""
        blocks = blocks.reset_index(drop=True)
        if blocks.empty:
            return blocks.assign(predicted=pd.Series(dtype=str), **{f"proba_{lab}": pd.Series(dtype=float) for lab in LABELS})
        proba = np.zeros((len(blocks), len(self.labels)))
        is_text = (blocks["tag"] == "").to_numpy() if self.text_pipeline is not None else np.zeros(len(blocks), bool)
        for rows, pipeline in ((~is_text, self.pipeline), (is_text, self.text_pipeline)):
            if rows.any():
                proba[rows] = self._proba(pipeline, blocks if rows.all() else blocks[rows])
        columns = {f"proba_{label}": proba[:, i] for i, label in enumerate(self.labels)}
        text_threshold = (self.card.get("text_model") or {}).get("comment_threshold")
        thresholds = np.where(is_text, text_threshold, np.inf) if text_threshold is not None else None
        predicted = decode(blocks, proba, self.labels, thresholds)
        return blocks.assign(predicted=predicted, **columns)

    def predict(self, source: Page | str | bytes | Path, input_format: str = "auto") -> pd.DataFrame:
        """Every block of one page with its predicted label and probabilities."""
        page = as_page(source, input_format)
        return self.label_blocks(segment(page))

    def extract(self, source: Page | str | bytes | Path, input_format: str = "auto") -> dict:
        """{"page", "title", "text", "comments"} of one page."""
        from winnow.predict.extract import assemble

        page = as_page(source, input_format)
        blocks = segment(page)
        return assemble(page.id, self.label_blocks(blocks), blocks.attrs.get("title", ""))

    def save(self, path: str | Path) -> Path:
        """Write the model file whole or not at all: skops format for a `.skops` path, else a joblib pickle."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        stored = {"format": MODEL_FORMAT, "features_version": FEATURES_VERSION, "card": self.card,
                  "pipeline": self.pipeline, "text_pipeline": self.text_pipeline}
        scratch = path.with_name(path.name + ".tmp")
        if path.suffix == SKOPS_SUFFIX:
            import skops.io as skops_io  # here, not at the top: importing it takes seconds (all of sklearn)

            payload = skops_io.dumps(stored)
            scratch.write_bytes(f"{SKOPS_HEADER} {hashlib.sha256(payload).hexdigest()}\n".encode() + payload)
        else:
            joblib.dump(stored, scratch, compress=3)
        scratch.replace(path)
        return path


def default_model_path() -> Path:
    return Path(str(resources.files("winnow") / "models" / DEFAULT_MODEL))


def _read_joblib(path: Path):
    try:
        return joblib.load(path)
    except Exception as error:  # a pickle can fail in many ways; all mean "not a usable model"
        raise ModelError(f"{path}: not a readable winnow model ({type(error).__name__}: {error})") from error


def _read_skops(path: Path):
    """A skops model file: its hash checked, and only types winnow trusts rebuilt (no code runs)."""
    import skops.io as skops_io

    header, _, payload = path.read_bytes().partition(b"\n")
    magic, _, digest = header.decode("ascii", "replace").partition(" ")
    if magic != SKOPS_HEADER:
        raise ModelError(f"{path}: not a winnow skops model file")
    if hashlib.sha256(payload).hexdigest() != digest:
        raise ModelError(f"{path}: the file is damaged (its content does not match the hash recorded when it was saved)")
    try:
        return skops_io.loads(payload, trusted=TRUSTED_TYPES)
    except skops_io.exceptions.UntrustedTypesFoundException as error:
        raise ModelError(f"{path}: holds types winnow does not trust, refused: {error}") from error
    except Exception as error:  # noqa: BLE001 - any failure to rebuild means the file is unusable
        raise ModelError(f"{path}: not a readable winnow model ({type(error).__name__}: {error})") from error


def _version_mismatch(path: Path, library: str, saved: str, installed: str) -> ModelError:
    return ModelError(f"{path}: saved with {library} {saved}, but {installed} is installed: "
                      f"run `pip install {library}=={saved}` or retrain the model")


def load_model(path: str | Path | None = None) -> WinnowModel:
    """Load a model file; None loads the shipped default model.

    A joblib file is a pickle: loading it runs code, so load only files you trust. A `.skops` file
    rebuilds only scikit-learn, LightGBM and winnow types and is checked against its recorded hash: use it for
    models that travel.
    """
    path = Path(path) if path else default_model_path()
    if not path.is_file():
        hint = " (the default model is built by `winnow train --preset default`)" if path == default_model_path() else ""
        raise ModelError(f"{path}: model file not found{hint}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InconsistentVersionWarning)
        stored = _read_skops(path) if path.suffix == SKOPS_SUFFIX else _read_joblib(path)
    if not isinstance(stored, dict) or stored.get("format") != MODEL_FORMAT:
        raise ModelError(f"{path}: not a winnow model file (expected format {MODEL_FORMAT})")
    versions = stored["card"].get("versions", {})
    sklearn_saved = versions.get("scikit-learn", "unknown")
    if any(issubclass(w.category, InconsistentVersionWarning) for w in caught) or sklearn_saved != sklearn.__version__:
        raise _version_mismatch(path, "scikit-learn", sklearn_saved, sklearn.__version__)
    if versions.get("lightgbm", lightgbm.__version__) != lightgbm.__version__:  # a model without one is not checked
        raise _version_mismatch(path, "lightgbm", versions["lightgbm"], lightgbm.__version__)
    if stored.get("features_version") != FEATURES_VERSION:
        made_by = versions.get("winnow", "unknown")
        raise ModelError(f"{path}: made by winnow {made_by} with other block features than this winnow "
                         f"({_version('winnow')}) computes: retrain the model, or install winnow=={made_by}")
    return WinnowModel(stored["pipeline"], stored["card"], stored.get("text_pipeline"))
