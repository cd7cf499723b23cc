"""Shared helpers of the shift detectors: task detection, tokenisation, counting, tests."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence

import datasets
import numpy as np
from scipy import sparse, stats

from ..data.schema import task_of
from ..errors import Errors

# the tokenisation of the sentiment baseline (scikit-learn's default token pattern), lowercased
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def check_pair(source: datasets.Dataset, target: datasets.Dataset, task: str | None = None) -> str:
    """Validate two datasets of one task; return the task (``pos`` or ``sentiment``)."""
    for role, ds in (("source", source), ("target", target)):
        if not isinstance(ds, datasets.Dataset):
            raise Errors.E304(detail=f"{role} must be a datasets.Dataset (got {type(ds).__name__}); "
                                     "load one with nlpta.data.load(name)")
        if len(ds) == 0:
            raise Errors.E105(detail=f"the {role} dataset is empty: nothing to compare")
    ts, tt = task_of(source), task_of(target)
    if ts != tt:
        raise Errors.E111(detail=f"source is a {ts} dataset but target is a {tt} dataset; compare one task")
    if task is not None and task != ts:
        raise Errors.E111(detail=f"task={task!r} asked for, but the datasets are {ts} datasets")
    return ts


def has_labels(ds: datasets.Dataset, task: str) -> bool:
    """Whether every row carries a gold label (POS: a non-empty ``upos``; sentiment: label >= 0)."""
    if task == "pos":
        return "upos" in ds.column_names and all(len(u) == len(t) and len(u) > 0
                                                 for u, t in zip(ds["upos"], ds["tokens"], strict=True))
    return "label" in ds.column_names and min(ds["label"]) >= 0


def require_labels(ds: datasets.Dataset, task: str, role: str, why: str) -> None:
    if not has_labels(ds, task):
        raise Errors.E605(what=why, role=role,
                          found=f"the {role} dataset is unlabeled ({'empty upos' if task == 'pos' else 'label -1'} rows)",
                          hint="use mode='unlabeled' or give a labeled split")


_TOKENS_CACHE: OrderedDict = OrderedDict()


def docs_tokens(ds: datasets.Dataset, task: str, lowercase: bool = True) -> list[list[str]]:
    """One token list per row: POS rows' tokens; sentiment texts split like the baseline's tf-idf.

    The detectors of one diagnosis all read the same two datasets, so the last few results are
    kept (keyed by the dataset's fingerprint, which changes with any edit of it); do not modify them.
    """
    key = (ds._fingerprint, task, lowercase)
    if key in _TOKENS_CACHE:
        _TOKENS_CACHE.move_to_end(key)
        return _TOKENS_CACHE[key]
    if task == "pos":
        out = [[t.lower() for t in toks] if lowercase else list(toks) for toks in ds["tokens"]]
    else:
        out = [_TOKEN.findall(t.lower() if lowercase else t) for t in ds["text"]]
    _TOKENS_CACHE[key] = out
    if len(_TOKENS_CACHE) > 6:
        _TOKENS_CACHE.popitem(last=False)
    return out


def doc_features(tokens: list[str], ngram: int = 1, suffix: int = 0) -> list[str]:
    """Features of one document: word n-grams up to ``ngram`` (joined by a space) and, with
    ``suffix`` > 0, word suffixes ``-xyz`` of that length (for POS)."""
    out = list(tokens)
    for n in range(2, ngram + 1):
        out += [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    if suffix:
        out += ["-" + t[-suffix:] for t in tokens if len(t) > suffix + 1]
    return out


def count_matrix(docs_a: list[list[str]], docs_b: list[list[str]]) -> tuple[sparse.csr_matrix, sparse.csr_matrix,
                                                                            np.ndarray]:
    """Document x feature count matrices of two corpora over their joint vocabulary."""
    vocab: dict[str, int] = {}
    mats = []
    for docs in (docs_a, docs_b):
        indptr, indices = [0], []
        for d in docs:
            for f in d:
                indices.append(vocab.setdefault(f, len(vocab)))
            indptr.append(len(indices))
        mats.append((indptr, indices))
    out = []
    for indptr, indices in mats:
        m = sparse.csr_matrix((np.ones(len(indices), dtype=np.int64), np.asarray(indices, dtype=np.int64),
                               np.asarray(indptr)), shape=(len(indptr) - 1, len(vocab)))
        m.sum_duplicates()
        out.append(m)
    names = np.empty(len(vocab), dtype=object)
    for f, i in vocab.items():
        names[i] = f
    return out[0], out[1], names


def bh_fdr(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) for independent or positively dependent tests."""
    p = np.asarray(p, dtype=float)
    if p.size == 0:
        return p
    return stats.false_discovery_control(p, method="bh")


def g_test_rows(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise G-test of homogeneity for many 2 x K tables: row i compares counts ``a[i]`` (source)
    with ``b[i]`` (target). Williams' correction keeps small samples from being anti-conservative.

    Returns ``(G, p_value)``; a table with one non-empty column has G = 0 and p = 1.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    col = a + b
    ra, rb = a.sum(1, keepdims=True), b.sum(1, keepdims=True)
    n = ra + rb
    with np.errstate(divide="ignore", invalid="ignore"):
        ea, eb = ra * col / n, rb * col / n
        ga = np.where(a > 0, a * np.log(a / ea), 0.0)
        gb = np.where(b > 0, b * np.log(b / eb), 0.0)
    g = 2 * (ga.sum(1) + gb.sum(1))
    k = (col > 0).sum(1)
    df = np.maximum(k - 1, 0)
    n1 = n[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_col = np.where(col > 0, 1.0 / np.where(col > 0, col, 1), 0.0).sum(1)
        q = 1 + (n1 * (1 / ra[:, 0] + 1 / rb[:, 0]) - 1) * (n1 * inv_col - 1) / (6 * n1 * np.maximum(df, 1))
    g = np.where(df > 0, np.maximum(g, 0) / np.maximum(q, 1.0), 0.0)
    p = np.where(df > 0, stats.chi2.sf(g, np.maximum(df, 1)), 1.0)
    return g, p


def js_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise Jensen-Shannon divergence (base 2, in [0, 1]) of the normalised rows of two count
    matrices."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    pa = a / np.maximum(a.sum(1, keepdims=True), 1e-300)
    pb = b / np.maximum(b.sum(1, keepdims=True), 1e-300)
    m = (pa + pb) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        ka = np.where(pa > 0, pa * np.log2(pa / m), 0.0).sum(1)
        kb = np.where(pb > 0, pb * np.log2(pb / m), 0.0).sum(1)
    return np.clip((ka + kb) / 2, 0.0, 1.0)


def check_same_labels(src: Sequence, tgt: Sequence, what: str, task: str = "sentiment") -> None:
    """Mismatched label sets (a 3-class target against a binary source; PTB tags against UPOS) are a
    user error. For POS a UPOS tag the source never uses (INTJ in news) is a shift, not an error."""
    from ..data.schema import UPOS_TAGS

    allowed = set(src) | (set(UPOS_TAGS) if task == "pos" and set(src) <= set(UPOS_TAGS) else set())
    extra = sorted(set(tgt) - allowed, key=str)
    if extra:
        raise Errors.E104(detail=f"the target has {what} the source never has: {', '.join(map(str, extra[:10]))}"
                                 f"{' ...' if len(extra) > 10 else ''}; source {what}: "
                                 f"{', '.join(map(str, sorted(set(src), key=str)))}")
