"""Validators: score a candidate method for a transfer task without a single target label.

A user with labeled source rows and unlabeled target text gets many methods from nlpta and, from
the labels they have, no direct way to tell which one transfers best. A validator turns what
*is* available -- the labeled source, the unlabeled target rows (the task's ``unlabeled:``
entry), the method's predictions on them -- into a score, higher is better. Musgrave, Belongie &
Lim (2021, *Unsupervised domain adaptation: a reality check*) found most such scores unreliable;
treat them as evidence, next to the guards (:mod:`nlpta.validation.guards`) and the diagnosis's
facts (:func:`diagnosis`), not as a target accuracy.

Every validator has one signature, ``(method_name, params, task, fitted=None, **options) ->
dict`` with at least ``{"score": float | None, "validator": name}``:

* :func:`source_cv` -- k-fold accuracy on the labeled source (the naive baseline);
* :func:`iwcv` -- importance-weighted cross-validation (Sugiyama, Krauledat & Mueller 2007): the
  same out-of-fold losses weighted by a domain classifier's importance weights of the source rows
  toward the unlabeled target (:class:`nlpta.reweighting.DomainClassifierWeights`), with the
  weights' effective sample size;
* :func:`dev` -- Deep Embedded Validation (You, Wang, Long & Jordan 2019): IWCV with the control
  variate that removes the weights' variance from the risk estimate;
* :func:`atc` -- Average Thresholded Confidence (Garg et al. 2022): each fold's model sets a
  confidence threshold on its held-out source units that matches its error there; the share of
  target units above it predicts the target accuracy;
* :func:`doc` -- Difference of Confidences (Guillory et al. 2021): the held-out accuracy minus the
  drop of the mean confidence from the held-out units to the target;
* :func:`reverse` -- reverse validation (Zhong et al. 2010): pseudo-label the target with the
  fitted method, train the same method back (pseudo-labeled target as source, the source text as
  unlabeled target) and score it on the labeled source;
* :func:`entropy` -- minus the mean prediction entropy on the target (confident = better);
* :func:`im` -- information maximisation (Shi & Sha 2012; the objective of SHOT, Liang et al.
  2020): the entropy of the mean prediction minus the mean entropy, so that a confident model
  that predicts one class scores low;
* :func:`snd` -- soft neighbourhood density (Saito, Kim, Teterwak, Sclaroff, Darrell & Saenko,
  ICCV 2021) of the target probability vectors;
* :func:`agreement` -- ensemble consistency: how often this candidate's target predictions agree
  with the other candidates' (``others=``).

:func:`validate` fits every candidate once, computes the out-of-fold predictions and the
importance weights once, runs the chosen validators and ranks the candidates.

**What a validator reads.** Never the task's target test rows nor a target labeled set: the
candidates are fitted on :func:`candidate_task` -- a copy of the task whose ``target`` is the
unlabeled rows with their labels stripped and whose ``target_labeled`` is ``None`` (methods that
read ``task.target`` for its ``lang`` column see the unlabeled rows instead). The folds of
:func:`source_cv` / :func:`iwcv` / :func:`dev` refit the method on the same kind of copy with a
subset of the source (``get_method(name, kind, seed=task.seed, **params)``). ``in-domain`` and
``few_shot: true`` train on target labels and are refused (E607). A task without unlabeled
rows is refused (E606).

**Which methods have probabilities** (what :func:`atc`, :func:`doc`, :func:`entropy`, :func:`im` and :func:`snd` need;
:func:`predict_proba` finds them): ``none``, ``reweight-clf``, ``kmm``, ``kliep``,
``ms-weighted``, ``ms-ensemble`` (sentiment and POS, from their logistic regression / tagger);
``scl``, ``scl-mi``, ``sfa``, ``cl-scl``, ``dict-translate``, ``dann`` (sentiment); ``align``
(sentiment and POS); ``lora``, ``lora-dapt``, ``full-ft``, ``lora-dann``, ``udalm``, ``lora-self-train`` (sentiment: the softmax
of the logits; POS: none -- subword logits, not word tags). Where there are none, these five
return ``{"score": None, "applicable": False, "reason": ...}``; :func:`source_cv`, :func:`iwcv`,
:func:`dev`, :func:`reverse` and :func:`agreement` need predictions only and apply to every method.
A method of one's own gets the probability validators by defining ``predict_proba(ds) ->
array`` (rows -- POS: tokens -- by classes, columns in the order of its ``classes_``).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import datasets
import numpy as np

from .. import data
from .._sampling import sample_rows
from ..errors import Errors
from ..evaluators import label_shift
from ..evaluators.domain import domain_separability
from ..methods import Method, get_method
from .guards import prediction_guard

__all__ = ["DEFAULT_VALIDATORS", "PROBA_VALIDATORS", "VALIDATORS", "OutOfFold", "SourceWeights", "agreement",
           "atc", "atc_share", "candidate_task", "doc", "dev", "diagnosis", "entropy", "im", "importance_weights", "iwcv", "out_of_fold",
           "predict_proba", "reverse", "snd", "source_cv", "validate"]

UNLABELED_EXAMPLE = {"sentiment": "{corpus: mdsd:kitchen, split: unlabeled}",
                     "pos": "{corpus: ud:en_ewt, split: train, domain: reviews, labeled: false}"}
# methods that train on target labels: scoring them "without target labels" would be a fiction
TARGET_LABEL_METHODS = ("in-domain",)
SND_TEMPERATURE = 0.05  # Saito et al. (2021)'s temperature
ESS_WARN_SHARE = 0.10  # as nlpta.methods.reweighting: below this ESS share the weighted estimate is noisy


# ------------------------------------------------------------------------------ the task copies
def _kind(task) -> str:
    kind = getattr(task, "kind", None)
    return kind if kind in ("pos", "sentiment") else data.task_of(task.source)


def _col(ds: datasets.Dataset, name: str) -> list:
    """A column as a list, read in one slice (iterating a ``datasets`` column reads row by row)."""
    return list(ds[name][:])


def _labels(ds: datasets.Dataset, kind: str) -> list:
    return _col(ds, "upos") if kind == "pos" else [int(y) for y in _col(ds, "label")]


def _need_unlabeled(task, validator: str) -> datasets.Dataset:
    unl = getattr(task, "unlabeled", None)
    ex = UNLABELED_EXAMPLE[_kind(task)]
    if unl is None:
        raise Errors.E606(validator=validator, got="the task has none", example=ex)
    if len(unl) < 2:
        raise Errors.E606(validator=validator, got=f"it holds {len(unl)} row(s); at least 2 are needed", example=ex)
    return unl


def candidate_task(task, *, source: datasets.Dataset | None = None, unlabeled: datasets.Dataset | None = None):
    """A shallow copy of ``task`` that a candidate is fitted on during validation.

    ``source`` / ``unlabeled`` replace the task's (a fold's subset of the source; for reverse
    validation, the pseudo-labeled target and the source text). The copy's ``target`` is its
    unlabeled rows with their labels stripped and ``target_labeled`` is ``None``: a method that
    reads ``task.target`` (``align`` and ``cl-scl`` read its ``lang`` column) sees unlabeled text,
    and no target label can reach a candidate. ``kind``, ``seed`` and ``spec`` are kept.

    Returns:
        the copy (the same class as ``task``; a :class:`~nlpta.tasks.TransferTask` stays one).
    """
    out = copy.copy(task)
    if source is not None:
        out.source = source
    if unlabeled is not None or getattr(task, "_validation_copy", False) is not True:
        out.unlabeled = task.unlabeled if unlabeled is None else unlabeled
        out.target = data.strip_labels(out.unlabeled) if out.unlabeled is not None and len(out.unlabeled) else None
    out.target_labeled = None
    out._validation_copy = True  # its target is already the stripped unlabeled rows
    return out


def _check_candidate(method_name: str, params: Mapping[str, Any], validator: str) -> None:
    if method_name in TARGET_LABEL_METHODS:
        raise Errors.E607(validator=validator, method=method_name,
                          detail="it trains on target labels, which a validator never reads")
    if (params or {}).get("few_shot"):
        raise Errors.E607(validator=validator, method=method_name,
                          detail="few_shot: true trains on the target labeled set, which a validator never reads")


def _fit(method_name: str, params: Mapping[str, Any], task, validator: str, **replace) -> Method:
    _check_candidate(method_name, params, validator)
    return get_method(method_name, _kind(task), seed=task.seed, **dict(params or {})).fit(
        candidate_task(task, **replace))


def _fitted(method_name: str, params: Mapping[str, Any], task, fitted: Method | None, validator: str) -> Method:
    """``fitted`` (checked to be ``method_name``), or the method fitted on :func:`candidate_task`."""
    _check_candidate(method_name, params, validator)
    if fitted is None:
        _need_unlabeled(task, validator)
        return _fit(method_name, params, task, validator)
    if getattr(fitted, "name", method_name) != method_name:
        raise Errors.E607(validator=validator, method=method_name,
                          detail=f"the fitted method passed is {fitted.name!r}; pass the {method_name!r} one")
    return fitted


def _target_sample(task, validator: str, max_rows: int | None) -> datasets.Dataset:
    return sample_rows(_need_unlabeled(task, validator), max_rows, task.seed)


# ------------------------------------------------------------------------------ probabilities
def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def predict_proba(method: Method, ds: datasets.Dataset) -> tuple[np.ndarray, list] | None:
    """Class probabilities of a fitted method on ``ds``, or ``None`` where the method has none.

    Returns:
        ``(P, classes)``: ``P`` has one row per row of ``ds`` (POS: per token, sentences
        concatenated) and one column per entry of ``classes``; ``None`` for the POS fine-tuned
        methods (subword logits) and any method without a probabilistic classifier. See the module
        docstring for the list.
    """
    from ..methods.adversarial import Dann
    from ..methods.baselines import _ClassicalModel
    from ..methods.embeddings import AlignedEmbeddings
    from ..methods.finetune import _Transformer
    from ..methods.pivots import (
        CrossLanguageSCL,
        DictionaryTranslation,
        SCLMethod,
        _PivotSentiment,
        _target_lang_of,
    )
    from ..methods.reweighting import MultiSourceEnsemble

    def cls(c) -> list:
        return [str(x) for x in c] if method.task == "pos" else [int(x) for x in c]

    if len(ds) == 0:
        return None
    if callable(getattr(method, "predict_proba", None)):
        P = np.asarray(method.predict_proba(ds), dtype=np.float64)
        return P, list(getattr(method, "classes_", range(P.shape[1])))
    if isinstance(method, MultiSourceEnsemble):
        parts = {d: method._proba(m, ds) for d, m in method.models_.items()}
        classes = sorted({c for _, cs in parts.values() for c in cs}, key=str)
        col = {c: i for i, c in enumerate(classes)}
        total = np.zeros((next(iter(parts.values()))[0].shape[0], len(classes)))
        for d, (pr, cs) in parts.items():
            total[:, [col[c] for c in cs]] += pr * method.domain_weights_[d]
        return total / total.sum(axis=1, keepdims=True), classes
    if isinstance(method, DictionaryTranslation):
        m = method.model_
        return m.predict_proba([method.translate(t) for t in _col(ds, "text")]), cls(m.classes_)
    if isinstance(method, _ClassicalModel):
        m = method.model_
        X = _col(ds, "text") if method.task == "sentiment" else _col(ds, "tokens")
        return m.predict_proba(X), cls(m.classes_)
    if isinstance(method, SCLMethod) and method.task == "pos":
        return method.tagger_.predict_proba(_col(ds, "tokens")), cls(method.tagger_.classes_)
    if isinstance(method, _PivotSentiment):
        return method.clf_.predict_proba(method.features(_col(ds, "text"))), cls(method.clf_.classes_)
    if isinstance(method, CrossLanguageSCL):
        lang = _target_lang_of(ds, method.lang_)
        Z = method.transformer_.transform(method.bi_.transform(_col(ds, "text"), lang))
        return method.clf_.predict_proba(Z), cls(method.clf_.classes_)
    if isinstance(method, Dann):
        return method.model_.predict_proba(_col(ds, "text")), cls(method.model_.classes_)
    if isinstance(method, AlignedEmbeddings):
        from ..methods.embeddings import _lang_of

        lang = _lang_of(ds)
        if method.task == "sentiment":
            X = method._doc_vectors(method._tokens(ds), lang, method.idf_.get(lang, {}))
            return method.clf_.predict_proba(X), cls(method.clf_.classes_)
        t = method.tagger_
        return t.clf_.predict_proba(t.featurize(_col(ds, "tokens"), space=method.tables_[lang])), cls(t.classes_)
    if isinstance(method, _Transformer) and method.task == "sentiment":
        P = _softmax(np.stack([np.asarray(x, dtype=np.float64) for x in method.model_.logits(ds)]))
        return P, list(range(P.shape[1]))
    return None


def _no_proba(method_name: str, validator: str) -> dict:
    return {"validator": validator, "score": None, "applicable": False,
            "reason": f"method {method_name!r} gives no class probabilities here (see nlpta.validation.validators "
                      "for the methods that do); use source_cv, iwcv, dev, reverse or agreement"}


def _flat(pred: list, kind: str) -> list:
    return [t for s in pred for t in s] if kind == "pos" else list(pred)


# ------------------------------------------------------------------------------ out of fold
@dataclass(frozen=True)
class OutOfFold:
    """Out-of-fold predictions of one candidate on the labeled source, one unit per row
    (sentiment) or per token (POS).

    Attributes:
        loss: 0/1 loss per unit (1: wrong).
        row: the source row of each unit.
        fold: the fold each unit was held out in.
        folds: the number of folds.
        held_confidence: with ``target``, each held-out unit's confidence under its fold's model
            (its highest class probability; :func:`atc`, :func:`doc`); ``None`` without ``target``
            or without probabilities.
        target_confidence: with ``target``, per fold, that fold's model's confidence on every
            target unit.
    """

    loss: np.ndarray
    row: np.ndarray
    fold: np.ndarray
    folds: int
    held_confidence: np.ndarray | None = None
    target_confidence: tuple[np.ndarray, ...] | None = None


def _check_folds(folds, validator: str) -> int:
    if not isinstance(folds, int) or isinstance(folds, bool) or folds < 2:
        raise Errors.E601(what=f"validator {validator!r}", option="folds", expected="an integer >= 2", got=folds)
    return folds


def out_of_fold(method_name: str, params: Mapping[str, Any], task, *, folds: int = 5,
                validator: str = "source_cv", target: datasets.Dataset | None = None) -> OutOfFold:
    """Fit ``method_name`` on k-1 folds of the labeled source (stratified by label for sentiment,
    shuffled with ``task.seed``) and predict the held-out fold, k times. Each fold's model sees
    the task's target unlabeled rows as usual (:func:`candidate_task`); never a target label.

    Args:
        target: target unlabeled rows that each fold's model also predicts (:func:`atc`,
            :func:`doc`): its confidence (highest class probability) on them and on its held-out
            units.

    Returns:
        an :class:`OutOfFold` with the 0/1 loss of every source row (POS: token).

    Raises:
        EvaluatorError: E601 (``folds`` not an integer >= 2), E607 (a method that trains on target
            labels). ParameterError: E326 (fewer rows, or rows of a class, than 2).
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    k = _check_folds(folds, validator)
    _check_candidate(method_name, params, validator)
    kind = _kind(task)
    src = task.source
    y = _labels(src, kind)
    if kind == "sentiment":
        counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=2)
        k = int(min(k, counts.min()))
        if k < 2:
            raise Errors.E326(what=f"the source (validator {validator!r})", got=f"{len(y)} rows ({counts[0]} of class 0, "
                              f"{counts[1]} of class 1)", needs="cross-validation needs at least 2 rows of each class")
        split = StratifiedKFold(k, shuffle=True, random_state=task.seed).split(np.zeros(len(y)), y)
    else:
        k = min(k, len(y))
        if k < 2:
            raise Errors.E326(what=f"the source (validator {validator!r})", got=f"{len(y)} sentence(s)",
                              needs="cross-validation needs at least 2 sentences")
        split = KFold(k, shuffle=True, random_state=task.seed).split(np.zeros(len(y)))
    loss, row, fold = [], [], []
    held_conf: list[np.ndarray] | None = [] if target is not None and len(target) else None
    target_conf: list[np.ndarray] = []
    base = candidate_task(task)  # the stripped target view made once for all folds
    for f, (tr, te) in enumerate(split):
        m = _fit(method_name, params, base, validator, source=src.select(tr.tolist()))
        held = src.select(te.tolist())
        pred = m.predict(held)
        if held_conf is not None:
            got_held, got_target = predict_proba(m, held), predict_proba(m, target)
            if got_held is None or got_target is None:
                held_conf = None
            else:
                held_conf.append(got_held[0].max(axis=1))
                target_conf.append(got_target[0].max(axis=1))
        for i, p, g in zip(te, pred, _labels(held, kind), strict=True):
            if kind == "pos":
                loss.extend(int(a != b) for a, b in zip(p, g, strict=True))
                row.extend([i] * len(g))
                fold.extend([f] * len(g))
            else:
                loss.append(int(p != g))
                row.append(i)
                fold.append(f)
    held = np.concatenate(held_conf) if held_conf else None
    if held is not None and len(held) != len(loss):
        raise Errors.E604(what=f"validator {validator!r} ({method_name!r} probabilities on the held-out folds)",
                          n_gold=len(loss), unit="held-out units", n_pred=len(held))
    return OutOfFold(np.asarray(loss, dtype=np.float64), np.asarray(row, dtype=np.int64),
                     np.asarray(fold, dtype=np.int64), k, held,
                     tuple(target_conf) if held is not None else None)


