"""Accuracy, per-domain accuracy and confidence intervals (over test items and over seeds)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import datasets
import numpy as np
from scipy import stats

from ..errors import Errors


def accuracy(gold: Sequence, pred: Sequence) -> float:
    """Share of equal items (flat sequences)."""
    if len(gold) != len(pred):
        raise Errors.E604(what="accuracy", n_gold=len(gold), unit="items", n_pred=len(pred))
    if not len(gold):
        raise Errors.E603(what="accuracy", needs="at least one item", detail="gold and predictions are empty")
    return float(np.mean(np.asarray(gold, dtype=object) == np.asarray(pred, dtype=object)))


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> dict[str, float]:
    """Mean and Student-t confidence interval over independent runs (seeds).

    Returns ``{mean, std, low, high, half_width, n}``; with one value the interval is the point.
    """
    v = np.asarray(values, dtype=float)
    n = len(v)
    if n == 0:
        raise Errors.E603(what="mean_ci", needs="at least one value (one per run)", detail="values is empty")
    m = float(v.mean())
    if n == 1:
        return {"mean": m, "std": 0.0, "low": m, "high": m, "half_width": 0.0, "n": 1}
    sd = float(v.std(ddof=1))
    h = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / np.sqrt(n))
    return {"mean": m, "std": sd, "low": m - h, "high": m + h, "half_width": h, "n": n}


def bootstrap_ci(correct: np.ndarray, groups: np.ndarray | None = None, n_boot: int = 1000,
                 confidence: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap CI of accuracy over test items. For POS pass ``groups`` (the sentence
    index of each token) to resample whole sentences, since tokens of a sentence are not
    independent."""
    correct = np.asarray(correct, dtype=float)
    rng = np.random.default_rng(seed)
    if groups is None:
        idx = rng.integers(0, len(correct), size=(n_boot, len(correct)))
        accs = correct[idx].mean(axis=1)
    else:
        groups = np.asarray(groups)
        n_g = int(groups.max()) + 1
        sums = np.bincount(groups, weights=correct, minlength=n_g)
        cnts = np.bincount(groups, minlength=n_g).astype(float)
        draw = rng.integers(0, n_g, size=(n_boot, n_g))
        accs = sums[draw].sum(axis=1) / cnts[draw].sum(axis=1)
    a = (1 - confidence) / 2
    return float(np.quantile(accs, a)), float(np.quantile(accs, 1 - a))


def evaluate_predictions(ds: datasets.Dataset, predictions: list, seed: int = 0) -> dict:
    """Accuracy of ``predictions`` on labeled rows ``ds``, overall and per domain, with a
    bootstrap CI. POS accuracy is per token (UPOS); sentiment per document.

    Returns ``{accuracy, ci95: [low, high], n, n_rows, per_domain: {domain: {accuracy, n}}}``
    (POS adds ``per_tag`` accuracy/recall per gold tag).
    """
    if len(predictions) != len(ds):
        raise Errors.E604(what="evaluate_predictions", n_gold=len(ds), unit="rows", n_pred=len(predictions))
    domains = ds["domain"]
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    if "upos" in ds.column_names:
        gold_rows = ds["upos"]
        correct, groups, gold_flat = [], [], []
        for k, (g, p) in enumerate(zip(gold_rows, predictions, strict=True)):
            if len(g) != len(p):
                raise Errors.E604(what=f"evaluate_predictions, row {ds[k]['id']}", n_gold=len(g), unit="tags",
                                  n_pred=len(p))
            c = [int(a == b) for a, b in zip(g, p, strict=True)]
            correct.extend(c)
            groups.extend([k] * len(c))
            gold_flat.extend(g)
            per[domains[k]][0] += sum(c)
            per[domains[k]][1] += len(c)
        correct_a = np.array(correct)
        lo, hi = bootstrap_ci(correct_a, np.array(groups), seed=seed)
        tags: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for t, c in zip(gold_flat, correct, strict=True):
            tags[t][0] += c
            tags[t][1] += 1
        extra = {"per_tag": {t: {"accuracy": a / n, "n": n} for t, (a, n) in sorted(tags.items())}}
    else:
        gold = np.asarray(ds["label"])
        if (gold < 0).any():
            raise Errors.E605(what="evaluate_predictions", role="evaluation rows",
                              found=f"{int((gold < 0).sum())} of {len(gold)} rows are unlabeled (label -1)",
                              hint="evaluate on a labeled split")
        correct_a = (gold == np.asarray(predictions)).astype(int)
        for d, c in zip(domains, correct_a, strict=True):
            per[d][0] += int(c)
            per[d][1] += 1
        lo, hi = bootstrap_ci(correct_a, seed=seed)
        extra = {}
    return {
        "accuracy": float(correct_a.mean()),
        "ci95": [lo, hi],
        "n": int(len(correct_a)),
        "n_rows": len(ds),
        "per_domain": {d: {"accuracy": a / n, "n": n} for d, (a, n) in sorted(per.items())},
        **extra,
    }
