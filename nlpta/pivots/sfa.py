"""Spectral feature alignment (Pan, Ni, Sun, Yang & Chen 2010).

Domain-independent features (the pivots: frequent in both domains, least informative about the
domain) and domain-specific features (every other column) form a bipartite graph whose edge
weights are document co-occurrence counts. The top ``h`` singular vectors of the normalised
biadjacency matrix ``D1^-1/2 M D2^-1/2`` -- the spectral embedding of the graph's normalised
Laplacian, restricted to the domain-specific side -- map each row's domain-specific features into
``h`` shared clusters; the classifier sees ``[x, scale * projection]``.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import randomized_svd

from ..errors import Errors
from .base import DomainRows, PivotError, PivotTransformer, binary_rows
from .selection import select_pivots


class SFA(PivotTransformer):
    """Spectral feature alignment (Pan, Ni, Sun, Yang & Chen 2010) as a scikit-learn transformer.

    ``fit(X, y, sample_domain)`` as :class:`~nlpta.pivots.SCL`: ``X`` stacks source and target
    rows, ``sample_domain`` > 0 source, < 0 target, ``y`` -1 for unlabeled rows. The graph's
    co-occurrence counts are taken over every row.

    Args:
        n_pivots: number of domain-independent features (the paper uses a few hundred).
        h: number of spectral dimensions (100 in the paper).
        min_count: a domain-independent feature occurs in at least this many rows of each domain.
        pivot_criterion: ``domain-mi`` (least mutual information with the domain, the paper's
            choice), ``freq`` or ``mi`` (label MI).
        scale: mean l2 norm of the source rows' projection (the paper's gamma, relative).
        concat: ``transform`` returns ``[X, projection]`` (else the projection alone).
        feature_names: optional column names; allowed_pivots: optional mask of pivot candidates.
        random_state: seeds the randomized SVD.
    """

    kind: ClassVar[str] = "sfa"

    def __init__(self, n_pivots: int = 500, h: int = 100, min_count: int = 10, pivot_criterion: str = "domain-mi",
                 scale: float = 1.0, concat: bool = True, feature_names=None, allowed_pivots=None,
                 random_state=0) -> None:
        self.n_pivots = n_pivots
        self.h = h
        self.min_count = min_count
        self.pivot_criterion = pivot_criterion
        self.scale = scale
        self.concat = concat
        self.feature_names = feature_names
        self.allowed_pivots = allowed_pivots
        self.random_state = random_state

    def _fit_theta(self, rows: DomainRows) -> None:
        n_features = rows.source.shape[1]
        allowed = None
        if self.allowed_pivots is not None:
            allowed = np.asarray(self.allowed_pivots, dtype=bool)
            if allowed.shape != (n_features,):
                raise Errors.E322(what="allowed_pivots", expected=f"a boolean mask with one entry per column "
                                  f"({n_features})", got=f"shape {allowed.shape}", cls=PivotError)
        idx, scores, cs, ct = select_pivots(rows.source, rows.target, rows.y, n_pivots=self.n_pivots,
                                            min_count=self.min_count, criterion=self.pivot_criterion, allowed=allowed)
        self.pivot_index_, self.pivot_scores_ = idx, scores
        self.pivot_source_counts_, self.pivot_target_counts_ = cs, ct
        B = binary_rows(rows.unlabeled(labeled_rows=True), norm=False)
        spec = np.setdiff1d(np.arange(B.shape[1]), idx)
        M = (B[:, spec].T @ B[:, idx]).tocsr()  # co-occurrence counts: specific x independent
        d1 = np.asarray(M.sum(axis=1)).ravel()
        d2 = np.asarray(M.sum(axis=0)).ravel()
        linked = d1 > 0
        spec, M, d1 = spec[linked], M[linked], d1[linked]
        if len(spec) == 0:
            raise Errors.E305(detail="no domain-specific feature co-occurs with a pivot; lower n_pivots",
                              cls=PivotError)
        N = sp.diags(1.0 / np.sqrt(d1)) @ M @ sp.diags(1.0 / np.sqrt(np.maximum(d2, 1e-12)))
        h = min(self.h, min(N.shape) - 1) if min(N.shape) > 1 else 1
        U, _, _ = randomized_svd(N, h, n_iter=5, random_state=self.random_state)
        theta = np.zeros((B.shape[1], U.shape[1]))
        theta[spec] = U
        self.theta_ = theta
        self.input_columns_ = spec