def source_cv(method_name: str, params: Mapping[str, Any], task, fitted: Method | None = None, *,
              folds: int = 5, oof: OutOfFold | None = None) -> dict:
    """The naive baseline: k-fold cross-validated accuracy on the labeled source (what a user
    without target labels computes first; it ignores the shift).

    Args:
        fitted: unused (each fold refits the method); accepted for the common signature.
        oof: precomputed :func:`out_of_fold` result (:func:`validate` shares one per candidate).

    Returns:
        ``{"validator": "source_cv", "score": accuracy, "folds", "fold_accuracy": [...],
        "units": n}`` (units: rows, or tokens for POS).
    """
    oof = oof or out_of_fold(method_name, params, task, folds=folds, validator="source_cv")
    acc = 1.0 - float(oof.loss.mean())
    per = [1.0 - float(oof.loss[oof.fold == f].mean()) for f in range(oof.folds)]
    return {"validator": "source_cv", "score": acc, "folds": oof.folds, "fold_accuracy": per, "units": int(len(oof.loss))}


# ------------------------------------------------------------------------------ importance weights
@dataclass(frozen=True)
class SourceWeights:
    """Importance weights of the labeled source rows toward the target unlabeled rows.

    Attributes:
        weights: one per source row, mean 1 (clipped as :func:`nlpta.reweighting.normalize_weights`).
        ratios: the raw density ratios p(target|x)/p(source|x) * n_s/n_t, capped at ``clip`` but not
            rescaled: their mean over the source is 1 only in expectation, which is what DEV's
            control variate corrects.
        summary: :func:`nlpta.reweighting.weight_summary` plus ``domain_accuracy`` (the out-of-fold
            accuracy of the domain classifier), ``target_rows`` and ``features``.
    """

    weights: np.ndarray
    ratios: np.ndarray
    summary: dict


