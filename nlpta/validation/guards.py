"""Guards: facts about a fitted method's target predictions that need no target label.

A method that predicts one class for (nearly) every target row scores the majority share on a
balanced test set -- 50% on Blitzer -- and looks like a weak method rather than a broken one.
:func:`prediction_guard` compares the predicted label distribution with the source's and flags a
collapse, so the run report says so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

COLLAPSE_SHARE = 0.9  # one predicted label on this share of the target rows (or tokens) ...
BALANCED_SHARE = 0.7  # ... where no source label has more than this share: a collapse


def label_distribution(labels: Iterable[Any]) -> dict[str, float]:
    """``{label: share}`` of ``labels`` (sorted by label; labels as strings, ``-1`` dropped)."""
    c = Counter(str(x) for x in labels if x != -1 and x != "-1")
    n = sum(c.values())
    return {k: c[k] / n for k in sorted(c)} if n else {}


def _flatten(rows: Sequence) -> list:
    return [t for r in rows for t in r] if rows and isinstance(rows[0], list | tuple) else list(rows)


def prediction_guard(source_labels: Sequence, predictions: Sequence, collapse_share: float = COLLAPSE_SHARE,
                     balanced_share: float = BALANCED_SHARE) -> dict[str, Any]:
    """The predicted label distribution on the target against the source's labels.

    Args:
        source_labels: the labeled source rows' labels (sentiment ints, or POS tag lists).
        predictions: the method's target predictions (same kind).

    Returns:
        ``{"source": {label: share}, "predicted": {label: share}, "total_variation": float,
        "max_predicted": [label, share], "collapsed": bool, "warnings": [str]}``. ``collapsed`` is
        true when one label takes ``collapse_share`` of the predictions although no source label has
        more than ``balanced_share`` of the source.
    """
    src = label_distribution(_flatten(source_labels))
    pred = label_distribution(_flatten(predictions))
    labels = set(src) | set(pred)
    tv = 0.5 * sum(abs(src.get(k, 0.0) - pred.get(k, 0.0)) for k in labels)
    top = max(pred.items(), key=lambda kv: (kv[1], kv[0])) if pred else (None, 0.0)
    src_max = max(src.values()) if src else 1.0
    collapsed = bool(pred) and top[1] >= collapse_share and src_max <= balanced_share
    warnings = []
    if collapsed:
        warnings.append(f"prediction collapse: {100 * top[1]:.1f}% of the target predictions are {top[0]!s}, "
                        f"while no source label has more than {100 * src_max:.1f}% of the source; the accuracy "
                        "is close to that label's share of the test set, not evidence of adaptation")
    return {"source": src, "predicted": pred, "total_variation": tv, "max_predicted": [top[0], top[1]],
            "collapsed": collapsed, "warnings": warnings}
