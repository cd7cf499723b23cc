"""The ``align`` method: cross-lingual transfer through aligned word embeddings.

* sentiment -- documents become tf-idf-weighted averages of their words' vectors in the shared
  space; a logistic regression trained on the source-language reviews is applied to the target
  language's (Klementiev et al. 2012 style document representation; the aligned-embedding CLS
  baselines of Chen et al. 2018 and Artetxe et al. 2018).
* pos -- the feature tagger with the aligned vectors of the token and its +-1 neighbours as
  dense features (Täckström et al. 2012 use cross-lingual clusters the same way); with
  ``lexical: false`` (default) the word-identity and affix features, which do not carry across
  languages, are dropped and only shape features remain beside the vectors.

Vectors (``src_vectors``, ``tgt_vectors``): a file or ``spacy:<pipeline>`` / ``glove-6b-50d``
(:func:`nlpta.embeddings.load_vectors`), or ``train:<lang>`` -- word2vec skip-gram trained on all
monolingual text of that language in the data layer (``train:{lang}`` takes the task's language),
cached under ``$NLPTA_CACHE`` (default ``~/.cache/nlpta``) as ``.npz``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, ClassVar

import datasets
import numpy as np

from ..errors import NlptaError
from ..io import atomic_write_json
from ..models.classical import FeatureTagger, sentence_features
from ..tasks import TransferTask
from .registry import Method, register

_LANG = {"jp": "ja"}
_ALIGNED: dict[tuple, tuple] = {}
_SHAPE_KEYS = ("b", "upper", "upper_first", "allcaps", "digit", "hyphen")


def cache_dir() -> Path:
    return Path(os.environ.get("NLPTA_CACHE", Path.home() / ".cache" / "nlpta")) / "embeddings"


def resolve_vectors(spec: str, lang: str, dim: int = 300, epochs: int = 5, seed: int = 0, min_count: int = 3,
                    workers: int = 1, max_vocab: int | None = 200000):
    """Load vectors named by ``spec`` (see the module docstring); ``train:<lang>`` trains once and
    caches. Returns ``(KeyedVectors, info)`` where ``info`` says where they came from (and the
    corpus size for trained ones)."""
    from ..embeddings.io import load_vectors, save_vectors

    spec = spec.replace("{lang}", lang)
    if not spec.startswith("train:"):
        return load_vectors(spec, limit=max_vocab), {"vectors": spec}
    lg = _LANG.get(spec.split(":", 1)[1], spec.split(":", 1)[1])
    key = f"{lg}-w2v-sg-d{dim}-e{epochs}-m{min_count}-s{seed}"
    path = cache_dir() / f"{key}.npz"
    meta = path.with_suffix(".json")
    if path.is_file() and meta.is_file():
        import json

        return load_vectors(path, limit=max_vocab), json.loads(meta.read_text(encoding="utf-8"))
    from ..embeddings.train import language_corpus, train_vectors

    sents, stats = language_corpus(lg)
    kv = train_vectors(sents, vector_size=dim, epochs=epochs, seed=seed, min_count=min_count, workers=workers)
    save_vectors(kv, path, "npz")
    info = {"vectors": spec, "recipe": key, "corpus": stats.as_dict(), "vocab": len(kv)}
    atomic_write_json(meta, info)
    return load_vectors(path, limit=max_vocab), info


def _lang_of(ds: datasets.Dataset) -> str:
    langs = set(ds["lang"][:200]) if "lang" in ds.column_names else set()
    if len(langs) != 1:
        raise NlptaError(f"the align method needs rows of one language; found {sorted(langs) or 'none'}", code="E305")
    lg = langs.pop()
    return _LANG.get(lg, lg)


class _SpaceTagger(FeatureTagger):
    """FeatureTagger whose dense features are shared-space vectors of the token and its +-``window``
    neighbours, looked up in ``space`` (the current language's mapped vectors)."""

    def __init__(self, dims: int, window: int = 1, lexical: bool = False, **kw) -> None:
        super().__init__(extra_features=self._vectors, **kw)
        self.dims = dims
        self.window = window
        self.lexical = lexical
        self.space: dict[str, np.ndarray] = {}

    def _vectors(self, sentences) -> np.ndarray:
        blocks = []
        zero = np.zeros(self.dims, dtype=np.float32)
        for toks in sentences:
            vecs = [self.space.get(t.lower(), zero) for t in toks]
            n = len(toks)
            for i in range(n):
                row = [vecs[i + o] if 0 <= i + o < n else zero for o in range(-self.window, self.window + 1)]
                row.append(np.array([float(toks[i].lower() not in self.space)], dtype=np.float32))
                blocks.append(np.concatenate(row))
        return np.vstack(blocks) if blocks else np.zeros((0, self.dims * (2 * self.window + 1) + 1))

    def featurize(self, sentences, fit: bool = False):
        if self.lexical:
            return super().featurize(sentences, fit)
        import scipy.sparse as sp

        feats = [{k: v for k, v in f.items() if k in _SHAPE_KEYS or k.startswith(("shape=", "w-", "w+")) and
                  k.endswith("<pad>")} for f in sentence_features(sentences)]
        X = self.vectorizer_.fit_transform(feats) if fit else self.vectorizer_.transform(feats)
        extra = sp.csr_matrix(np.asarray(self._vectors(sentences), dtype=np.float64))
        return sp.hstack([X, extra], format="csr")


@register("align")
class AlignedEmbeddings(Method):
    """Cross-lingual transfer with aligned word embeddings (see the module docstring).

    Params: ``src_vectors``/``tgt_vectors`` (vector specs), ``dictionary`` (``muse`` = the MUSE
    0-5000 training dictionary of the language pair, a file, or ``none`` for identical strings
    when ``alignment`` is ``identical``/``unsupervised``), ``alignment`` (an
    :class:`~nlpta.embeddings.EmbeddingAligner` method), ``normalize``, ``refine_vocab`` (words
    per side among which dictionaries are induced), ``dim``/``epochs`` (of ``train:`` vectors); sentiment: ``weighting`` (``tfidf``/``mean``), ``Cs``; pos: ``lexical``,
    ``window``, ``pos_dims`` (PCA of the shared space fed to the tagger), ``C``, ``max_iter``.
    """

    tasks: ClassVar[tuple[str, ...]] = ("pos", "sentiment")
    _common: ClassVar[dict[str, Any]] = {
        "src_vectors": "train:{lang}", "tgt_vectors": "train:{lang}", "dictionary": "muse", "alignment": "refine",
        "normalize": ["unit", "center", "unit"], "dim": 300, "epochs": 5, "max_vocab": 200000,
        "refine_vocab": 10000,
    }
    defaults: ClassVar[dict[str, dict[str, Any]]] = {
        "sentiment": {**_common, "weighting": "tfidf", "Cs": [0.01, 0.1, 1.0, 10.0, 100.0]},
        "pos": {**_common, "lexical": False, "window": 1, "pos_dims": 64, "C": 1.0, "max_iter": 300},
    }

    # -- alignment
    def _align(self, src_lang: str, tgt_lang: str) -> None:
        from ..embeddings.align import EmbeddingAligner
        from ..embeddings.bli import muse_dictionary

        p = self.params
        kw = {"dim": p["dim"], "epochs": p["epochs"], "seed": self.seed, "max_vocab": p["max_vocab"]}
        src_kv, self.src_info_ = resolve_vectors(p["src_vectors"], src_lang, **kw)
        tgt_kv, self.tgt_info_ = resolve_vectors(p["tgt_vectors"], tgt_lang, **kw)
        d = p["dictionary"]
        dictionary = None
        if d == "muse":
            dictionary = muse_dictionary(src_lang, tgt_lang, "train")
        elif d not in (None, "none"):
            dictionary = d
        key = (src_lang, tgt_lang, p["src_vectors"], p["tgt_vectors"], str(dictionary), p["alignment"],
               tuple(p["normalize"]), p["dim"], p["epochs"], p["max_vocab"], p["refine_vocab"], self.seed)
        if key not in _ALIGNED:  # one alignment serves every task of the same language pair in a process
            al = EmbeddingAligner(method=p["alignment"], normalize=p["normalize"], refine_vocab=p["refine_vocab"],
                                  seed=self.seed)
            al.fit(src_kv, tgt_kv, dictionary)
            if len(_ALIGNED) >= 4:
                _ALIGNED.pop(next(iter(_ALIGNED)))
            _ALIGNED[key] = (al, {src_lang: al.transform_source(src_kv), tgt_lang: al.transform_target(tgt_kv)})
        self.aligner_, self.spaces_ = _ALIGNED[key]
        self.langs_ = (src_lang, tgt_lang)

    def fit(self, task: TransferTask) -> AlignedEmbeddings:
        src_lang, tgt_lang = _lang_of(task.source), _lang_of(task.target)
        if src_lang == tgt_lang:
            raise NlptaError(f"align transfers across languages; source and target are both {src_lang!r}", code="E305")
        self._align(src_lang, tgt_lang)
        if self.task == "sentiment":
            self._fit_sentiment(task)
        else:
            self._fit_pos(task)
        return self

    # -- sentiment
    def _tokens(self, ds: datasets.Dataset) -> list[list[str]]:
        from ..embeddings.train import tokenize

        lang = _lang_of(ds)
        vocab = set(self.spaces_[lang].key_to_index) if lang == "ja" else None
        return [tokenize(t, lang=lang, vocab=vocab) for t in ds["text"]]

    def _idf(self, docs: list[list[str]]) -> dict[str, float]:
        from collections import Counter

        df = Counter(w for d in docs for w in set(d))
        n = len(docs)
        return {w: float(np.log((1 + n) / (1 + c)) + 1) for w, c in df.items()}

    def _doc_vectors(self, docs: list[list[str]], lang: str, idf: dict[str, float]) -> np.ndarray:
        kv = self.spaces_[lang]
        out = np.zeros((len(docs), kv.vector_size), dtype=np.float32)
        tfidf = self.params["weighting"] == "tfidf"
        for i, d in enumerate(docs):
            words = [w for w in d if w in kv.key_to_index]
            if not words:
                continue
            wts = np.array([idf.get(w, 1.0) if tfidf else 1.0 for w in words], dtype=np.float32)
            v = (wts[:, None] * kv[words]).sum(axis=0) / wts.sum()
            out[i] = v / (np.linalg.norm(v) + 1e-8)
        return out

    def _fit_sentiment(self, task: TransferTask) -> None:
        from sklearn.linear_model import LogisticRegressionCV
        from sklearn.model_selection import StratifiedKFold

        src_lang, tgt_lang = self.langs_
        docs = self._tokens(task.source)
        self.idf_ = {src_lang: self._idf(docs)}
        # target idf: document frequencies of the target's unlabeled text, else of the target inputs
        # themselves (no labels are read; a transductive statistic, said so in the docs)
        tgt_text = task.unlabeled if task.unlabeled is not None and len(task.unlabeled) else task.target
        self.idf_[tgt_lang] = self._idf(self._tokens(tgt_text))
        X = self._doc_vectors(docs, src_lang, self.idf_[src_lang])
        y = np.asarray(task.source["label"])
        self.clf_ = LogisticRegressionCV(Cs=list(self.params["Cs"]), cv=StratifiedKFold(5, shuffle=True, random_state=self.seed),
                                         max_iter=3000, random_state=self.seed).fit(X, y)

    # -- pos
    def _fit_pos(self, task: TransferTask) -> None:
        p = self.params
        src_lang, tgt_lang = self.langs_
        S = self.spaces_[src_lang]
        k = min(p["pos_dims"], S.vector_size)
        mu = S.vectors.mean(axis=0)
        _, _, vt = np.linalg.svd(S.vectors[:50000] - mu, full_matrices=False)
        self.pca_ = (mu, vt[:k].T)
        self.tables_ = {lg: self._table(lg) for lg in self.langs_}
        self.tagger_ = _SpaceTagger(dims=k, window=p["window"], lexical=p["lexical"], C=p["C"],
                                    max_iter=p["max_iter"], seed=self.seed)
        self.tagger_.space = self.tables_[src_lang]
        self.tagger_.fit(task.source["tokens"], task.source["upos"])

    def _table(self, lang: str) -> dict[str, np.ndarray]:
        kv = self.spaces_[lang]
        mu, P = self.pca_
        Z = (kv.vectors - mu) @ P
        Z /= Z.std() + 1e-8
        return dict(zip(kv.index_to_key, Z.astype(np.float32), strict=True))

    def predict(self, ds: datasets.Dataset) -> list:
        lang = _lang_of(ds)
        if lang not in self.spaces_:
            raise NlptaError(f"this model was aligned for {', '.join(self.langs_)}, not {lang!r}", code="E305")
        if self.task == "sentiment":
            X = self._doc_vectors(self._tokens(ds), lang, self.idf_.get(lang, {}))
            return [int(x) for x in self.clf_.predict(X)]
        self.tagger_.space = self.tables_[lang]
        return self.tagger_.predict(ds["tokens"])

    def save(self, directory: str | Path) -> None:
        """Write the mapped vectors (npz), the classifier weights and ``align.json`` (no pickle)."""
        from ..embeddings.io import save_vectors

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        for lg, kv in self.spaces_.items():
            save_vectors(kv, d / f"vectors.{lg}.npz", "npz")
        meta = {"params": self.params, "langs": list(self.langs_), "src": self.src_info_, "tgt": self.tgt_info_,
                "alignment_history": self.aligner_.history_,
                "fingerprint": hashlib.sha1(repr(sorted(self.params.items())).encode()).hexdigest()[:12]}
        if self.task == "sentiment":
            np.savez(d / "classifier.npz", coef=self.clf_.coef_, intercept=self.clf_.intercept_, classes=self.clf_.classes_)
        else:
            self.tagger_.save(d)
        atomic_write_json(d / "align.json", meta)