def _texts(ds: datasets.Dataset) -> list[str]:
    return [" ".join(t) for t in _col(ds, "tokens")] if "tokens" in ds.column_names else _col(ds, "text")


def importance_weights(task, *, features: str | Callable[[datasets.Dataset], Any] = "tfidf", clip: float | None = 10.0,
                       max_target: int | None = 2000, C: float = 1.0, cv: int = 5,
                       validator: str = "iwcv") -> SourceWeights:
    """Importance weights w(x) ~ p_target(x) / p_source(x) of the source rows from a
    cross-validated source-vs-target logistic regression (Bickel et al. 2007;
    :class:`nlpta.reweighting.DomainClassifierWeights`, the estimator of ``reweight-clf``), against
    a seeded sample of at most ``max_target`` target unlabeled rows.

    Args:
        features: ``tfidf`` / ``lsa`` / ``minilm`` (as ``reweight-clf``'s ``features``), or a
            callable ``dataset -> 2-d array`` (one row per row) for features of one's own.
        clip: cap on a weight, in multiples of the mean.

    Returns:
        a :class:`SourceWeights`.

    Raises:
        EvaluatorError: E606 (no target unlabeled rows). ParameterError: E305 / E322 from the
            featurizer or the estimator.
    """
    import scipy.sparse as sp

    from ..methods.reweighting import featurize
    from ..reweighting import DomainClassifierWeights, weight_summary

    tgt = sample_rows(_need_unlabeled(task, validator), max_target, task.seed)
    if callable(features):
        Xs, Xt = (np.asarray(features(ds), dtype=np.float64) for ds in (task.source, tgt))
        name = getattr(features, "__name__", "callable")
    else:
        Xs, Xt = featurize(_texts(task.source), _texts(tgt), features, task.seed)
        name = features
    X = sp.vstack([Xs, Xt]).tocsr() if sp.issparse(Xs) else np.vstack([Xs, Xt])
    domain = np.r_[np.ones(Xs.shape[0], dtype=int), -np.ones(Xt.shape[0], dtype=int)]
    est = DomainClassifierWeights(C=C, cv=cv, clip=clip, random_state=task.seed).fit(X, sample_domain=domain)
    ratios = np.asarray(est.raw_weights_, dtype=np.float64)
    ratios = np.minimum(ratios, clip) if clip is not None else ratios
    return SourceWeights(est.weights_, ratios, {**weight_summary(est.weights_), "domain_accuracy": est.domain_accuracy_,
                                                "ratio_mean": float(ratios.mean()), "target_rows": len(tgt),
                                                "features": name})


