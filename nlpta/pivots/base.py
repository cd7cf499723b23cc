"""What the pivot transformers share: input checks, the scaled projection, JSON + npz files.

A fitted transformer holds ``theta_`` (features x k), a linear map applied to the binarised,
l2-normalised input rows; ``transform`` returns ``[X, scale_ * proj]`` (``concat=True``) or the
scaled projection alone. ``scale_`` makes the mean l2 norm of the source rows' projection equal
to ``scale`` (Blitzer et al. 2007 scale the SCL features before concatenating them).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import normalize

from ..errors import NlptaError, NotFittedError
from ..io import atomic_write_json

FORMAT_VERSION = 1


def as_csr(X, what: str) -> sp.csr_matrix:
    """``X`` as a float CSR matrix; raises a clear error for anything that is not a 2-d matrix."""
    try:
        M = sp.csr_matrix(X, dtype=np.float64) if sp.issparse(X) else sp.csr_matrix(np.asarray(X, dtype=np.float64))
    except (TypeError, ValueError) as e:
        raise NlptaError(f"{what} must be a 2-d numeric matrix (sparse or dense); got {type(X).__name__}: {e}",
                         code="E306") from None
    if M.ndim != 2 or M.shape[0] == 0:
        raise NlptaError(f"{what} must be a non-empty 2-d matrix; got shape {M.shape}", code="E306")
    if not np.all(np.isfinite(M.data)):
        raise NlptaError(f"{what} holds NaN or infinite values", code="E306")
    return M


def binary_rows(X: sp.csr_matrix, norm: bool = True) -> sp.csr_matrix:
    """Binarise (feature present or not) and l2-normalise each row."""
    B = X.copy()
    B.data = (B.data != 0).astype(np.float64)
    B.eliminate_zeros()
    return normalize(B) if norm else B


class PivotTransformer(TransformerMixin, BaseEstimator):
    """Base class of :class:`~nlpta.pivots.SCL`, :class:`~nlpta.pivots.SFA` and
    :class:`~nlpta.pivots.CLSCL`. Subclasses implement ``_fit_theta``."""

    kind: ClassVar[str] = ""

    def fit(self, X, y=None, X_target_unlabeled=None, **fit_params: Any):
        """Fit on source rows ``X`` (labels ``y``, needed by MI-ranked pivots) and unlabeled target
        rows ``X_target_unlabeled`` (same columns). Returns self."""
        if X_target_unlabeled is None:
            raise NlptaError(f"{type(self).__name__}.fit needs X_target_unlabeled (rows of the target domain, "
                             "same columns as X)", code="E306")
        Xs = as_csr(X, "X (source)")
        Xt = as_csr(X_target_unlabeled, "X_target_unlabeled")
        if Xs.shape[1] != Xt.shape[1]:
            raise NlptaError(f"X has {Xs.shape[1]} columns but X_target_unlabeled has {Xt.shape[1]}; "
                             "vectorize both with the same vocabulary", code="E306")
        if y is not None and len(y) != Xs.shape[0]:
            raise NlptaError(f"X has {Xs.shape[0]} rows but y has {len(y)} labels", code="E306")
        names = getattr(self, "feature_names", None)
        if names is not None and len(names) != Xs.shape[1]:
            raise NlptaError(f"feature_names has {len(names)} entries but X has {Xs.shape[1]} columns", code="E306")
        self.n_features_in_ = Xs.shape[1]
        self._fit_theta(Xs, None if y is None else np.asarray(y), Xt, **fit_params)
        proj = self._project(Xs)
        mean_norm = float(np.mean(np.linalg.norm(proj, axis=1))) if len(proj) else 0.0
        self.scale_ = float(self.scale) / mean_norm if mean_norm > 0 else 0.0
        return self

    def _fit_theta(self, Xs, y, Xt, **fit_params) -> None:
        raise NotImplementedError

    def _project(self, X: sp.csr_matrix) -> np.ndarray:
        """Binarised rows, l2-normalised over the columns the map reads (``input_columns_``), times theta."""
        cols = self.input_columns_
        return np.asarray(binary_rows(X[:, cols]) @ self.theta_[cols])

    def _check(self, X) -> sp.csr_matrix:
        if not hasattr(self, "theta_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit() first")
        M = as_csr(X, "X")
        if M.shape[1] != self.n_features_in_:
            raise NlptaError(f"X has {M.shape[1]} columns; this {type(self).__name__} was fitted on "
                             f"{self.n_features_in_}", code="E306")
        return M

    def transform(self, X):
        """``[X, scale_ * projection]`` (sparse) if ``concat`` else the scaled projection (dense)."""
        M = self._check(X)
        Z = self.scale_ * self._project(M)
        return sp.hstack([M, sp.csr_matrix(Z)], format="csr") if self.concat else Z

    def fit_transform(self, X, y=None, **fit_params):
        return self.fit(X, y, **fit_params).transform(X)

    @property
    def pivots_(self) -> list[dict[str, Any]]:
        """The chosen pivots, best first: feature (name, or column index), score and the number of
        source / target rows holding it."""
        if not hasattr(self, "pivot_index_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit() first")
        names = getattr(self, "feature_names", None)

        def name(i):
            if np.ndim(i):  # a (source, target) column pair (CL-SCL)
                return "|".join(str(names[j]) if names is not None else str(int(j)) for j in i)
            return names[i] if names is not None else int(i)

        return [{"feature": name(i), "score": float(s),
                 "source_count": int(a), "target_count": int(b)}
                for i, s, a, b in zip(self.pivot_index_, self.pivot_scores_, self.pivot_source_counts_,
                                      self.pivot_target_counts_, strict=True)]

    # ---------------------------------------------------------------------------- files
    _arrays: ClassVar[tuple[str, ...]] = ("theta_", "pivot_index_", "pivot_scores_", "pivot_source_counts_",
                                          "pivot_target_counts_", "input_columns_")

    def save(self, directory: str | Path) -> None:
        """Write ``<kind>.json`` (parameters, fitted scalars) and ``<kind>.npz`` (arrays); no pickle."""
        if not hasattr(self, "theta_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit() first")
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        params = {k: (list(map(list, v)) if k == "pairs" and v is not None else v)
                  for k, v in self.get_params().items()}
        atomic_write_json(d / f"{self.kind}.json", {
            "kind": type(self).__name__, "format": FORMAT_VERSION, "params": params,
            "n_features_in": self.n_features_in_, "scale_": self.scale_,
            "extra": {k: getattr(self, k) for k in getattr(self, "_json_attrs", ())},
        })
        tmp = d / f".{self.kind}.tmp.npz"
        np.savez_compressed(tmp, **{k: getattr(self, k) for k in self._arrays})
        tmp.replace(d / f"{self.kind}.npz")

    @classmethod
    def load(cls, directory: str | Path):
        """Read what :meth:`save` wrote (``allow_pickle=False``)."""
        d = Path(directory)
        path = d / f"{cls.kind}.json"
        if not path.exists():
            raise NlptaError(f"no {cls.kind}.json in {d}; expected a folder written by {cls.__name__}.save", path=path,
                             code="E306")
        meta = json.loads(path.read_text(encoding="utf-8"))
        if meta.get("kind") != cls.__name__:
            raise NlptaError(f"holds a {meta.get('kind')!r}, not a {cls.__name__}", path=path, code="E306")
        params = meta["params"]
        if params.get("pairs") is not None:
            params["pairs"] = [tuple(p) for p in params["pairs"]]
        self = cls(**params)
        self.n_features_in_ = meta["n_features_in"]
        self.scale_ = meta["scale_"]
        for k, v in meta.get("extra", {}).items():
            setattr(self, k, v)
        with np.load(d / f"{cls.kind}.npz", allow_pickle=False) as arr:
            for k in cls._arrays:
                setattr(self, k, arr[k])
        return self
