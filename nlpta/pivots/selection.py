"""Pivot selection: features frequent in both domains, ranked by frequency (SCL, Blitzer et al.
2006), by mutual information with the source label (SCL-MI, Blitzer, Dredze & Pereira 2007) or by
low mutual information with the domain (domain-independent features, Pan et al. 2010).

Counts are document (row) frequencies of binarised features.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import Errors
from .base import PivotError

CRITERIA = ("freq", "mi", "domain-mi")


def doc_freq(X) -> np.ndarray:
    """Number of rows of ``X`` in which each column is non-zero."""
    return np.asarray((sp.csr_matrix(X) != 0).sum(axis=0)).ravel().astype(np.int64)


def mutual_information(X, y) -> np.ndarray:
    """Mutual information (nats) between each binarised column of ``X`` and the discrete labels
    ``y`` (any number of classes), computed in closed form from counts, for all columns at once."""
    y = np.asarray(y)
    classes, yi = np.unique(y, return_inverse=True)
    n = X.shape[0]
    if len(y) != n:
        raise Errors.E320(what="y (labels)", got=len(y), expected=f"{n} rows of X", per="row", cls=PivotError)
    B = sp.csr_matrix(X, copy=True)
    B.data = (B.data != 0).astype(np.float64)
    onehot = sp.csr_matrix((np.ones(n), (yi, np.arange(n))), shape=(len(classes), n))
    n11 = np.asarray((onehot @ B).todense())  # (classes, features): feature on, class c
    n_c = np.bincount(yi, minlength=len(classes)).astype(np.float64)[:, None]
    n_f = n11.sum(axis=0, keepdims=True)
    n01 = n_c - n11  # feature off, class c
    mi = np.zeros(B.shape[1])
    for joint, marg_f in ((n11, n_f), (n01, n - n_f)):
        with np.errstate(divide="ignore", invalid="ignore"):
            term = (joint / n) * np.log(joint * n / (marg_f * n_c))
        mi += np.nansum(np.where(joint > 0, term, 0.0), axis=0)
    return mi


def select_pivots(
    X_source,
    X_target,
    y_source=None,
    n_pivots: int = 1000,
    min_count: int = 10,
    criterion: str = "freq",
    allowed: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Choose pivot columns: non-zero in at least ``min_count`` rows of ``X_source`` and of
    ``X_target``, then the ``n_pivots`` best by ``criterion``:

    * ``freq`` -- the most frequent (sum of both domains' counts; SCL);
    * ``mi`` -- the highest mutual information with ``y_source`` (SCL-MI);
    * ``domain-mi`` -- the lowest mutual information with the domain (SFA's domain-independent features).

    Args:
        allowed: optional boolean mask of columns that may be pivots.

    Returns:
        ``(indices, scores, source_counts, target_counts)`` for the chosen pivots, best first.

    Raises:
        NlptaError: unknown criterion, missing labels for ``mi``, or no column qualifies.
    """
    if criterion not in CRITERIA:
        raise Errors.E322(what="pivot_criterion", expected=f"one of {', '.join(CRITERIA)}", got=repr(criterion),
                          cls=PivotError)
    if X_source.shape[1] != X_target.shape[1]:
        raise Errors.E321(what="the source and the target rows", got=f"{X_source.shape[1]}, {X_target.shape[1]}",
                          cls=PivotError)
    cs, ct = doc_freq(X_source), doc_freq(X_target)
    ok = (cs >= min_count) & (ct >= min_count)
    if allowed is not None:
        ok &= np.asarray(allowed, dtype=bool)
    cand = np.flatnonzero(ok)
    if len(cand) == 0:
        raise Errors.E305(detail=f"no feature occurs in >= {min_count} rows of both domains; lower min_count "
                          f"(source rows {X_source.shape[0]}, target rows {X_target.shape[0]})", cls=PivotError)
    if criterion == "freq":
        score = (cs + ct)[cand].astype(np.float64)
    elif criterion == "mi":
        if y_source is None:
            raise Errors.E325(criterion=criterion, cls=PivotError)
        score = mutual_information(sp.csr_matrix(X_source)[:, cand], y_source)
    else:
        Xb = sp.vstack([sp.csr_matrix(X_source)[:, cand], sp.csr_matrix(X_target)[:, cand]])
        dom = np.r_[np.zeros(X_source.shape[0]), np.ones(X_target.shape[0])]
        score = -mutual_information(Xb, dom)
    order = np.argsort(-score, kind="stable")[:n_pivots]
    idx = cand[order]
    return idx, score[order], cs[idx], ct[idx]