def _unit_weights(oof: OutOfFold, sw: SourceWeights, raw: bool = False) -> np.ndarray:
    """The weight of each held-out unit: its row's weight (POS: every token of a sentence gets the
    sentence's); ``raw``: the unscaled density ratios, else rescaled to mean 1 over the units."""
    w = np.asarray(sw.ratios if raw else sw.weights, dtype=np.float64)[oof.row]
    return w if raw else w / w.mean()


def _weight_facts(sw: SourceWeights) -> tuple[dict, list[str]]:
    s = sw.summary
    warnings = []
    if s["ess_share"] < ESS_WARN_SHARE:
        warnings.append(f"the importance weights leave {s['ess_share']:.0%} of the source rows in play (effective "
                        f"sample size {s['ess']:.1f} of {s['n']}): the weighted estimate rests on a few rows")
    return {"ess": s["ess"], "ess_share": s["ess_share"], "domain_accuracy": s["domain_accuracy"],
            "weight_max": s["max"], "features": s["features"]}, warnings


def iwcv(method_name: str, params: Mapping[str, Any], task, fitted: Method | None = None, *, folds: int = 5,
         oof: OutOfFold | None = None, weights: SourceWeights | None = None, **weight_options) -> dict:
    """Importance-weighted cross-validation (Sugiyama, Krauledat & Mueller, JMLR 2007): the
    out-of-fold 0/1 losses of the source rows, each weighted by its importance weight toward the
    target (:func:`importance_weights`), estimate the target error under covariate shift. The
    weighted mean is self-normalised (sum w l / sum w), as SKADA's ``ImportanceWeightedScorer``.

    Args:
        fitted: unused (each fold refits the method).
        oof, weights: precomputed :func:`out_of_fold` / :func:`importance_weights` results.
        weight_options: passed to :func:`importance_weights` (``features``, ``clip``, ...).

    Returns:
        ``{"validator": "iwcv", "score": weighted accuracy, "source_cv": unweighted accuracy,
        "ess", "ess_share", "domain_accuracy", "weight_max", "features", "warnings"}``; a warning
        when the weights' ESS share is below 10%.
    """
    oof = oof or out_of_fold(method_name, params, task, folds=folds, validator="iwcv")
    sw = weights or importance_weights(task, validator="iwcv", **weight_options)
    w = _unit_weights(oof, sw)
    facts, warnings = _weight_facts(sw)
    risk = float(np.sum(w * oof.loss) / np.sum(w))
    return {"validator": "iwcv", "score": 1.0 - risk, "source_cv": 1.0 - float(oof.loss.mean()), **facts,
            "warnings": warnings}


