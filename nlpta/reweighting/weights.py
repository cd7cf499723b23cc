"""Importance weights for covariate shift: w(x) ~ p_target(x) / p_source(x) for each source row.

* :class:`DomainClassifierWeights` -- a probabilistic classifier separates source from target rows;
  w = p(target|x) / p(source|x) * n_s / n_t (Bickel, Brueckner & Scheffer 2007; Zadrozny 2004),
  from out-of-fold probabilities (in-sample ones are overconfident), clipped and normalised.
  Sparse bag-of-words or dense embeddings.
* :class:`KMM` -- kernel mean matching (Huang et al. 2006): the weights that make the weighted
  source kernel mean match the target's, a box-constrained quadratic program solved by
  :func:`scipy.optimize.minimize` (L-BFGS-B).
* :class:`KLIEP` -- the Kullback-Leibler importance estimation procedure (Sugiyama et al. 2008):
  w(x) = sum_l alpha_l k(x, c_l) over target centres, the target log-likelihood maximised under
  the normalisation constraint with :func:`scipy.optimize.minimize` (L-BFGS-B), the kernel width
  chosen by likelihood cross-validation.

Every estimator is a scikit-learn ``BaseEstimator`` fitted as in SKADA: source and target rows
travel together in ``X``, and ``fit(X, y=None, sample_domain=None)`` tells them apart by
``sample_domain`` (positive: source row, negative: target row) or, without it, by ``y`` (-1 marks a
target row; every other row is a source row). With metadata routing on, they request
``sample_domain`` for ``fit`` by default (as SKADA's estimators do), so ``Pipeline`` and
``GridSearchCV`` route it to them. After ``fit``: ``weights_`` (one per source row, in the order
of ``X``, mean 1), ``ess_`` (the effective sample size (sum w)^2 / sum w^2, Kish 1965),
``n_source_``, ``n_target_``. Without target rows there is nothing to match: the weights are
uniform and a :class:`NoTargetRowsWarning` says so.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_consistent_length, validate_data

from .._domains import source_mask as _source_mask
from .._sampling import sample_indices
from ..errors import Errors
from ..models.classical import EstimatorInputError, NoTargetRowsWarning, _check_fitted, int_seed

__all__ = ["KLIEP", "KMM", "DomainClassifierWeights", "NoTargetRowsWarning", "effective_sample_size",
           "median_heuristic", "normalize_weights", "source_mask", "weight_summary"]


def effective_sample_size(w: np.ndarray) -> float:
    """Kish's effective sample size (sum w)^2 / sum w^2: n for equal weights, 1 for a single row."""
    w = np.asarray(w, dtype=np.float64)
    s2 = float(np.sum(w * w))
    return float(np.sum(w) ** 2 / s2) if s2 > 0 else 0.0


def weight_summary(w: np.ndarray) -> dict[str, float]:
    """ESS (absolute and as a share of n), min, max and quantiles of a weight vector."""
    w = np.asarray(w, dtype=np.float64)
    ess = effective_sample_size(w)
    q = np.quantile(w, [0.05, 0.5, 0.95]) if len(w) else [np.nan] * 3
    return {"n": int(len(w)), "ess": ess, "ess_share": ess / len(w) if len(w) else 0.0,
            "min": float(w.min()) if len(w) else np.nan, "max": float(w.max()) if len(w) else np.nan,
            "q05": float(q[0]), "median": float(q[1]), "q95": float(q[2])}


def normalize_weights(w: np.ndarray, clip: float | None = None, power: float = 1.0) -> np.ndarray:
    """Flatten (w^power, Shimodaira 2000's adaptive importance weighting), clip at ``clip`` times
    the mean, and scale to mean 1.

    Raises:
        EstimatorInputError (a ``ValueError``): every weight is zero (or not finite).
    """
    w = np.clip(np.asarray(w, dtype=np.float64), 0.0, None)
    if power != 1.0:
        w = w**power
    m = w.mean()
    if not np.isfinite(m) or m <= 0:
        raise Errors.E305(detail="importance weights are all zero: the source rows look nothing like the target rows",
                          cls=EstimatorInputError)
    w = w / m
    if clip is not None:
        # clipping moves the mean; a few rounds settle both the cap and the mean
        for _ in range(20):
            over = w > clip
            if not over.any():
                break
            w = np.minimum(w, clip)
            w = w / w.mean()
    return w


