"""The domain classifier probe and the proxy A-distance: the one place nlpta tells source rows
from target rows with a classifier (Ben-David et al. 2007, *Analysis of representations for
domain adaptation*; Blitzer et al. 2007).

* :func:`balanced_indices` -- a seeded, balanced sample of rows of two domains (built on
  :func:`nlpta._sampling.sample_indices`).
* :func:`domain_accuracy_of_features` -- the cross-validated accuracy of a logistic regression that
  separates the two domains on given features.
* :func:`pad_from_accuracy` -- the proxy A-distance ``2 (1 - 2 err)`` of that accuracy.
* :func:`domain_separability` -- a quick check on raw texts or rows (tf-idf, at most 1,000 rows a
  side): the probe's accuracy, the PAD, and whether the domains are separable (accuracy >=
  ``SEPARABLE_ACCURACY``), the case where no adaptation by reweighting or alignment can bridge them.

:func:`nlpta.evaluators.distance.proxy_a_distance` applies them to two datasets (tf-idf or
sentence-embedding features).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._sampling import sample_indices
from ..errors import Errors

# a domain probe at or above this cross-validated accuracy separates the two domains (PAD >= 1.96)
SEPARABLE_ACCURACY = 0.99


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


def _probe_texts(rows, what: str) -> list[str]:
    """Texts of a dataset (``text``, or ``tokens`` joined by spaces), of row dicts with either
    key, or of a list of strings / token lists."""
    if hasattr(rows, "column_names"):
        if "tokens" in rows.column_names:
            return [" ".join(t) for t in rows["tokens"]]
        if "text" in rows.column_names:
            return [str(t) for t in rows["text"]]
        raise Errors.E304(detail=f"{what}: a dataset with neither a 'text' nor a 'tokens' column "
                                 f"({rows.column_names})")
    if isinstance(rows, str):
        raise Errors.E304(detail=f"{what}: expected a list of texts or rows, got a single string")
    out = []
    for i, r in enumerate(rows):
        if isinstance(r, str):
            out.append(r)
        elif isinstance(r, dict) and ("tokens" in r or "text" in r):
            out.append(" ".join(r["tokens"]) if "tokens" in r else str(r["text"]))
        elif isinstance(r, list | tuple) and all(isinstance(t, str) for t in r):
            out.append(" ".join(r))
        else:
            raise Errors.E304(detail=f"{what}: row {i} is a {type(r).__name__}; expected a text, a token list or a "
                                     "row with 'text' or 'tokens'")
    return out


def domain_separability(source_texts_or_rows, target_rows, seed: int = 0, max_rows: int = 1000) -> dict:
    """How well a quick domain classifier tells the source from the target (Ben-David et al. 2007's
    proxy A-distance, as a check to run before adapting).

    Both sides are sampled to the same size (at most ``max_rows``; :func:`balanced_indices`),
    turned into tf-idf uni+bigrams fitted on the pooled sample (POS rows: the tokens joined), and
    probed by :func:`domain_accuracy_of_features` (liblinear, ``min(5, rows a side)`` stratified
    folds). Cheap: a fraction of a second for 1,000 + 1,000 short texts.

    Args:
        source_texts_or_rows: a dataset (``text`` or ``tokens`` column), row dicts, texts or
            token lists.
        target_rows: the same, for the target side.
        seed: seeds the samples and the folds.
        max_rows: rows per side at most.

    Returns:
        ``{"accuracy", "pad", "separable", "rows_per_domain", "threshold"}``: ``separable`` is
        ``accuracy >= SEPARABLE_ACCURACY`` (0.99): a linear classifier separates the domains
        (all but) perfectly.

    Raises:
        ParameterError: E326 -- fewer than 2 rows on a side; E327 -- no word on either side;
            E304 -- rows of an unknown shape.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    src, tgt = _probe_texts(source_texts_or_rows, "the source rows"), _probe_texts(target_rows, "the target rows")
    if min(len(src), len(tgt)) < 2:
        raise Errors.E326(what="domain_separability's input", got=f"{len(src)} source and {len(tgt)} target rows",
                          needs="it needs at least 2 rows on each side (a 2-fold cross-validated domain classifier)")
    i_s, i_t = balanced_indices(len(src), len(tgt), max_rows, seed)
    texts = [src[i] for i in i_s] + [tgt[i] for i in i_t]
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b|[^\w\s]")
    try:
        X = vec.fit_transform(texts)
    except ValueError:  # scikit-learn's "empty vocabulary"
        raise Errors.E327(what="domain_separability's input", detail=f"({len(texts)} rows sampled) holds no word: "
                          "every text is empty") from None
    n = len(i_s)
    acc = domain_accuracy_of_features(X[:n], X[n:], cv=min(5, n), seed=seed, max_rows=None, scale=False)
    return {"accuracy": acc, "pad": pad_from_accuracy(acc), "separable": bool(acc >= SEPARABLE_ACCURACY),
            "rows_per_domain": int(n), "threshold": SEPARABLE_ACCURACY}
