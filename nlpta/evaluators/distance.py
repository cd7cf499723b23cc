"""Domain distance: how separable two domains are.

* Proxy A-distance (Ben-David et al. 2007; Blitzer et al. 2007): 2 (1 - 2 eps) where eps is the
  cross-validated error of a linear classifier told to separate source rows from target rows (the
  probe and the formula live in :mod:`nlpta.evaluators.domain`).
* Maximum mean discrepancy (Gretton et al. 2012) with the unbiased estimator of MMD^2, a Gaussian
  kernel of median-heuristic width and a permutation p-value.

Both over bag-of-words (tf-idf; for MMD reduced to 100 dimensions by truncated SVD) or over
sentence embeddings from any ``embed(texts) -> array`` callable (e.g.
:func:`nlpta.models.encoders.minilm_embedder`, re-exported here).
"""

from __future__ import annotations

from collections.abc import Callable

import datasets
import numpy as np

from ..models.encoders import minilm_embedder
from ._common import check_pair
from .domain import balanced_indices, domain_accuracy_of_features, pad_from_accuracy

__all__ = ["domain_distance", "minilm_embedder", "mmd", "proxy_a_distance"]


def _texts(ds: datasets.Dataset, task: str) -> list[str]:
    return [" ".join(t) for t in ds["tokens"]] if task == "pos" else list(ds["text"])


def _sample(source, target, task, max_rows: int, seed: int) -> tuple[list[str], list[str]]:
    """Balanced seeded samples of at most ``max_rows`` texts per domain (:func:`balanced_indices`)."""
    i_s, i_t = balanced_indices(len(source), len(target), max_rows, seed)
    return _texts(source.select(i_s), task), _texts(target.select(i_t), task)


def _tfidf(texts: list[str]):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(sublinear_tf=True, min_df=2, token_pattern=r"(?u)\b\w+\b|[^\w\s]").fit_transform(texts)


def _dense(x, seed: int, dim: int = 100) -> np.ndarray:
    """Sparse tf-idf -> ``dim`` dimensions by truncated SVD, unit length (for the Gaussian kernel)."""
    from scipy import sparse
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    if not sparse.issparse(x):
        return np.asarray(x, dtype=np.float64)
    k = min(dim, x.shape[1] - 1, x.shape[0] - 1)
    return normalize(TruncatedSVD(k, random_state=seed).fit_transform(x))


def _pad(x, n: int, cv: int, seed: int) -> tuple[float, float]:
    """(PAD, cross-validated error) of the unscaled logistic-regression domain probe; rows: n
    source then n target."""
    acc = domain_accuracy_of_features(x[:n], x[n:], cv=min(cv, n), seed=seed, max_rows=None, scale=False)
    return pad_from_accuracy(acc), 1.0 - acc


def _mmd(x: np.ndarray, n: int, n_permutations: int, seed: int) -> tuple[float, float, float]:
    """(unbiased MMD^2, permutation p-value, bandwidth) for dense rows: n source then n target."""
    from scipy.spatial.distance import pdist, squareform

    rng = np.random.default_rng(seed)
    d2 = squareform(pdist(x, "sqeuclidean"))
    bw = float(np.sqrt(np.median(d2[np.triu_indices_from(d2, 1)]) / 2)) or 1.0
    k = np.exp(-d2 / (2 * bw**2))
    lab = np.r_[np.zeros(n, bool), np.ones(n, bool)]
    # column 0: the true split; the others: permuted domain labels, all evaluated at once
    a = np.stack([lab] + [rng.permutation(lab) for _ in range(n_permutations)], 1).astype(float)
    b = 1 - a
    kd = np.diag(k)
    ka, kb = k @ a, k @ b
    kxx = ((b * kb).sum(0) - kd @ b) / (n * (n - 1))
    kyy = ((a * ka).sum(0) - kd @ a) / (n * (n - 1))
    kxy = (b * ka).sum(0) / (n * n)
    stat = kxx + kyy - 2 * kxy
    p = (1 + int((stat[1:] >= stat[0]).sum())) / (1 + n_permutations)
    return float(stat[0]), float(p), bw


