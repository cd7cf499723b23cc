"""Label shift (prior shift): the target's class prior differs from the source's, p(x|y) does not.

* BBSE, black-box shift estimation (Lipton, Wang & Smola 2018): with ``C[i, j] = P(yhat = i, y = j)``
  measured on held-out source rows and ``mu[i] = P(yhat = i)`` on the target rows, the class weights
  ``w = q / p`` (target prior over source prior) solve ``C w = mu``; clipped to >= 0 and
  renormalised so that ``sum_y w_y p_y = 1``.
* EM prior adjustment (Saerens, Latinne & Decaestecker 2002): alternate re-weighting the
  classifier's target posteriors by ``q / p`` and re-estimating ``q`` as their mean.

Either way the corrected posterior is ``p(y|x) w_y`` renormalised (:func:`adjust_proba`). Both
assume calibrated posteriors; a regularised tf-idf logistic regression is under-confident, and
multiplying its posteriors by the weights then flips far too many decisions (and EM runs off to a
prior of 0 or 1). So by default the posteriors are first calibrated on the held-out source rows by
bias-corrected temperature scaling (BCTS: ``softmax(a * log p + b)``; Alexandari, Kundaje &
Shrikumar 2020, "Maximum likelihood with bias-corrected calibration is hard-to-beat at label shift
adaptation"), and the same calibration is applied to the target rows and at prediction time.

:class:`LabelShift` is a scikit-learn estimator over *probabilities*: ``X`` holds one row of class
probabilities per row (held-out ones for the source rows), ``y`` the source rows' class index
(column of ``X``), and the target rows travel in ``X`` too (``sample_domain`` < 0 or ``y == -1``,
SKADA's convention). The target prior's interval comes from a bootstrap that resamples both the
held-out source rows and the target rows (``groups``: resample whole groups, e.g. the sentences of
a POS tagger's tokens).
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from .._domains import source_mask as _source_mask
from ..errors import Errors
from ..models.classical import EstimatorInputError, int_seed

__all__ = ["ESTIMATORS", "LabelShift", "adjust_proba", "bbse_weights", "bcts_apply", "bcts_fit", "em_prior"]

ESTIMATORS = ("bbse", "em")
CALIBRATIONS = ("bcts", "none")
_EPS = 1e-12


def bcts_apply(P: np.ndarray, a: float, b: np.ndarray) -> np.ndarray:
    """Calibrated probabilities ``softmax(a * log P + b)`` (bias-corrected temperature scaling)."""
    z = a * np.log(np.clip(np.asarray(P, dtype=np.float64), _EPS, None)) + np.asarray(b)[None, :]
    z -= z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def bcts_fit(P: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Bias-corrected temperature scaling (Alexandari, Kundaje & Shrikumar 2020): the inverse
    temperature ``a`` and class biases ``b`` that minimise the negative log-likelihood of the
    labels ``y`` (class indices) under ``softmax(a * log P + b)``, by L-BFGS-B. Returns ``(a, b)``."""
    from scipy.optimize import minimize

    L = np.log(np.clip(np.asarray(P, dtype=np.float64), _EPS, None))
    n, k = L.shape
    onehot = np.zeros((n, k))
    onehot[np.arange(n), y] = 1.0

    def nll(theta: np.ndarray) -> tuple[float, np.ndarray]:
        a, b = theta[0], theta[1:]
        z = a * L + b[None, :]
        z -= z.max(1, keepdims=True)
        logq = z - np.log(np.exp(z).sum(1, keepdims=True))
        g = np.exp(logq) - onehot
        reg = 1e-6 * float(b @ b)  # pins the free shift of b (softmax is shift-invariant)
        return (-float(np.sum(onehot * logq)) / n + reg,
                np.r_[float(np.sum(g * L)) / n, g.sum(0) / n + 2e-6 * b])

    res = minimize(nll, np.r_[1.0, np.zeros(k)], jac=True, method="L-BFGS-B",
                   bounds=[(1e-3, 1e3)] + [(None, None)] * k)
    return float(res.x[0]), np.asarray(res.x[1:], dtype=np.float64)


