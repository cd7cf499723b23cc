"""Label shift: P(Y) differs between two domains.

With target labels: the two label distributions, their total-variation distance and a G-test.
Without: black-box shift estimation (Lipton, Wang & Smola 2018, "Detecting and correcting for
label shift with black box predictors"): a source classifier's joint confusion matrix C[i, j] =
P(predicted i, true j) on held-out source data and its prediction rates mu on the target give the
importance weights w = C^-1 mu, and the target label distribution q(y) = w(y) p(y).
"""

from __future__ import annotations

import logging
from typing import Any

import datasets
import numpy as np

from ..errors import Errors
from ._common import check_pair, check_same_labels, g_test_rows, has_labels, require_labels

log = logging.getLogger(__name__)


def _labels_of(ds: datasets.Dataset, task: str) -> list:
    return [t for s in ds["upos"] for t in s] if task == "pos" else list(ds["label"])


def _dist(ys: list, names: list) -> np.ndarray:
    ix = {n: i for i, n in enumerate(names)}
    return np.bincount([ix[y] for y in ys], minlength=len(names)).astype(float)


def bbse_weights(y_true: np.ndarray, y_pred_source: np.ndarray, y_pred_target: np.ndarray, n_labels: int,
                 ridge: float = 1e-6) -> tuple[np.ndarray, float]:
    """Black-box shift estimation weights w (target/source label ratio) from label ids.

    Returns ``(w, condition_number)``; w is clipped at 0. A large condition number means the
    classifier confuses classes too much for the estimate to be trusted.
    """
    c = np.zeros((n_labels, n_labels))
    np.add.at(c, (y_pred_source, y_true), 1)
    c /= max(len(y_true), 1)
    mu = np.bincount(y_pred_target, minlength=n_labels) / max(len(y_pred_target), 1)
    a = c.T @ c + ridge * np.eye(n_labels)
    w = np.linalg.solve(a, c.T @ mu)
    return np.clip(w, 0, None), float(np.linalg.cond(c))


def _default_sentiment_predictions(source, target, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Held-out (5-fold) source predictions and target predictions of a tf-idf logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline

    clf = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
                        LogisticRegression(C=10.0, max_iter=1000))
    y = np.asarray(source["label"])
    cv = StratifiedKFold(5, shuffle=True, random_state=seed)
    held = cross_val_predict(clf, source["text"], y, cv=cv)
    clf.fit(source["text"], y)
    return held, clf.predict(target["text"])


def label_shift(
    source: datasets.Dataset,
    target: datasets.Dataset,
    *,
    task: str | None = None,
    mode: str = "auto",
    model: Any = None,
    holdout: datasets.Dataset | None = None,
    seed: int = 0,
) -> dict:
    """Compare (labeled mode) or estimate (unlabeled mode) the label distributions.

    Args:
        mode: ``labeled`` (gold labels on both sides), ``unlabeled`` (BBSE) or ``auto``.
        model: unlabeled mode: a classifier fitted on the source with ``predict(dataset) -> labels``
            (a fitted :class:`nlpta.methods.Method` works). Sentiment needs none (a tf-idf logistic
            regression is cross-validated on the source); POS needs one.
        holdout: labeled source rows the ``model`` did not train on, for its confusion matrix
            (without it, the model's confusion on the source itself is used, which is optimistic).

    Returns:
        ``{mode, labels, source, target, difference, tv_distance, p_value, ...}``: distributions as
        ``{label: share}``; in unlabeled mode ``target`` is the BBSE estimate and ``predicted`` the
        classifier's raw prediction rates, with ``condition_number`` and ``method: "bbse"``.
    """
    task = check_pair(source, target, task)
    require_labels(source, task, "source", "label shift")
    if mode == "auto":
        mode = "labeled" if has_labels(target, task) else "unlabeled"
    ys = _labels_of(source, task)
    if mode == "labeled":
        require_labels(target, task, "target", "label shift in labeled mode")
        yt = _labels_of(target, task)
        check_same_labels(ys, yt, "labels", task)
        names = sorted(set(ys) | set(yt), key=str)
        cs, ct = _dist(ys, names), _dist(yt, names)
        _, p = g_test_rows(cs[None], ct[None])
        ps, pt = cs / cs.sum(), ct / ct.sum()
        out = {"mode": "labeled", "method": "observed", "p_value": float(p[0]),
               "n_source": int(cs.sum()), "n_target": int(ct.sum())}
    elif mode == "unlabeled":
        names = sorted(set(ys), key=str)
        ix = {n: i for i, n in enumerate(names)}
        if model is None:
            if task == "pos":
                raise Errors.E603(what="label shift without target labels for POS", needs="a fitted tagger",
                                  detail="pass model= (or give target labels and mode='labeled')")
            held, pred_t = _default_sentiment_predictions(source, target, seed)
            y_true = np.array([ix[y] for y in ys])
        else:
            ref = holdout if holdout is not None else source
            if holdout is None:
                log.warning("label_shift: no holdout given; the model's confusion on its own training data is optimistic")
            require_labels(ref, task, "holdout", "label shift")
            held = _flat(model.predict(ref), task)
            pred_t = _flat(model.predict(target), task)
            y_true = np.array([ix[y] for y in _labels_of(ref, task)])
        held_ix = np.array([ix.get(y, 0) for y in held])
        pt_ix = np.array([ix.get(y, 0) for y in pred_t])
        w, cond = bbse_weights(y_true, held_ix, pt_ix, len(names))
        cs = np.bincount(y_true, minlength=len(names)).astype(float)
        ps = cs / cs.sum()
        q = w * ps
        pt = q / q.sum() if q.sum() > 0 else ps
        pred_rate = np.bincount(pt_ix, minlength=len(names)) / max(len(pt_ix), 1)
        out = {"mode": "unlabeled", "method": "bbse", "p_value": None, "condition_number": cond,
               "predicted": {str(n): float(v) for n, v in zip(names, pred_rate, strict=True)},
               "weights": {str(n): float(v) for n, v in zip(names, w, strict=True)},
               "n_source": int(len(y_true)), "n_target": int(len(pt_ix))}
    else:
        raise Errors.E601(what="label_shift", option="mode", expected="auto, labeled or unlabeled", got=mode)
    out.update({
        "labels": [str(n) for n in names],
        "source": {str(n): float(v) for n, v in zip(names, ps, strict=True)},
        "target": {str(n): float(v) for n, v in zip(names, pt, strict=True)},
        "difference": {str(n): float(b - a) for n, a, b in zip(names, ps, pt, strict=True)},
        "tv_distance": float(0.5 * np.abs(pt - ps).sum()),
    })
    return out


def _flat(pred: list, task: str) -> list:
    return [t for s in pred for t in s] if task == "pos" else list(pred)
