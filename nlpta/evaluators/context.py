"""Context feature bias: the same feature, another label -- P(Y|X) differs between two domains.

Labeled mode compares, per word, the label distributions seen with it in each domain (POS: the tags
of its tokens; sentiment: the labels of the documents containing it) with a G-test of homogeneity
(Williams-corrected), Jensen-Shannon divergence as the effect size and Benjamini-Hochberg control
of the false-discovery rate.

Unlabeled mode has no labels in the target, so it compares what the word keeps company with: the
distribution of its left and right neighbours (POS: the immediate neighbours; sentiment: a window
of words), with neighbours mapped to distributional word classes -- a word used as a verb in one
domain and a noun in the other has neighbours of other classes. An injected ``scorer`` can replace
the neighbour test, e.g. the semantic shift of domain-specific word embeddings,
``scorer=nlpta.embeddings.shift.shift_scorer(min_count=..., seed=...)``; the evaluators import no
method family themselves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import datasets
import numpy as np
import pandas as pd

from ..errors import Errors
from ._common import (
    bh_fdr,
    check_pair,
    check_same_labels,
    docs_tokens,
    g_test_rows,
    js_rows,
    require_labels,
)

CONTEXT_COLUMNS = ["feature", "source_dist", "target_dist", "divergence", "p_value", "q_value", "n_source",
                   "n_target", "source_top", "target_top", "flipped", "biased", "mode"]


def _dist(row: np.ndarray, names: list, top: int | None = None) -> dict:
    tot = row.sum()
    if tot <= 0:
        return {}
    idx = np.argsort(-row, kind="stable")
    if top:
        idx = idx[:top]
    return {str(names[i]): round(float(row[i] / tot), 4) for i in idx if row[i] > 0}


def _table(words: np.ndarray, a: np.ndarray, b: np.ndarray, cols: list, n_a: np.ndarray, n_b: np.ndarray,
           p: np.ndarray, div: np.ndarray, mode: str, alpha: float, top: int | None) -> pd.DataFrame:
    q = bh_fdr(p)
    top_a = [str(cols[i]) for i in a.argmax(1)]
    top_b = [str(cols[i]) for i in b.argmax(1)]
    df = pd.DataFrame({
        "feature": words,
        "source_dist": [_dist(r, cols, top) for r in a], "target_dist": [_dist(r, cols, top) for r in b],
        "divergence": div, "p_value": p, "q_value": q, "n_source": n_a.astype(int), "n_target": n_b.astype(int),
        "source_top": top_a, "target_top": top_b, "flipped": [x != y for x, y in zip(top_a, top_b, strict=True)],
        "biased": q < alpha, "mode": mode,
    })
    order = np.lexsort((-df["divergence"].to_numpy(), df["p_value"].to_numpy()))
    return df.iloc[order].reset_index(drop=True)


def _word_label_counts(ds: datasets.Dataset, task: str, vocab: dict, labels: dict, lowercase: bool) -> np.ndarray:
    """word x label counts: POS per token; sentiment per document containing the word."""
    m = np.zeros((len(vocab), len(labels)))
    toks = docs_tokens(ds, task, lowercase)
    if task == "pos":
        w = np.fromiter((vocab.get(t, -1) for s in toks for t in s), dtype=np.int64)
        y = np.fromiter((labels[t] for tags in ds["upos"] for t in tags), dtype=np.int64)
    else:
        pairs = [(vocab.get(t, -1), labels[lab]) for s, lab in zip(toks, ds["label"], strict=True) for t in set(s)]
        w = np.fromiter((x for x, _ in pairs), dtype=np.int64, count=len(pairs))
        y = np.fromiter((x for _, x in pairs), dtype=np.int64, count=len(pairs))
    ok = w >= 0
    np.add.at(m, (w[ok], y[ok]), 1)
    return m


def _vocab(ds_list: list[datasets.Dataset], task: str, lowercase: bool, min_count: int) -> dict:
    """Words seen at least ``min_count`` times (rows for sentiment) in every one of the datasets."""
    counts = []
    for ds in ds_list:
        toks = docs_tokens(ds, task, lowercase)
        counts.append(Counter(t for s in toks for t in (s if task == "pos" else set(s))))
    words = sorted(w for w in counts[0] if all(c[w] >= min_count for c in counts))
    return {w: i for i, w in enumerate(words)}


def context_bias(
    source: datasets.Dataset,
    target: datasets.Dataset,
    *,
    task: str | None = None,
    mode: str = "auto",
    min_count: int = 5,
    alpha: float = 0.05,
    lowercase: bool = True,
    adjust_label_shift: bool = True,
    window: int | None = None,
    context_vocab: int | None = None,
    scorer: Callable[[list[list[str]], list[list[str]]], pd.DataFrame] | None = None,
    top_labels: int | None = 5,
    contexts: str = "classes",
    n_classes: int = 50,
    seed: int = 0,
) -> pd.DataFrame:
    """Find words whose label (labeled mode) or usage (unlabeled mode) differs between the domains.

    Args:
        mode: ``labeled`` (needs gold labels on both sides), ``unlabeled`` (needs none), or ``auto``
            (labeled when both sides are labeled and no ``scorer`` is given).
        min_count: a word is tested only with at least this many occurrences (POS tokens, sentiment
            documents) in *each* domain.
        alpha: false-discovery rate of the ``biased`` flag (Benjamini-Hochberg).
        adjust_label_shift: sentiment, labeled mode: reweight target documents so that the target's
            label proportions equal the source's, so that a global change of P(Y) (label shift, reported
            separately) does not make every word look context-biased. Unlabeled mode: likewise reweight
            each word's source neighbours by the change of each neighbour class's overall frequency.
        window: unlabeled mode: neighbours on each side (default 1 for POS, 3 for sentiment).
        context_vocab: unlabeled mode: only the most frequent words count as distinct neighbours
            (default 150 for POS -- mostly function words, which carry the syntax -- and 2000 for sentiment).
        contexts: unlabeled mode: compare neighbours as ``classes`` (distributional word classes
            induced by k-means on both domains, ``n_classes`` of them; default) or as ``words``.
        scorer: unlabeled mode: ``scorer(source_tokens, target_tokens)`` returning a DataFrame with
            columns ``word`` and ``shift`` (higher = more shifted), used in place of the neighbour
            test -- e.g. :func:`nlpta.embeddings.shift.shift_scorer` (word2vec on both domains, then
            on each, Hamilton et al.'s neighbourhood measure). No test, so ``p_value`` is NaN,
            ``divergence`` holds the shift and ``mode`` is ``unlabeled-scorer``. The token lists it
            receives are lower-cased when ``lowercase``; words seen fewer than ``min_count`` times
            in either domain are dropped from its ranking.

    Returns:
        a DataFrame with ``CONTEXT_COLUMNS``: per word the two label (or neighbour) distributions,
        ``divergence`` (Jensen-Shannon, base 2), ``p_value`` (G-test), ``q_value`` (BH), counts in each
        domain, the most frequent label on each side and whether it ``flipped``; most significant first.

    Raises:
        EvaluatorError (E601): an unknown ``mode`` or ``contexts``; (E602) ``scorer`` in labeled mode, or
            a scorer that returns no ``word``/``shift`` columns. LabelError: labeled mode on
            unlabeled rows.
    """
    task = check_pair(source, target, task)
    if mode not in ("auto", "labeled", "unlabeled"):
        raise Errors.E601(what="context_bias", option="mode", expected="auto, labeled or unlabeled", got=mode)
    if contexts not in ("classes", "words"):
        hint = (" (for a semantic-shift ranking pass scorer=nlpta.embeddings.shift.shift_scorer(...))"
                if contexts == "embeddings" else "")
        raise Errors.E601(what="context_bias", option="contexts", expected=f"'classes' or 'words'{hint}", got=contexts)
    if mode == "auto":
        from ._common import has_labels

        labeled = scorer is None and has_labels(source, task) and has_labels(target, task)
        mode = "labeled" if labeled else "unlabeled"
    if mode == "labeled":
        if scorer is not None:
            raise Errors.E602(detail="context_bias(mode='labeled') takes no scorer: a scorer ranks usage without "
                                     "labels; pass mode='unlabeled' (or leave scorer out for labeled mode)")
        return _labeled(source, target, task, min_count, alpha, lowercase, adjust_label_shift, top_labels)
    if scorer is not None:
        return _scored(source, target, task, scorer, min_count, lowercase)
    return _unlabeled(source, target, task, min_count, alpha, lowercase, window, context_vocab, top_labels,
                      contexts, n_classes, seed, adjust_label_shift)


def _labeled(source, target, task, min_count, alpha, lowercase, adjust, top) -> pd.DataFrame:
    for role, ds in (("source", source), ("target", target)):
        require_labels(ds, task, role, "context bias in labeled mode")
    if task == "pos":
        ys, yt = [t for s in source["upos"] for t in s], [t for s in target["upos"] for t in s]
    else:
        ys, yt = list(source["label"]), list(target["label"])
    check_same_labels(ys, yt, "labels", task)
    labels = {lab: i for i, lab in enumerate(sorted(set(ys) | set(yt), key=str))}
    vocab = _vocab([source, target], task, lowercase, min_count)
    cols = list(labels)
    if not vocab:
        return pd.DataFrame(columns=CONTEXT_COLUMNS)
    a = _word_label_counts(source, task, vocab, labels, lowercase)
    b = _word_label_counts(target, task, vocab, labels, lowercase)
    n_a, n_b = a.sum(1), b.sum(1)
    if task == "sentiment" and adjust:
        ps = np.bincount([labels[x] for x in ys], minlength=len(labels)) / len(ys)
        pt = np.bincount([labels[x] for x in yt], minlength=len(labels)) / len(yt)
        w = np.where(pt > 0, ps / np.where(pt > 0, pt, 1), 0.0)
        b_test = b * w / (b * w).sum(1, keepdims=True).clip(1e-12) * n_b[:, None]
    else:
        b_test = b
    _, p = g_test_rows(a, b_test)
    div = js_rows(a, b_test)
    return _table(np.array(list(vocab), dtype=object), a, b_test, cols, n_a, n_b, p, div, "labeled", alpha, top)


def _neighbour_counts(ds, task, lowercase, window: int, vocab: dict, keep: dict, n_keep: int | None = None) -> np.ndarray:
    """Counts ``[side, word, neighbour]``: sides L1, R1, L2, R2, ...; neighbour = its id in ``keep``
    (frequent words, or word classes), ``n_keep`` for any other word, ``n_keep+1`` past the sentence
    edge (``n_keep`` defaults to ``len(keep)``)."""
    nk = len(keep) if n_keep is None else n_keep
    toks = docs_tokens(ds, task, lowercase)
    flat = [t for s in toks for t in s]
    w = np.fromiter((vocab.get(t, -1) for t in flat), dtype=np.int64, count=len(flat))
    c = np.fromiter((keep.get(t, nk) for t in flat), dtype=np.int64, count=len(flat))
    doc = np.repeat(np.arange(len(toks)), [len(s) for s in toks])
    m = np.zeros((2 * window, len(vocab), nk + 3))
    ok = w >= 0
    for k in range(1, window + 1):
        for side, shift in ((2 * (k - 1), k), (2 * (k - 1) + 1, -k)):
            nb = np.roll(c, shift)
            same = np.roll(doc, shift) == doc
            if shift > 0:
                same[:shift] = False
            else:
                same[shift:] = False
            ctx = np.where(same, nb, nk + 1)
            np.add.at(m[side], (w[ok], ctx[ok]), 1)
    return m


def _word_classes(source, target, task, lowercase, n_classes: int, context_vocab: int, min_count: int,
                  seed: int) -> dict:
    """Distributional word classes from both domains together: each word seen ``min_count`` times
    is represented by the distribution of its immediate neighbours (among the ``context_vocab`` most
    frequent words) and k-means puts the words into ``n_classes`` classes (in the spirit of Brown
    clusters). Neighbours are then compared as classes, so that a word is not flagged merely because
    *which* noun follows it changed with the topic."""
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import normalize

    freq = Counter(t for ds in (source, target) for s in docs_tokens(ds, task, lowercase) for t in s)
    keep = {w: i for i, (w, _) in enumerate(freq.most_common(min(context_vocab, 300)))}
    words = {w: i for i, (w, c) in enumerate(freq.most_common()) if c >= min_count}
    m = sum(_neighbour_counts(ds, task, lowercase, 1, words, keep) for ds in (source, target))
    x = normalize(np.sqrt(np.concatenate([m[0], m[1]], axis=1)))
    if x.shape[1] > 600 and x.shape[0] > 64:  # sentiment's wide neighbour vocabulary
        from sklearn.decomposition import TruncatedSVD

        x = normalize(TruncatedSVD(64, random_state=seed).fit_transform(x))
    k = min(n_classes, len(words))
    lab = KMeans(k, n_init=3, random_state=seed).fit_predict(x) if k > 1 else np.zeros(len(words), int)
    return {w: int(lab[i]) for w, i in words.items()}


def _neighbour_test(source, target, task, lowercase, window, vocab, keep, nk, adjust):
    """Neighbour counts of both domains and the per-word G-test p-values (Bonferroni over sides).
    Returns ``(source_counts, target_counts, p, words, q)`` summed over sides, without the column
    of left-out neighbours."""
    mats = {role: _neighbour_counts(ds, task, lowercase, window, vocab, keep, n_keep=nk)[:, :, :nk + 2]
            for role, ds in (("s", source), ("t", target))}
    n_sides = 2 * window
    if adjust:
        # expected target neighbours of a word whose usage did not change: its source neighbours,
        # reweighted by how much more (or less) often each neighbour class occurs in the target overall
        # (the same correction as for label shift; it keeps frequency bias from posing as context bias)
        for k in range(n_sides):
            ms, mt = mats["s"][k], mats["t"][k]
            ps_, pt_ = ms.sum(0) + 1, mt.sum(0) + 1
            r = (pt_ / pt_.sum()) / (ps_ / ps_.sum())
            adj = ms * r
            mats["s"][k] = adj / adj.sum(1, keepdims=True).clip(1e-12) * ms.sum(1, keepdims=True)
    ps = np.stack([g_test_rows(mats["s"][k], mats["t"][k])[1] for k in range(n_sides)])
    p = np.minimum(ps.min(0) * n_sides, 1.0)
    return mats["s"].sum(0), mats["t"].sum(0), p, np.array(list(vocab), dtype=object), bh_fdr(p)


def _unlabeled(source, target, task, min_count, alpha, lowercase, window, context_vocab, top,
               contexts: str = "classes", n_classes: int = 50, seed: int = 0,
               adjust_label_shift: bool = True, passes: int = 2) -> pd.DataFrame:
    window = window or (1 if task == "pos" else 3)
    context_vocab = context_vocab or (150 if task == "pos" else 2000)
    vocab = _vocab([source, target], task, lowercase, min_count)
    if not vocab:
        return pd.DataFrame(columns=CONTEXT_COLUMNS)
    if contexts == "classes":
        classes = _word_classes(source, target, task, lowercase, n_classes, context_vocab, min_count, seed)
        keep = classes  # word -> class id; unclustered (rare) words fall into "<other>"
        cols = [f"class{i}" for i in range(max(classes.values()) + 1)] + ["<rare>", "<edge>"]
        nk = len(cols) - 2
    elif contexts == "words":
        freq = Counter(t for ds in (source, target) for s in docs_tokens(ds, task, lowercase) for t in s)
        keep = {w: i for i, (w, _) in enumerate(freq.most_common(context_vocab))}
        cols = [*keep, "<other>", "<edge>"]
        nk = len(keep)
    else:
        raise Errors.E601(what="context_bias", option="contexts", expected="'classes' or 'words'", got=contexts)
    res = None
    for _ in range(passes if contexts == "classes" else 1):
        if res is not None:
            # second pass: occurrences next to a word flagged in the first pass are left out, so that a
            # determiner is not flagged because the noun after it now is a verb
            flagged = set(res[3][res[4] < alpha])
            keep = {w: (nk + 2 if w in flagged else c) for w, c in keep.items()}
            keep.update({w: nk + 2 for w in flagged if w not in keep})
        res = _neighbour_test(source, target, task, lowercase, window, vocab, keep, nk, adjust_label_shift)
    a, b, p, _, _ = res
    div = js_rows(a, b)
    n_a, n_b = a.sum(1) / (2 * window), b.sum(1) / (2 * window)
    return _table(np.array(list(vocab), dtype=object), a, b, cols, n_a, n_b, p, div, "unlabeled", alpha, top)


def _scored(source, target, task, scorer, min_count, lowercase) -> pd.DataFrame:
    ts, tt = docs_tokens(source, task, lowercase), docs_tokens(target, task, lowercase)
    res = scorer(ts, tt)
    if not isinstance(res, pd.DataFrame) or not {"word", "shift"} <= set(res.columns):
        got = list(res.columns) if isinstance(res, pd.DataFrame) else type(res).__name__
        raise Errors.E602(detail=f"it must return a DataFrame with columns 'word' and 'shift'; got {got}")
    cs, ct = Counter(t for s in ts for t in s), Counter(t for s in tt for t in s)
    res = res[[cs[w] >= min_count and ct[w] >= min_count for w in res["word"]]]
    df = pd.DataFrame({
        "feature": res["word"].to_numpy(), "source_dist": [{}] * len(res), "target_dist": [{}] * len(res),
        "divergence": res["shift"].to_numpy(dtype=float), "p_value": np.nan, "q_value": np.nan,
        "n_source": [cs[w] for w in res["word"]], "n_target": [ct[w] for w in res["word"]],
        "source_top": "", "target_top": "", "flipped": False, "biased": False, "mode": "unlabeled-scorer",
    })
    return df.sort_values("divergence", ascending=False, kind="stable").reset_index(drop=True)


def recovery(labeled: pd.DataFrame, unlabeled: pd.DataFrame, ks: tuple[int, ...] = (10, 20, 50)) -> dict:
    """How well an unlabeled ranking recovers labeled mode's findings.

    Ground truth: the words labeled mode flags (``biased``); candidates: the words both tables
    tested. Returns ``{auc, precision_at_k: {k: ...}, n_candidates, n_positive}`` where the ranking
    is by unlabeled ``p_value`` (then divergence), or by divergence for scorer tables.
    """
    from sklearn.metrics import roc_auc_score

    common = set(labeled["feature"]) & set(unlabeled["feature"])
    truth = {f for f, b in zip(labeled["feature"], labeled["biased"], strict=True) if b and f in common}
    ranked = [f for f in unlabeled["feature"] if f in common]  # the table is sorted: most shifted first
    y = np.array([f in truth for f in ranked])
    score = -np.arange(len(ranked), dtype=float)
    out = {"n_candidates": len(ranked), "n_positive": int(y.sum()),
           "auc": float(roc_auc_score(y, score)) if 0 < y.sum() < len(y) else float("nan"),
           "precision_at_k": {int(k): float(y[:k].mean()) for k in ks if len(y) >= k},
           "base_rate": float(y.mean()) if len(y) else float("nan")}
    return out
