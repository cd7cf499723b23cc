"""Classical reference models: a bag-of-n-grams logistic-regression sentiment classifier and a
feature-based logistic-regression POS tagger (word, affixes, shape, a +-2 word window).

Both follow scikit-learn conventions (``fit`` returns self, learned attributes end in ``_``,
``predict`` never refits) and save to / load from a folder of JSON + ``.npz`` arrays, never
pickle. The tagger's features follow Ratnaparkhi (1996) and Toutanova et al. (2003) without the
tag history (each token is classified independently, so tagging is one sparse matrix product).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from ..errors import NlptaError, NotFittedError
from ..io import atomic_write_json

_DIGIT = re.compile(r"\d")
_SHAPE_SUBS = ((re.compile(r"[A-Z]"), "X"), (re.compile(r"[a-z]"), "x"), (re.compile(r"\d"), "d"))


def word_shape(w: str) -> str:
    """Short word shape: ``Xxxx`` -> ``Xx``, ``1990s`` -> ``dx`` (runs collapsed)."""
    s = w
    for rx, ch in _SHAPE_SUBS:
        s = rx.sub(ch, s)
    return re.sub(r"(.)\1+", r"\1", s)[:6]


def token_features(tokens: Sequence[str], i: int) -> dict[str, float]:
    """Features of token ``i`` in a sentence: identity, affixes, shape, a +-2 word window."""
    w = tokens[i]
    lw = w.lower()
    f: dict[str, float] = {
        "b": 1.0,
        "w=" + lw: 1.0,
        "shape=" + word_shape(w): 1.0,
        "p1=" + lw[:1]: 1.0,
        "p2=" + lw[:2]: 1.0,
        "p3=" + lw[:3]: 1.0,
        "s1=" + lw[-1:]: 1.0,
        "s2=" + lw[-2:]: 1.0,
        "s3=" + lw[-3:]: 1.0,
        "s4=" + lw[-4:]: 1.0,
    }
    if w[:1].isupper():
        f["upper"] = 1.0
        if i == 0:
            f["upper_first"] = 1.0
    if w.isupper():
        f["allcaps"] = 1.0
    if _DIGIT.search(w):
        f["digit"] = 1.0
    if "-" in w:
        f["hyphen"] = 1.0
    n = len(tokens)
    for off in (-2, -1, 1, 2):
        j = i + off
        if 0 <= j < n:
            c = tokens[j].lower()
            f[f"w{off:+d}={c}"] = 1.0
            if abs(off) == 1:
                f[f"s3{off:+d}={c[-3:]}"] = 1.0
                f[f"w0w{off:+d}={lw}|{c}"] = 1.0
        else:
            f[f"w{off:+d}=<pad>"] = 1.0
    return f


def sentence_features(sentences: Sequence[Sequence[str]]) -> list[dict[str, float]]:
    return [token_features(toks, i) for toks in sentences for i in range(len(toks))]


def _check_fitted(obj, attr: str) -> None:
    if not hasattr(obj, attr):
        raise NotFittedError(f"{type(obj).__name__} is not fitted; call fit() first")


def _save_arrays(path: Path, **arrays) -> None:
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)


class FeatureTagger:
    """Logistic-regression POS tagger over sparse token features.

    Args:
        C: inverse regularisation strength.
        max_iter: iterations of the solver.
        seed: random state of the solver.
        extra_features: optional callable ``(sentences) -> array (n_tokens, k)`` whose columns are
            appended to the sparse features (the hook later methods, e.g. SCL, use).
    """

    def __init__(self, C: float = 1.0, max_iter: int = 200, seed: int = 0, extra_features=None) -> None:
        self.C = C
        self.max_iter = max_iter
        self.seed = seed
        self.extra_features = extra_features

    def featurize(self, sentences: Sequence[Sequence[str]], fit: bool = False) -> sp.csr_matrix:
        """Sparse feature matrix, one row per token (the vectorizer is fitted only if ``fit``)."""
        feats = sentence_features(sentences)
        X = self.vectorizer_.fit_transform(feats) if fit else self.vectorizer_.transform(feats)
        if self.extra_features is not None:
            extra = np.asarray(self.extra_features(sentences), dtype=np.float64)
            X = sp.hstack([X, sp.csr_matrix(extra)], format="csr")
        return X.tocsr()

    def fit(self, sentences: Sequence[Sequence[str]], tags: Sequence[Sequence[str]], sample_weight=None) -> FeatureTagger:
        """Train on tokenized sentences and their tags; ``sample_weight`` is per token. Returns self."""
        if len(sentences) != len(tags):
            raise NlptaError(f"{len(sentences)} sentences but {len(tags)} tag sequences")
        for k, (s, t) in enumerate(zip(sentences, tags, strict=True)):
            if len(s) != len(t):
                raise NlptaError(f"sentence {k} has {len(s)} tokens but {len(t)} tags")
        if not sentences:
            raise NlptaError("no training sentences")
        self.vectorizer_ = DictVectorizer(dtype=np.float32)
        X = self.featurize(sentences, fit=True)
        y = np.array([t for seq in tags for t in seq])
        self.clf_ = LogisticRegression(C=self.C, max_iter=self.max_iter, random_state=self.seed, solver="lbfgs")
        self.clf_.fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.clf_.classes_
        return self

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        """Tag each sentence; returns one tag list per sentence."""
        _check_fitted(self, "clf_")
        if not sentences:
            return []
        X = self.featurize(sentences)
        flat = self.clf_.predict(X)
        out, k = [], 0
        for s in sentences:
            out.append([str(t) for t in flat[k : k + len(s)]])
            k += len(s)
        return out

    def save(self, directory: str | Path) -> None:
        """Write ``tagger.json`` and ``tagger.npz`` (no pickle) into ``directory``."""
        _check_fitted(self, "clf_")
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        atomic_write_json(d / "tagger.json", {
            "kind": "FeatureTagger", "C": self.C, "max_iter": self.max_iter, "seed": self.seed,
            "features": self.vectorizer_.feature_names_, "classes": [str(c) for c in self.classes_],
        })
        _save_arrays(d / "tagger.npz", coef=self.clf_.coef_, intercept=self.clf_.intercept_)

    @classmethod
    def load(cls, directory: str | Path) -> FeatureTagger:
        d = Path(directory)
        meta = json.loads((d / "tagger.json").read_text(encoding="utf-8"))
        arr = np.load(d / "tagger.npz", allow_pickle=False)
        self = cls(C=meta["C"], max_iter=meta["max_iter"], seed=meta["seed"])
        self.vectorizer_ = DictVectorizer(dtype=np.float32)
        self.vectorizer_.feature_names_ = meta["features"]
        self.vectorizer_.vocabulary_ = {f: i for i, f in enumerate(meta["features"])}
        self.clf_ = LogisticRegression()
        self.clf_.coef_ = arr["coef"]
        self.clf_.intercept_ = arr["intercept"]
        self.clf_.classes_ = np.array(meta["classes"])
        self.classes_ = self.clf_.classes_
        return self


class BowSentimentClassifier:
    """Tf-idf uni+bigram logistic regression; ``C`` chosen by stratified k-fold CV on the
    training data (the usual no-adaptation baseline of Blitzer et al. 2007 style studies).

    Args:
        ngram_range: n-gram orders.
        Cs: candidate C values; a single value skips the search.
        cv: folds of the search.
        min_df: minimum document frequency of a feature in the training texts.
        binary: binary counts instead of tf-idf weights.
        seed: seeds the CV folds and the solver.
    """

    def __init__(self, ngram_range=(1, 2), Cs=(0.1, 1.0, 10.0, 100.0), cv: int = 5, min_df: int = 1,
                 binary: bool = False, seed: int = 0) -> None:
        self.ngram_range = tuple(ngram_range)
        self.Cs = tuple(Cs)
        self.cv = cv
        self.min_df = min_df
        self.binary = binary
        self.seed = seed

    def _vectorizer(self) -> TfidfVectorizer:
        return TfidfVectorizer(ngram_range=self.ngram_range, min_df=self.min_df, sublinear_tf=True,
                               use_idf=not self.binary, binary=self.binary, norm="l2",
                               lowercase=True, dtype=np.float64)

    def fit(self, texts: Sequence[str], labels: Sequence[int], sample_weight=None) -> BowSentimentClassifier:
        """Fit the vectorizer and the classifier on labeled texts. Returns self."""
        y = np.asarray(labels)
        if len(texts) != len(y):
            raise NlptaError(f"{len(texts)} texts but {len(y)} labels")
        if set(np.unique(y)) - {0, 1}:
            raise NlptaError(f"labels must be 0/1; found {sorted(set(np.unique(y).tolist()))}")
        if len(np.unique(y)) < 2:
            raise NlptaError("training data has a single class; need both 0 and 1")
        self.vectorizer_ = self._vectorizer()
        X = self.vectorizer_.fit_transform(texts)
        base = LogisticRegression(max_iter=2000, solver="liblinear", random_state=self.seed)
        if len(self.Cs) > 1:
            folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.seed)
            search = GridSearchCV(base, {"C": list(self.Cs)}, cv=folds, scoring="accuracy", n_jobs=None)
            search.fit(X, y, sample_weight=sample_weight)
            self.C_ = float(search.best_params_["C"])
            self.cv_scores_ = {float(c): float(s) for c, s in zip(self.Cs, search.cv_results_["mean_test_score"], strict=True)}
            self.clf_ = search.best_estimator_
        else:
            self.C_ = float(self.Cs[0])
            self.clf_ = base.set_params(C=self.C_).fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.clf_.classes_
        return self

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        _check_fitted(self, "vectorizer_")
        return self.vectorizer_.transform(texts)

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        _check_fitted(self, "clf_")
        return self.clf_.decision_function(self.transform(texts))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        _check_fitted(self, "clf_")
        return self.clf_.predict_proba(self.transform(texts))

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        _check_fitted(self, "clf_")
        return self.clf_.predict(self.transform(texts))

    def save(self, directory: str | Path) -> None:
        """Write ``classifier.json`` and ``classifier.npz`` (no pickle) into ``directory``."""
        _check_fitted(self, "clf_")
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        vocab = self.vectorizer_.vocabulary_
        atomic_write_json(d / "classifier.json", {
            "kind": "BowSentimentClassifier", "ngram_range": list(self.ngram_range), "min_df": self.min_df,
            "binary": self.binary, "C": self.C_, "seed": self.seed,
            "vocabulary": sorted(vocab, key=vocab.get),
        })
        arrays = {"coef": self.clf_.coef_, "intercept": self.clf_.intercept_, "classes": self.clf_.classes_}
        if not self.binary:
            arrays["idf"] = self.vectorizer_.idf_
        _save_arrays(d / "classifier.npz", **arrays)

    @classmethod
    def load(cls, directory: str | Path) -> BowSentimentClassifier:
        d = Path(directory)
        meta = json.loads((d / "classifier.json").read_text(encoding="utf-8"))
        arr = np.load(d / "classifier.npz", allow_pickle=False)
        self = cls(ngram_range=meta["ngram_range"], Cs=(meta["C"],), min_df=meta["min_df"],
                   binary=meta["binary"], seed=meta["seed"])
        self.C_ = meta["C"]
        self.vectorizer_ = self._vectorizer()
        self.vectorizer_.vocabulary_ = {w: i for i, w in enumerate(meta["vocabulary"])}
        if not self.binary:
            self.vectorizer_.idf_ = arr["idf"]
        self.clf_ = LogisticRegression()
        self.clf_.coef_ = arr["coef"]
        self.clf_.intercept_ = arr["intercept"]
        self.clf_.classes_ = arr["classes"]
        self.classes_ = self.clf_.classes_
        return self
