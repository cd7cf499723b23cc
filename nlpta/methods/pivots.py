"""Registry adapters: ``scl``, ``scl-mi``, ``sfa`` (sentiment; ``scl`` also POS), ``cl-scl`` and
``dict-translate``.

Sentiment (Blitzer et al. 2007 setting): the pivot transformer is fitted on binary uni+bigram
counts of the source train texts and the target unlabeled texts, stacked, with ``sample_domain``
(+1 source, -1 target; SCL's pivot predictors train on the unlabeled rows only, ``labeled_rows=False``
as the estimator's default: the labeled reviews are then projected out of sample, like the test
reviews; ``source_unlabeled=True`` adds the source corpus's unlabeled split to those rows, as
source rows labeled -1); the classifier is the ``none`` baseline's -- tf-idf uni+bigram logistic
regression, vectorizer fitted on the source -- reading ``[tfidf(x), scale * projection(x)]``,
with C chosen by stratified 5-fold CV on the source (the fair comparison with ``none``, which picks
C the same way). The projection's scale is fixed a priori at 1 (its rows' mean l2 norm equals the
tf-idf rows' norm), not tuned: source CV prefers ever smaller scales (the projection does not help
in-domain), so it cannot choose it; ``scales`` with several values makes CV choose anyway. At most
``max_unlabeled`` (4,000, a seeded sample) target reviews are used: the pivot predictors' cost
grows with the cube of the rows.

A fitted method carries everything it predicts with (vectorizers, transformer, classifier) and
saves it as JSON + ``.npz`` (:meth:`Method.save`, :func:`nlpta.load_model`); nothing is shared
between method objects.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import datasets
import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from .. import data
from .._sampling import sample_indices
from ..errors import Errors
from ..io import atomic_write_json
from ..models.classical import (
    BowSentimentClassifier,
    FeatureTagger,
    _fit_vectorizer,
    sentence_features,
)
from ..pivots.base import PivotTransformer
from ..pivots.clscl import CLSCL
from ..pivots.lexicon import load_dictionary, muse_path, word_tokenizer
from ..pivots.scl import SCL
from ..pivots.sfa import SFA
from ..tasks import TransferTask
from .registry import CV_NEEDS, Method, check_rows, need_unlabeled, register

_SENTI_COMMON: dict[str, Any] = {"ngram_range": [1, 2], "min_df": 3, "Cs": [0.1, 1.0, 10.0, 100.0],
                                 "scales": [1.0], "cv": 5, "max_unlabeled": 4000}


def _sample(items: list, limit: int | None, seed: int) -> list:
    """The items at :func:`nlpta._sampling.sample_indices` (a seeded sample, original order)."""
    return [items[i] for i in sample_indices(len(items), limit, seed)]


def _stack(*blocks: tuple[sp.spmatrix, int, np.ndarray | None]) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Stack ``(rows, domain, labels or None)`` blocks into SKADA's ``(X, y, sample_domain)``:
    rows without labels get ``y = -1``."""
    blocks = tuple(b for b in blocks if b[0] is not None and b[0].shape[0])
    X = sp.vstack([b[0] for b in blocks], format="csr")
    y = np.concatenate([np.asarray(b[2], dtype=np.int64) if b[2] is not None else np.full(b[0].shape[0], -1)
                        for b in blocks])
    sd = np.concatenate([np.full(b[0].shape[0], b[1], dtype=np.int64) for b in blocks])
    return X, y, sd


