"""CORAL: correlation alignment (Sun, Feng & Saenko 2016, "Return of frustratingly easy domain
adaptation", AAAI).

The source features are whitened with their own (regularised) covariance and re-coloured with the
target's: ``X_s' = X_s C_s^{-1/2} C_t^{1/2}`` with ``C = cov + reg * I`` (the paper's Algorithm 1,
``reg`` = 1 on standardised features). A classifier trained on ``X_s'`` is applied to the target
rows unchanged. Dense features only: on sparse tf-idf the d x d covariances are infeasible, so the
registered method (:mod:`nlpta.methods.correction`) reduces tf-idf to a few hundred dimensions first.

:class:`CORAL` is a scikit-learn transformer fitted as in SKADA: source and target rows travel
together in ``X``; ``sample_domain`` (> 0 source, < 0 target) or ``y == -1`` tells them apart.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .._domains import check_sample_domain
from .._domains import source_mask as _source_mask
from ..errors import Errors
from ..models.classical import EstimatorInputError

__all__ = ["CORAL", "coral_distance", "matrix_power_sym"]


def matrix_power_sym(C: np.ndarray, power: float, floor: float = 1e-12) -> np.ndarray:
    """``C ** power`` of a symmetric positive semi-definite matrix, through its eigendecomposition
    (eigenvalues floored at ``floor`` times the largest, so that negative powers exist). Returns a
    symmetric matrix."""
    vals, vecs = np.linalg.eigh((C + C.T) / 2.0)
    top = max(float(vals.max()), 0.0) if len(vals) else 0.0
    vals = np.maximum(vals, max(top * floor, np.finfo(np.float64).tiny))
    return (vecs * vals**power) @ vecs.T


def coral_distance(A: np.ndarray, B: np.ndarray) -> float:
    """The CORAL loss ``||cov(A) - cov(B)||_F^2 / (4 d^2)`` between two sets of rows (Sun & Saenko
    2016, "Deep CORAL"): 0 when their covariances agree."""
    d = A.shape[1]
    diff = np.cov(A, rowvar=False) - np.cov(B, rowvar=False)
    return float(np.sum(diff * diff) / (4.0 * d * d))


class CORAL(TransformerMixin, BaseEstimator):
    """Correlation alignment (Sun, Feng & Saenko 2016): re-colour the source rows with the target
    covariance.

    Args:
        reg: the regulariser added to both covariances (``C + reg * I``); the paper uses 1 on
            standardised features. 0 is allowed when the covariances are full rank.

    Attributes:
        matrix_ (d x d, ``C_s^{-1/2} C_t^{1/2}``), cov_source_, cov_target_ (the regularised
        covariances), distance_before_, distance_after_ (:func:`coral_distance` of the source rows
        to the target rows before and after the transform), n_source_, n_target_, n_features_in_.

    ``transform(X, sample_domain)`` re-colours the rows marked as source (> 0) and returns the
    others unchanged; without ``sample_domain`` every row is treated as a target row (prediction
    time), so it is returned unchanged. ``fit_transform`` passes ``sample_domain`` on.
    """

    __metadata_request__fit = {"sample_domain": True}  # noqa: RUF012  (scikit-learn's class-level request)
    __metadata_request__transform = {"sample_domain": True}  # noqa: RUF012

    def __init__(self, reg: float = 1.0) -> None:
        self.reg = reg

    def fit(self, X, y=None, sample_domain=None) -> CORAL:
        """Estimate both covariances and the alignment matrix. Returns self.

        Raises:
            EstimatorInputError: ``reg`` is not a number >= 0 (E322); fewer than 2 source or 2
                target rows (E326); ``sample_domain`` malformed (E320 / E322).
        """
        if not isinstance(self.reg, numbers.Real) or isinstance(self.reg, bool) or not np.isfinite(self.reg) \
                or self.reg < 0:
            raise Errors.E322(what="reg", expected="a number >= 0", got=repr(self.reg), cls=EstimatorInputError)
        X = validate_data(self, X, dtype=np.float64)
        src = _source_mask(X.shape[0], y, sample_domain, cls=EstimatorInputError)
        Xs, Xt = X[src], X[~src]
        if len(Xs) < 2 or len(Xt) < 2:
            raise Errors.E326(what="the CORAL input", got=f"{len(Xs)} source and {len(Xt)} target rows",
                              needs="a covariance needs at least 2 source and 2 target rows (mark target rows with a "
                                    "negative sample_domain or y = -1)", cls=EstimatorInputError)
        eye = np.eye(X.shape[1])
        self.cov_source_ = np.atleast_2d(np.cov(Xs, rowvar=False)) + self.reg * eye
        self.cov_target_ = np.atleast_2d(np.cov(Xt, rowvar=False)) + self.reg * eye
        self.matrix_ = matrix_power_sym(self.cov_source_, -0.5) @ matrix_power_sym(self.cov_target_, 0.5)
        self.n_source_, self.n_target_ = int(len(Xs)), int(len(Xt))
        self.distance_before_ = coral_distance(Xs, Xt)
        self.distance_after_ = coral_distance(Xs @ self.matrix_, Xt)
        return self

    def transform(self, X, sample_domain=None) -> np.ndarray:
        """The source rows (``sample_domain`` > 0) re-coloured, the other rows unchanged."""
        check_is_fitted(self, "matrix_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        if sample_domain is None:
            return X
        src = check_sample_domain(X.shape[0], sample_domain, cls=EstimatorInputError) > 0
        out = X.copy()
        out[src] = X[src] @ self.matrix_
        return out

    def fit_transform(self, X, y=None, sample_domain=None, **fit_params) -> np.ndarray:
        """``fit`` then ``transform`` with the same ``sample_domain`` (or the one ``y == -1``
        implies): the source rows re-coloured, the target rows unchanged."""
        self.fit(X, y, sample_domain=sample_domain)
        X = np.asarray(X, dtype=np.float64)
        src = _source_mask(X.shape[0], y, sample_domain, cls=EstimatorInputError)
        return self.transform(X, sample_domain=np.where(src, 1, -1))
