"""The ``align`` method: cross-lingual transfer through aligned word embeddings.

* sentiment -- documents become tf-idf-weighted averages of their words' vectors in the shared
  space; a logistic regression trained on the source-language reviews is applied to the target
  language's (Klementiev et al. 2012 style document representation; the aligned-embedding CLS
  baselines of Chen et al. 2018 and Artetxe et al. 2018). The target language's idf comes from
  the task's ``unlabeled:`` rows; without them the target documents are plain means of their
  word vectors (the target test rows are never read to fit anything), and :meth:`fit_report`
  says so. C by stratified CV over ``min(5, rows of the smallest class)`` folds.
* pos -- the feature tagger with the aligned vectors of the token and its +-1 neighbours as
  dense features (Täckström et al. 2012 use cross-lingual clusters the same way); with
  ``lexical: false`` (default) the word-identity and affix features, which do not carry across
  languages, are dropped and only shape features remain beside the vectors.

Vectors (``src_vectors``, ``tgt_vectors``): a file or ``spacy:<pipeline>`` / ``glove-6b-50d``
(:func:`nlpta.embeddings.load_vectors`), or ``train:<lang>`` -- word2vec skip-gram trained on all
monolingual text of that language in the data layer (``train:{lang}`` takes the task's language),
cached under ``$NLPTA_CACHE`` (default ``~/.cache/nlpta``) as ``.npz``.

A fitted model carries what it predicts with: the mapped vectors of both languages (sentiment) or
the tagger's projected vector tables (POS); ``save`` writes them as ``vectors.<lang>.npz``. The
alignment itself goes through :func:`aligned_spaces`, a pure memo keyed on the content of its
inputs (vectors, dictionary, settings), so that tasks of one language pair run one after another
in a process align once.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any, ClassVar

import datasets
import numpy as np

from ..errors import Errors
from ..io import atomic_write_json
from ..models.classical import (
    FeatureTagger,
    _load_arrays,
    _restored_logistic,
    _save_arrays,
    sentence_features,
)
from ..tasks import TransferTask
from .registry import CV_NEEDS, Method, check_rows, register

_LANG = {"jp": "ja"}
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
        return load_vectors(path, limit=max_vocab), json.loads(meta.read_text(encoding="utf-8"))
    from ..embeddings.train import language_corpus, train_vectors

    sents, stats = language_corpus(lg)
    kv = train_vectors(sents, vector_size=dim, epochs=epochs, seed=seed, min_count=min_count, workers=workers)
    save_vectors(kv, path, "npz")
    info = {"vectors": spec, "recipe": key, "corpus": stats.as_dict(), "vocab": len(kv)}
    atomic_write_json(meta, info)
    return load_vectors(path, limit=max_vocab), info


# ------------------------------------------------------------------------- alignment (pure memo)
_ALIGN_MEMO: OrderedDict[str, tuple[dict, Any, Any]] = OrderedDict()
_ALIGN_MEMO_SIZE = 1  # one language pair's mapped spaces (up to ~0.5 GB each for 200k x 300 vectors)


def _content_key(src_kv, tgt_kv, pairs: list[tuple[str, str]] | None, settings: dict[str, Any]) -> str:
    """SHA-256 of everything the alignment depends on: both vocabularies and vector arrays, the
    seed dictionary's pairs and the settings."""
    h = hashlib.sha256()
    for kv in (src_kv, tgt_kv):
        h.update("\n".join(kv.index_to_key).encode("utf-8"))
        h.update(np.ascontiguousarray(kv.vectors, dtype=np.float32).data)
        h.update(b"\0")
    h.update(json.dumps(pairs, ensure_ascii=False).encode("utf-8"))
    h.update(json.dumps(settings, sort_keys=True, default=str).encode("utf-8"))
    return h.hexdigest()