def _save_arrays(path: Path, **arrays) -> None:
    tmp = path.with_name(f".{path.stem}.tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)


def _logreg(arr) -> LogisticRegression:
    """A fitted LogisticRegression rebuilt from its saved ``coef``, ``intercept``, ``classes``."""
    clf = LogisticRegression()
    clf.coef_, clf.intercept_, clf.classes_ = arr["coef"], arr["intercept"], arr["classes"]
    return clf


def cv_select(blocks: list[sp.spmatrix | np.ndarray], Z: np.ndarray, y: np.ndarray, Cs, scales, folds: int,
              seed: int) -> tuple[float, float, dict]:
    """Choose (scale, C) for logistic regression on ``[*blocks, scale * Z]`` by stratified k-fold
    accuracy on the source, with ``min(folds, rows of the smallest class)`` folds (so 2 rows per
    class suffice). Returns ``(scale, C, {"scale,C": accuracy})``.

    Raises:
        ParameterError: E326 -- a class has fewer than 2 rows (no 2-fold split exists).
    """
    classes, counts = np.unique(y, return_counts=True)
    k = int(min(folds, counts.min())) if len(counts) else 0
    if len(classes) < 2 or k < 2:
        shown = ", ".join(f"{c} of class {v!r}" for v, c in zip(classes.tolist(), counts.tolist(), strict=True))
        raise Errors.E326(what="the source", got=f"{len(y)} rows ({shown or 'none'})",
                          needs=f"it needs at least 2 rows of each of 2 classes ({CV_NEEDS})")
    skf = list(StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))
    scores: dict[str, float] = {}
    best = (-1.0, 0.0, 0.0)
    for a in scales:
        X = sp.hstack([*blocks, sp.csr_matrix(a * Z)], format="csr")
        for C in Cs:
            acc = np.mean([LogisticRegression(C=C, solver="liblinear", max_iter=2000, random_state=seed)
                           .fit(X[tr], y[tr]).score(X[te], y[te]) for tr, te in skf])
            scores[f"{a},{C}"] = float(acc)
            if acc > best[0] + 1e-12:
                best = (acc, a, C)
    return best[1], best[2], scores


