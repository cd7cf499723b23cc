"""Registered corrections built on the ``none`` model: ``coral``, ``label-shift``, ``self-train``.

Each reads the task's target unlabeled rows (a seeded sample of at most ``max_target`` of them;
E306 / E328 without them), never the target test rows. The estimators are in
:mod:`nlpta.correction`; :meth:`fit_report` gives the facts a user must see beside the scores.

* ``coral`` (sentiment) -- CORAL (Sun, Feng & Saenko 2016) on a dense representation: tf-idf
  uni+bigrams (min_df ``svd_min_df``) fitted on source + target rows, truncated SVD to ``svd_dim``
  (300) dimensions fitted on the same rows, standardised on the pooled rows, then the source rows
  whitened and re-coloured with the target covariance (``C + reg * I``, ``reg`` 1 as in the paper),
  then logistic regression with the ``none`` model's C search. Every step after tf-idf is linear,
  so the fitted model is folded into one linear model over the tf-idf features and saved in the
  ``none`` model's format. POS is not supported: a per-token dense representation of the feature
  tagger's 10^5 sparse features would be a different model, not the ``none`` tagger.
* ``label-shift`` (sentiment, POS) -- the ``none`` model with its posteriors re-weighted by
  ``w = q / p`` (target over source prior): BBSE (Lipton, Wang & Smola 2018; confusion matrix from
  ``folds``-fold cross-validated source predictions, with the C the full fit chose) or
  ``estimator: em`` (Saerens, Latinne & Decaestecker 2002). The posteriors are first calibrated on
  the held-out source rows (``calibration: bcts``, bias-corrected temperature scaling, Alexandari et
  al. 2020; ``none`` to skip): the regularised logistic regression is under-confident, and
  re-weighting uncalibrated posteriors flips far too many decisions. POS: tag priors per token (the
  bootstrap resamples whole sentences).
* ``self-train`` (sentiment, POS) -- the ``none`` model, then ``rounds`` rounds of
  confidence-thresholded, class-balanced pseudo-labels of the target rows and a refit on source +
  pseudo-labeled rows (sentiment: with the C the first fit chose). POS: sentence confidence = the
  min (``confidence: mean``: mean) of its tokens' top tag probability, whole sentences selected.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import datasets
import numpy as np

from .._sampling import sample_rows
from ..correction import CORAL, LabelShift, SelfTraining, adjust_proba
from ..correction.label_shift import bcts_apply
from ..errors import Errors
from ..io import atomic_write_json
from ..models.classical import (
    BowSentimentClassifier,
    CVLogisticRegression,
    FeatureTagger,
    _restored_logistic,
)
from ..tasks import TransferTask
from .baselines import _ClassicalModel
from .registry import need_unlabeled, register

_BASE = _ClassicalModel.defaults
# warn when BBSE's confusion matrix is this ill-conditioned (the weights then amplify noise)
COND_WARN = 1e3
# warn when the target prior's 95% interval is wider than this for some class
CI_WARN = 0.3


def _target(task: TransferTask, method: str, max_rows: int | None, seed: int) -> datasets.Dataset:
    """A seeded sample of at most ``max_rows`` of the task's unlabeled rows (E306 / E328 without)."""
    return sample_rows(need_unlabeled(task, method, task.kind), max_rows, seed)


def _jsonable_prior(classes, values) -> dict[str, float]:
    return {str(c): float(v) for c, v in zip(classes, values, strict=True)}


