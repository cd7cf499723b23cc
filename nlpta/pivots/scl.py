"""Structural correspondence learning (Blitzer, McDonald & Pereira 2006; SCL-MI: Blitzer, Dredze &
Pereira 2007).

1. Choose pivots: features frequent in both domains (ranked by frequency, or by mutual
   information with the source label for SCL-MI).
2. One linear predictor per pivot: "does this pivot occur here?" from the non-pivot features, on
   the unlabeled rows of both domains (target rows, source rows labeled -1, and the labeled source
   rows too with ``labeled_rows=True``).
3. Stack the predictors' weights into W (features x pivots), keep its positive entries, take the
   top ``h`` left singular vectors theta; the classifier sees ``[x, scale * theta^T x]``.

The pivot predictors are solved all at once. The papers train each with the modified Huber loss
by SGD; here each is a ridge-regularised least-squares classifier on +-1 targets (the quadratic
part of the modified Huber loss, with a bias), which has a closed form shared by every pivot:
``W = X^T (X X^T + alpha I)^-1 Y`` (one Cholesky factorisation for all pivots, ``solver="dual"``),
``(X^T X + alpha I)^-1 X^T Y`` when there are fewer features than rows (``"primal"``), or the
same solution restricted to the top ``rank`` singular directions of X (``"lowrank"``, for
token-level data with 10^5 rows). ``tests/test_pivots.py`` checks the dual solve against a
per-pivot scikit-learn loop, and the subspace against per-pivot modified-Huber SGD predictors.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.linalg as sl
import scipy.sparse as sp
from sklearn.utils.extmath import randomized_svd

from ..errors import Errors
from .base import DomainRows, PivotError, PivotTransformer, binary_rows
from .selection import select_pivots

SOLVERS = ("auto", "dual", "primal", "lowrank")


def solve_pivot_predictors(X: sp.csr_matrix, Y: np.ndarray, alpha: float = 1.0, solver: str = "auto",
                           rank: int = 300, random_state: int = 0, dtype=np.float32) -> np.ndarray:
    """Weights of one ridge classifier per column of ``Y`` (+-1 targets), solved together.

    Minimises ``||[X, 1] [W; b] - Y||^2 + alpha ||[W; b]||^2`` for all columns of Y at once (the
    bias is a constant feature, penalised like the others). Returns W (features x columns of Y),
    without the bias row.

    Args:
        solver: ``dual`` (rows <= features, exact), ``primal`` (features < rows, exact),
            ``lowrank`` (approximate: only the top ``rank`` singular directions of X), ``auto``
            (dual up to 16,000 rows -- the Gram matrix then stays under 1 GB in float32 --, primal up to
            4,000 features, else lowrank; lowrank loses accuracy: CL-SCL on Webis en -> de with 12,000
            rows, 70.2% dual vs 58.3% lowrank rank 300, mean of books, dvd, music).
        dtype: float type of the dense factorisation (float32 halves time and memory; the tests
            check it against float64).
    """
    if solver not in SOLVERS:
        raise Errors.E322(what="solver", expected=f"one of {', '.join(SOLVERS)}", got=repr(solver), cls=PivotError)
    if alpha <= 0:
        raise Errors.E322(what="alpha", expected="a number > 0", got=repr(alpha), cls=PivotError)
    n, d = X.shape
    Xb = sp.hstack([X, np.ones((n, 1))], format="csr", dtype=dtype)
    Y = np.asarray(Y, dtype=np.float64)
    if solver == "auto":
        solver = "dual" if n <= 16000 else ("primal" if d < 4000 else "lowrank")
    if solver == "dual":
        K = (Xb @ Xb.T).toarray()
        K[np.diag_indices_from(K)] += alpha
        A = sl.cho_solve(sl.cho_factor(K, overwrite_a=True, check_finite=False), Y.astype(dtype), check_finite=False)
        W = np.asarray(Xb.T @ A)
    elif solver == "primal":
        G = (Xb.T @ Xb).toarray()
        G[np.diag_indices_from(G)] += alpha
        W = sl.cho_solve(sl.cho_factor(G, overwrite_a=True, check_finite=False), np.asarray(Xb.T @ Y),
                         check_finite=False)
    else:
        k = min(rank, min(n, d + 1) - 1) if min(n, d + 1) > 1 else 1
        U, s, Vt = randomized_svd(Xb, k, n_iter=4, random_state=random_state)
        W = Vt.T @ ((s / (s**2 + alpha))[:, None] * (U.T @ Y))
    return W[:-1]


def pivot_targets(X: sp.csr_matrix, pivots: np.ndarray) -> np.ndarray:
    """+-1 matrix (rows x pivots): does pivot j occur in row i?"""
    return np.where(np.asarray((X[:, pivots] != 0).todense()), np.float32(1.0), np.float32(-1.0))


def structural_projection(W: np.ndarray, h: int, positive_only: bool = True, random_state: int = 0) -> np.ndarray:
    """Top ``h`` left singular vectors of the pivot-predictor weights W (features x pivots);
    negative weights set to zero first if ``positive_only`` (Prettenhofer & Stein 2010; Blitzer's
    released code does the same)."""
    if positive_only:
        W = np.maximum(W, 0.0)
    h = min(h, min(W.shape))
    if W.shape[1] <= 3000:  # exact: eigenvectors of the small pivots x pivots Gram matrix
        evals, V = np.linalg.eigh(W.T @ W)
        top = np.argsort(evals)[::-1][:h]
        s = np.sqrt(np.maximum(evals[top], 1e-30))
        U = (W @ V[:, top]) / s
        return _fix_signs(U)
    U, _, _ = randomized_svd(W, h, n_iter=5, random_state=random_state)
    return _fix_signs(U)


def _fix_signs(U: np.ndarray) -> np.ndarray:
    """Make the largest-magnitude entry of each column positive (a deterministic SVD sign)."""
    i = np.argmax(np.abs(U), axis=0)
    return U * np.sign(U[i, np.arange(U.shape[1])])


class SCL(PivotTransformer):
    """Structural correspondence learning (Blitzer, McDonald & Pereira 2006; SCL-MI: Blitzer,
    Dredze & Pereira 2007) as a scikit-learn transformer.

    ``fit(X, y, sample_domain)``: ``X`` stacks source and target rows (sparse count or binary
    matrices over one vocabulary; rows are binarised and l2-normalised inside), ``sample_domain``
    is > 0 for source rows and < 0 for target rows, ``y`` is -1 for unlabeled rows (SKADA's
    convention; see :mod:`nlpta.pivots.base`). Source rows labeled -1 are more unlabeled source text
    for the pivot predictors.

    Args:
        n_pivots: number of pivots (1000 in Blitzer et al. 2007).
        h: dimensions kept from the SVD (50 in the paper).
        min_count: a pivot occurs in at least this many rows of the source and of the target.
        pivot_criterion: ``freq`` (SCL), ``mi`` (SCL-MI, needs y), ``domain-mi``.
        alpha: ridge penalty of the pivot predictors.
        solver, rank: see :func:`solve_pivot_predictors`.
        positive_only: keep only positive predictor weights before the SVD.
        scale: mean l2 norm of the source rows' projection.
        concat: ``transform`` returns ``[X, projection]`` (else the projection alone).
        feature_names: optional column names (used by ``pivots_``).
        allowed_pivots: optional boolean mask of columns that may be pivots.
        input_mask: optional boolean mask of columns the pivot predictors may read (pivots are
            always excluded).
        labeled_rows: train the pivot predictors on the labeled source rows too (default False:
            they see the unlabeled rows only -- the target rows and any source rows labeled -1 --,
            so the classifier's training rows are projected out of sample, like the test rows;
            in-sample projections of the training rows reconstruct their pivots almost exactly
            and the classifier then leans on them). Rows without labels are always used. A
            feature that occurs only in labeled source rows then gets no weight in the projection:
            add unlabeled source rows (``y = -1``) or set ``labeled_rows=True`` when the domains
            share few features.
        random_state: seeds the randomized SVDs.
    """

    kind: ClassVar[str] = "scl"

    def __init__(self, n_pivots: int = 1000, h: int = 50, min_count: int = 10, pivot_criterion: str = "freq",
                 alpha: float = 1.0, solver: str = "auto", rank: int = 300, positive_only: bool = True,
                 scale: float = 1.0, concat: bool = True, feature_names=None, allowed_pivots=None,
                 input_mask=None, labeled_rows: bool = False, random_state=0) -> None:
        self.n_pivots = n_pivots
        self.h = h
        self.min_count = min_count
        self.pivot_criterion = pivot_criterion
        self.alpha = alpha
        self.solver = solver
        self.rank = rank
        self.positive_only = positive_only
        self.scale = scale
        self.concat = concat
        self.feature_names = feature_names
        self.allowed_pivots = allowed_pivots
        self.input_mask = input_mask
        self.labeled_rows = labeled_rows
        self.random_state = random_state

    def _mask(self, name: str, n_features: int) -> np.ndarray | None:
        m = getattr(self, name, None)
        if m is None:
            return None
        m = np.asarray(m, dtype=bool)
        if m.shape != (n_features,):
            raise Errors.E322(what=name, expected=f"a boolean mask with one entry per column ({n_features})",
                              got=f"shape {m.shape}", cls=PivotError)
        return m

    def _select(self, rows: DomainRows):
        return select_pivots(rows.source, rows.target, rows.y, n_pivots=self.n_pivots, min_count=self.min_count,
                             criterion=self.pivot_criterion, allowed=self._mask("allowed_pivots", rows.source.shape[1]))

    def _fit_theta(self, rows: DomainRows) -> None:
        idx, scores, cs, ct = self._select(rows)
        self.pivot_index_, self.pivot_scores_ = idx, scores
        self.pivot_source_counts_, self.pivot_target_counts_ = cs, ct
        Xall = rows.unlabeled(self.labeled_rows)
        Y = self._targets(Xall)
        mask = self._mask("input_mask", Xall.shape[1])
        keep = np.ones(Xall.shape[1], dtype=bool) if mask is None else mask.copy()
        keep[self._excluded()] = False
        cols = np.flatnonzero(keep)
        if len(cols) == 0:
            raise Errors.E305(detail=f"every input column is a pivot ({len(idx)} pivots, {Xall.shape[1]} columns): "
                              "nothing is left to predict them from; lower n_pivots", cls=PivotError)
        Xin = binary_rows(Xall[:, cols])
        W = solve_pivot_predictors(Xin, Y, alpha=self.alpha, solver=self.solver, rank=self.rank,
                                   random_state=self.random_state)
        U = structural_projection(W, self.h, self.positive_only, self.random_state)
        # theta has a row per input column; the excluded columns' rows are zero
        theta = np.zeros((Xall.shape[1], U.shape[1]))
        theta[cols] = U
        self.theta_ = theta
        self.input_columns_ = cols

    def _targets(self, X: sp.csr_matrix) -> np.ndarray:
        return pivot_targets(X, self.pivot_index_)

    def _excluded(self) -> np.ndarray:
        return self.pivot_index_