def dev(method_name: str, params: Mapping[str, Any], task, fitted: Method | None = None, *, folds: int = 5,
        oof: OutOfFold | None = None, weights: SourceWeights | None = None, **weight_options) -> dict:
    """Deep Embedded Validation (You, Wang, Long & Jordan, ICML 2019): the importance-weighted
    risk with a control variate. With the density ratios w_i (the domain classifier's
    p(target|x)/p(source|x) * n_s/n_t, capped but not rescaled: their mean is 1 only in
    expectation) and L_i = w_i l_i over the held-out source units, eta = -Cov(L, w) / Var(w) and
    risk = mean(L) + eta mean(w) - eta: unbiased like the plain importance-weighted mean (E[w] =
    1) and of lower variance when the weights vary (eta = 0 when they do not).

    Returns:
        ``{"validator": "dev", "score": 1 - risk, "risk", "eta", "iwcv_risk" (mean(L), the
        unnormalised IWCV risk), "ratio_mean", "ess", ..., "warnings"}``. The risk is an estimate
        and may fall outside [0, 1].
    """
    oof = oof or out_of_fold(method_name, params, task, folds=folds, validator="dev")
    sw = weights or importance_weights(task, validator="dev", **weight_options)
    w = _unit_weights(oof, sw, raw=True)
    L = w * oof.loss
    var = float(np.var(w, ddof=1)) if len(w) > 1 else 0.0
    eta = -float(np.cov(L, w, ddof=1)[0, 1]) / var if var > 0 else 0.0
    risk = float(L.mean() + eta * w.mean() - eta)
    facts, warnings = _weight_facts(sw)
    return {"validator": "dev", "score": 1.0 - risk, "risk": risk, "eta": eta, "iwcv_risk": float(L.mean()),
            "ratio_mean": float(w.mean()), **facts, "warnings": warnings}


# ------------------------------------------------------------------------------ confidence on the target
def atc_share(held: np.ndarray, accuracy: float, target: np.ndarray) -> tuple[float, float]:
    """Average Thresholded Confidence (Garg, Balakrishnan, Lipton, Neyshabur & Sedghi, ICLR 2022):
    the threshold ``t`` on a confidence score under which the held-out source units fall as often as
    the model errs on them, and the share of target units above it -- the predicted target accuracy.
    Units tied at ``t`` count in the share that makes the held-out side exact.

    Returns:
        ``(predicted target accuracy, t)``.
    """
    held, target = np.asarray(held, dtype=np.float64), np.asarray(target, dtype=np.float64)
    err = min(max(1.0 - float(accuracy), 0.0), 1.0)
    t = float(np.quantile(held, err))
    above, tied = float(np.mean(held > t)), float(np.mean(held == t))
    frac = min(max((float(accuracy) - above) / tied, 0.0), 1.0) if tied > 0 else 0.0
    return float(np.mean(target > t) + frac * np.mean(target == t)), t


def _confidence_oof(method_name, params, task, oof, folds, max_rows, validator: str) -> OutOfFold:
    if oof is None or oof.target_confidence is None:
        oof = out_of_fold(method_name, params, task, folds=folds, validator=validator,
                          target=_target_sample(task, validator, max_rows))
    return oof


def atc(method_name: str, params: Mapping[str, Any], task, fitted: Method | None = None, *, folds: int = 5,
        oof: OutOfFold | None = None, max_rows: int | None = 2000) -> dict:
    """Average Thresholded Confidence (Garg et al., ICLR 2022; ATC-MC, the highest class probability
    as the confidence): per source fold, the fold's model sets the threshold on its held-out units
    so that the share of units under it equals its error there, and predicts the target accuracy as
    the share of the target sample (``max_rows`` unlabeled rows; POS: their tokens) above it. The
    score is the mean over the folds: an estimate of the candidate's target accuracy that reads its
    confidence on the target rows, which source CV and IWCV do not.

    It assumes the errors sit where the confidence is low on both sides. A well-calibrated model on
    a target of harder rows is under-estimated (its low-confidence rows are still right half of the
    time: :func:`doc` is the estimate for that case), and a method more confident on the target
    than on the source is over-estimated (measured: ``scl-mi`` on FDU-MTL, BENCHMARKS.md).

    Args:
        fitted: unused (each fold refits the method).
        oof: a precomputed :func:`out_of_fold` result made with ``target=`` (else it is computed).

    Returns:
        ``{"validator": "atc", "score": predicted target accuracy, "fold_scores", "source_cv",
        "thresholds", "target_units"}``, or ``score: None`` without probabilities.
    """
    oof = _confidence_oof(method_name, params, task, oof, folds, max_rows, "atc")
    if oof.held_confidence is None or oof.target_confidence is None:
        return _no_proba(method_name, "atc")
    per, ts = [], []
    for f in range(oof.folds):
        on = oof.fold == f
        share, t = atc_share(oof.held_confidence[on], 1.0 - float(oof.loss[on].mean()), oof.target_confidence[f])
        per.append(share)
        ts.append(t)
    return {"validator": "atc", "score": float(np.mean(per)), "fold_scores": per,
            "source_cv": 1.0 - float(oof.loss.mean()), "thresholds": ts,
            "target_units": int(len(oof.target_confidence[0]))}


