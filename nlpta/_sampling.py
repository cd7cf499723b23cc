"""The one seeded row sampler: every seeded subsample of rows in nlpta goes through here.

``sample_indices(n, limit, seed)`` is ``sorted(default_rng(seed).permutation(n)[:limit])``, so a
sample keeps the rows' original order and a given ``(n, limit, seed)`` always picks the same rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import datasets


def sample_indices(n: int, limit: int | None, seed: int) -> np.ndarray:
    """Return the sorted indices of a seeded sample of ``limit`` out of ``n`` rows.

    All indices ``0..n-1`` when ``limit`` is None or ``>= n``; otherwise the first ``limit`` of
    ``np.random.default_rng(seed).permutation(n)``, sorted ascending.
    """
    if limit is None or limit >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).permutation(n)[: max(int(limit), 0)])


def sample_rows(ds: datasets.Dataset, limit: int | None, seed: int) -> datasets.Dataset:
    """Return a seeded sample of ``limit`` rows of ``ds`` in their original order (``ds`` itself
    when ``limit`` is None or not smaller than ``len(ds)``)."""
    if limit is None or limit >= len(ds):
        return ds
    return ds.select(sample_indices(len(ds), limit, seed).tolist())