def aligned_spaces(src_kv, tgt_kv, pairs: list[tuple[str, str]] | None, *, method: str, normalize, refine_vocab: int,
                   seed: int) -> tuple[dict, Any, Any]:
    """Align ``src_kv`` and ``tgt_kv`` (:class:`~nlpta.embeddings.EmbeddingAligner`) and map both
    into the shared space.

    A pure function with a memo: the result depends only on the content of the arguments (the
    memo is keyed on a SHA-256 of the vocabularies, vectors, dictionary pairs and settings, never
    on names or object identity), and a hit returns what a miss would compute. The memo holds the
    last ``_ALIGN_MEMO_SIZE`` results; their vector arrays are read-only, since callers share them.

    Returns:
        ``(info, src_mapped, tgt_mapped)``: info holds the alignment's ``history`` and
        ``n_seed_pairs``; the mapped spaces are gensim ``KeyedVectors``.
    """
    from ..embeddings.align import EmbeddingAligner

    settings = {"method": method, "normalize": list(normalize), "refine_vocab": refine_vocab, "seed": seed}
    key = _content_key(src_kv, tgt_kv, pairs, settings)
    if key in _ALIGN_MEMO:
        _ALIGN_MEMO.move_to_end(key)
        return _ALIGN_MEMO[key]
    al = EmbeddingAligner(method=method, normalize=list(normalize), refine_vocab=refine_vocab, seed=seed)
    al.fit(src_kv, tgt_kv, pairs)
    src_m, tgt_m = al.transform_source(src_kv), al.transform_target(tgt_kv)
    for kv in (src_m, tgt_m):
        kv.vectors.flags.writeable = False
    out = ({"history": list(al.history_), "n_seed_pairs": getattr(al, "n_seed_pairs_", None)}, src_m, tgt_m)
    _ALIGN_MEMO[key] = out
    while len(_ALIGN_MEMO) > _ALIGN_MEMO_SIZE:
        _ALIGN_MEMO.popitem(last=False)
    return out


def _lang_of(ds: datasets.Dataset) -> str:
    langs = set(ds["lang"][:200]) if "lang" in ds.column_names else set()
    if len(langs) != 1:
        raise Errors.E308(method="align", detail=f"needs rows of one language; found {sorted(langs) or 'none'}")
    lg = langs.pop()
    return _LANG.get(lg, lg)


class _SpaceTagger(FeatureTagger):
    """FeatureTagger whose dense features are shared-space vectors of the token and its +-``window``
    neighbours, looked up in ``space`` (word -> vector of ``dims`` values: the current language's
    projected mapped vectors), passed to :meth:`fit` and :meth:`predict`. With ``lexical=False``
    only shape features remain beside the vectors."""

    def __init__(self, dims: int = 64, window: int = 1, lexical: bool = False, C: float = 1.0, max_iter: int = 200,
                 random_state=0) -> None:
        super().__init__(C=C, max_iter=max_iter, random_state=random_state)
        self.dims = dims
        self.window = window
        self.lexical = lexical

    def _vectors(self, sentences, space: dict[str, np.ndarray]) -> np.ndarray:
        blocks = []
        zero = np.zeros(self.dims, dtype=np.float32)
        for toks in sentences:
            vecs = [space.get(t.lower(), zero) for t in toks]
            n = len(toks)
            for i in range(n):
                row = [vecs[i + o] if 0 <= i + o < n else zero for o in range(-self.window, self.window + 1)]
                row.append(np.array([float(toks[i].lower() not in space)], dtype=np.float32))
                blocks.append(np.concatenate(row))
        return np.vstack(blocks) if blocks else np.zeros((0, self.dims * (2 * self.window + 1) + 1))

    def featurize(self, sentences, fit: bool = False, space: dict[str, np.ndarray] | None = None):
        import scipy.sparse as sp

        if space is None:
            raise TypeError("_SpaceTagger needs the vector table of the sentences' language (space=...)")
        feats = sentence_features(sentences)
        if not self.lexical:
            feats = [{k: v for k, v in f.items() if k in _SHAPE_KEYS or k.startswith(("shape=", "w-", "w+")) and
                      k.endswith("<pad>")} for f in feats]
        X = self.vectorizer_.fit_transform(feats) if fit else self.vectorizer_.transform(feats)
        extra = sp.csr_matrix(np.asarray(self._vectors(sentences, space), dtype=np.float64))
        return sp.hstack([X, extra], format="csr")

    def fit(self, X, y, sample_weight=None, space: dict[str, np.ndarray] | None = None) -> _SpaceTagger:
        return self._fit(X, y, sample_weight, space=space)

    def predict(self, X, space: dict[str, np.ndarray] | None = None) -> list[list[str]]:
        return self._predict(X, space=space)