class _PivotSentiment(Method):
    """Shared sentiment adapter; subclasses set ``transformer`` and their defaults."""

    tasks: ClassVar[tuple[str, ...]] = ("sentiment",)
    transformer: ClassVar[type[PivotTransformer]] = SCL
    transformer_params: ClassVar[tuple[str, ...]] = ()

    def _source_unlabeled(self, task: TransferTask) -> str | None:
        """SCL: the source corpus's ``unlabeled`` split (e.g. ``mdsd:books``), if it has one and
        ``source_unlabeled`` is on; the pivot predictors then train on unlabeled rows of both domains."""
        if not self.params.get("source_unlabeled"):
            return None
        if len(task.spec.sources) != 1:
            return None
        c = data.REGISTRY.get(task.spec.sources[0].corpus)
        return c.name if c is not None and "unlabeled" in c.splits else None

    def _make_transformer(self, names: np.ndarray) -> PivotTransformer:
        kw = {k: self.params[k] for k in self.transformer_params}
        return self.transformer(**kw, concat=False, feature_names=list(names), random_state=self.seed)

    def _counts(self) -> CountVectorizer:
        p = self.params
        return CountVectorizer(ngram_range=tuple(p["ngram_range"]), min_df=p["min_df"], binary=True, lowercase=True,
                               dtype=np.float64)

    def _tfidf(self):
        return BowSentimentClassifier(ngram_range=tuple(self.params["ngram_range"]))._vectorizer()

    def fit(self, task: TransferTask) -> _PivotSentiment:
        """Fit on the labeled source and the task's target unlabeled rows (never the target test rows).

        Raises:
            ParameterError: no target unlabeled rows (E306 / E328), too few source rows or classes
                (E326: C is chosen by cross-validation, 2 rows of each class at least), no words
                (E327), no feature left by ``min_df`` or no pivot (E305).
        """
        p = self.params
        check_rows(task.source, self.name, self.task, per_class=2, why=CV_NEEDS)
        unlabeled = need_unlabeled(task, self.name, self.task)
        texts, y = list(task.source["text"]), np.asarray(task.source["label"])
        unl = _sample(list(unlabeled["text"]), p["max_unlabeled"], self.seed)
        sunl: list[str] = []
        if src_unl_name := self._source_unlabeled(task):
            sunl = _sample(list(data.load(src_unl_name, split="unlabeled")["text"]), p["max_unlabeled"], self.seed)
        self.counts_ = self._counts()
        C = _fit_vectorizer(self.counts_, texts + unl + sunl, "the source and target unlabeled texts").tocsr()
        self.tfidf_ = self._tfidf()
        T = _fit_vectorizer(self.tfidf_, texts, "the source texts")
        n, nu = len(texts), len(unl)
        X, yy, sd = _stack((C[:n], 1, y), (C[n : n + nu], -1, None), (C[n + nu :], 1, None))
        self.transformer_ = self._make_transformer(self.counts_.get_feature_names_out())
        self.transformer_.fit(X, yy, sample_domain=sd)
        Z = self.transformer_.transform(C[:n])
        self.scale_, self.C_, self.cv_scores_ = cv_select([T], Z, y, p["Cs"], p["scales"], p["cv"], self.seed)
        X = sp.hstack([T, sp.csr_matrix(self.scale_ * Z)], format="csr")
        self.clf_ = LogisticRegression(C=self.C_, solver="liblinear", max_iter=2000, random_state=self.seed).fit(X, y)
        self.n_unlabeled_ = nu
        return self

    def features(self, texts: list[str]) -> sp.csr_matrix:
        """Return ``[tfidf(x), scale * projection(x)]`` for raw texts."""
        if not hasattr(self, "clf_"):
            raise Errors.E302(what=f"method {self.name!r}")
        Z = self.transformer_.transform(self.counts_.transform(texts))
        return sp.hstack([self.tfidf_.transform(texts), sp.csr_matrix(self.scale_ * Z)], format="csr")

    def predict(self, ds: datasets.Dataset) -> list:
        return [int(x) for x in self.clf_.predict(self.features(list(ds["text"])))]

    def _save(self, directory: Path) -> None:
        """The transformer's files + ``pivot_method.json`` (tf-idf vocabulary, C, scale) +
        ``pivot_method.npz`` (classifier, idf); the count vocabulary is the transformer's feature names."""
        if not hasattr(self, "clf_"):
            raise Errors.E302(what=f"method {self.name!r}")
        self.transformer_.save(directory)
        tv = self.tfidf_.vocabulary_
        atomic_write_json(directory / "pivot_method.json", {
            "C": self.C_, "scale": self.scale_, "cv_scores": self.cv_scores_, "n_unlabeled": self.n_unlabeled_,
            "tfidf_vocabulary": sorted(tv, key=tv.get)})
        _save_arrays(directory / "pivot_method.npz", coef=self.clf_.coef_, intercept=self.clf_.intercept_,
                     classes=self.clf_.classes_, idf=self.tfidf_.idf_)

    def _load(self, directory: Path) -> None:
        meta = json.loads((directory / "pivot_method.json").read_text(encoding="utf-8"))
        self.transformer_ = type(self).transformer.load(directory)
        self.counts_ = self._counts()
        self.counts_.vocabulary_ = {w: i for i, w in enumerate(self.transformer_.feature_names)}
        self.tfidf_ = self._tfidf()
        self.tfidf_.vocabulary_ = {w: i for i, w in enumerate(meta["tfidf_vocabulary"])}
        with np.load(directory / "pivot_method.npz", allow_pickle=False) as arr:
            self.tfidf_.idf_ = arr["idf"]
            self.clf_ = _logreg(arr)
        self.C_, self.scale_, self.cv_scores_ = meta["C"], meta["scale"], meta["cv_scores"]
        self.n_unlabeled_ = meta["n_unlabeled"]


_SCL_SENTI = {**_SENTI_COMMON, "n_pivots": 1000, "h": 50, "min_count": 10, "alpha": 1.0, "solver": "auto",
              "max_unlabeled": 4000, "source_unlabeled": False, "labeled_rows": False}


@register("scl-mi")
class SCLMISentiment(_PivotSentiment):
    """SCL-MI (Blitzer, Dredze & Pereira 2007): pivots ranked by mutual information with the source
    label, 1000 pivots, h = 50; see :class:`nlpta.pivots.SCL`."""

    defaults: ClassVar[dict[str, dict[str, Any]]] = {"sentiment": {**_SCL_SENTI, "pivot_criterion": "mi"}}
    transformer_params = ("n_pivots", "h", "min_count", "alpha", "solver", "pivot_criterion", "labeled_rows")