def doc(method_name: str, params: Mapping[str, Any], task, fitted: Method | None = None, *, folds: int = 5,
        oof: OutOfFold | None = None, max_rows: int | None = 2000) -> dict:
    """Difference of Confidences (Guillory, Shankar, Ebrahimi, Darrell & Schmidt, ICCV 2021): per
    source fold, the fold's held-out accuracy minus the drop of its mean confidence (highest class
    probability) from the held-out units to the target sample; the score is the mean over the folds.
    Exact for a model calibrated on both sides (its mean confidence is its accuracy); like
    :func:`atc`, fooled by a method more confident on the target than on the source.

    Returns:
        ``{"validator": "doc", "score": predicted target accuracy, "fold_scores", "source_cv",
        "confidence_source", "confidence_target"}`` (the confidences averaged over the folds), or
        ``score: None`` without probabilities.
    """
    oof = _confidence_oof(method_name, params, task, oof, folds, max_rows, "doc")
    if oof.held_confidence is None or oof.target_confidence is None:
        return _no_proba(method_name, "doc")
    per, cs, ct = [], [], []
    for f in range(oof.folds):
        on = oof.fold == f
        cs.append(float(oof.held_confidence[on].mean()))
        ct.append(float(oof.target_confidence[f].mean()))
        per.append(1.0 - float(oof.loss[on].mean()) - (cs[-1] - ct[-1]))
    return {"validator": "doc", "score": float(np.mean(per)), "fold_scores": per,
            "source_cv": 1.0 - float(oof.loss.mean()), "confidence_source": float(np.mean(cs)),
            "confidence_target": float(np.mean(ct))}


# ------------------------------------------------------------------------------ reverse validation
def _with_labels(ds: datasets.Dataset, labels: list, kind: str) -> datasets.Dataset:
    """``ds`` with ``labels`` as its labels (``label``, or ``upos`` with ``xpos`` emptied)."""
    shown = datasets.utils.logging.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        if kind == "pos":
            extra = {"xpos": []} if "xpos" in ds.column_names else {}
            return ds.map(lambda r, i: {"upos": [str(t) for t in labels[i]], **extra}, with_indices=True)
        return ds.map(lambda r, i: {"label": int(labels[i])}, with_indices=True)
    finally:
        if shown:
            datasets.enable_progress_bars()


def reverse(method_name: str, params: Mapping[str, Any], task, fitted: Method | None = None, *,
            max_rows: int | None = 2000) -> dict:
    """Reverse (circular) validation (Zhong, Fan, Yang, Verscheure & Ren, ECML-PKDD 2010; as
    pytorch-adapt's ``ReverseValidator``): the fitted method labels a sample of ``max_rows``
    target unlabeled rows; the same method with the same parameters is trained back on them (the
    pseudo-labeled target as its source, the source text, labels stripped, as its unlabeled
    target) and scored on the labeled source. The reverse model never sees a source label, so
    the accuracy is an honest held-out figure; a candidate whose target labels are wrong teaches
    the reverse model wrong labels.

    Where the pseudo-labels hold one class, no model can be trained back: the score is the share
    of that class in the source (what a constant classifier gets) and ``degenerate`` is true.

    Returns:
        ``{"validator": "reverse", "score": reverse accuracy on the source, "pseudo_labels":
        {label: share}, "degenerate": bool, "guard": prediction_guard(...)}``.
    """
    kind = _kind(task)
    m = _fitted(method_name, params, task, fitted, "reverse")
    tgt = _target_sample(task, "reverse", max_rows)
    pseudo = m.predict(tgt)
    guard = prediction_guard(_labels(task.source, kind), pseudo)
    out: dict[str, Any] = {"validator": "reverse", "pseudo_labels": guard["predicted"], "guard": guard}
    gold = _labels(task.source, kind)
    if len(set(_flat(pseudo, kind))) < 2:
        only = _flat(pseudo, kind)[0] if _flat(pseudo, kind) else None
        flat_gold = _flat(gold, kind)
        share = sum(g == only for g in flat_gold) / max(len(flat_gold), 1)
        return {**out, "score": float(share), "degenerate": True,
                "reason": f"every pseudo-label is {only!r}: the reverse model can only predict that label"}
    back = _fit(method_name, params, task, "reverse", source=_with_labels(tgt, pseudo, kind),
                unlabeled=data.strip_labels(task.source))
    pred = _flat(back.predict(task.source), kind)
    flat_gold = _flat(gold, kind)
    acc = float(np.mean([p == g for p, g in zip(pred, flat_gold, strict=True)]))
    return {**out, "score": acc, "degenerate": False, "target_rows": len(tgt)}


# ------------------------------------------------------------------------------ prediction-based
def _proba_on_target(method_name, params, task, fitted, validator: str, max_rows: int | None):
    m = _fitted(method_name, params, task, fitted, validator)
    tgt = _target_sample(task, validator, max_rows)
    return m, tgt, predict_proba(m, tgt)


def _entropies(P: np.ndarray) -> np.ndarray:
    P = np.clip(P, 1e-12, 1.0)
    return -(P * np.log(P)).sum(axis=1)


def _guard_of(task, P: np.ndarray, classes: list) -> dict:
    """:func:`prediction_guard` of the argmax predictions against the source labels."""
    pred = [classes[i] for i in P.argmax(axis=1)]
    return prediction_guard(_flat(_labels(task.source, _kind(task)), _kind(task)), pred)


def entropy(method_name: str, params: Mapping[str, Any], task, fitted: Method | None = None, *,
            max_rows: int | None = 2000) -> dict:
    """Minus the mean Shannon entropy (nats) of the candidate's class probabilities on a sample of
    ``max_rows`` target unlabeled rows (POS: per token): confident predictions score higher
    (entropy minimisation, Grandvalet & Bengio 2005, used as a validator by Morerio et al. 2018
    and Musgrave et al. 2021). A model that predicts one class with certainty scores best: read
    ``guard`` (``collapsed``) beside it, or use :func:`im`.

    Returns:
        ``{"validator": "entropy", "score": -mean entropy, "mean_entropy", "normalized"
        (mean entropy / log K), "guard", "collapsed", "warnings"}``, or ``score: None`` with
        ``applicable: False`` for a method without probabilities.
    """
    m, tgt, got = _proba_on_target(method_name, params, task, fitted, "entropy", max_rows)
    if got is None:
        return _no_proba(method_name, "entropy")
    P, classes = got
    h = float(_entropies(P).mean())
    g = _guard_of(task, P, classes)
    return {"validator": "entropy", "score": -h, "mean_entropy": h, "normalized": h / math.log(max(P.shape[1], 2)),
            "guard": g, "collapsed": g["collapsed"], "warnings": g["warnings"]}


