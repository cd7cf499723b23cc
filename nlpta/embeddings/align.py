"""Map two embedding spaces into one: supervised, semi-supervised and unsupervised alignment.

Methods (``EmbeddingAligner(method=...)``):

* ``procrustes`` -- orthogonal Procrustes on a seed dictionary (Xing et al. 2015; Smith et al.
  2017): ``W = U V^T`` with ``U S V^T = X_d^T Z_d``.
* ``refine`` -- Procrustes, then re-induce the dictionary as the mutual nearest neighbours under
  CSLS among the most frequent words and re-solve (Conneau et al. 2018, MUSE's refinement).
* ``identical`` -- seeds from identical strings (numerals included) shared by both vocabularies,
  then the same refinement (Artetxe et al. 2017; Smith et al. 2017).
* ``unsupervised`` -- VecMap's fully unsupervised self-learning (Artetxe, Labaka and Agirre 2018,
  *A robust self-learning method for fully unsupervised cross-lingual mappings*): the initial
  dictionary pairs words whose sorted similarity distributions (rows of ``sqrt(X X^T)`` over the
  4,000 most frequent words) are close; then alternate solving the map and re-inducing a
  bidirectional CSLS dictionary over the 20,000 most frequent words, with stochastic dictionary
  induction (similarities kept with probability ``p``, ``p`` doubled whenever the objective
  stalls, from 0.1 to 1). Whitening/re-weighting of full VecMap are not applied: the map is the
  orthogonal (or CCA/linear) solve below.

Maps (``map=``): ``orthogonal`` (equal dimensions), ``linear`` (least squares with a small ridge
from source to target space, Mikolov et al. 2013) and ``cca`` (both spaces projected onto the
canonical directions of the dictionary pairs, Faruqui and Dyer 2014). ``auto`` picks orthogonal
when the dimensions agree and CCA when they differ (orthogonality is then impossible).

Normalisation (``normalize=``, applied in order to both spaces before learning, as VecMap does):
``unit`` (rows to unit length), ``center`` (subtract the mean vector), ``unitdim`` (each dimension to
unit variance). The default ``("unit", "center", "unit")`` is VecMap's recommended one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ..errors import Errors
from .bli import load_dictionary, retrieve, topk_mean, unit_rows
from .io import keyed_vectors

METHODS = ("procrustes", "refine", "identical", "unsupervised")
MAPS = ("auto", "orthogonal", "linear", "cca")
NORM_STEPS = ("unit", "center", "unitdim", "none")
_NUMERAL = re.compile(r"^[\d.,:/-]+$")


# ----------------------------------------------------------------------------- building blocks
def normalize(X: np.ndarray, steps: Sequence[str] = ("unit", "center", "unit")) -> tuple[np.ndarray, list]:
    """Apply normalisation ``steps`` to the rows of ``X``; returns ``(X', stats)`` where ``stats``
    holds each step's mean/std so :func:`apply_normalize` can repeat it on other vectors."""
    X = np.array(X, dtype=np.float32, copy=True)
    stats: list = []
    for s in steps:
        if s == "unit":
            X = unit_rows(X)
            stats.append(None)
        elif s == "center":
            m = X.mean(axis=0)
            X -= m
            stats.append(m)
        elif s == "unitdim":
            sd = X.std(axis=0)
            sd[sd == 0] = 1.0
            X /= sd
            stats.append(sd)
        elif s == "none":
            stats.append(None)
        else:
            raise Errors.E403(detail=f"unknown normalisation step {s!r}; expected {', '.join(NORM_STEPS)}")
    return X, stats


def apply_normalize(X: np.ndarray, steps: Sequence[str], stats: list) -> np.ndarray:
    """Repeat a fitted normalisation on new rows (same steps, the fitted means/stds)."""
    X = np.array(X, dtype=np.float32, copy=True)
    for s, st in zip(steps, stats, strict=True):
        if s == "unit":
            X = unit_rows(X)
        elif s == "center":
            X -= st
        elif s == "unitdim":
            X /= st
    return X


def procrustes(X: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """The orthogonal ``W`` minimising ``||X W - Z||_F`` (rows of X and Z are dictionary pairs)."""
    u, _, vt = np.linalg.svd(X.T @ Z, full_matrices=False)
    return (u @ vt).astype(np.float32)


def linear_map(X: np.ndarray, Z: np.ndarray, ridge: float = 1e-3) -> np.ndarray:
    """Least-squares ``W`` (``d_x x d_z``) minimising ``||X W - Z||^2 + ridge ||W||^2``."""
    d = X.shape[1]
    return np.linalg.solve(X.T @ X + ridge * len(X) * np.eye(d, dtype=X.dtype), X.T @ Z).astype(np.float32)


def cca_maps(X: np.ndarray, Z: np.ndarray, ridge: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """CCA projections ``(Wx, Wz)`` onto ``min(d_x, d_z)`` shared canonical directions
    (regularised whitening of each side, then the SVD of the whitened cross-covariance)."""

    def whitener(A: np.ndarray) -> np.ndarray:
        C = A.T @ A / len(A)
        C += ridge * np.trace(C) / C.shape[0] * np.eye(C.shape[0], dtype=C.dtype)
        w, V = np.linalg.eigh(C)
        return (V / np.sqrt(np.maximum(w, 1e-12))) @ V.T

    Wx, Wz = whitener(X), whitener(Z)
    u, _, vt = np.linalg.svd((X @ Wx).T @ (Z @ Wz), full_matrices=False)
    k = min(X.shape[1], Z.shape[1])
    return (Wx @ u[:, :k]).astype(np.float32), (Wz @ vt.T[:, :k]).astype(np.float32)


def identical_seeds(src_words: Sequence[str], tgt_words: Sequence[str], limit: int | None = None,
                    numerals_only: bool = False) -> list[tuple[str, str]]:
    """Seed pairs ``(w, w)`` for strings present in both vocabularies (only numerals if
    ``numerals_only``); ``limit`` restricts both vocabularies to their first words."""
    tgt = set(tgt_words[: limit or None])
    out = [(w, w) for w in src_words[: limit or None] if w in tgt]
    if numerals_only:
        out = [p for p in out if _NUMERAL.match(p[0])]
    return out


def _sim_distribution(X: np.ndarray) -> np.ndarray:
    """VecMap's language-independent word representation: the sorted rows of ``sqrt(X X^T)``
    (``U S U^T`` from the SVD of ``X``), unit/center/unit normalised."""
    u, s, _ = np.linalg.svd(X, full_matrices=False)
    M = (u * s) @ u.T
    M.sort(axis=1)
    return normalize(M, ("unit", "center", "unit"))[0]


def _csls_argmax(Q: np.ndarray, T: np.ndarray, r_q: np.ndarray, r_t: np.ndarray, keep_prob: float,
                 rng: np.random.Generator | None, batch: int = 2048) -> np.ndarray:
    """For each row of ``Q``, the row of ``T`` with the best CSLS score (scores dropped with
    probability ``1 - keep_prob`` first), computed in batches."""
    out = np.empty(len(Q), dtype=np.int64)
    for i in range(0, len(Q), batch):
        C = 2 * (Q[i : i + batch] @ T.T) - r_t[None, :] - r_q[i : i + batch, None]
        if keep_prob < 1.0:
            assert rng is not None
            C[rng.random(C.shape, dtype=np.float32) >= keep_prob] = -np.inf
        out[i : i + batch] = C.argmax(axis=1)
    return out


def _csls_dictionary(A: np.ndarray, B: np.ndarray, csls_k: int, keep_prob: float = 1.0,
                     rng: np.random.Generator | None = None, direction: str = "union") -> np.ndarray:
    """Induce pairs (i, j) from unit rows ``A`` (source) and ``B`` (target) by CSLS: forward,
    backward, their ``union`` or their ``mutual`` agreement. With ``keep_prob < 1`` each
    score is dropped with probability ``1 - keep_prob`` before the argmax (VecMap's stochastic
    dictionary induction); the CSLS penalties use all similarities."""
    r_a = topk_mean(A, B, csls_k)
    r_b = topk_mean(B, A, csls_k)
    fwd = _csls_argmax(A, B, r_a, r_b, keep_prob, rng)
    bwd = _csls_argmax(B, A, r_b, r_a, keep_prob, rng)
    src = np.arange(len(A))
    f_pairs = np.stack([src, fwd], axis=1)
    b_pairs = np.stack([bwd, np.arange(len(B))], axis=1)
    if direction == "forward":
        return f_pairs
    if direction == "mutual":
        return f_pairs[bwd[fwd] == src]
    return np.unique(np.concatenate([f_pairs, b_pairs]), axis=0)


# ----------------------------------------------------------------------------- the estimator
class EmbeddingAligner:
    """Learn maps of a source and a target embedding space into one shared space.

    Args:
        method: ``procrustes``, ``refine``, ``identical`` or ``unsupervised`` (module docstring).
        map: ``auto``, ``orthogonal``, ``linear`` or ``cca``.
        normalize: normalisation steps applied to both spaces before learning.
        n_refine: refinement iterations (``refine``, ``identical``).
        refine_vocab: the most frequent words of each side among which refinement and
            self-learning induce dictionaries (MUSE 15,000; VecMap 20,000).
        csls_k: CSLS neighbourhood.
        init_vocab: words per side of the unsupervised initialisation (VecMap: 4,000).
        max_iter: cap on self-learning iterations (``unsupervised``).
        stochastic_init: initial keep probability of stochastic dictionary induction (VecMap 0.1).
        ridge: regulariser of the ``linear`` and ``cca`` maps.
        seed: seeds the stochastic dictionary induction.

    Attributes (after ``fit``):
        Wx_, Wz_: the source and target maps into the shared space.
        dictionary_: the ``(source, target)`` pairs of the last solve.
        history_: one dict per iteration (``n_pairs``, ``objective``, ``keep_prob``).
        map_: the map actually used.
    """

    def __init__(self, method: str = "procrustes", map: str = "auto",
                 normalize: Sequence[str] = ("unit", "center", "unit"), n_refine: int = 5,
                 refine_vocab: int = 15000, csls_k: int = 10, init_vocab: int = 4000, max_iter: int = 50,
                 stochastic_init: float = 0.1, ridge: float = 1e-3, seed: int = 0) -> None:
        self.method = method
        self.map = map
        self.normalize = tuple(normalize)
        self.n_refine = n_refine
        self.refine_vocab = refine_vocab
        self.csls_k = csls_k
        self.init_vocab = init_vocab
        self.max_iter = max_iter
        self.stochastic_init = stochastic_init
        self.ridge = ridge
        self.seed = seed

    # -- helpers
    def _solve(self, X: np.ndarray, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.map_ == "orthogonal":
            return procrustes(X, Z), np.eye(Z.shape[1], dtype=np.float32)
        if self.map_ == "linear":
            return linear_map(X, Z, self.ridge), np.eye(Z.shape[1], dtype=np.float32)
        return cca_maps(X, Z, self.ridge)

    def _pairs_idx(self, pairs: Iterable[tuple[str, str]], sv: dict, tv: dict) -> np.ndarray:
        idx = [(sv[a], tv[b]) for a, b in pairs if a in sv and b in tv]
        return np.array(sorted(set(idx)), dtype=np.int64).reshape(-1, 2)

    def _refine(self, X: np.ndarray, Z: np.ndarray, D: np.ndarray, iters: int) -> np.ndarray:
        n = min(self.refine_vocab, len(X)), min(self.refine_vocab, len(Z))
        for it in range(iters):
            self.Wx_, self.Wz_ = self._solve(X[D[:, 0]], Z[D[:, 1]])
            A, B = unit_rows(X[: n[0]] @ self.Wx_), unit_rows(Z[: n[1]] @ self.Wz_)
            D = _csls_dictionary(A, B, self.csls_k, direction="mutual")
            obj = float(np.mean(np.sum(A[D[:, 0]] * B[D[:, 1]], axis=1))) if len(D) else 0.0
            self.history_.append({"iter": it + 1, "n_pairs": int(len(D)), "objective": round(obj, 5)})
            if len(D) < 2:
                raise Errors.E404(detail=f"refinement iteration {it + 1} found {len(D)} mutual nearest neighbours "
                                         "(need 2); the spaces do not align")
            if it and abs(obj - self.history_[-2]["objective"]) < 1e-5:
                break
        return D

    def _unsupervised(self, X: np.ndarray, Z: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        m = min(self.init_vocab, len(X), len(Z))
        sx, sz = _sim_distribution(X[:m]), _sim_distribution(Z[:m])
        D = _csls_dictionary(sx, sz, self.csls_k)
        n = min(self.refine_vocab, len(X)), min(self.refine_vocab, len(Z))
        keep, best, stall = self.stochastic_init, -np.inf, 0
        for it in range(self.max_iter):
            self.Wx_, self.Wz_ = self._solve(X[D[:, 0]], Z[D[:, 1]])
            A, B = unit_rows(X[: n[0]] @ self.Wx_), unit_rows(Z[: n[1]] @ self.Wz_)
            D = _csls_dictionary(A, B, self.csls_k, keep_prob=keep, rng=rng)
            obj = float(np.mean(np.sum(A[D[:, 0]] * B[D[:, 1]], axis=1)))
            self.history_.append({"iter": it + 1, "n_pairs": int(len(D)), "objective": round(obj, 5),
                                  "keep_prob": keep})
            if obj > best + 1e-6:
                best, stall = obj, 0
            else:
                stall += 1
                if keep >= 1.0:
                    break
                keep = min(1.0, 2 * keep)
        # a final deterministic solve on the forward+backward dictionary
        self.Wx_, self.Wz_ = self._solve(X[D[:, 0]], Z[D[:, 1]])
        return D

    # -- API
    def fit(self, src, tgt, dictionary: str | Path | Iterable[tuple[str, str]] | None = None) -> EmbeddingAligner:
        """Learn the maps from ``src`` and ``tgt`` (gensim ``KeyedVectors``, most frequent words
        first) and, for ``procrustes``/``refine``, a seed ``dictionary`` (a file or pairs).
        Returns self."""
        if self.method not in METHODS:
            raise Errors.E403(detail=f"unknown alignment method {self.method!r}; expected {', '.join(METHODS)}")
        if self.map not in MAPS:
            raise Errors.E403(detail=f"unknown map {self.map!r}; expected {', '.join(MAPS)}")
        ds, dt = src.vector_size, tgt.vector_size
        if self.map == "orthogonal" and ds != dt:
            raise Errors.E403(detail=f"an orthogonal map needs equal dimensions (source {ds}, target {dt}); "
                                     "use map='cca' or map='linear'")
        self.map_ = self.map if self.map != "auto" else ("orthogonal" if ds == dt else "cca")
        X, self.src_norm_ = normalize(src.vectors, self.normalize)
        Z, self.tgt_norm_ = normalize(tgt.vectors, self.normalize)
        self.history_: list[dict] = []
        sw, tw = list(src.index_to_key), list(tgt.index_to_key)
        if self.method in ("procrustes", "refine"):
            if dictionary is None:
                raise Errors.E403(detail=f"method {self.method!r} needs a seed dictionary "
                                         "(or use 'identical'/'unsupervised')")
            pairs = load_dictionary(dictionary) if isinstance(dictionary, str | Path) else list(dictionary)
        elif self.method == "identical":
            pairs = identical_seeds(sw, tw)
        else:
            pairs = []
        if self.method == "unsupervised":
            D = self._unsupervised(X, Z)
        else:
            D = self._pairs_idx(pairs, src.key_to_index, tgt.key_to_index)
            if len(D) < 2:
                raise Errors.E404(detail=f"only {len(D)} of {len(pairs)} seed pairs have vectors on both sides "
                                         "(need 2); give a larger dictionary")
            self.n_seed_pairs_ = int(len(D))
            if self.method == "procrustes":
                self.Wx_, self.Wz_ = self._solve(X[D[:, 0]], Z[D[:, 1]])
            else:
                D = self._refine(X, Z, D, max(1, self.n_refine))
                self.Wx_, self.Wz_ = self._solve(X[D[:, 0]], Z[D[:, 1]])
        self.dictionary_ = [(sw[i], tw[j]) for i, j in D]
        return self

    def _check(self) -> None:
        if not hasattr(self, "Wx_"):
            raise Errors.E302(what="EmbeddingAligner")

    def transform_source(self, kv):
        """Source-language ``KeyedVectors`` in the shared space (normalised as in ``fit``)."""
        self._check()
        return keyed_vectors(kv.index_to_key, apply_normalize(kv.vectors, self.normalize, self.src_norm_) @ self.Wx_)

    def transform_target(self, kv):
        """Target-language ``KeyedVectors`` in the shared space."""
        self._check()
        return keyed_vectors(kv.index_to_key, apply_normalize(kv.vectors, self.normalize, self.tgt_norm_) @ self.Wz_)

    def translate(self, src_mapped, tgt_mapped, words: Sequence[str], k: int = 1, retrieval: str = "csls") -> dict:
        """The ``k`` best translations of ``words`` (CSLS or NN) between two mapped spaces."""
        words = [w for w in words if w in src_mapped.key_to_index]
        if not words:
            return {}
        Q = unit_rows(np.stack([src_mapped[w] for w in words]))
        T = unit_rows(tgt_mapped.vectors)
        idx, _ = retrieve(Q, T, k=k, retrieval=retrieval, csls_k=self.csls_k,
                          src_for_hubs=unit_rows(src_mapped.vectors))
        return {w: [tgt_mapped.index_to_key[j] for j in row] for w, row in zip(words, idx, strict=True)}

    def objective(self) -> float:
        """Mean cosine of the last dictionary's pairs in the shared space."""
        self._check()
        return self.history_[-1]["objective"] if self.history_ else float("nan")