@register("sfa")
class SFASentiment(_PivotSentiment):
    """Spectral feature alignment (Pan, Ni, Sun, Yang & Chen 2010); see :class:`nlpta.pivots.SFA`."""

    defaults: ClassVar[dict[str, dict[str, Any]]] = {
        "sentiment": {**_SENTI_COMMON, "n_pivots": 500, "h": 100, "min_count": 10, "pivot_criterion": "domain-mi"}}
    transformer = SFA
    transformer_params = ("n_pivots", "h", "min_count", "pivot_criterion")


_CONTEXT = ("w-1=", "w+1=", "w-2=", "w+2=")
_NEIGHBOUR = ("w-", "w+", "s3-", "s3+", "w0w")


@register("scl")
class SCLMethod(_PivotSentiment):
    """SCL (Blitzer, McDonald & Pereira 2006). Sentiment: pivots ranked by frequency in both
    domains. POS: pivots are frequent context features (the words at -2..+2) shared by both domains,
    predicted from each token's own features (word, affixes, shape) on source and target unlabeled
    tokens (the source tags are not read: every token is an unlabeled row); the tagger of ``none``
    gets the scaled projection as extra features."""

    tasks: ClassVar[tuple[str, ...]] = ("pos", "sentiment")
    defaults: ClassVar[dict[str, dict[str, Any]]] = {
        "sentiment": {**_SCL_SENTI, "pivot_criterion": "freq"},
        "pos": {"n_pivots": 500, "h": 25, "min_count": 10, "alpha": 1.0, "rank": 300, "scale": 1.0,
                "max_unlabeled": None, "C": 5.0, "max_iter": 300},
    }
    transformer_params = ("n_pivots", "h", "min_count", "alpha", "solver", "pivot_criterion", "labeled_rows")

    def fit(self, task: TransferTask) -> SCLMethod:
        if self.task == "sentiment":
            return super().fit(task)
        check_rows(task.source, self.name, self.task)
        unlabeled = need_unlabeled(task, self.name, self.task)
        p = self.params
        unl = _sample(list(unlabeled["tokens"]), p["max_unlabeled"], self.seed)
        src = list(task.source["tokens"])
        self.dv_ = DictVectorizer(dtype=np.float32).fit(sentence_features(src + unl))
        names = self.dv_.feature_names_
        context = np.array([n.startswith(_CONTEXT) for n in names])
        own = np.array([not n.startswith(_NEIGHBOUR) for n in names])
        self.transformer_ = SCL(n_pivots=p["n_pivots"], h=p["h"], min_count=p["min_count"], alpha=p["alpha"],
                                rank=p["rank"], scale=p["scale"], concat=False, feature_names=list(names),
                                allowed_pivots=context, input_mask=own, random_state=self.seed)
        X, _, sd = _stack((self.dv_.transform(sentence_features(src)), 1, None),
                          (self.dv_.transform(sentence_features(unl)), -1, None))
        self.transformer_.fit(X, None, sample_domain=sd)
        self.tagger_ = FeatureTagger(C=p["C"], max_iter=p["max_iter"], random_state=self.seed,
                                     extra_features=self.extra_features)
        self.tagger_.fit(src, list(task.source["upos"]))
        self.n_unlabeled_ = len(unl)
        return self

    def extra_features(self, sentences) -> np.ndarray:
        """Return the scaled SCL projection of each token's own features (one row per token)."""
        return self.transformer_.transform(self.dv_.transform(sentence_features(sentences)))

    def predict(self, ds: datasets.Dataset) -> list:
        if self.task == "sentiment":
            return super().predict(ds)
        if not hasattr(self, "tagger_"):
            raise Errors.E302(what=f"method {self.name!r}")
        return self.tagger_.predict(list(ds["tokens"]))

    def _save(self, directory: Path) -> None:
        """Sentiment: see :class:`_PivotSentiment`. POS: ``scl.json/npz`` (the token features are
        its feature names), ``tagger.json/npz`` and ``pivot_method.json``."""
        if self.task == "sentiment":
            return super()._save(directory)
        if not hasattr(self, "tagger_"):
            raise Errors.E302(what=f"method {self.name!r}")
        self.transformer_.save(directory)
        self.tagger_.save(directory)
        atomic_write_json(directory / "pivot_method.json", {"n_unlabeled": self.n_unlabeled_})
        return None

    def _load(self, directory: Path) -> None:
        if self.task == "sentiment":
            return super()._load(directory)
        self.transformer_ = SCL.load(directory)
        names = list(self.transformer_.feature_names)
        self.dv_ = DictVectorizer(dtype=np.float32)
        self.dv_.feature_names_, self.dv_.vocabulary_ = names, {f: i for i, f in enumerate(names)}
        self.tagger_ = FeatureTagger.load(directory, extra_features=self.extra_features)
        self.n_unlabeled_ = json.loads((directory / "pivot_method.json").read_text(encoding="utf-8"))["n_unlabeled"]
        return None


