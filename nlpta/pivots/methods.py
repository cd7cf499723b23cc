"""Registry adapters: ``scl``, ``scl-mi``, ``sfa`` (sentiment; ``scl`` also POS) and ``cl-scl``.

Sentiment (Blitzer et al. 2007 setting): the pivot transformer is fitted on binary uni+bigram
counts of the source train texts and the target unlabeled texts; the classifier is the ``none``
baseline's -- tf-idf uni+bigram logistic regression, vectorizer fitted on the source -- reading
``[tfidf(x), scale * projection(x)]``, with C and the projection's scale chosen together by
stratified 5-fold CV on the source (the fair comparison with ``none``, which picks C the same way).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import datasets
import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from ..errors import NlptaError, NotFittedError
from ..io import atomic_write_json
from ..methods import Method, register
from ..models.classical import BowSentimentClassifier
from ..tasks import TransferTask
from .base import PivotTransformer
from .scl import SCL
from .sfa import SFA

_SENTI_COMMON: dict[str, Any] = {"ngram_range": [1, 2], "min_df": 3, "Cs": [0.1, 1.0, 10.0, 100.0],
                                 "scales": [1.0], "cv": 5, "max_unlabeled": None}


def sample_texts(texts: list[str], limit: int | None, seed: int) -> list[str]:
    """A seeded sample of ``limit`` texts (all of them if ``limit`` is None or not smaller)."""
    if limit is None or limit >= len(texts):
        return list(texts)
    idx = np.sort(np.random.default_rng(seed).permutation(len(texts))[:limit])
    return [texts[i] for i in idx]


def cv_select(blocks: list[sp.spmatrix | np.ndarray], Z: np.ndarray, y: np.ndarray, Cs, scales, folds: int,
              seed: int) -> tuple[float, float, dict]:
    """Choose (scale, C) for logistic regression on ``[*blocks, scale * Z]`` by stratified k-fold
    accuracy on the source. Returns ``(scale, C, {"scale,C": accuracy})``."""
    skf = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))
    scores: dict[str, float] = {}
    best = (-1.0, 0.0, 0.0)
    for a in scales:
        X = sp.hstack([*blocks, sp.csr_matrix(a * Z)], format="csr")
        for C in Cs:
            acc = np.mean([LogisticRegression(C=C, solver="liblinear", max_iter=2000, random_state=seed)
                           .fit(X[tr], y[tr]).score(X[te], y[te]) for tr, te in skf])
            scores[f"{a},{C}"] = float(acc)
            if acc > best[0] + 1e-12:
                best = (acc, a, C)
    return best[1], best[2], scores


class _PivotSentiment(Method):
    """Shared sentiment adapter; subclasses set ``transformer`` and their defaults."""

    tasks: ClassVar[tuple[str, ...]] = ("sentiment",)
    transformer: ClassVar[type[PivotTransformer]] = SCL
    transformer_params: ClassVar[tuple[str, ...]] = ()

    def _make_transformer(self, names: np.ndarray) -> PivotTransformer:
        kw = {k: self.params[k] for k in self.transformer_params}
        return self.transformer(**kw, concat=False, feature_names=list(names), random_state=self.seed)

    def fit(self, task: TransferTask) -> _PivotSentiment:
        if task.unlabeled is None:
            raise NlptaError(f"method {self.name!r} needs target unlabeled text: add `unlabeled:` to the task "
                             "(e.g. {corpus: mdsd:kitchen, split: unlabeled})", code="E306")
        p = self.params
        texts, y = list(task.source["text"]), np.asarray(task.source["label"])
        unl = sample_texts(list(task.unlabeled["text"]), p["max_unlabeled"], self.seed)
        self.counts_ = CountVectorizer(ngram_range=tuple(p["ngram_range"]), min_df=p["min_df"], binary=True,
                                       lowercase=True, dtype=np.float64)
        self.counts_.fit(texts + unl)
        names = self.counts_.get_feature_names_out()
        self.transformer_ = self._make_transformer(names)
        self.transformer_.fit(self.counts_.transform(texts), y, X_target_unlabeled=self.counts_.transform(unl))
        Z = self.transformer_.transform(self.counts_.transform(texts))
        self.tfidf_ = BowSentimentClassifier(ngram_range=tuple(p["ngram_range"]))._vectorizer()
        T = self.tfidf_.fit_transform(texts)
        self.scale_, self.C_, self.cv_scores_ = cv_select([T], Z, y, p["Cs"], p["scales"], p["cv"], self.seed)
        X = sp.hstack([T, sp.csr_matrix(self.scale_ * Z)], format="csr")
        self.clf_ = LogisticRegression(C=self.C_, solver="liblinear", max_iter=2000, random_state=self.seed).fit(X, y)
        self.n_unlabeled_ = len(unl)
        return self

    def features(self, texts: list[str]) -> sp.csr_matrix:
        """``[tfidf(x), scale * projection(x)]`` for raw texts."""
        if not hasattr(self, "clf_"):
            raise NotFittedError(f"method {self.name!r} is not fitted; call fit() first")
        Z = self.transformer_.transform(self.counts_.transform(texts))
        return sp.hstack([self.tfidf_.transform(texts), sp.csr_matrix(self.scale_ * Z)], format="csr")

    def predict(self, ds: datasets.Dataset) -> list:
        return [int(x) for x in self.clf_.predict(self.features(list(ds["text"])))]

    def save(self, directory: str | Path) -> None:
        """Transformer files + ``pivot_method.json`` (vocabularies, C, scale) + ``pivot_method.npz``."""
        if not hasattr(self, "clf_"):
            raise NotFittedError(f"method {self.name!r} is not fitted; call fit() first")
        d = Path(directory)
        self.transformer_.save(d)
        cv, tv = self.counts_.vocabulary_, self.tfidf_.vocabulary_
        atomic_write_json(d / "pivot_method.json", {
            "method": self.name, "task": self.task, "seed": self.seed, "params": self.params, "C": self.C_,
            "scale": self.scale_, "cv_scores": self.cv_scores_, "n_unlabeled": self.n_unlabeled_,
            "count_vocabulary": sorted(cv, key=cv.get), "tfidf_vocabulary": sorted(tv, key=tv.get),
        })
        tmp = d / ".pivot_method.tmp.npz"
        np.savez_compressed(tmp, coef=self.clf_.coef_, intercept=self.clf_.intercept_, classes=self.clf_.classes_,
                            idf=self.tfidf_.idf_)
        tmp.replace(d / "pivot_method.npz")

    @classmethod
    def load(cls, directory: str | Path) -> _PivotSentiment:
        """Read a folder written by :meth:`save` (JSON + npz, no pickle)."""
        d = Path(directory)
        meta = json.loads((d / "pivot_method.json").read_text(encoding="utf-8"))
        self = cls(task=meta["task"], seed=meta["seed"], **meta["params"])
        p = self.params
        self.counts_ = CountVectorizer(ngram_range=tuple(p["ngram_range"]), binary=True, lowercase=True,
                                       dtype=np.float64)
        self.counts_.vocabulary_ = {w: i for i, w in enumerate(meta["count_vocabulary"])}
        self.tfidf_ = BowSentimentClassifier(ngram_range=tuple(p["ngram_range"]))._vectorizer()
        self.tfidf_.vocabulary_ = {w: i for i, w in enumerate(meta["tfidf_vocabulary"])}
        with np.load(d / "pivot_method.npz", allow_pickle=False) as arr:
            self.tfidf_.idf_ = arr["idf"]
            self.clf_ = LogisticRegression()
            self.clf_.coef_, self.clf_.intercept_, self.clf_.classes_ = arr["coef"], arr["intercept"], arr["classes"]
        self.transformer_ = cls.transformer.load(d)
        self.C_, self.scale_, self.cv_scores_ = meta["C"], meta["scale"], meta["cv_scores"]
        self.n_unlabeled_ = meta["n_unlabeled"]
        return self


_SCL_SENTI = {**_SENTI_COMMON, "n_pivots": 1000, "h": 50, "min_count": 10, "alpha": 1.0, "solver": "auto"}


@register("scl-mi")
class SCLMISentiment(_PivotSentiment):
    """SCL-MI (Blitzer, Dredze & Pereira 2007): pivots ranked by mutual information with the source
    label, 1000 pivots, h = 50; see :class:`nlpta.pivots.SCL`."""

    defaults: ClassVar[dict[str, dict[str, Any]]] = {"sentiment": {**_SCL_SENTI, "pivot_criterion": "mi"}}
    transformer_params = ("n_pivots", "h", "min_count", "alpha", "solver", "pivot_criterion")


@register("sfa")
class SFASentiment(_PivotSentiment):
    """Spectral feature alignment (Pan et al. 2010); see :class:`nlpta.pivots.SFA`."""

    defaults: ClassVar[dict[str, dict[str, Any]]] = {
        "sentiment": {**_SENTI_COMMON, "n_pivots": 500, "h": 100, "min_count": 10, "pivot_criterion": "domain-mi"}}
    transformer = SFA
    transformer_params = ("n_pivots", "h", "min_count", "pivot_criterion")


@register("scl")
class SCLSentiment(_PivotSentiment):
    """SCL (Blitzer, McDonald & Pereira 2006): pivots ranked by frequency in both domains."""

    defaults: ClassVar[dict[str, dict[str, Any]]] = {"sentiment": {**_SCL_SENTI, "pivot_criterion": "freq"}}
    transformer_params = ("n_pivots", "h", "min_count", "alpha", "solver", "pivot_criterion")
