"""Self-training with confidence-thresholded, class-balanced pseudo-labels (Yarowsky 1995; McClosky,
Charniak & Johnson 2006 for parsing across domains; the class-balanced selection of Zou et al. 2018,
"Unsupervised domain adaptation for semantic segmentation via class-balanced self-training").

Each round the current model labels the target rows; the confident ones (top class probability >=
``threshold``; or the most confident ``top_share`` of the target rows) are picked per class in
balance (the same number per class, or shares proportional to the source prior), and a fresh model
is trained on the source rows plus those pseudo-labeled rows. The pseudo-labels are chosen anew
every round from the current model (a row labeled wrongly once is not kept for good).

scikit-learn's ``SelfTrainingClassifier`` does a plain version of this (threshold or k-best, no
class balance, pseudo-labels kept once given) over a numeric 2-d ``X``; it cannot take texts or
token lists and has no sentence-level confidence, hence this estimator.

Sequences (``sequence_confidence="min"`` or ``"mean"``): ``X`` holds token lists, ``y`` tag lists
(empty on target rows), the base estimator's ``predict_proba`` gives one row per token; a
sentence's confidence is the min (or mean) of its tokens' top probabilities, and whole sentences
are selected by confidence alone (a sentence holds many tags, so there is no per-class balance).
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, clone

from .._domains import check_sample_domain
from ..errors import Errors
from ..models.classical import EstimatorInputError, _check_fitted

__all__ = ["BALANCES", "SelfTraining", "select_pseudo_labels", "select_sequences", "sequence_confidence"]

BALANCES = ("equal", "prior", "none")
CONFIDENCES = ("min", "mean")


def _check_share(name: str, v, allow_none: bool) -> None:
    if v is None and allow_none:
        return
    if not isinstance(v, numbers.Real) or isinstance(v, bool) or not 0 <= v <= 1:
        raise Errors.E322(what=name, expected="a number in [0, 1]" + (" or None" if allow_none else ""), got=repr(v),
                          cls=EstimatorInputError)


def select_pseudo_labels(proba: np.ndarray, threshold: float | None = 0.9, balance: str = "equal",
                         prior: np.ndarray | None = None, top_share: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Which target rows to pseudo-label, and with which class (a column of ``proba``).

    Candidates: rows whose top probability is >= ``threshold`` (every row when ``None``), each
    under its arg-max class, most confident first. ``top_share`` caps the total at that share of
    the rows. ``balance``: ``"equal"`` -- the same number ``m`` per class, ``m`` = the fewest
    candidates any class has (within the cap: at most ``cap // k``); ``"prior"`` -- per class
    ``floor(N * prior_c)`` with the largest ``N`` (<= cap) every class can fill; ``"none"`` -- the
    candidates as they come (the most confident up to the cap).

    Returns:
        ``(rows, classes)``: sorted row indices and their class indices.

    Raises:
        EstimatorInputError: E322 for a bad ``threshold`` / ``top_share`` / ``balance`` / ``prior``.
    """
    _check_share("threshold", threshold, allow_none=True)
    _check_share("top_share", top_share, allow_none=True)
    if balance not in BALANCES:
        raise Errors.E322(what="balance", expected=" or ".join(repr(b) for b in BALANCES), got=repr(balance),
                          cls=EstimatorInputError)
    proba = np.asarray(proba, dtype=np.float64)
    n, k = proba.shape
    conf, lab = proba.max(1), proba.argmax(1)
    ok = np.ones(n, dtype=bool) if threshold is None else conf >= threshold
    cap = n if top_share is None else int(np.floor(top_share * n))
    per_class = []
    for c in range(k):
        rows = np.flatnonzero(ok & (lab == c))
        per_class.append(rows[np.argsort(-conf[rows], kind="stable")])
    avail = np.array([len(r) for r in per_class])
    if balance == "equal":
        take = np.full(k, min(int(avail.min()), cap // k))
    elif balance == "prior":
        if prior is None or len(prior) != k or np.any(np.asarray(prior) < 0) or not np.sum(prior) > 0:
            raise Errors.E322(what="prior", expected=f"{k} non-negative class shares (balance='prior')",
                              got=repr(prior), cls=EstimatorInputError)
        p = np.asarray(prior, dtype=np.float64) / np.sum(prior)
        pos = p > 0
        big_n = min(float(np.min(avail[pos] / p[pos])), float(cap))
        take = np.floor(big_n * p + 1e-9).astype(int)
    else:
        cand = np.flatnonzero(ok)
        chosen = cand[np.argsort(-conf[cand], kind="stable")][:cap]
        chosen = np.sort(chosen)
        return chosen, lab[chosen]
    chosen = np.sort(np.concatenate([per_class[c][: take[c]] for c in range(k)]).astype(int))
    return chosen, lab[chosen]


def sequence_confidence(token_proba: np.ndarray, lengths, how: str = "min") -> tuple[np.ndarray, np.ndarray]:
    """Per sentence: its confidence (min or mean of its tokens' top probabilities; 0 for an empty
    sentence) and, per token, the arg-max column. ``token_proba`` holds the sentences' tokens in
    order. Returns ``(confidence per sentence, label column per token)``."""
    if how not in CONFIDENCES:
        raise Errors.E322(what="sequence_confidence", expected="'min' or 'mean'", got=repr(how),
                          cls=EstimatorInputError)
    lengths = np.asarray(lengths, dtype=int)
    top = token_proba.max(1) if len(token_proba) else np.zeros(0)
    conf = np.zeros(len(lengths))
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    for i, (s, m) in enumerate(zip(starts, lengths, strict=True)):
        if m:
            seg = top[s: s + m]
            conf[i] = seg.min() if how == "min" else seg.mean()
    return conf, token_proba.argmax(1) if len(token_proba) else np.zeros(0, dtype=int)


def select_sequences(confidence: np.ndarray, threshold: float | None = 0.9,
                     top_share: float | None = None) -> np.ndarray:
    """The sentences to pseudo-label: confidence >= ``threshold`` (all when ``None``), the most
    confident first, at most ``top_share`` of the sentences. Returns sorted indices."""
    _check_share("threshold", threshold, allow_none=True)
    _check_share("top_share", top_share, allow_none=True)
    conf = np.asarray(confidence, dtype=np.float64)
    cand = np.flatnonzero(conf >= threshold) if threshold is not None else np.arange(len(conf))
    cap = len(conf) if top_share is None else int(np.floor(top_share * len(conf)))
    return np.sort(cand[np.argsort(-conf[cand], kind="stable")][:cap])


class SelfTraining(BaseEstimator):
    """Self-training with confidence-thresholded, class-balanced pseudo-labels (see the module).

    Args:
        estimator: the base model (cloned every round): ``fit(X, y, sample_weight)`` and
            ``predict_proba``; ``X`` any list of items (texts, token lists).
        rounds: self-training rounds after the source-only fit (0: the base model only).
        threshold: the least top-class probability (sentence confidence for sequences) of a
            pseudo-labeled row; ``None``: no threshold (use ``top_share``).
        top_share: the most pseudo-labeled rows, as a share of the target rows; ``None``: no cap.
        balance: ``"equal"``, ``"prior"`` (the source rows' class shares) or ``"none"``
            (:func:`select_pseudo_labels`); ignored for sequences.
        sequence_confidence: ``None`` for one label per row; ``"min"`` / ``"mean"``: sequences.
        pseudo_weight: the sample weight of a pseudo-labeled row (source rows weigh 1).
        random_state: unused by the selection (deterministic); kept for the one-seed convention.

    ``fit(X, y, sample_domain=None)``: source and target rows in ``X``; target rows are those with
    ``sample_domain`` < 0, else those whose label is -1 (rows) or empty (sequences).

    Attributes:
        estimator_ (the last round's model), classes_, history_ (one dict per round: ``round``,
        ``selected``, ``per_class`` counts, ``mean_confidence`` of the selected rows, ``changed``:
        the share of pseudo-labels that differ from the previous round's on rows selected in both),
        n_source_, n_target_.
    """

    __metadata_request__fit = {"sample_domain": True}  # noqa: RUF012

    def __init__(self, estimator=None, rounds: int = 3, threshold: float | None = 0.9, top_share: float | None = None,
                 balance: str = "equal", sequence_confidence: str | None = None, pseudo_weight: float = 1.0,
                 random_state=0) -> None:
        self.estimator = estimator
        self.rounds = rounds
        self.threshold = threshold
        self.top_share = top_share
        self.balance = balance
        self.sequence_confidence = sequence_confidence
        self.pseudo_weight = pseudo_weight
        self.random_state = random_state

    def _check(self) -> None:
        if self.estimator is None or not hasattr(self.estimator, "predict_proba"):
            raise Errors.E322(what="estimator", expected="a model with fit(X, y, sample_weight) and predict_proba",
                              got=repr(self.estimator), cls=EstimatorInputError)
        if not isinstance(self.rounds, numbers.Integral) or isinstance(self.rounds, bool) or self.rounds < 0:
            raise Errors.E322(what="rounds", expected="an integer >= 0", got=repr(self.rounds), cls=EstimatorInputError)
        _check_share("threshold", self.threshold, allow_none=True)
        _check_share("top_share", self.top_share, allow_none=True)
        if self.threshold is None and self.top_share is None:
            raise Errors.E322(what="threshold / top_share", expected="at least one of them set",
                              got="both None (every target row would be pseudo-labeled)", cls=EstimatorInputError)
        if self.balance not in BALANCES:
            raise Errors.E322(what="balance", expected=" or ".join(repr(b) for b in BALANCES), got=repr(self.balance),
                              cls=EstimatorInputError)
        if self.sequence_confidence is not None and self.sequence_confidence not in CONFIDENCES:
            raise Errors.E322(what="sequence_confidence", expected="None, 'min' or 'mean'",
                              got=repr(self.sequence_confidence), cls=EstimatorInputError)
        if not isinstance(self.pseudo_weight, numbers.Real) or not self.pseudo_weight > 0:
            raise Errors.E322(what="pseudo_weight", expected="a number > 0", got=repr(self.pseudo_weight),
                              cls=EstimatorInputError)

    def fit(self, X, y, sample_domain=None) -> SelfTraining:
        """Fit the base model on the source rows, then ``rounds`` rounds of pseudo-labeling the
        target rows and refitting on source + pseudo-labeled rows. Returns self.

        Raises:
            EstimatorInputError: a bad parameter (E322), ``y`` / ``sample_domain`` of the wrong
                length (E320), no source rows (E326); the base model's own errors.
        """
        self._check()
        X, y = list(X), list(y)
        n = len(X)
        if len(y) != n:
            raise Errors.E320(what="y", got=len(y), expected=f"{n} rows of X", per="row", cls=EstimatorInputError)
        seq = self.sequence_confidence is not None
        if sample_domain is not None:
            src = check_sample_domain(n, sample_domain, cls=EstimatorInputError) > 0
        elif seq:
            src = np.array([len(t) > 0 for t in y], dtype=bool)
        else:
            src = np.array([int(v) != -1 for v in y], dtype=bool)
        s_idx, t_idx = np.flatnonzero(src), np.flatnonzero(~src)
        if len(s_idx) == 0:
            raise Errors.E326(what="the self-training input", got="no source rows",
                              needs="it needs labeled source rows to start from", cls=EstimatorInputError)
        Xs, ys = [X[i] for i in s_idx], [y[i] for i in s_idx]
        Xt = [X[i] for i in t_idx]
        model = clone(self.estimator).fit(Xs, ys)
        classes = np.asarray(model.classes_)
        prior = None
        if not seq:
            lab = np.asarray(ys)
            prior = np.array([np.mean(lab == c) for c in classes])
        self.history_, prev = [], {}
        for r in range(1, self.rounds + 1):
            if not Xt:
                break
            P = np.asarray(model.predict_proba(Xt))
            if seq:
                lengths = [len(s) for s in Xt]
                conf, cols = sequence_confidence(P, lengths, self.sequence_confidence)
                rows = select_sequences(conf, self.threshold, self.top_share)
                starts = np.r_[0, np.cumsum(lengths)[:-1]]
                labels = {int(i): tuple(str(t) for t in classes[cols[starts[i]: starts[i] + lengths[i]]]) for i in rows}
                tags = [t for i in rows for t in labels[int(i)]]
                per_class = {str(c): int(v) for c, v in zip(*np.unique(tags, return_counts=True), strict=True)} \
                    if tags else {}
            else:
                conf = P.max(1)
                rows, cols = select_pseudo_labels(P, self.threshold, self.balance, prior, self.top_share)
                labels = {int(i): classes[c].item() for i, c in zip(rows, cols, strict=True)}
                per_class = {str(c.item()): int(np.sum(cols == j)) for j, c in enumerate(classes)}
            both = [i for i in labels if i in prev]
            changed = float(np.mean([labels[i] != prev[i] for i in both])) if both else None
            self.history_.append({"round": r, "selected": len(rows), "per_class": per_class,
                                  "mean_confidence": float(np.mean(conf[rows])) if len(rows) else None,
                                  "changed": changed})
            prev = labels
            Xp = [Xt[i] for i in rows]
            yp = [list(labels[int(i)]) if seq else labels[int(i)] for i in rows]
            w = np.r_[np.ones(len(Xs)), np.full(len(Xp), float(self.pseudo_weight))]
            model = clone(self.estimator).fit(Xs + Xp, ys + yp, sample_weight=w)
        self.estimator_ = model
        self.classes_ = np.asarray(model.classes_)
        self.n_source_, self.n_target_ = len(s_idx), len(t_idx)
        return self

    def predict_proba(self, X):
        """The last round's model's ``predict_proba``."""
        _check_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)

    def predict(self, X):
        """The last round's model's ``predict``."""
        _check_fitted(self, "estimator_")
        return self.estimator_.predict(X)