# ------------------------------------------------------------------------------ cross-language
def _target_lang(task: TransferTask, method: str) -> str:
    langs = sorted(set(task.target["lang"]))
    if len(langs) != 1:
        raise Errors.E308(method=method, detail=f"a cross-language method needs one target language; the target "
                                                f"rows hold {langs}")
    return langs[0]


class _Bilingual:
    """Two tokenizers over one vocabulary: ``en:word`` and ``<lang>:word`` columns.

    Args:
        lang: the target language.
        tokenizer_words: the target-language words a Japanese tokenizer matches (longest match);
            unused for languages written with spaces.
    """

    def __init__(self, lang: str, tokenizer_words: list[str]) -> None:
        self.lang = "ja" if lang == "jp" else lang
        self.tokenizer_words = tokenizer_words
        self.tok = {"en": word_tokenizer("en"), self.lang: word_tokenizer(self.lang, tokenizer_words)}

    @classmethod
    def from_dictionary(cls, lang: str, dictionary: str | None) -> _Bilingual:
        """Read the dictionary (MUSE ``en-<lang>`` when None); its pairs are ``pairs_``."""
        lang = "ja" if lang == "jp" else lang
        pairs = load_dictionary(dictionary or muse_path("en", lang))
        self = cls(lang, sorted({t for _, t in pairs}) if lang == "ja" else [])
        self.pairs_ = pairs
        return self

    def analyzer(self, lang: str):
        tok = self.tok[lang]
        return lambda text: [f"{lang}:{w}" for w in tok(text)]

    def fit(self, en_texts: list[str], tgt_texts: list[str], min_df: int) -> _Bilingual:
        vocab: set[str] = set()
        for lang, texts in (("en", en_texts), (self.lang, tgt_texts)):
            cv = CountVectorizer(analyzer=self.analyzer(lang), min_df=min_df, binary=True)
            _fit_vectorizer(cv, texts, f"the {lang} texts")
            vocab |= set(cv.vocabulary_)
        self.vocabulary_ = {w: i for i, w in enumerate(sorted(vocab))}
        return self

    def transform(self, texts: list[str], lang: str) -> sp.csr_matrix:
        lang = "ja" if lang == "jp" else lang
        return CountVectorizer(analyzer=self.analyzer(lang), vocabulary=self.vocabulary_, binary=True,
                               dtype=np.float64).transform(texts)

    def column_pairs(self) -> list[tuple[int, int]]:
        v = self.vocabulary_
        return [(v[f"en:{a}"], v[f"{self.lang}:{b}"]) for a, b in self.pairs_
                if f"en:{a}" in v and f"{self.lang}:{b}" in v]


