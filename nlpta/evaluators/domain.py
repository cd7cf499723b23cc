"""The domain classifier probe and the proxy A-distance: the one place nlpta tells source rows
from target rows with a classifier (Ben-David et al. 2007, *Analysis of representations for
domain adaptation*; Blitzer et al. 2007).

* :func:`balanced_indices` -- a seeded, balanced sample of rows of two domains (built on
  :func:`nlpta._sampling.sample_indices`).
* :func:`domain_accuracy_of_features` -- the cross-validated accuracy of a logistic regression that
  separates the two domains on given features.
* :func:`pad_from_accuracy` -- the proxy A-distance ``2 (1 - 2 err)`` of that accuracy.

:func:`nlpta.evaluators.distance.proxy_a_distance` applies them to two datasets (tf-idf or
sentence-embedding features).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._sampling import sample_indices
from ..errors import Errors


def _as_2d(X, what: str):
    if sp.issparse(X):
        return X.tocsr()
    if hasattr(X, "detach"):  # a torch tensor
        X = X.detach().cpu().numpy()
    X = np.asarray(X)
    if X.ndim != 2:
        raise Errors.E304(detail=f"{what} must be a 2-d matrix (rows x features); got shape {X.shape}")
    return X


def balanced_indices(n_source: int, n_target: int, max_rows: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return sorted row indices of a balanced sample: ``min(n_source, n_target, max_rows)`` rows of
    each domain, the source rows drawn with ``seed`` and the target rows with ``seed + 1`` (so that
    two domains of one size do not get the same positions). All rows of a domain that is not cut."""
    n = min(n_source, n_target, max_rows if max_rows is not None else n_source)
    return sample_indices(n_source, n, seed), sample_indices(n_target, n, seed + 1)


def domain_accuracy_of_features(source_features, target_features, cv: int = 5, seed: int = 0,
                                C: float = 1.0, max_rows: int | None = 2000, scale: bool = True) -> float:
    """Cross-validated accuracy of a fresh logistic regression that tells source rows from target
    rows on the given features (dense or sparse, one row per example; Ganin et al. 2016, section
    5.1.3, read it as the proxy A-distance).

    Both domains are sampled to the same size (:func:`balanced_indices`, at most ``max_rows``; None:
    no cap), so chance is 0.5; a value near 0.5 means the features carry no linearly readable domain
    information -- what DANN aims for.

    Args:
        scale: True: columns standardised (dense) or max-abs scaled (sparse), then lbfgs -- for
            learned features of any scale; False: the raw features with liblinear -- the probe of
            :func:`nlpta.evaluators.distance.proxy_a_distance` on tf-idf rows or unit-length sentence
            embeddings.

    Returns:
        the mean accuracy over ``cv`` stratified, seeded folds.

    Raises:
        ParameterError (E304): features that are not 2-d, a different number of columns, fewer than
            ``cv`` rows per domain.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MaxAbsScaler, StandardScaler

    Hs, Ht = _as_2d(source_features, "source_features"), _as_2d(target_features, "target_features")
    if Hs.shape[1] != Ht.shape[1]:
        raise Errors.E304(detail=f"source features have {Hs.shape[1]} columns, target features {Ht.shape[1]}; "
                                 "they must have the same columns")
    i_s, i_t = balanced_indices(Hs.shape[0], Ht.shape[0], max_rows, seed)
    n = len(i_s)
    if n < max(cv, 2):
        raise Errors.E304(detail=f"need at least {max(cv, 2)} rows per domain for {cv}-fold CV; got {n}")
    Hs, Ht = Hs[i_s], Ht[i_t]
    sparse = sp.issparse(Hs) or sp.issparse(Ht)
    X = sp.vstack([sp.csr_matrix(Hs), sp.csr_matrix(Ht)]).tocsr() if sparse else np.vstack([Hs, Ht])
    y = np.r_[np.zeros(n, int), np.ones(n, int)]
    if scale:
        clf = make_pipeline(MaxAbsScaler() if sparse else StandardScaler(), LogisticRegression(C=C, max_iter=2000))
    else:
        clf = LogisticRegression(C=C, solver="liblinear")
    folds = StratifiedKFold(cv, shuffle=True, random_state=seed)
    return float(np.mean(cross_val_score(clf, X, y, cv=folds, scoring="accuracy")))


def pad_from_accuracy(domain_accuracy: float) -> float:
    """Return the proxy A-distance ``2 (1 - 2 err)`` of a domain classifier with accuracy
    ``1 - err``, clipped to [0, 2] (Ben-David et al. 2007): 0 for domains the classifier cannot
    tell apart (or tells apart worse than chance), 2 for perfectly separable ones."""
    err = 1.0 - float(domain_accuracy)
    return float(np.clip(2.0 * (1.0 - 2.0 * err), 0.0, 2.0))
