"""Seeded splits for corpora that ship without one (the Blitzer reviews)."""

from __future__ import annotations

import numpy as np


def stratified_split(rows: list[dict], n_test_per_class: int, seed: int) -> tuple[list[dict], list[dict]]:
    """Split rows per class: each class is shuffled with ``seed`` (after sorting by id, so the
    result does not depend on file order) and its first ``n_test_per_class`` rows go to test.

    The Blitzer protocol (1,600 train / 400 test of 2,000) is ``n_test_per_class=200``.
    Returns ``(train, test)``, each in class order.
    """
    rng = np.random.default_rng(seed)
    train: list[dict] = []
    test: list[dict] = []
    for label in sorted({r["label"] for r in rows}):
        cls = sorted((r for r in rows if r["label"] == label), key=lambda r: r["id"])
        order = rng.permutation(len(cls))
        test.extend(cls[i] for i in order[:n_test_per_class])
        train.extend(cls[i] for i in order[n_test_per_class:])
    return train, test