@register("cl-scl")
class CrossLanguageSCL(Method):
    """Cross-language SCL (Prettenhofer & Stein 2010): English labeled source, target-language
    unlabeled text (``unlabeled:``), pivots = dictionary word pairs (MUSE ``en-<lang>`` by default, or
    ``dictionary: path`` to a ``source target`` per line file). Unigram features (as the paper);
    logistic regression on the scaled projection of the English reviews, C by 5-fold CV.
    ``target_unlabeled`` / ``source_unlabeled``: more target-language / English corpora for the pivot
    predictors (``corpus`` or ``corpus@split``, labels ignored), e.g. other domains' reviews."""

    tasks: ClassVar[tuple[str, ...]] = ("sentiment",)
    defaults: ClassVar[dict[str, dict[str, Any]]] = {"sentiment": {
        "dictionary": None, "n_pivots": 450, "h": 100, "min_count": 20, "min_df": 2, "alpha": 1.0,
        "pivot_criterion": "mi", "Cs": [0.01, 0.1, 1.0, 10.0, 100.0], "cv": 5, "max_unlabeled": None,
        "source_unlabeled": [], "target_unlabeled": [], "labeled_rows": True, "solver": "auto"}}

    def fit(self, task: TransferTask) -> CrossLanguageSCL:
        """Fit on the English labeled source and the target-language unlabeled rows (the target
        test rows' ``lang`` column names the language; their text is never read).

        Raises:
            ParameterError: no target unlabeled rows (E306 / E328), too few source rows or classes
                (E326), no words (E327), no dictionary pair frequent enough (E305).
        """
        check_rows(task.source, self.name, self.task, per_class=2, why=CV_NEEDS)
        unlabeled = need_unlabeled(task, self.name, self.task,
                                   example="{corpus: webis:de/books, split: train, labeled: false} (text in the "
                                           "target language)")
        p = self.params
        self.lang_ = _target_lang(task, self.name)
        en, y = list(task.source["text"]), np.asarray(task.source["label"])
        tgt = _sample(list(unlabeled["text"]) + _texts_of(p["target_unlabeled"]), p["max_unlabeled"], self.seed)
        more = _texts_of(p["source_unlabeled"])
        self.bi_ = _Bilingual.from_dictionary(self.lang_, p["dictionary"]).fit(en + more, tgt, p["min_df"])
        names = sorted(self.bi_.vocabulary_, key=self.bi_.vocabulary_.get)
        Xs = self.bi_.transform(en, "en")
        X, yy, sd = _stack((Xs, 1, y), (self.bi_.transform(tgt, self.lang_), -1, None),
                           (self.bi_.transform(more, "en") if more else None, 1, None))
        self.transformer_ = CLSCL(pairs=self.bi_.column_pairs(), n_pivots=p["n_pivots"], h=p["h"],
                                  min_count=p["min_count"], alpha=p["alpha"], pivot_criterion=p["pivot_criterion"],
                                  solver=p["solver"], feature_names=names, labeled_rows=p["labeled_rows"] or not more,
                                  random_state=self.seed).fit(X, yy, sample_domain=sd)
        Z = self.transformer_.transform(Xs)
        _, self.C_, self.cv_scores_ = cv_select([], Z, y, p["Cs"], [1.0], p["cv"], self.seed)
        self.clf_ = LogisticRegression(C=self.C_, solver="liblinear", max_iter=2000, random_state=self.seed).fit(Z, y)
        self.n_unlabeled_ = len(tgt)
        return self

    def predict(self, ds: datasets.Dataset) -> list:
        if not hasattr(self, "clf_"):
            raise Errors.E302(what=f"method {self.name!r}")
        lang = _target_lang_of(ds, self.lang_)
        return [int(x) for x in self.clf_.predict(self.transformer_.transform(self.bi_.transform(list(ds["text"]), lang)))]

    def _save(self, directory: Path) -> None:
        """``clscl.json/npz`` (its feature names are the bilingual vocabulary), ``cl_scl.json``
        (language, C, the Japanese tokenizer's words) and ``cl_scl.npz`` (the classifier)."""
        if not hasattr(self, "clf_"):
            raise Errors.E302(what=f"method {self.name!r}")
        self.transformer_.save(directory)
        atomic_write_json(directory / "cl_scl.json", {
            "lang": self.lang_, "C": self.C_, "cv_scores": self.cv_scores_, "n_unlabeled": self.n_unlabeled_,
            "tokenizer_words": self.bi_.tokenizer_words})
        _save_arrays(directory / "cl_scl.npz", coef=self.clf_.coef_, intercept=self.clf_.intercept_,
                     classes=self.clf_.classes_)

    def _load(self, directory: Path) -> None:
        meta = json.loads((directory / "cl_scl.json").read_text(encoding="utf-8"))
        self.transformer_ = CLSCL.load(directory)
        self.lang_, self.C_, self.cv_scores_ = meta["lang"], meta["C"], meta["cv_scores"]
        self.n_unlabeled_ = meta["n_unlabeled"]
        self.bi_ = _Bilingual(self.lang_, meta["tokenizer_words"])
        self.bi_.vocabulary_ = {w: i for i, w in enumerate(self.transformer_.feature_names)}
        with np.load(directory / "cl_scl.npz", allow_pickle=False) as arr:
            self.clf_ = _logreg(arr)