def adjust_proba(P: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Posteriors corrected for label shift: ``P * weights`` per column, rows renormalised (a row
    whose weighted mass is 0 keeps its original probabilities). Returns an array of ``P``'s shape."""
    P = np.asarray(P, dtype=np.float64)
    Q = P * np.asarray(weights, dtype=np.float64)[None, :]
    z = Q.sum(1, keepdims=True)
    bad = (z[:, 0] <= 0) | ~np.isfinite(z[:, 0])
    Q[bad], z[bad] = P[bad], P[bad].sum(1, keepdims=True)
    return Q / np.where(z > 0, z, 1.0)


def bbse_weights(confusion: np.ndarray, mu: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """BBSE (Lipton et al. 2018): solve ``confusion @ w = mu`` (least squares, so a singular matrix
    gives the minimum-norm solution), clip at 0 and rescale so that ``sum(w * prior) = 1``.
    ``confusion[i, j] = P(yhat = i, y = j)`` on held-out source rows, ``mu[i] = P(yhat = i)`` on the
    target. Returns the class weights ``w`` (target prior = ``w * prior``)."""
    w = np.linalg.lstsq(confusion, mu, rcond=None)[0]
    w = np.clip(w, 0.0, None)
    s = float(np.sum(w * prior))
    return w / s if s > 0 else np.ones_like(w)


def em_prior(P: np.ndarray, prior: np.ndarray, tol: float = 1e-8, max_iter: int = 1000) -> tuple[np.ndarray, int]:
    """EM prior adjustment (Saerens et al. 2002): the target prior ``q`` that the classifier's
    target posteriors ``P`` (trained under ``prior``) imply. Returns ``(q, iterations)``."""
    q = prior.copy()
    ratio_base = np.where(prior > 0, 1.0 / np.where(prior > 0, prior, 1.0), 0.0)
    for it in range(1, max_iter + 1):
        post = adjust_proba(P, q * ratio_base)
        q_new = post.mean(0)
        if np.max(np.abs(q_new - q)) < tol:
            return q_new, it
        q = q_new
    return q, max_iter


def _group_index(groups) -> list[np.ndarray]:
    """The row indices of each group."""
    g = np.asarray(groups)
    _, inv = np.unique(g, return_inverse=True)
    order = np.argsort(inv, kind="stable")
    bounds = np.flatnonzero(np.diff(inv[order])) + 1
    return np.split(order, bounds)


def _resample(rng: np.random.Generator, groups: list[np.ndarray] | None, n: int) -> np.ndarray:
    """A bootstrap sample of row indices: ``n`` rows with replacement, or as many whole groups as
    there are groups."""
    if groups is None:
        return rng.integers(n, size=n)
    return np.concatenate([groups[j] for j in rng.integers(len(groups), size=len(groups))])


class LabelShift(BaseEstimator):
    """Estimate the target class prior under label shift and correct posteriors for it: BBSE
    (Lipton, Wang & Smola 2018) or EM prior adjustment (Saerens, Latinne & Decaestecker 2002).

    Args:
        estimator: ``"bbse"`` (default) or ``"em"``.
        calibration: ``"bcts"`` (default: calibrate the posteriors on the held-out source rows
            first) or ``"none"``.
        n_bootstrap: bootstrap replicates of the target prior's interval (0: no interval).
        alpha: the interval's level is ``1 - alpha`` (percentile bootstrap).
        tol, max_iter: EM's stopping rule.
        random_state: seeds the bootstrap.

    ``fit(X, y, sample_domain=None, groups=None)``: ``X`` (n, k) class probabilities (held-out
    ones for source rows), ``y`` the source rows' class indices 0..k-1 (-1 on target rows when
    ``sample_domain`` is not given), ``groups`` optional row groups the bootstrap resamples whole.

    Attributes:
        source_prior_, target_prior_, weights_ (``target_prior_ / source_prior_``, 0 where the
        source prior is 0), target_prior_ci_ (k x 2; NaN without bootstrap), confusion_ (BBSE: the
        joint held-out confusion ``P(yhat = i, y = j)``), heldout_accuracy_, condition_number_
        (BBSE), n_iter_ (EM), calibration_ (``(a, b)`` of BCTS; ``(1, 0)`` without),
        n_source_, n_target_, n_features_in_.
    """

    __metadata_request__fit = {"sample_domain": True, "groups": True}  # noqa: RUF012

    def __init__(self, estimator: str = "bbse", calibration: str = "bcts", n_bootstrap: int = 200, alpha: float = 0.05,
                 tol: float = 1e-8, max_iter: int = 1000, random_state=0) -> None:
        self.estimator = estimator
        self.calibration = calibration
        self.n_bootstrap = n_bootstrap
        self.alpha = alpha
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state

    def _check_params(self) -> None:
        if self.estimator not in ESTIMATORS:
            raise Errors.E322(what="estimator", expected=" or ".join(repr(e) for e in ESTIMATORS),
                              got=repr(self.estimator), cls=EstimatorInputError)
        if self.calibration not in CALIBRATIONS:
            raise Errors.E322(what="calibration", expected=" or ".join(repr(c) for c in CALIBRATIONS),
                              got=repr(self.calibration), cls=EstimatorInputError)
        if not isinstance(self.n_bootstrap, numbers.Integral) or isinstance(self.n_bootstrap, bool) \
                or self.n_bootstrap < 0:
            raise Errors.E322(what="n_bootstrap", expected="an integer >= 0", got=repr(self.n_bootstrap),
                              cls=EstimatorInputError)
        if not isinstance(self.alpha, numbers.Real) or not 0 < self.alpha < 1:
            raise Errors.E322(what="alpha", expected="a number in (0, 1)", got=repr(self.alpha), cls=EstimatorInputError)

    def _estimate(self, Ps: np.ndarray, ys: np.ndarray, Pt: np.ndarray) -> dict:
        k = Ps.shape[1]
        prior = np.bincount(ys, minlength=k) / len(ys)
        out = {"prior": prior}
        if self.estimator == "bbse":
            pred_s = Ps.argmax(1)
            conf = np.zeros((k, k))
            np.add.at(conf, (pred_s, ys), 1.0)
            conf /= len(ys)
            mu = np.bincount(Pt.argmax(1), minlength=k) / len(Pt)
            w = bbse_weights(conf, mu, prior)
            q = w * prior
            out.update(confusion=conf, q=q / q.sum())
        else:
            q, it = em_prior(Pt, prior, self.tol, self.max_iter)
            out.update(q=q, n_iter=it)
        return out

    def fit(self, X, y=None, sample_domain=None, groups=None) -> LabelShift:
        """Estimate the target prior (and its bootstrap interval). Returns self.

        Raises:
            EstimatorInputError: a bad parameter (E322), no source or no target rows (E326), source
                labels outside 0..k-1 (E322), ``groups`` of the wrong length (E320).
        """
        self._check_params()
        X = validate_data(self, X, dtype=np.float64)
        n, k = X.shape
        if y is None:
            y = np.full(n, -1)
        y = np.asarray(y)
        if len(y) != n:
            raise Errors.E320(what="y", got=len(y), expected=f"{n} rows of X", per="row", cls=EstimatorInputError)
        src = _source_mask(n, y, sample_domain, cls=EstimatorInputError)
        if src.sum() < 1 or (~src).sum() < 1:
            raise Errors.E326(what="the label-shift input", got=f"{int(src.sum())} source and {int((~src).sum())} "
                              "target rows", needs="it needs held-out source rows with labels and target rows",
                              cls=EstimatorInputError)
        ys = y[src]
        if not np.issubdtype(ys.dtype, np.integer) or ys.min() < 0 or ys.max() >= k:
            raise Errors.E322(what="y (source rows)", expected=f"class indices 0..{k - 1} (columns of X)",
                              got=f"values {np.unique(ys)[:5].tolist()}", cls=EstimatorInputError)
        if groups is not None and len(groups) != n:
            raise Errors.E320(what="groups", got=len(groups), expected=f"{n} rows of X", per="row",
                              cls=EstimatorInputError)
        Ps, Pt = X[src], X[~src]
        if self.calibration == "bcts":
            a, b = bcts_fit(Ps, ys)
            Ps, Pt = bcts_apply(Ps, a, b), bcts_apply(Pt, a, b)
        else:
            a, b = 1.0, np.zeros(k)
        self.calibration_ = (a, b)
        est = self._estimate(Ps, ys, Pt)
        prior = est["prior"]
        self.source_prior_ = prior
        self.target_prior_ = est["q"]
        self.weights_ = np.where(prior > 0, est["q"] / np.where(prior > 0, prior, 1.0), 0.0)
        self.heldout_accuracy_ = float(np.mean(Ps.argmax(1) == ys))
        if "confusion" in est:
            self.confusion_ = est["confusion"]
            self.condition_number_ = float(np.linalg.cond(est["confusion"]))
        if "n_iter" in est:
            self.n_iter_ = int(est["n_iter"])
        self.n_source_, self.n_target_ = int(src.sum()), int((~src).sum())
        self.target_prior_ci_ = np.full((k, 2), np.nan)
        if self.n_bootstrap:
            g = None if groups is None else np.asarray(groups)
            gs = None if g is None else _group_index(g[src])
            gt = None if g is None else _group_index(g[~src])
            rng = np.random.default_rng(int_seed(self.random_state))
            draws = np.empty((self.n_bootstrap, k))
            for b in range(self.n_bootstrap):
                i_s, i_t = _resample(rng, gs, len(Ps)), _resample(rng, gt, len(Pt))
                draws[b] = self._estimate(Ps[i_s], ys[i_s], Pt[i_t])["q"]
            self.target_prior_ci_ = np.quantile(draws, [self.alpha / 2, 1 - self.alpha / 2], axis=0).T
        return self

    def adjust(self, P) -> np.ndarray:
        """Posteriors ``P`` (n, k) calibrated (as fitted) and corrected for the estimated shift
        (:func:`adjust_proba`)."""
        check_is_fitted(self, "weights_")
        P = validate_data(self, P, dtype=np.float64, reset=False)
        return adjust_proba(bcts_apply(P, *self.calibration_), self.weights_)

    def predict(self, P) -> np.ndarray:
        """The class index (column) of the largest corrected posterior, per row."""
        return self.adjust(P).argmax(1)