def im(method_name: str, params: Mapping[str, Any], task, fitted: Method | None = None, *,
       max_rows: int | None = 2000) -> dict:
    """Information maximisation (Shi & Sha, ICML 2012; the objective of SHOT, Liang et al. 2020;
    pytorch-adapt's ``IMValidator``): H(mean p) - mean H(p) on the target sample, the mutual
    information between a target row and its predicted class. Confident *and* diverse
    predictions score high; a collapse onto one class scores about 0.

    Returns:
        ``{"validator": "im", "score", "diversity" (H of the mean prediction), "mean_entropy",
        "guard", "collapsed", "warnings"}``, or ``score: None`` without probabilities.
    """
    m, tgt, got = _proba_on_target(method_name, params, task, fitted, "im", max_rows)
    if got is None:
        return _no_proba(method_name, "im")
    P, classes = got
    h = float(_entropies(P).mean())
    div = float(_entropies(P.mean(axis=0, keepdims=True))[0])
    g = _guard_of(task, P, classes)
    return {"validator": "im", "score": div - h, "diversity": div, "mean_entropy": h, "guard": g,
            "collapsed": g["collapsed"], "warnings": g["warnings"]}


def snd(method_name: str, params: Mapping[str, Any], task, fitted: Method | None = None, *,
        max_rows: int | None = 2000, temperature: float = SND_TEMPERATURE) -> dict:
    """Soft neighbourhood density (Saito et al., ICCV 2021): the target probability vectors are
    scaled to unit length, each row's similarities to the other rows go through a softmax at
    ``temperature`` (0.05, the paper's), and the score is the mean entropy of those neighbour
    distributions -- high when the predictions form dense clusters. At most ``max_rows`` rows
    (POS: tokens; a seeded sample). Like :func:`entropy`, it rewards a collapse (all vectors
    alike, every neighbourhood uniform): read ``guard`` beside it.

    Returns:
        ``{"validator": "snd", "score", "rows", "temperature", "guard", "collapsed", "warnings"}``,
        or ``score: None`` without probabilities.
    """
    from .._sampling import sample_indices

    if not (isinstance(temperature, int | float) and temperature > 0):
        raise Errors.E601(what="validator 'snd'", option="temperature", expected="a number > 0", got=temperature)
    m, tgt, got = _proba_on_target(method_name, params, task, fitted, "snd", max_rows)
    if got is None:
        return _no_proba(method_name, "snd")
    P, classes = got
    g = _guard_of(task, P, classes)
    F = P[sample_indices(len(P), max_rows, task.seed)]
    if len(F) < 2:
        return {**_no_proba(method_name, "snd"), "reason": "fewer than 2 target rows with predictions"}
    F = F / np.maximum(np.linalg.norm(F, axis=1, keepdims=True), 1e-12)
    S = F @ F.T / temperature
    np.fill_diagonal(S, -np.inf)
    Q = _softmax(S)
    score = float(_entropies(Q).mean())
    return {"validator": "snd", "score": score, "rows": len(F), "temperature": float(temperature), "guard": g,
            "collapsed": g["collapsed"], "warnings": g["warnings"]}


def agreement(method_name: str, params: Mapping[str, Any], task, fitted: Method | None = None, *,
              others: Mapping[str, Method | Sequence], max_rows: int | None = 2000) -> dict:
    """Ensemble consistency: the share of target rows (POS: tokens) on which this candidate's
    predictions agree with each other candidate's, averaged over the others (a candidate that
    disagrees with the crowd is suspect; the crowd can be wrong together). The predictions are on
    the same seeded sample of ``max_rows`` target unlabeled rows for every candidate.

    Args:
        others: ``{label: fitted Method}`` of the other candidates, or ``{label: predictions}``
            already made on that sample.

    Returns:
        ``{"validator": "agreement", "score": mean agreement, "with": {label: agreement}}``.

    Raises:
        EvaluatorError: E603 -- no other candidate.
    """
    if not others:
        raise Errors.E603(what="validator 'agreement'", needs="at least one other candidate",
                          detail="pass others={label: fitted method or its target predictions}")
    kind = _kind(task)
    m = _fitted(method_name, params, task, fitted, "agreement")
    tgt = _target_sample(task, "agreement", max_rows)
    mine = _flat(m.predict(tgt), kind)
    per = {}
    for label, other in others.items():
        theirs = _flat(other.predict(tgt) if isinstance(other, Method) else list(other), kind)
        if len(theirs) != len(mine):
            raise Errors.E604(what=f"validator 'agreement' ({label!r})", n_gold=len(mine), unit="target predictions",
                              n_pred=len(theirs))
        per[str(label)] = float(np.mean([a == b for a, b in zip(mine, theirs, strict=True)])) if mine else 0.0
    return {"validator": "agreement", "score": float(np.mean(list(per.values()))), "with": per}


# ------------------------------------------------------------------------------ the diagnosis's facts
LABEL_MIX_NOTE = 0.20  # total variation of the BBSE label-mix estimate from the source's that earns a note


def diagnosis(task, fitted: Method | None = None, *, max_rows: int = 1000) -> dict:
    """The diagnosis's own signals about the source/target pair, as plain facts beside the scores
    (no ranking): the proxy A-distance of a tf-idf domain classifier
    (:func:`nlpta.evaluators.domain_separability`, Ben-David et al. 2007) and the target label
    distribution estimated without target labels by black-box shift estimation
    (:func:`nlpta.evaluators.label_shift` in unlabeled mode, Lipton et al. 2018; POS needs
    ``fitted``, a tagger trained on the source).

    Returns:
        ``{"domain_separability": {...}, "label_shift": {...} | None, "notes": [str]}``.
    """
    unl = _need_unlabeled(task, "diagnosis")
    kind = _kind(task)
    facts: dict[str, Any] = {"domain_separability": domain_separability(task.source, unl, seed=task.seed,
                                                                        max_rows=max_rows), "notes": []}
    tgt = sample_rows(unl, max_rows, task.seed)
    if kind == "sentiment":
        ls = label_shift(task.source, tgt, task=kind, mode="unlabeled", seed=task.seed)
    elif fitted is not None:
        ls = label_shift(task.source, tgt, task=kind, mode="unlabeled", model=fitted, seed=task.seed)
        facts["notes"].append("the POS label-shift estimate uses the fitted tagger's confusion on its own source "
                              "rows (optimistic)")
    else:
        ls = None
        facts["notes"].append("no POS label-shift estimate without a fitted tagger")
    if ls is not None:
        facts["label_shift"] = {k: ls[k] for k in ("source", "target", "predicted", "tv_distance", "condition_number")
                                if k in ls}
        tv = ls.get("tv_distance")
        if isinstance(tv, int | float) and tv >= LABEL_MIX_NOTE:
            facts["notes"].append(
                f"the unlabeled rows' label mix is estimated to differ from the source's (total variation {tv:.2f}): "
                "label-shift, self-training and reweighting move the model toward that mix, which helps only if the "
                "rows it will predict share it (FDU-MTL's unlabel files are mostly positive while its test splits "
                "are balanced: there, adapting to them lost accuracy; see BENCHMARKS.md)")
    else:
        facts["label_shift"] = None
    return facts