def _texts_of(names: list[str]) -> list[str]:
    """Texts of more corpora, labels ignored; each name is ``corpus`` or ``corpus@split`` (default train)."""
    out: list[str] = []
    for name in names:
        corpus, _, split = name.partition("@")
        out += list(data.load(corpus, split=split or "train")["text"])
    return out


def _target_lang_of(ds: datasets.Dataset, default: str) -> str:
    langs = set(ds["lang"]) if "lang" in ds.column_names else {default}
    return langs.pop() if len(langs) == 1 else default


@register("dict-translate")
class DictionaryTranslation(Method):
    """Cross-language baseline: the ``none`` classifier trained on English, applied to target-language
    reviews translated word by word with a bilingual dictionary (MUSE ``<lang>-en``, Conneau et al.
    2018; first listed translation; words without an entry are dropped)."""

    tasks: ClassVar[tuple[str, ...]] = ("sentiment",)
    defaults: ClassVar[dict[str, dict[str, Any]]] = {"sentiment": {
        "dictionary": None, "ngram_range": [1, 2], "Cs": [0.1, 1.0, 10.0, 100.0], "cv": 5}}

    def fit(self, task: TransferTask) -> DictionaryTranslation:
        """Read the dictionary and train the English classifier on the source (the target rows'
        ``lang`` column picks the dictionary; no target text is read).

        Raises:
            ParameterError: too few source rows or classes (E326), no words (E327).
        """
        p = self.params
        cv_search = len(list(p["Cs"])) > 1
        check_rows(task.source, self.name, self.task, per_class=2 if cv_search else 1,
                   why=CV_NEEDS if cv_search else "")
        self.lang_ = "ja" if (lang := _target_lang(task, self.name)) == "jp" else lang
        pairs = load_dictionary(p["dictionary"] or muse_path(self.lang_, "en"))
        self.table_: dict[str, str] = {}
        for a, b in pairs:
            self.table_.setdefault(a, b)
        self.tok_ = word_tokenizer(self.lang_, self.table_)
        self.model_ = BowSentimentClassifier(ngram_range=tuple(p["ngram_range"]), Cs=tuple(p["Cs"]), cv=p["cv"],
                                             random_state=self.seed).fit(list(task.source["text"]), task.source["label"])
        return self

    def translate(self, text: str) -> str:
        """Return the text's words replaced by their dictionary translation (unknown words dropped)."""
        return " ".join(self.table_[w] for w in self.tok_(text) if w in self.table_)

    def predict(self, ds: datasets.Dataset) -> list:
        if not hasattr(self, "model_"):
            raise Errors.E302(what=f"method {self.name!r}")
        return [int(x) for x in self.model_.predict([self.translate(t) for t in ds["text"]])]

    def _save(self, directory: Path) -> None:
        """``classifier.json/npz`` (the English classifier) and ``dictionary.json`` (language, table)."""
        if not hasattr(self, "model_"):
            raise Errors.E302(what=f"method {self.name!r}")
        self.model_.save(directory)
        atomic_write_json(directory / "dictionary.json", {"lang": self.lang_, "table": self.table_})

    def _load(self, directory: Path) -> None:
        meta = json.loads((directory / "dictionary.json").read_text(encoding="utf-8"))
        self.lang_, self.table_ = meta["lang"], dict(meta["table"])
        self.tok_ = word_tokenizer(self.lang_, self.table_)
        self.model_ = BowSentimentClassifier.load(directory)