# ------------------------------------------------------------------------- the method
@register("align")
class AlignedEmbeddings(Method):
    """Cross-lingual transfer with aligned word embeddings (see the module docstring).

    Params: ``src_vectors``/``tgt_vectors`` (vector specs), ``dictionary`` (``muse`` = the MUSE
    0-5000 training dictionary of the language pair, a file, or ``none`` for identical strings
    when ``alignment`` is ``identical``/``unsupervised``), ``alignment`` (an
    :class:`~nlpta.embeddings.EmbeddingAligner` method), ``normalize``, ``refine_vocab`` (words
    per side among which dictionaries are induced), ``dim``/``epochs`` (of ``train:`` vectors);
    sentiment: ``weighting`` (``tfidf``/``mean``), ``Cs``; pos: ``lexical``, ``window``,
    ``pos_dims`` (PCA of the shared space fed to the tagger), ``C``, ``max_iter``.

    Fitted attributes: ``langs_`` (source, target), ``alignment_`` (history, seed pairs),
    ``src_info_``/``tgt_info_`` (where the vectors came from); sentiment: ``spaces_`` (language ->
    mapped ``KeyedVectors``), ``idf_``, ``clf_``; pos: ``tables_`` (language -> word -> projected
    vector), ``tagger_``.
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
    def _align(self, src_lang: str, tgt_lang: str) -> dict[str, Any]:
        """The two languages' mapped spaces (language -> KeyedVectors)."""
        from ..data.lexicons import load_dictionary, muse_dictionary

        p = self.params
        kw = {"dim": p["dim"], "epochs": p["epochs"], "seed": self.seed, "max_vocab": p["max_vocab"]}
        src_kv, self.src_info_ = resolve_vectors(p["src_vectors"], src_lang, **kw)
        tgt_kv, self.tgt_info_ = resolve_vectors(p["tgt_vectors"], tgt_lang, **kw)
        d = p["dictionary"]
        pairs = None
        if d == "muse":
            pairs = load_dictionary(muse_dictionary(src_lang, tgt_lang, "train"))
        elif d not in (None, "none"):
            pairs = load_dictionary(d)
        self.alignment_, src_m, tgt_m = aligned_spaces(src_kv, tgt_kv, pairs, method=p["alignment"],
                                                        normalize=p["normalize"], refine_vocab=p["refine_vocab"],
                                                        seed=self.seed)
        self.langs_ = (src_lang, tgt_lang)
        return {src_lang: src_m, tgt_lang: tgt_m}

    def fit(self, task: TransferTask) -> AlignedEmbeddings:
        """Align the two languages' vectors and train on the source (see the class docstring).

        Raises:
            ParameterError: too few source rows or classes (E326: sentiment needs 2 rows of each
                class for the C search; POS a token of two tags), no words (E327), one language
                (E308). Checked before any vectors are loaded.
        """
        sentiment = self.task == "sentiment"
        check_rows(task.source, self.name, self.task, per_class=2 if sentiment else 1,
                   why=CV_NEEDS if sentiment else "")
        src_lang, tgt_lang = _lang_of(task.source), _lang_of(task.target)
        if src_lang == tgt_lang:
            raise Errors.E308(method="align", detail=f"transfers across languages; source and target are both "
                                                     f"{src_lang!r}")
        spaces = self._align(src_lang, tgt_lang)
        if self.task == "sentiment":
            self.spaces_ = spaces
            self._fit_sentiment(task)
        else:
            self._fit_pos(task, spaces)
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
        # target idf: document frequencies of the target's unlabeled text; without it none (plain
        # means of the word vectors): the target test rows are never read to fit anything
        if task.unlabeled is not None and len(task.unlabeled):
            self.idf_[tgt_lang] = self._idf(self._tokens(task.unlabeled))
            self.target_idf_from_ = "unlabeled"
        else:
            self.idf_[tgt_lang] = {}
            self.target_idf_from_ = None
        X = self._doc_vectors(docs, src_lang, self.idf_[src_lang])
        y = np.asarray(task.source["label"])
        folds = int(min(5, np.unique(y, return_counts=True)[1].min()))
        self.clf_ = LogisticRegressionCV(Cs=list(self.params["Cs"]),
                                         cv=StratifiedKFold(folds, shuffle=True, random_state=self.seed),
                                         max_iter=3000, random_state=self.seed).fit(X, y)

    def fit_report(self) -> dict:
        """Sentiment: where the target language's idf came from (``target_idf_from``: ``"unlabeled"``
        or None), with a warning when the task gave no target unlabeled rows. POS: ``{}``."""
        if self.task != "sentiment":
            return {}
        src = getattr(self, "target_idf_from_", "unlabeled")
        out: dict = {"target_idf_from": src, "warnings": []}
        if src is None and self.params["weighting"] == "tfidf":
            out["warnings"].append("no target unlabeled rows: the target documents are plain means of their word "
                                   "vectors (no target idf); add an `unlabeled:` entry in the target language")
        return out

    # -- pos
    def _fit_pos(self, task: TransferTask, spaces: dict[str, Any]) -> None:
        p = self.params
        src_lang, _ = self.langs_
        S = spaces[src_lang]
        k = min(p["pos_dims"], S.vector_size)
        mu = S.vectors.mean(axis=0)
        _, _, vt = np.linalg.svd(S.vectors[:50000] - mu, full_matrices=False)
        P = vt[:k].T
        self.tables_ = {lg: self._table(spaces[lg], mu, P) for lg in self.langs_}
        self.tagger_ = _SpaceTagger(dims=k, window=p["window"], lexical=p["lexical"], C=p["C"],
                                    max_iter=p["max_iter"], random_state=self.seed)
        self.tagger_.fit(task.source["tokens"], task.source["upos"], space=self.tables_[src_lang])

    @staticmethod
    def _table(kv, mu: np.ndarray, P: np.ndarray) -> dict[str, np.ndarray]:
        Z = (kv.vectors - mu) @ P
        Z /= Z.std() + 1e-8
        return dict(zip(kv.index_to_key, Z.astype(np.float32), strict=True))

    def predict(self, ds: datasets.Dataset) -> list:
        lang = _lang_of(ds)
        if lang not in self.langs_:
            raise Errors.E308(method="align", detail=f"this model was aligned for {', '.join(self.langs_)}, "
                                                     f"not {lang!r}")
        if self.task == "sentiment":
            X = self._doc_vectors(self._tokens(ds), lang, self.idf_.get(lang, {}))
            return [int(x) for x in self.clf_.predict(X)]
        return self.tagger_.predict(ds["tokens"], space=self.tables_[lang])

    # -- keeping
    def _save(self, directory: Path) -> None:
        """``align.json`` (languages, vector provenance, alignment history), ``vectors.<lang>.npz``
        per language (sentiment: the mapped vectors; pos: the tagger's projected tables), and the
        classifier (``classifier.npz`` + the target idf in ``align.json``) or the tagger's files."""
        from ..embeddings.io import keyed_vectors, save_vectors

        meta = {"langs": list(self.langs_), "src": self.src_info_, "tgt": self.tgt_info_,
                "alignment": self.alignment_}
        if self.task == "sentiment":
            for lg, kv in self.spaces_.items():
                save_vectors(kv, directory / f"vectors.{lg}.npz", "npz")
            meta["idf"] = self.idf_
            meta["target_idf_from"] = self.target_idf_from_
            meta["vectors"] = "mapped"
            _save_arrays(directory / "classifier.npz", coef=self.clf_.coef_, intercept=self.clf_.intercept_,
                         classes=self.clf_.classes_)
        else:
            for lg, table in self.tables_.items():
                words = list(table)
                vecs = np.stack([table[w] for w in words]) if words else np.zeros((0, self.tagger_.dims), np.float32)
                save_vectors(keyed_vectors(words, vecs), directory / f"vectors.{lg}.npz", "npz")
            meta["vectors"] = "projected"
            self.tagger_.save(directory)
        atomic_write_json(directory / "align.json", meta)

    def _load(self, directory: Path) -> None:
        from ..embeddings.io import load_vectors

        f = directory / "align.json"
        if not f.is_file():
            raise Errors.E307(path=directory, detail="no align.json: not a folder written by the align method")
        meta = json.loads(f.read_text(encoding="utf-8"))
        self.langs_ = tuple(meta["langs"])
        self.src_info_, self.tgt_info_, self.alignment_ = meta["src"], meta["tgt"], meta["alignment"]
        spaces = {lg: load_vectors(directory / f"vectors.{lg}.npz", fmt="npz") for lg in self.langs_}
        if self.task == "sentiment":
            self.spaces_ = spaces
            self.idf_ = {lg: {w: float(v) for w, v in d.items()} for lg, d in meta["idf"].items()}
            self.target_idf_from_ = meta.get("target_idf_from", "unlabeled")
            arr = _load_arrays(directory / "classifier.npz")
            self.clf_ = _restored_logistic(arr["coef"], arr["intercept"], arr["classes"])
        else:
            self.tables_ = {lg: dict(zip(kv.index_to_key, np.asarray(kv.vectors, dtype=np.float32), strict=True))
                            for lg, kv in spaces.items()}
            self.tagger_ = _SpaceTagger.load(directory)