# ------------------------------------------------------------------------------ all together
VALIDATORS: dict[str, Callable[..., dict]] = {"source_cv": source_cv, "iwcv": iwcv, "dev": dev, "atc": atc,
                                              "doc": doc, "reverse": reverse, "entropy": entropy, "im": im, "snd": snd,
                                              "agreement": agreement}
PROBA_VALIDATORS = ("atc", "doc", "entropy", "im", "snd")
DEFAULT_VALIDATORS = ("source_cv", "iwcv", "dev", "atc", "doc", "reverse", "entropy", "im", "snd", "agreement")
_OOF = ("source_cv", "iwcv", "dev", "atc", "doc")
_CONFIDENCE = ("atc", "doc")


def _candidates(candidates) -> dict[str, tuple[str, dict]]:
    if isinstance(candidates, Mapping):
        items = candidates.items()
    else:
        items = ((c, c) if isinstance(c, str) else (c[0], c) for c in candidates)
    out = {}
    for label, spec in items:
        name, params = (spec, {}) if isinstance(spec, str) else (spec[0], dict(spec[1] or {}))
        out[str(label)] = (name, params)
    return out


def validate(candidates, task, validators: Sequence[str] = DEFAULT_VALIDATORS, *, folds: int = 5,
             max_rows: int | None = 2000, fitted: Mapping[str, Method] | None = None, facts: bool = True,
             **weight_options) -> dict:
    """Score several candidates for ``task`` with several validators, sharing the work: each
    candidate is fitted once (on :func:`candidate_task`), its out-of-fold predictions are made
    once for ``source_cv`` / ``iwcv`` / ``dev``, the importance weights once for the task.

    Args:
        candidates: method names, ``(name, params)`` pairs, or ``{label: name | (name, params)}``.
        validators: names from :data:`VALIDATORS`.
        fitted: ``{label: fitted Method}`` for candidates already fitted on this task.
        facts: add :func:`diagnosis` (PAD, label shift) under ``"facts"``.
        weight_options: passed to :func:`importance_weights`.

    Returns:
        ``{"scores": {label: {validator: result}}, "ranking": {validator: [label, ...]},
        "flagged": [label], "weights": summary, "facts": {...}, "warnings": [...]}``. A ranking
        lists the candidates best first by score, those without a score dropped and those the
        prediction guard flags as collapsed (on any validator's target sample) placed last.

    Raises:
        EvaluatorError: E601 (an unknown validator name), E606, E607.
    """
    from tqdm.auto import tqdm

    unknown = [v for v in validators if v not in VALIDATORS]
    if unknown:
        raise Errors.E601(what="validate", option="validators", expected=f"names from {', '.join(VALIDATORS)}",
                          got=unknown)
    _need_unlabeled(task, "validate")
    cands = _candidates(candidates)
    fitted = dict(fitted or {})
    for name, params in cands.values():
        _check_candidate(name, params, "validate")
    sw = importance_weights(task, **weight_options) if {"iwcv", "dev"} & set(validators) else None
    models: dict[str, Method] = {}
    for label, (name, params) in tqdm(cands.items(), desc="fit candidates", unit="candidate", disable=None,
                                      leave=False):
        models[label] = _fitted(name, params, task, fitted.get(label), "validate")
    tgt = _target_sample(task, "validate", max_rows)
    preds = {label: m.predict(tgt) for label, m in models.items()} if "agreement" in validators else {}
    scores: dict[str, dict] = {}
    for label, (name, params) in tqdm(cands.items(), desc="validate", unit="candidate", disable=None, leave=False):
        res: dict[str, dict] = {}
        oof = (out_of_fold(name, params, task, folds=folds, target=tgt if set(_CONFIDENCE) & set(validators) else None)
               if set(_OOF) & set(validators) else None)
        for v in validators:
            if v == "source_cv":
                res[v] = source_cv(name, params, task, folds=folds, oof=oof)
            elif v in _CONFIDENCE:
                res[v] = VALIDATORS[v](name, params, task, folds=folds, oof=oof, max_rows=max_rows)
            elif v in ("iwcv", "dev"):
                res[v] = VALIDATORS[v](name, params, task, folds=folds, oof=oof, weights=sw)
            elif v == "agreement":
                others = {k: p for k, p in preds.items() if k != label}
                res[v] = (agreement(name, params, task, models[label], others=others, max_rows=max_rows) if others
                          else {"validator": v, "score": None, "applicable": False, "reason": "a single candidate"})
            else:
                res[v] = VALIDATORS[v](name, params, task, models[label], max_rows=max_rows)
        scores[label] = res
    flagged = sorted(label for label, res in scores.items()
                     if any(r.get("collapsed") or (r.get("guard") or {}).get("collapsed") for r in res.values()))
    ranking = {}
    for v in validators:
        scored = [(label, res[v]["score"]) for label, res in scores.items() if res[v].get("score") is not None]
        ranking[v] = [label for label, _ in sorted(scored, key=lambda x: (x[0] in flagged, -x[1], x[0]))]
    warnings = [f"{label}: prediction collapse on the target (see the guard); ranked last" for label in flagged]
    out: dict[str, Any] = {"scores": scores, "ranking": ranking, "flagged": flagged,
                           "weights": sw.summary if sw is not None else None, "warnings": warnings}
    if facts:
        out["facts"] = diagnosis(task)
    return out