def proxy_a_distance(source: datasets.Dataset, target: datasets.Dataset, *, task: str | None = None,
                     embed: Callable | None = None, max_rows: int = 2000, cv: int = 5, seed: int = 0) -> dict:
    """Proxy A-distance from a cross-validated logistic-regression domain classifier on balanced
    samples (at most ``max_rows`` per domain). Returns ``{pad, error, n_per_domain, features}``:
    pad in [0, 2]; 0 = indistinguishable, 2 = perfectly separable."""
    task = check_pair(source, target, task)
    ts, tt = _sample(source, target, task, max_rows, seed)
    x = np.asarray(embed(ts + tt), dtype=np.float64) if embed is not None else _tfidf(ts + tt)
    pad, err = _pad(x, len(ts), cv, seed)
    return {"pad": pad, "error": err, "n_per_domain": len(ts), "features": "embedding" if embed else "tfidf"}


def mmd(source: datasets.Dataset, target: datasets.Dataset, *, task: str | None = None,
        embed: Callable | None = None, max_rows: int = 1000, n_permutations: int = 200, seed: int = 0) -> dict:
    """Unbiased MMD^2 with a Gaussian kernel (bandwidth: the median pairwise distance) and a
    permutation p-value ((1 + #perm >= observed) / (1 + n_permutations)).

    Returns ``{mmd2, p_value, bandwidth, n_per_domain, n_permutations, features}``.
    """
    task = check_pair(source, target, task)
    ts, tt = _sample(source, target, task, max_rows, seed)
    x = np.asarray(embed(ts + tt), dtype=np.float64) if embed is not None else _dense(_tfidf(ts + tt), seed)
    m2, p, bw = _mmd(x, len(ts), n_permutations, seed)
    return {"mmd2": m2, "p_value": p, "bandwidth": bw, "n_per_domain": len(ts), "n_permutations": n_permutations,
            "features": "embedding" if embed is not None else "tfidf-svd100"}


def domain_distance(source: datasets.Dataset, target: datasets.Dataset, *, task: str | None = None,
                    embed: Callable | None = None, seed: int = 0, n_permutations: int = 200,
                    max_rows: int = 2000, mmd_rows: int = 1000) -> dict:
    """Proxy A-distance and MMD over bag-of-words, and over ``embed`` sentence embeddings if given,
    from one balanced sample (``max_rows`` per domain; MMD, quadratic in rows, on the first
    ``mmd_rows`` of each side), featurised once.

    Returns ``{pad, mmd, mmd_p_value, pad_detail, mmd_detail}`` (bag of words) and, when ``embed``
    is given, ``embedding: {pad, mmd, mmd_p_value}``."""
    task = check_pair(source, target, task)
    ts, tt = _sample(source, target, task, max_rows, seed)
    n, m = len(ts), min(len(ts), mmd_rows)
    sub = np.r_[np.arange(m), n + np.arange(m)]  # the first m rows of each side
    views = {"tfidf": _tfidf(ts + tt)}
    if embed is not None:
        views["embedding"] = np.asarray(embed(ts + tt), dtype=np.float64)
    out: dict = {}
    for name, x in views.items():
        pad, err = _pad(x, n, 5, seed)
        m2, p, bw = _mmd(_dense(x[sub], seed), m, n_permutations, seed)
        if name == "tfidf":
            out.update(pad=pad, mmd=m2, mmd_p_value=p,
                       pad_detail={"pad": pad, "error": err, "n_per_domain": n, "features": "tfidf"},
                       mmd_detail={"mmd2": m2, "p_value": p, "bandwidth": bw, "n_per_domain": m,
                                   "n_permutations": n_permutations, "features": "tfidf-svd100"})
        else:
            out["embedding"] = {"pad": pad, "mmd": m2, "mmd_p_value": p, "error": err, "bandwidth": bw}
    return out