def source_mask(n_samples: int, y=None, sample_domain=None) -> np.ndarray:
    """Which of ``n_samples`` rows are source rows, SKADA's way (:func:`nlpta._domains.source_mask`):
    ``sample_domain`` > 0 (source) or < 0 (target) when given; else ``y == -1`` marks target rows;
    else every row is a source row. Returns a boolean array, True for source rows.

    Raises:
        EstimatorInputError: ``sample_domain`` has the wrong length, is not integer or holds 0.
    """
    return _source_mask(n_samples, y, sample_domain, cls=EstimatorInputError)


def sq_dists(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances between the rows of A and B (clipped at 0)."""
    d = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * (A @ B.T)
    return np.maximum(d, 0.0)


def median_heuristic(X: np.ndarray, max_rows: int = 1000, seed: int = 0) -> float:
    """Median pairwise Euclidean distance among (a seeded sample of ``max_rows`` of) the rows: the
    usual Gaussian width (1.0 when all rows coincide)."""
    X = X[sample_indices(len(X), max_rows, seed)]
    d = np.sqrt(sq_dists(X, X)[np.triu_indices(len(X), 1)])
    d = d[d > 0]
    return float(np.median(d)) if len(d) else 1.0


def gaussian_kernel(A: np.ndarray, B: np.ndarray, sigma: float) -> np.ndarray:
    return np.exp(-sq_dists(A, B) / (2.0 * sigma * sigma))


def _positive(name: str, v, integer: bool = False, minimum: float = 0.0, allow_none: bool = False) -> None:
    if v is None and allow_none:
        return
    kind = numbers.Integral if integer else numbers.Real
    if not isinstance(v, kind) or isinstance(v, bool) or not np.isfinite(v) or v <= minimum:
        raise Errors.E322(what=name, expected=f"{'an integer' if integer else 'a number'} > {minimum:g}", got=repr(v),
                          cls=EstimatorInputError)


class _ImportanceWeights(BaseEstimator):
    """Shared ``fit``: validation, the source/target split, uniform weights without target rows,
    clipping/flattening and the ESS. Subclasses implement ``_raw_weights(Xs, Xt, seed)``."""

    __metadata_request__fit = {"sample_domain": True}  # noqa: RUF012  (scikit-learn's class-level request)
    _dense = True

    def _raw_weights(self, Xs, Xt, seed: int) -> np.ndarray:
        raise NotImplementedError

    def _validate_params(self) -> None:
        _positive("clip", self.clip, allow_none=True)
        if not isinstance(self.power, numbers.Real) or not np.isfinite(self.power) or self.power < 0:
            raise Errors.E322(what="power", expected="a number >= 0", got=repr(self.power), cls=EstimatorInputError)

    def fit(self, X, y=None, sample_domain=None):
        """Learn the weights of the source rows of ``X`` (sparse or dense) for its target rows.

        Args:
            X: source and target rows, one matrix.
            y: optional labels; ``-1`` marks target rows when ``sample_domain`` is not given
                (other labels are not used).
            sample_domain: per row, positive for a source row and negative for a target row.

        Returns:
            self.
        """
        self._validate_params()
        X = validate_data(self, X, accept_sparse="csr", dtype=(np.float64, np.float32))
        if y is not None:
            check_consistent_length(X, y)
        src = source_mask(X.shape[0], y, sample_domain)
        self.n_source_, self.n_target_ = int(src.sum()), int((~src).sum())
        if self.n_source_ == 0:
            raise Errors.E305(detail=f"{type(self).__name__}: no source rows to weight (every row is marked as a "
                              "target row)", cls=EstimatorInputError)
        if self.n_target_ == 0:
            warnings.warn(f"{type(self).__name__}: no target rows (mark them with a negative sample_domain or "
                          "y = -1): the weights are uniform", NoTargetRowsWarning, stacklevel=2)
            raw = np.ones(self.n_source_)
        else:
            Xs, Xt = X[src], X[~src]
            if self._dense:
                Xs, Xt = (np.asarray(M.toarray() if sp.issparse(M) else M, dtype=np.float64) for M in (Xs, Xt))
            raw = self._raw_weights(Xs, Xt, int_seed(self.random_state))
        self.weights_ = normalize_weights(raw, self.clip, self.power)
        self.ess_ = effective_sample_size(self.weights_)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class DomainClassifierWeights(_ImportanceWeights):
    """Importance weights from a source-vs-target logistic regression (Bickel et al. 2007).

    Args:
        C: inverse regularisation of the domain classifier.
        cv: folds for the out-of-fold probabilities of the source rows (at most the rows of the
            smaller domain; each domain needs 2 rows).
        clip: cap on a weight, in multiples of the mean (``None``: no cap).
        power: flattening exponent (1: the plain ratio; 0: uniform weights).
        random_state: seeds the folds and the solver.

    Attributes (after fit):
        weights_, ess_, n_source_, n_target_, raw_weights_ (before clipping), domain_accuracy_
        (the out-of-fold accuracy of the domain classifier on all rows).
    """

    _dense = False

    def __init__(self, C: float = 1.0, cv: int = 5, clip: float | None = 10.0, power: float = 1.0,
                 random_state=0) -> None:
        self.C = C
        self.cv = cv
        self.clip = clip
        self.power = power
        self.random_state = random_state

    def _validate_params(self) -> None:
        super()._validate_params()
        _positive("C", self.C)
        _positive("cv", self.cv, integer=True, minimum=1)

    def _raw_weights(self, Xs, Xt, seed: int) -> np.ndarray:
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold, cross_val_predict

        ns, nt = Xs.shape[0], Xt.shape[0]
        if min(ns, nt) < 2:
            raise Errors.E305(detail=f"out-of-fold domain probabilities need at least 2 source and 2 target rows; "
                              f"got {ns} source and {nt} target", cls=EstimatorInputError)
        X = sp.vstack([Xs, Xt]).tocsr() if sp.issparse(Xs) else np.vstack([Xs, Xt])
        d = np.r_[np.zeros(ns, dtype=int), np.ones(nt, dtype=int)]
        clf = LogisticRegression(C=self.C, solver="liblinear", max_iter=1000, random_state=seed)
        folds = StratifiedKFold(min(self.cv, ns, nt), shuffle=True, random_state=seed)
        p = cross_val_predict(clf, X, d, cv=folds, method="predict_proba")[:, 1]
        self.domain_accuracy_ = float(np.mean((p > 0.5) == d))
        p_s = np.clip(p[:ns], 1e-6, 1 - 1e-6)
        self.raw_weights_ = p_s / (1.0 - p_s) * (ns / nt)
        return self.raw_weights_


class KMM(_ImportanceWeights):
    """Kernel mean matching (Huang, Smola, Gretton, Borgwardt & Schoelkopf, NIPS 2006).

    minimise 1/2 b'Kb - kappa'b subject to 0 <= b_i <= B and |sum b - n_s| <= n_s eps, with K the
    Gaussian kernel on the source rows and kappa_i = n_s/n_t sum_j k(x_i, t_j); solved by
    scipy's L-BFGS-B (box constraints) from b = 1, the sum band as an exact quadratic penalty that
    is zero inside it (eps is close to 1 for the usual n_s, so it is rarely active). The QP is
    badly conditioned: many b reach nearly the same objective. A vertex solver (BVLS) returns a
    sparse one; the projected quasi-Newton path from uniform weights stops at a smooth one.
    Transductive: it weighs the source rows it was fitted on, not new rows.

    Args:
        sigma: Gaussian kernel width; ``None`` = the median heuristic on the pooled rows.
        B: upper bound of a weight (Huang et al. use 1000).
        eps: tolerance of the mean weight around 1; ``None`` = (sqrt(n_s) - 1) / sqrt(n_s).
        clip, power: applied after solving, as in :func:`normalize_weights`.
        max_target: target rows used for kappa (a seeded sample beyond that).
        random_state: seeds that sample and the median heuristic's.

    Attributes (after fit, with target rows):
        weights_, ess_, n_source_, n_target_, sigma_, eps_, beta_, objective_, converged_.
    """

    def __init__(self, sigma: float | None = None, B: float = 1000.0, eps: float | None = None,
                 clip: float | None = None, power: float = 1.0, max_target: int = 5000, random_state=0) -> None:
        self.sigma = sigma
        self.B = B
        self.eps = eps
        self.clip = clip
        self.power = power
        self.max_target = max_target
        self.random_state = random_state

    def _validate_params(self) -> None:
        super()._validate_params()
        _positive("sigma", self.sigma, allow_none=True)
        _positive("B", self.B)
        _positive("max_target", self.max_target, integer=True)
        if self.eps is not None and (not isinstance(self.eps, numbers.Real) or self.eps < 0):
            raise Errors.E322(what="eps", expected="a number >= 0 or None", got=repr(self.eps), cls=EstimatorInputError)

    def _raw_weights(self, Xs, Xt, seed: int) -> np.ndarray:
        from scipy.optimize import minimize

        Xt = Xt[sample_indices(len(Xt), self.max_target, seed)]
        ns, nt = len(Xs), len(Xt)
        self.sigma_ = float(self.sigma) if self.sigma else median_heuristic(np.vstack([Xs, Xt]), seed=seed)
        K = gaussian_kernel(Xs, Xs, self.sigma_)
        kappa = (ns / nt) * gaussian_kernel(Xs, Xt, self.sigma_).sum(1)
        eps = (np.sqrt(ns) - 1) / np.sqrt(ns) if self.eps is None else float(self.eps)
        self.eps_ = eps
        # the band |sum b - n_s| <= n_s eps as an exact quadratic penalty, zero inside the band
        rho = 10.0 * float(np.abs(K).sum()) / ns

        def f(b):
            Kb = K @ b
            over = abs(b.sum() - ns) - ns * eps
            pen = rho * max(over, 0.0) ** 2
            g_pen = 2 * rho * max(over, 0.0) * np.sign(b.sum() - ns)
            return 0.5 * b @ Kb - kappa @ b + pen, Kb - kappa + g_pen

        res = minimize(f, np.ones(ns), jac=True, method="L-BFGS-B", bounds=[(0.0, self.B)] * ns,
                       options={"maxiter": 5000})
        beta = np.clip(res.x, 0.0, self.B)
        self.beta_ = beta
        self.objective_ = float(res.fun)
        self.converged_ = bool(res.success)
        return beta


class KLIEP(_ImportanceWeights):
    """Kullback-Leibler importance estimation (Sugiyama, Nakajima, Kashima, von Buenau & Kawanabe,
    NIPS 2008).

    w(x) = sum_l alpha_l k(x, c_l) with Gaussian kernels on ``n_centers`` target rows; maximise
    mean_j log w(t_j) subject to mean_i w(x_i) = 1, alpha >= 0. The constraint is removed by
    scale invariance (maximise mean log A alpha - log(b' alpha)) and L-BFGS-B handles the bounds.
    The width is chosen among ``sigma_grid`` times the median distance by likelihood
    cross-validation on the target rows (the paper's LCV; with fewer than 2 target rows, the
    median distance itself).

    Args:
        sigma: fixed width (skips the cross-validation).
        sigma_grid: multiples of the median heuristic tried by LCV.
        n_centers: kernel centres, a seeded sample of the target rows (the paper uses 100).
        cv: folds of the likelihood cross-validation.
        clip, power: applied after fitting, as in :func:`normalize_weights`.
        max_target: target rows used (a seeded sample beyond that).
        random_state: seeds the samples and the folds.

    Attributes (after fit, with target rows):
        weights_, ess_, n_source_, n_target_, sigma_, lcv_ (width -> held-out log-likelihood),
        alpha_, centers_.
    """

    def __init__(self, sigma: float | None = None, sigma_grid=(0.25, 0.5, 1.0, 2.0, 4.0), n_centers: int = 100,
                 cv: int = 5, clip: float | None = None, power: float = 1.0, max_target: int = 5000,
                 random_state=0) -> None:
        self.sigma = sigma
        self.sigma_grid = sigma_grid
        self.n_centers = n_centers
        self.cv = cv
        self.clip = clip
        self.power = power
        self.max_target = max_target
        self.random_state = random_state

    def _validate_params(self) -> None:
        super()._validate_params()
        _positive("sigma", self.sigma, allow_none=True)
        _positive("n_centers", self.n_centers, integer=True)
        _positive("cv", self.cv, integer=True, minimum=1)
        _positive("max_target", self.max_target, integer=True)
        grid = np.atleast_1d(np.asarray(self.sigma_grid, dtype=np.float64))
        if grid.size == 0 or np.any(~np.isfinite(grid)) or np.any(grid <= 0):
            raise Errors.E322(what="sigma_grid", expected="positive numbers", got=repr(self.sigma_grid),
                              cls=EstimatorInputError)

    @staticmethod
    def _solve(A: np.ndarray, bbar: np.ndarray) -> np.ndarray:
        from scipy.optimize import minimize

        def f(a):
            Aa = np.maximum(A @ a, 1e-300)
            s = max(float(bbar @ a), 1e-300)  # kernels underflow to 0 far from every centre
            val = -np.mean(np.log(Aa)) + np.log(s)
            grad = -(A / Aa[:, None]).mean(0) + bbar / s
            return val, grad

        k = A.shape[1]
        a0 = np.full(k, 1.0 / max(float(bbar.sum()), 1e-12))
        res = minimize(f, a0, jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * k,
                       options={"maxiter": 2000})
        a = np.maximum(res.x, 0.0)
        return a / max(float(bbar @ a), 1e-300)

    def _raw_weights(self, Xs, Xt, seed: int) -> np.ndarray:
        Xt = Xt[sample_indices(len(Xt), self.max_target, seed)]
        nt = len(Xt)
        centers = Xt[sample_indices(nt, self.n_centers, seed)]
        med = median_heuristic(np.vstack([Xs, Xt]), seed=seed)
        grid = [float(self.sigma)] if self.sigma else [float(g) * med for g in np.atleast_1d(self.sigma_grid)]
        self.lcv_ = {}
        if len(grid) > 1 and nt >= 2:
            folds = np.array_split(np.random.default_rng(seed).permutation(nt), min(self.cv, nt))
            for s in grid:
                bbar = gaussian_kernel(Xs, centers, s).mean(0)
                At = gaussian_kernel(Xt, centers, s)
                score = 0.0
                for held in folds:
                    train = np.setdiff1d(np.arange(nt), held)
                    a = self._solve(At[train], bbar)
                    score += float(np.mean(np.log(np.maximum(At[held] @ a, 1e-300))))
                self.lcv_[s] = score / len(folds)
            self.sigma_ = max(self.lcv_, key=self.lcv_.get)
        else:
            self.sigma_ = grid[0] if len(grid) == 1 else med
        Ks = gaussian_kernel(Xs, centers, self.sigma_)
        self.alpha_ = self._solve(gaussian_kernel(Xt, centers, self.sigma_), Ks.mean(0))
        self.centers_ = centers
        return Ks @ self.alpha_

    def density_ratio(self, X) -> np.ndarray:
        """The fitted w(x) for new rows (not normalised to mean 1 over them)."""
        _check_fitted(self, "alpha_")
        X = validate_data(self, X, accept_sparse="csr", dtype=(np.float64, np.float32), reset=False)
        X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
        return gaussian_kernel(X, self.centers_, self.sigma_) @ self.alpha_
