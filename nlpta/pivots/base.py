"""What the pivot transformers share: the rows of each domain, input checks, the scaled
projection, JSON + npz files.

Rows travel as in SKADA, the scikit-learn domain-adaptation toolbox: ``X``
stacks the rows of both domains, ``sample_domain`` says which domain each row belongs to (positive
= source, negative = target; several source or target domains are pooled) and ``y`` is ``-1``
for unlabeled rows. Without ``sample_domain``, rows labeled ``-1`` are the target and the others
the source; without ``y`` as well, every row is a target row (SKADA's defaults).

A fitted transformer holds ``theta_`` (features x k), a linear map applied to the binarised,
l2-normalised input rows; ``transform`` returns ``[X, scale_ * proj]`` (``concat=True``) or the
scaled projection alone. ``scale_`` makes the mean l2 norm of the source rows' projection equal
to ``scale`` (Blitzer et al. 2007 scale the SCL features before concatenating them).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.preprocessing import normalize
from sklearn.utils.validation import validate_data

from .._domains import check_sample_domain
from ..errors import Errors, NotFittedError, ParameterError
from ..io import atomic_write_json

FORMAT_VERSION = 2


class PivotError(ParameterError):
    """Bad input or parameter given to a pivot transformer: a :class:`~nlpta.errors.ParameterError`,
    so an :class:`~nlpta.errors.NlptaError` for nlpta's callers and a ``ValueError`` for
    scikit-learn's (its conventions and ``check_estimator`` expect one). Raised from the table
    (``Errors.E3xx(..., cls=PivotError)``), which gives the code."""


class PivotNotFittedError(NotFittedError, SklearnNotFittedError):
    """A pivot transformer used before ``fit`` (nlpta's and scikit-learn's ``NotFittedError``)."""


class OneDomainWarning(UserWarning):
    """``fit`` saw rows of one domain only: those rows stand for both domains."""


def binary_rows(X: sp.csr_matrix, norm: bool = True) -> sp.csr_matrix:
    """Return ``X`` binarised (feature present or not), each row l2-normalised if ``norm``."""
    B = sp.csr_matrix(X, dtype=np.float64, copy=True)
    B.data = (B.data != 0).astype(np.float64)
    B.eliminate_zeros()
    return normalize(B) if norm else B


def _vstack(parts: list[sp.csr_matrix]) -> sp.csr_matrix:
    return parts[0] if len(parts) == 1 else sp.vstack(parts, format="csr")


@dataclass
class DomainRows:
    """The rows of a fit, by role.

    Attributes:
        source: the source rows the pivot statistics are counted on: the labeled source rows, or
            every source row when none has a label.
        y: the labels of ``source`` (None when unlabeled).
        target: the target rows.
        source_unlabeled: further (unlabeled) source rows, or None.
        one_domain: there were rows of one domain only; ``source`` and ``target`` are then the same rows.
    """

    source: sp.csr_matrix
    y: np.ndarray | None
    target: sp.csr_matrix
    source_unlabeled: sp.csr_matrix | None
    one_domain: bool

    def unlabeled(self, labeled_rows: bool = True) -> sp.csr_matrix:
        """Every row once, in the order source, target, source unlabeled; the labeled source rows
        only if ``labeled_rows`` (rows without a label are always in)."""
        parts = [] if self.one_domain or not (labeled_rows or self.y is None) else [self.source]
        parts.append(self.target)
        if self.source_unlabeled is not None:
            parts.append(self.source_unlabeled)
        return _vstack(parts)

    def source_all(self) -> sp.csr_matrix:
        """Every source row: ``source`` then ``source_unlabeled``."""
        if self.source_unlabeled is None:
            return self.source
        return sp.vstack([self.source, self.source_unlabeled], format="csr")


def _labels(y, n: int) -> tuple[np.ndarray | None, np.ndarray]:
    """``(y as a 1-d array or None, mask of unlabeled rows)``; ``-1`` marks an unlabeled row."""
    if y is None:
        return None, np.ones(n, dtype=bool)
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise Errors.E322(what="y", expected="a 1-d array of labels (-1 = unlabeled)", got=f"shape {y.shape}",
                          cls=PivotError)
    if len(y) != n:
        raise Errors.E320(what="y (labels, -1 = unlabeled)", got=len(y), expected=f"{n} rows of X", per="row",
                          cls=PivotError)
    if y.dtype.kind in "iuf":
        if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
            raise Errors.E322(what="y", expected="finite labels (-1 = unlabeled)", got="NaN or infinite values",
                              cls=PivotError)
        return y, y == -1
    return y, np.zeros(n, dtype=bool)


def split_domains(X: sp.csr_matrix, y, sample_domain) -> DomainRows:
    """Split the stacked rows ``X`` into source / target / unlabeled source rows (SKADA's
    convention, see the module docstring). Warns with :class:`OneDomainWarning` when every row
    is of one domain. Returns a :class:`DomainRows`."""
    n = X.shape[0]
    y, unlabeled = _labels(y, n)
    if sample_domain is None:
        sd = np.where(unlabeled, -2, 1)
    else:
        sd = check_sample_domain(n, sample_domain, cls=PivotError)
    source, target = sd > 0, sd < 0
    labeled = source & ~unlabeled
    stats = labeled if labeled.any() else source
    extra = source & ~stats
    y_stats = y[stats] if labeled.any() else None
    if not source.any() or not target.any():
        warnings.warn(f"fit got rows of one domain only ({'target' if target.any() else 'source'}): they stand "
                      "for both domains; pass sample_domain (positive = source, negative = target) or label "
                      "the target rows -1", OneDomainWarning, stacklevel=3)
        rows = X[stats] if source.any() else X
        return DomainRows(rows, y_stats, rows, X[extra] if extra.any() else None, one_domain=True)
    return DomainRows(X[stats], y_stats, X[target], X[extra] if extra.any() else None, one_domain=False)


class PivotTransformer(TransformerMixin, BaseEstimator):
    """Base class of :class:`~nlpta.pivots.SCL`, :class:`~nlpta.pivots.SFA` and
    :class:`~nlpta.pivots.CLSCL` (their docstrings name the papers). Subclasses implement ``_fit_theta``.

    Attributes (after ``fit``):
        theta_: the map, features x k (rows of the columns the map does not read are zero).
        input_columns_: the columns the map reads.
        scale_: the factor applied to the projection.
        pivot_index_, pivot_scores_, pivot_source_counts_, pivot_target_counts_: the pivots, best first
            (:attr:`pivots_` lists them by name).
        n_features_in_ (and ``feature_names_in_`` for a DataFrame): scikit-learn's input checks.
        n_source_rows_, n_target_rows_: the rows the pivot statistics were counted on (0 and 0
            when ``fit`` saw one domain only).
    """

    kind: ClassVar[str] = ""
    # requested by default: a Pipeline / GridSearchCV with metadata routing on passes it here
    __metadata_request__fit: ClassVar[dict[str, bool]] = {"sample_domain": True}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def fit(self, X, y=None, sample_domain=None, *, X_target_unlabeled=None, X_source_unlabeled=None):
        """Fit on the stacked rows of both domains.

        Args:
            X: rows of the source and the target domain (sparse or dense, one vocabulary).
            y: labels, ``-1`` for unlabeled rows (every target row's label is ignored); needed by
                the ``mi`` pivot criterion.
            sample_domain: per row, > 0 source, < 0 target (SKADA). None: rows labeled ``-1`` are
                the target.
            X_target_unlabeled, X_source_unlabeled: deprecated: the old entry, ``X`` then holding
                the labeled source rows only. Stack the rows and pass ``sample_domain`` instead.

        Returns:
            self.
        """
        if X_target_unlabeled is not None or X_source_unlabeled is not None:
            X, y, sample_domain = self._stack_legacy(X, y, X_target_unlabeled, X_source_unlabeled)
        X = self._validate(X, reset=True)
        self._check_params(X.shape[1])
        rows = split_domains(X, y, sample_domain)
        self._fit_theta(rows)
        proj = self._project(rows.source)
        mean_norm = float(np.mean(np.linalg.norm(proj, axis=1))) if len(proj) else 0.0
        self.scale_ = float(self.scale) / mean_norm if mean_norm > 0 else 0.0
        self.n_source_rows_ = int(rows.source.shape[0]) if not rows.one_domain else 0
        self.n_target_rows_ = int(rows.target.shape[0]) if not rows.one_domain else 0
        return self

    def _stack_legacy(self, X, y, Xt, Xsu):
        warnings.warn(f"{type(self).__name__}.fit(X_source, y, X_target_unlabeled=...) is deprecated: stack the "
                      "rows into X and pass sample_domain (positive = source, negative = target) and y = -1 for "
                      "unlabeled rows", FutureWarning, stacklevel=3)
        if Xt is None:
            raise Errors.E322(what="X_target_unlabeled", expected="given when X_source_unlabeled is (or stack "
                              "the rows into X and pass sample_domain)", got="None", cls=PivotError)
        parts = [self._validate(M, reset=True) for M in (X, Xt, Xsu) if M is not None]
        if len({M.shape[1] for M in parts}) != 1:
            names = ["X", "X_target_unlabeled", "X_source_unlabeled"][:len(parts)]
            raise Errors.E321(what=", ".join(names), got=", ".join(str(M.shape[1]) for M in parts), cls=PivotError)
        ns, nt = parts[0].shape[0], parts[1].shape[0]
        nsu = parts[2].shape[0] if len(parts) > 2 else 0
        if y is not None:
            y, _ = _labels(y, ns)
            y = np.concatenate([y, np.full(nt + nsu, -1, dtype=y.dtype if y.dtype.kind in "iuf" else np.int64)])
        sd = np.concatenate([np.ones(ns, dtype=np.int64), -np.ones(nt, dtype=np.int64), np.ones(nsu, dtype=np.int64)])
        return sp.vstack(parts, format="csr"), y, sd

    def _validate(self, X, reset: bool) -> sp.csr_matrix:
        """``X`` as a float64 CSR matrix (scikit-learn's checks; their messages, as a :class:`PivotError`)."""
        try:
            M = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=reset,
                              ensure_min_samples=2 if reset else 1, ensure_min_features=2 if reset else 1)
        except ValueError as e:
            raise Errors.E304(detail=str(e), cls=PivotError) from None
        return sp.csr_matrix(M)

    def _check_params(self, n_features: int) -> None:
        """Validate the parameters against the data (in fit: constructors store them unchanged)."""
        for name in ("n_pivots", "h", "min_count"):
            v = getattr(self, name, 1)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < (0 if name == "min_count" else 1):
                raise Errors.E322(what=name, expected=f"an integer >= {0 if name == 'min_count' else 1}", got=repr(v),
                                  cls=PivotError)
        if not np.isfinite(self.scale) or self.scale < 0:
            raise Errors.E322(what="scale", expected="a number >= 0", got=repr(self.scale), cls=PivotError)
        names = getattr(self, "feature_names", None)
        if names is not None and len(names) != n_features:
            raise Errors.E320(what="feature_names", got=len(names), expected=f"{n_features} columns of X",
                              per="column", cls=PivotError)

    def _fit_theta(self, rows: DomainRows) -> None:
        raise NotImplementedError

    def _project(self, X: sp.csr_matrix) -> np.ndarray:
        """Binarised rows, l2-normalised over the columns the map reads (``input_columns_``), times theta."""
        cols = self.input_columns_
        return np.asarray(binary_rows(X[:, cols]) @ self.theta_[cols])

    def _check(self, X) -> sp.csr_matrix:
        if not hasattr(self, "theta_"):
            raise Errors.E302(what=type(self).__name__, cls=PivotNotFittedError)
        return self._validate(X, reset=False)

    def transform(self, X):
        """Return ``[X, scale_ * projection]`` (sparse) if ``concat`` else the scaled projection (dense)."""
        M = self._check(X)
        Z = self.scale_ * self._project(M)
        return sp.hstack([M, sp.csr_matrix(Z)], format="csr") if self.concat else Z

    @property
    def pivots_(self) -> list[dict[str, Any]]:
        """The chosen pivots, best first: feature (name, or column index), score and the number of
        source / target rows holding it."""
        if not hasattr(self, "pivot_index_"):
            raise Errors.E302(what=type(self).__name__, cls=PivotNotFittedError)
        names = getattr(self, "feature_names", None)
        if names is None:
            names = getattr(self, "feature_names_in_", None)

        def name(i):
            if np.ndim(i):  # a (source, target) column pair (CL-SCL)
                return "|".join(str(names[j]) if names is not None else str(int(j)) for j in i)
            return str(names[i]) if names is not None else int(i)

        return [{"feature": name(i), "score": float(s),
                 "source_count": int(a), "target_count": int(b)}
                for i, s, a, b in zip(self.pivot_index_, self.pivot_scores_, self.pivot_source_counts_,
                                      self.pivot_target_counts_, strict=True)]

    # ---------------------------------------------------------------------------- files
    _arrays: ClassVar[tuple[str, ...]] = ("theta_", "pivot_index_", "pivot_scores_", "pivot_source_counts_",
                                          "pivot_target_counts_", "input_columns_")
    _scalars: ClassVar[tuple[str, ...]] = ("n_features_in_", "scale_", "n_source_rows_", "n_target_rows_")

    def save(self, directory: str | Path) -> Path:
        """Write ``<kind>.json`` (parameters, fitted scalars) and ``<kind>.npz`` (arrays, and
        array-valued parameters) into ``directory``; no pickle. Returns the folder."""
        if not hasattr(self, "theta_"):
            raise Errors.E302(what=type(self).__name__, cls=PivotNotFittedError)
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        params, arrays = {}, {k: getattr(self, k) for k in self._arrays}
        for k, v in self.get_params(deep=False).items():
            if isinstance(v, np.ndarray):
                arrays[f"param:{k}"] = v
            else:
                params[k] = list(map(list, v)) if k == "pairs" and v is not None else v
        fitted = {k: getattr(self, k) for k in self._scalars if hasattr(self, k)}
        if hasattr(self, "feature_names_in_"):
            fitted["feature_names_in_"] = [str(x) for x in self.feature_names_in_]
        atomic_write_json(d / f"{self.kind}.json", {
            "kind": type(self).__name__, "format": FORMAT_VERSION, "params": params, "fitted": fitted})
        tmp = d / f".{self.kind}.tmp.npz"
        np.savez_compressed(tmp, **arrays)
        tmp.replace(d / f"{self.kind}.npz")
        return d

    @classmethod
    def load(cls, directory: str | Path):
        """Read what :meth:`save` wrote (``allow_pickle=False``); returns the fitted transformer."""
        d = Path(directory)
        path = d / f"{cls.kind}.json"
        if not path.exists():
            raise Errors.E307(detail=f"no {cls.kind}.json in {d}; expected a folder written by {cls.__name__}.save",
                              path=path)
        meta = json.loads(path.read_text(encoding="utf-8"))
        if meta.get("kind") != cls.__name__:
            raise Errors.E307(detail=f"holds a {meta.get('kind')!r}, not a {cls.__name__}", path=path)
        if meta.get("format") not in (1, FORMAT_VERSION):
            raise Errors.E307(detail=f"file format {meta.get('format')!r}; this nlpta reads 1 and {FORMAT_VERSION}",
                              path=path)
        params = dict(meta["params"])
        if params.get("pairs") is not None:
            params["pairs"] = [tuple(p) for p in params["pairs"]]
        if meta["format"] == 1:  # version 1 kept its fitted scalars at the top level
            fitted = {"n_features_in_": meta["n_features_in"], "scale_": meta["scale_"], **meta.get("extra", {})}
        else:
            fitted = meta["fitted"]
        with np.load(d / f"{cls.kind}.npz", allow_pickle=False) as arr:
            params.update({k.split(":", 1)[1]: arr[k] for k in arr.files if k.startswith("param:")})
            self = cls(**params)
            for k in cls._arrays:
                setattr(self, k, arr[k])
        for k, v in fitted.items():
            setattr(self, k, np.asarray(v, dtype=object) if k == "feature_names_in_" else v)
        return self
