"""How well a domain classifier tells source from target on given features, and the proxy
A-distance (Ben-David et al. 2007)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import NlptaError


def _as_2d(X, what: str):
    if sp.issparse(X):
        return X.tocsr()
    if hasattr(X, "detach"):  # a torch tensor
        X = X.detach().cpu().numpy()
    X = np.asarray(X)
    if X.ndim != 2:
        raise NlptaError(f"{what} must be a 2-d matrix (rows x features); got shape {X.shape}", code="E304")
    return X


def domain_accuracy_of_features(source_features, target_features, cv: int = 5, seed: int = 0,
                                C: float = 1.0, max_rows: int | None = 2000) -> float:
    """Cross-validated accuracy of a fresh logistic regression (standardised inputs) that tells
    source rows from target rows on the given features (dense or sparse, one row per example).

    Both domains are subsampled (seeded) to the same size, so chance is 0.5; a value near 0.5
    means the features carry no (linearly readable) domain information -- what DANN aims for
    (Ganin et al. 2016, section 5.1.3, measure it as the proxy A-distance).

    Returns:
        the mean accuracy over ``cv`` stratified folds.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MaxAbsScaler, StandardScaler

    Hs, Ht = _as_2d(source_features, "source_features"), _as_2d(target_features, "target_features")
    if Hs.shape[1] != Ht.shape[1]:
        raise NlptaError(f"source features have {Hs.shape[1]} columns, target features {Ht.shape[1]}",
                         code="E304")
    n = min(Hs.shape[0], Ht.shape[0], max_rows or 1 << 62)
    if n < cv:
        raise NlptaError(f"need at least {cv} rows per domain for {cv}-fold CV; got {n}", code="E304")
    rng = np.random.default_rng(seed)
    Hs = Hs[np.sort(rng.permutation(Hs.shape[0])[:n])]
    Ht = Ht[np.sort(rng.permutation(Ht.shape[0])[:n])]
    sparse = sp.issparse(Hs) or sp.issparse(Ht)
    X = sp.vstack([sp.csr_matrix(Hs), sp.csr_matrix(Ht)]).tocsr() if sparse else np.vstack([Hs, Ht])
    y = np.r_[np.zeros(n, int), np.ones(n, int)]
    scaler = MaxAbsScaler() if sparse else StandardScaler()
    clf = make_pipeline(scaler, LogisticRegression(C=C, max_iter=2000))
    folds = StratifiedKFold(cv, shuffle=True, random_state=seed)
    return float(np.mean(cross_val_score(clf, X, y, cv=folds, scoring="accuracy")))


def proxy_a_distance(domain_accuracy: float) -> float:
    """Proxy A-distance ``2 (1 - 2 err)`` from a domain classifier's accuracy (Ben-David et al.
    2007; used by Ganin et al. 2016, section 5.1.3): 0 for indistinguishable domains, 2 for
    perfectly separable ones."""
    err = 1.0 - float(domain_accuracy)
    return float(2.0 * (1.0 - 2.0 * min(err, 1.0 - err)))
