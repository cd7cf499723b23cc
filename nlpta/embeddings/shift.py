"""Semantic shift between two domains of one language: which words' neighbourhoods moved most.

Both domain spaces start from one model (input and output weights) trained on the union of the two
corpora and are then trained further on their own domain (Kim et al. 2014, *Temporal analysis of language through neural
language models*), which keeps them comparable on small corpora; an orthogonal Procrustes map over
the shared vocabulary removes what rotation remains. A word's shift is the local-neighbourhood
measure of Hamilton, Leskovec and Jurafsky (2016, *Cultural shift or linguistic drift?*): take
the union ``N`` of its ``k`` nearest neighbours in either space, compare the vectors of its cosine
similarities to ``N`` in the source and in the target space; ``shift = 1 - cos`` of the two (0:
same neighbourhood). Rare words look shifted by noise alone: ``min_count`` applies to both corpora.

:func:`shift_scorer` packs :func:`semantic_shift` with its options as the ``scorer`` of
:func:`nlpta.evaluators.context_bias` (the evaluators take scorers; they import no method family).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial

import numpy as np

from ..errors import Errors
from .align import procrustes
from .bli import retrieve, unit_rows
from .train import continue_training, train_vectors


def neighbourhood_shift(A: np.ndarray, B: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hamilton et al. (2016) local-neighbourhood shift of each row between two spaces whose rows
    are the same words (unit rows). Returns ``(shifts, neighbours_in_A, neighbours_in_B)``."""
    na, _ = retrieve(A, A, k=k + 1, retrieval="nn")
    nb, _ = retrieve(B, B, k=k + 1, retrieval="nn")
    shifts = np.empty(len(A), dtype=np.float64)
    for i in range(len(A)):
        ids = np.unique(np.concatenate([na[i], nb[i]]))
        ids = ids[ids != i]
        sa, sb = A[ids] @ A[i], B[ids] @ B[i]
        den = np.linalg.norm(sa) * np.linalg.norm(sb)
        shifts[i] = 1.0 - float(sa @ sb / den) if den > 0 else 1.0
    return shifts, na, nb


def semantic_shift(source_tokens: Sequence[Sequence[str]], target_tokens: Sequence[Sequence[str]],
                   min_count: int = 10, seed: int = 0, vector_size: int = 100, epochs: int = 5,
                   domain_epochs: int = 5, k: int = 10, n_neighbors: int = 5, lower: bool = True,
                   workers: int = 1, progress: bool = False, n_runs: int = 3):
    """Rank the words whose neighbourhoods differ most between a source and a target domain.

    One word2vec run on a small corpus ranks shifts noisily: the same planted swap lands anywhere
    in the top 20 from one seed (or one machine's floating-point order) to the next. Following
    Antoniak and Mimno (2018, *Evaluating the stability of embedding-based word similarities*),
    the shift is averaged over ``n_runs`` trainings with seeds ``seed, seed + 1, ...``.

    Args:
        source_tokens, target_tokens: tokenized sentences of each domain.
        min_count: a word is scored only if it occurs this often in each corpus.
        seed: seeds the word2vec training (exact repeats need ``workers=1`` and ``PYTHONHASHSEED``).
        vector_size, epochs: the shared model; ``domain_epochs``: the further per-domain training.
        k: neighbourhood size of the shift measure; ``n_neighbors``: neighbours listed per word.
        n_runs: trainings averaged (each costs one shared model and two domain models).

    Returns:
        a ``pandas.DataFrame`` sorted by ``shift`` (descending) with columns ``word``, ``shift``
        (the mean over runs), ``shift_sd`` (its standard deviation over runs), ``source_count``,
        ``target_count``, ``source_neighbors``, ``target_neighbors`` (lists of the nearest shared
        words in each space, from the first run).
    """
    import pandas as pd

    norm = (lambda s: [t.lower() for t in s]) if lower else list
    src = [norm(s) for s in source_tokens if len(s)]
    tgt = [norm(s) for s in target_tokens if len(s)]
    cs, ct = Counter(t for s in src for t in s), Counter(t for s in tgt for t in s)
    if not isinstance(n_runs, int) or n_runs < 1:
        raise Errors.E304(detail=f"semantic_shift: n_runs must be an integer >= 1, not {n_runs!r}")
    runs = []
    for r in range(n_runs):
        kw = {"vector_size": vector_size, "min_count": min_count, "seed": seed + r, "workers": workers,
              "progress": progress}
        base = train_vectors(src + tgt, epochs=epochs, return_model=True, **kw)
        vs = continue_training(base, src, epochs=domain_epochs)
        vt = continue_training(base, tgt, epochs=domain_epochs)
        if r == 0:  # one vocabulary for every run: gensim's is fixed by the counts, not the seed
            shared = [w for w in vs.index_to_key if w in vt.key_to_index and cs[w] >= min_count and ct[w] >= min_count]
            if len(shared) < k + 2:
                raise Errors.E305(detail=f"only {len(shared)} words occur {min_count} times in both corpora (need "
                                         f"k + 2 = {k + 2}); lower min_count")
        A = unit_rows(np.stack([vs[w] for w in shared]))
        B = unit_rows(np.stack([vt[w] for w in shared]))
        A = unit_rows(A @ procrustes(A, B))
        shifts_r, na_r, nb_r = neighbourhood_shift(A, B, k)
        if r == 0:
            na, nb = na_r, nb_r
        runs.append(shifts_r)
    all_shifts = np.stack(runs)
    shifts = all_shifts.mean(axis=0)

    def nbrs(row, i):
        return [shared[j] for j in row if j != i][:n_neighbors]

    df = pd.DataFrame({
        "word": shared, "shift": shifts, "shift_sd": all_shifts.std(axis=0), "source_count": [cs[w] for w in shared],
        "target_count": [ct[w] for w in shared],
        "source_neighbors": [nbrs(na[i], i) for i in range(len(shared))],
        "target_neighbors": [nbrs(nb[i], i) for i in range(len(shared))],
    })
    return df.sort_values(["shift", "word"], ascending=[False, True], ignore_index=True)


def shift_scorer(min_count: int = 10, seed: int = 0, **options) -> Callable:
    """Return ``scorer(source_tokens, target_tokens) -> DataFrame`` (columns ``word``, ``shift``,
    ...): :func:`semantic_shift` with ``min_count``, ``seed`` and any other of its keyword
    ``options`` fixed, for ``context_bias(..., mode="unlabeled", scorer=shift_scorer(...))``.

    The context-bias evaluator passes tokens it has already lower-cased (``lowercase=True``, its
    default) and keeps only words seen ``min_count`` times on each side of its own count.
    """
    import inspect

    allowed = set(inspect.signature(semantic_shift).parameters) - {"source_tokens", "target_tokens"}
    unknown = set(options) - allowed
    if unknown:
        raise Errors.E407(what="shift_scorer: semantic_shift", unknown=", ".join(sorted(unknown)),
                          allowed=", ".join(sorted(allowed)))
    return partial(semantic_shift, min_count=min_count, seed=seed, **options)