# ---------------------------------------------------------------------------------------- CORAL
@register("coral")
class Coral(_ClassicalModel):
    """CORAL (Sun, Feng & Saenko 2016) on tf-idf -> truncated SVD features, then the ``none``
    model's logistic regression (C by CV on the aligned source rows); sentiment only."""

    tasks: ClassVar[tuple[str, ...]] = ("sentiment",)
    defaults: ClassVar[dict[str, dict[str, Any]]] = {
        "sentiment": {**_BASE["sentiment"], "svd_dim": 300, "svd_min_df": 2, "reg": 1.0, "max_target": 2000}}

    def fit(self, task: TransferTask) -> Coral:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.preprocessing import StandardScaler

        from ..models.classical import _fit_vectorizer

        p = self.params
        self._check(task.source)
        tgt = _target(task, self.name, p["max_target"], self.seed)
        src_texts, tgt_texts = list(task.source["text"]), list(tgt["text"])
        vec = BowSentimentClassifier(ngram_range=p["ngram_range"], min_df=p["svd_min_df"],
                                     binary=p["binary"])._vectorizer()
        X = _fit_vectorizer(vec, src_texts + tgt_texts, "the source and target rows")
        k = int(max(1, min(int(p["svd_dim"]), X.shape[1] - 1, X.shape[0] - 1)))
        svd = TruncatedSVD(k, random_state=self.seed)
        Z = svd.fit_transform(X)
        scaler = StandardScaler().fit(Z)
        Z = scaler.transform(Z)
        domain = np.r_[np.ones(len(src_texts), dtype=int), -np.ones(len(tgt_texts), dtype=int)]
        coral = CORAL(reg=p["reg"])
        Zs = coral.fit_transform(Z, sample_domain=domain)[: len(src_texts)]
        core = CVLogisticRegression(Cs=p["Cs"], cv=p["cv"], random_state=self.seed)
        core.fit(Zs, np.asarray(task.source["label"]))
        # fold SVD -> scaler -> logistic regression into one linear model over the tf-idf features
        w = core.clf_.coef_[0] / scaler.scale_
        coef = (svd.components_.T @ w)[None, :]
        intercept = core.clf_.intercept_ - float(w @ scaler.mean_)
        model = BowSentimentClassifier(ngram_range=p["ngram_range"], Cs=p["Cs"], cv=p["cv"], min_df=p["svd_min_df"],
                                       binary=p["binary"], random_state=self.seed)
        model.vectorizer_ = vec
        core_out = CVLogisticRegression(Cs=p["Cs"], cv=p["cv"], random_state=self.seed)
        core_out.clf_ = _restored_logistic(coef, np.asarray(intercept, dtype=np.float64), core.classes_,
                                           solver="liblinear")
        core_out.C_, core_out.cv_scores_ = core.C_, core.cv_scores_
        core_out.classes_, core_out.n_features_in_, core_out.n_iter_ = core.classes_, coef.shape[1], core.n_iter_
        model.classifier_ = core_out
        model.C_, model.cv_scores_, model.classes_ = core.C_, core.cv_scores_, core.classes_
        self.model_ = model
        self.coral_info_ = {"svd_dim": k, "svd_explained_variance": float(svd.explained_variance_ratio_.sum()),
                            "tfidf_features": int(X.shape[1]), "reg": float(p["reg"]),
                            "source_rows": len(src_texts), "target_rows": len(tgt_texts), "target_from": "unlabeled",
                            "coral_distance_before": coral.distance_before_,
                            "coral_distance_after": coral.distance_after_,
                            "C": float(core.C_), "cv_accuracy": max(core.cv_scores_.values()) if core.cv_scores_ else None}
        return self

    def fit_report(self) -> dict:
        """``svd_dim``, the SVD's explained variance share, ``reg``, source / target rows, the CORAL
        distance (``||cov_s - cov_t||_F^2 / 4d^2`` on the standardised SVD features) before and
        after alignment, the chosen ``C`` and its CV accuracy (on the aligned source rows);
        ``warnings`` when the alignment did not bring the covariances closer."""
        info = dict(self.coral_info_)
        warnings = []
        if info["coral_distance_after"] >= info["coral_distance_before"]:
            warnings.append(f"CORAL did not bring the source covariance closer to the target's (distance "
                            f"{info['coral_distance_before']:.3g} before, {info['coral_distance_after']:.3g} after; "
                            f"reg {info['reg']:g}): lower reg")
        info["warnings"] = warnings
        return info

    def _save(self, directory: Path) -> None:
        """The folded linear model (``classifier.json`` + ``classifier.npz``) and ``coral.json``."""
        super()._save(directory)
        atomic_write_json(directory / "coral.json", self.coral_info_)

    def _load(self, directory: Path) -> None:
        super()._load(directory)
        self.coral_info_ = json.loads((directory / "coral.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------- label shift
def _heldout_sentiment(p: dict, seed: int, texts: list[str], labels: np.ndarray, C: float, folds: int) -> np.ndarray:
    """Cross-validated probabilities of the source rows (the ``none`` model with the chosen C)."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    n_splits = int(min(folds, np.bincount(labels).min()))
    model = BowSentimentClassifier(ngram_range=p["ngram_range"], Cs=[C], cv=p["cv"], min_df=p["min_df"],
                                   binary=p["binary"], random_state=seed)
    cv = StratifiedKFold(max(n_splits, 2), shuffle=True, random_state=seed)
    return cross_val_predict(model, texts, labels, cv=cv, method="predict_proba")


def _heldout_pos(p: dict, seed: int, sents: list, tags: list, classes: np.ndarray, folds: int) -> np.ndarray:
    """Cross-validated tag probabilities of the source tokens (k-fold over sentences), columns in
    ``classes`` (a tag a fold's model never saw gets probability 0)."""
    from sklearn.model_selection import KFold

    col = {str(c): j for j, c in enumerate(classes)}
    lengths = np.array([len(s) for s in sents])
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    out = np.zeros((int(lengths.sum()), len(classes)))
    for tr, te in KFold(max(2, min(folds, len(sents))), shuffle=True, random_state=seed).split(np.arange(len(sents))):
        m = FeatureTagger(C=p["C"], max_iter=p["max_iter"], random_state=seed)
        m.fit([sents[i] for i in tr], [tags[i] for i in tr])
        P = m.predict_proba([sents[i] for i in te])
        rows = np.concatenate([np.arange(starts[i], starts[i] + lengths[i]) for i in te])
        out[np.ix_(rows, [col[str(c)] for c in m.classes_])] = P
    return out


@register("label-shift")
class LabelShiftCorrection(_ClassicalModel):
    """The ``none`` model with its posteriors corrected for label shift: BBSE (Lipton, Wang & Smola
    2018; default) or EM prior adjustment (Saerens, Latinne & Decaestecker 2002)."""

    defaults: ClassVar[dict[str, dict[str, Any]]] = {
        "sentiment": {**_BASE["sentiment"], "estimator": "bbse", "calibration": "bcts", "folds": 5, "n_bootstrap": 200, "max_target": 2000},
        "pos": {**_BASE["pos"], "estimator": "bbse", "calibration": "bcts", "folds": 3, "n_bootstrap": 200, "max_target": 2000},
    }

    def fit(self, task: TransferTask) -> LabelShiftCorrection:
        p = self.params
        est = LabelShift(estimator=p["estimator"], calibration=p["calibration"], n_bootstrap=p["n_bootstrap"],
                         random_state=self.seed)
        est._check_params()  # a bad estimator name fails before any model is trained
        folds = p["folds"]
        if not isinstance(folds, int) or isinstance(folds, bool) or folds < 2:
            raise Errors.E322(what="folds", expected="an integer >= 2", got=repr(folds))
        self._fit_on(task.source)
        tgt = _target(task, self.name, p["max_target"], self.seed)
        classes = np.asarray(self.model_.classes_)
        groups = None
        if self.task == "sentiment":
            labels = np.asarray(task.source["label"], dtype=int)
            Ps = _heldout_sentiment(p, self.seed, list(task.source["text"]), labels, self.model_.C_, folds)
            ys = np.searchsorted(classes, labels)
            Pt = self.model_.predict_proba(tgt["text"])
        else:
            sents, tags = list(task.source["tokens"]), list(task.source["upos"])
            if sum(1 for s in sents if len(s)) < 2:
                raise Errors.E326(what=f"method {self.name!r} (pos): the source",
                                  got=f"{len(sents)} source sentence{'s' if len(sents) != 1 else ''}",
                                  needs="held-out predictions need at least 2 source sentences with tokens")
            Ps = _heldout_pos(p, self.seed, sents, tags, classes, folds)
            col = {str(c): j for j, c in enumerate(classes)}
            ys = np.array([col[t] for seq in tags for t in seq], dtype=int)
            tsents = [s for s in tgt["tokens"] if len(s)]
            Pt = self.model_.predict_proba(tsents)
            groups = np.r_[np.repeat(np.arange(len(sents)), [len(s) for s in sents]),
                           len(sents) + np.repeat(np.arange(len(tsents)), [len(s) for s in tsents])]
        X = np.vstack([Ps, Pt])
        domain = np.r_[np.ones(len(Ps), dtype=int), -np.ones(len(Pt), dtype=int)]
        y = np.r_[ys, -np.ones(len(Pt), dtype=int)]
        est.fit(X, y, sample_domain=domain, groups=groups)
        self.weights_ = est.weights_
        self.calibration_ = est.calibration_
        self.shift_info_ = {
            "estimator": p["estimator"], "classes": [str(c) for c in classes],
            "calibration": {"method": p["calibration"], "a": float(est.calibration_[0]),
                            "b": _jsonable_prior(classes, est.calibration_[1])},
            "source_prior": _jsonable_prior(classes, est.source_prior_),
            "target_prior": _jsonable_prior(classes, est.target_prior_),
            "target_prior_ci95": {str(c): [float(a), float(b)] for c, (a, b) in zip(classes, est.target_prior_ci_,
                                                                                    strict=True)},
            "weights": _jsonable_prior(classes, est.weights_),
            "heldout_accuracy": est.heldout_accuracy_,
            "condition_number": getattr(est, "condition_number_", None), "em_iterations": getattr(est, "n_iter_", None),
            "source_units": int(len(Ps)), "target_units": int(len(Pt)), "target_rows": len(tgt),
            "target_from": "unlabeled", "n_bootstrap": int(p["n_bootstrap"]),
        }
        return self

    def _proba(self, ds: datasets.Dataset) -> np.ndarray:
        """The model's posteriors, calibrated as fitted, then corrected for the estimated shift."""
        P = self.model_.predict_proba(ds["text"] if self.task == "sentiment" else ds["tokens"])
        return adjust_proba(bcts_apply(P, *self.calibration_), self.weights_)

    def predict(self, ds: datasets.Dataset) -> list:
        if len(ds) == 0:
            return []
        classes = np.asarray(self.model_.classes_)
        if self.task == "sentiment":
            return [int(c) for c in classes[self._proba(ds).argmax(1)]]
        sents = list(ds["tokens"])
        if not any(sents):
            return [[] for _ in sents]
        flat = classes[self._proba(ds).argmax(1)]
        out, k = [], 0
        for s in sents:
            out.append([str(t) for t in flat[k: k + len(s)]])
            k += len(s)
        return out

    def fit_report(self) -> dict:
        """The estimated shift: ``estimator``, ``calibration`` (BCTS's ``a`` and ``b``),
        ``source_prior``, ``target_prior`` and its 95%
        bootstrap interval ``target_prior_ci95`` (resampling held-out source rows and target rows;
        POS: whole sentences), the class ``weights``, BBSE's held-out accuracy and the confusion
        matrix's condition number; ``warnings`` for an ill-conditioned confusion matrix (> 1e3), a
        class whose weight was clipped to 0, or an interval wider than 0.3."""
        info = {k: v for k, v in self.shift_info_.items() if k != "classes"}
        warnings = []
        cond = info.get("condition_number")
        if cond is not None and cond > COND_WARN:
            warnings.append(f"BBSE's confusion matrix is ill-conditioned (condition number {cond:.3g}): the class "
                            "weights amplify noise; try estimator: em")
        zero = [c for c, w in info["weights"].items() if w == 0.0 and info["source_prior"][c] > 0]
        if zero:
            warnings.append(f"the estimated target prior is 0 for {', '.join(zero)}: those classes are never predicted")
        wide = [c for c, (a, b) in info["target_prior_ci95"].items() if np.isfinite(a) and b - a > CI_WARN]
        if wide:
            warnings.append(f"the target prior's 95% interval is wider than {CI_WARN} for {', '.join(wide)}: the "
                            "estimate is uncertain (more unlabeled rows narrow it)")
        info["warnings"] = warnings
        return info

    def _save(self, directory: Path) -> None:
        """The ``none`` model's files and ``label_shift.json`` (priors, interval, weights)."""
        super()._save(directory)
        atomic_write_json(directory / "label_shift.json", self.shift_info_)

    def _load(self, directory: Path) -> None:
        super()._load(directory)
        self.shift_info_ = json.loads((directory / "label_shift.json").read_text(encoding="utf-8"))
        classes = [str(c) for c in self.model_.classes_]
        self.weights_ = np.array([float(self.shift_info_["weights"][c]) for c in classes])
        cal = self.shift_info_["calibration"]
        self.calibration_ = (float(cal["a"]), np.array([float(cal["b"][c]) for c in classes]))


# -------------------------------------------------------------------------------- self-training
_ST = {"rounds": 3, "threshold": 0.9, "top_share": None, "max_target": 2000, "pseudo_weight": 1.0}


@register("self-train")
class SelfTrain(_ClassicalModel):
    """The ``none`` model, then rounds of confidence-thresholded, class-balanced pseudo-labels of
    the target rows and a refit on source + pseudo-labeled rows (:class:`nlpta.correction.SelfTraining`)."""

    defaults: ClassVar[dict[str, dict[str, Any]]] = {
        "sentiment": {**_BASE["sentiment"], **_ST, "balance": "equal"},
        "pos": {**_BASE["pos"], **_ST, "confidence": "min"},
    }

    def fit(self, task: TransferTask) -> SelfTrain:
        p = self.params
        self._fit_on(task.source)
        tgt = _target(task, self.name, p["max_target"], self.seed)
        common = {"rounds": p["rounds"], "threshold": p["threshold"], "top_share": p["top_share"],
                  "pseudo_weight": p["pseudo_weight"], "random_state": self.seed}
        if self.task == "sentiment":
            base = BowSentimentClassifier(ngram_range=p["ngram_range"], Cs=[self.model_.C_], cv=p["cv"],
                                          min_df=p["min_df"], binary=p["binary"], random_state=self.seed)
            st = SelfTraining(base, balance=p["balance"], **common)
            texts = list(task.source["text"]) + list(tgt["text"])
            y = list(task.source["label"]) + [-1] * len(tgt)
            st.fit(texts, y, sample_domain=np.r_[np.ones(len(task.source), int), -np.ones(len(tgt), int)])
        else:
            base = FeatureTagger(C=p["C"], max_iter=p["max_iter"], random_state=self.seed)
            st = SelfTraining(base, sequence_confidence=p["confidence"], **common)
            tsents = [s for s in tgt["tokens"] if len(s)]
            st.fit(list(task.source["tokens"]) + tsents, list(task.source["upos"]) + [[]] * len(tsents),
                   sample_domain=np.r_[np.ones(len(task.source), int), -np.ones(len(tsents), int)])
        self.model_ = st.estimator_
        self.history_ = st.history_
        self.self_info_ = {"target_rows": len(tgt), "target_from": "unlabeled", "source_rows": len(task.source)}
        return self

    def fit_report(self) -> dict:
        """Per round (``rounds``): rows selected, their per-class counts (POS: tag counts of the
        selected sentences), mean confidence, and the share of pseudo-labels changed since the
        previous round; ``warnings`` when a round selected nothing (the threshold is too high for
        this model's confidence; the result is then the ``none`` model) or one class only."""
        hist = list(self.history_)
        warnings = []
        empty = [h["round"] for h in hist if h["selected"] == 0]
        if empty:
            warnings.append(f"no target row passed the selection in round(s) {', '.join(map(str, empty))} "
                            f"(threshold {self.params['threshold']}): lower the threshold or set top_share")
        if self.task == "sentiment":
            one = [h["round"] for h in hist if h["selected"] and sum(v > 0 for v in h["per_class"].values()) < 2]
            if one:
                warnings.append(f"round(s) {', '.join(map(str, one))} pseudo-labeled one class only")
        return {**self.self_info_, "rounds": hist, "pseudo_labeled": hist[-1]["selected"] if hist else 0,
                "warnings": warnings}

    def _save(self, directory: Path) -> None:
        """The last round's model files and ``self_training.json`` (the rounds' history)."""
        super()._save(directory)
        atomic_write_json(directory / "self_training.json", {**self.self_info_, "history": self.history_})

    def _load(self, directory: Path) -> None:
        super()._load(directory)
        meta = json.loads((directory / "self_training.json").read_text(encoding="utf-8"))
        self.history_ = meta.pop("history")
        self.self_info_ = meta
