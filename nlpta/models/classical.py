"""Classical reference models: a bag-of-n-grams logistic-regression sentiment classifier and a
feature-based logistic-regression POS tagger (word, affixes, shape, a +-2 word window).

All are scikit-learn estimators (``BaseEstimator``; constructors store their arguments unchanged,
validation happens in ``fit``, learned attributes end in ``_``, the seed is ``random_state``), so
``clone``, ``Pipeline`` and ``GridSearchCV`` work with them, with metadata routing on or off. They
save to / load from a folder of JSON + ``.npz`` arrays, never pickle. The tagger's features follow
Ratnaparkhi (1996) and Toutanova et al. (2003) without the tag history (each token is classified
independently, so tagging is one sparse matrix product).

* :class:`CVLogisticRegression` -- the numeric core of the sentiment classifier: logistic
  regression with ``C`` chosen by (sample-weighted) stratified k-fold cross-validation. It takes a
  numeric matrix, so scikit-learn's ``check_estimator`` runs on it in full.
* :class:`BowSentimentClassifier` -- tf-idf n-grams of raw texts + :class:`CVLogisticRegression`.
* :class:`FeatureTagger` -- token lists in, tag lists out.

The two text models declare 1-d string input (``input_tags.two_d_array = False``): scikit-learn's
numeric check data does not describe texts or token lists, so ``check_estimator`` skips them; the
data-free API checks (cloning, ``get_params``/``set_params``, no work in ``__init__``) run on them
in the tests.
"""

from __future__ import annotations

import json
import numbers
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn import config_context
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, make_scorer
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ..errors import Errors, NotFittedError, ParameterError
from ..io import atomic_write_json

_DIGIT = re.compile(r"\d")
_SHAPE_SUBS = ((re.compile(r"[A-Z]"), "X"), (re.compile(r"[a-z]"), "x"), (re.compile(r"\d"), "d"))


# ------------------------------------------------------------------------- errors and seeds
class EstimatorInputError(ParameterError):
    """Bad input to an estimator: a :class:`~nlpta.errors.ParameterError`, so an
    :class:`~nlpta.errors.NlptaError` that is also a ``ValueError``, as scikit-learn (its checks,
    ``GridSearchCV``'s ``error_score``) expects. Raised from the table
    (``Errors.E3xx(..., cls=EstimatorInputError)``), which gives the code."""


class EstimatorNotFittedError(NotFittedError, _SklearnNotFittedError):
    """An estimator was used before ``fit``: both nlpta's and scikit-learn's ``NotFittedError``."""


class NoTargetRowsWarning(UserWarning):
    """A domain-adaptation estimator was fitted without target rows: it did not adapt (uniform
    importance weights; a DANN without its adversarial term)."""


def _check_fitted(obj, attr: str) -> None:
    if not hasattr(obj, attr):
        raise Errors.E302(what=type(obj).__name__, cls=EstimatorNotFittedError)


def int_seed(random_state) -> int:
    """An integer seed from a ``random_state`` parameter: an int is used as is (so results do not
    change with the parameter's type), ``None`` draws a fresh one, a ``RandomState`` or
    ``Generator`` draws one from itself. Returns an int in [0, 2**31)."""
    if random_state is None:
        return int(np.random.default_rng().integers(2**31))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31))
    raise Errors.E322(what="random_state", expected="an int, None, a RandomState or a Generator",
                      got=repr(random_state), cls=EstimatorInputError)


# ------------------------------------------------------------------------- features
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


def _save_arrays(path: Path, **arrays) -> None:
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)


def _load_arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _restored_logistic(coef: np.ndarray, intercept: np.ndarray, classes: np.ndarray, **params) -> LogisticRegression:
    """A fitted ``LogisticRegression`` rebuilt from its arrays (what ``load`` methods need)."""
    clf = LogisticRegression(**params)
    clf.coef_, clf.intercept_, clf.classes_ = coef, intercept, classes
    clf.n_features_in_ = int(coef.shape[1])
    clf.n_iter_ = np.zeros(1, dtype=np.int32)
    return clf


def _text_list(X, what: str = "X") -> list[str]:
    """``X`` as a list of strings: a list/tuple, 1-d array or pandas Series of texts."""
    if isinstance(X, str):
        raise Errors.E322(what=what, expected="a list of texts", got="a single string", cls=EstimatorInputError)
    if sp.issparse(X) or (hasattr(X, "ndim") and getattr(X, "ndim", 1) != 1):
        raise Errors.E322(what=what, expected="a 1-d sequence of texts",
                          got=f"an array of shape {getattr(X, 'shape', None)}", cls=EstimatorInputError)
    out = list(X)
    bad = next((i for i, t in enumerate(out) if not isinstance(t, str)), None)
    if bad is not None:
        raise Errors.E322(what=what, expected="texts (str)", got=f"a {type(out[bad]).__name__} in row {bad}",
                          cls=EstimatorInputError)
    return out


def _sentences(X, what: str = "X") -> list[list[str]]:
    if isinstance(X, str) or (hasattr(X, "ndim") and getattr(X, "ndim", 1) == 2 and not isinstance(X, list)):
        raise Errors.E322(what=what, expected="a list of token lists (one list of str per sentence)",
                          got="a single string" if isinstance(X, str) else f"an array of shape {X.shape}",
                          cls=EstimatorInputError)
    out = [list(s) for s in X]
    for k, s in enumerate(out):
        bad = next((t for t in s if not isinstance(t, str)), None)
        if bad is not None:
            raise Errors.E322(what=what, expected="token lists of str",
                              got=f"a {type(bad).__name__} token in sentence {k}", cls=EstimatorInputError)
    return out


def _fit_vectorizer(vectorizer, texts: list, what: str):
    """``vectorizer.fit_transform(texts)``, with scikit-learn's errors for texts that leave no
    feature ("empty vocabulary", "no terms remain" after ``min_df``) turned into nlpta's.

    Raises:
        EstimatorInputError: E327 (no text holds a word the vectorizer keeps) or E305 (``min_df`` /
            ``max_df`` prune every feature of these rows).
    """
    try:
        return vectorizer.fit_transform(texts)
    except ValueError as e:
        if "empty vocabulary" in str(e):
            raise Errors.E327(what=what, detail=f"({len(texts)} rows) hold no word the vectorizer keeps: every text "
                              "is empty or has only stop words / single characters", cls=EstimatorInputError) from None
        if "no terms remain" in str(e) or "max_df corresponds" in str(e):
            raise Errors.E305(detail=f"{what} ({len(texts)} rows): no feature occurs in enough rows for "
                              f"min_df={getattr(vectorizer, 'min_df', None)!r}; lower min_df or give more rows",
                              cls=EstimatorInputError) from None
        raise


# ------------------------------------------------------------------------- numeric core
class CVLogisticRegression(ClassifierMixin, BaseEstimator):
    """Logistic regression with ``C`` chosen by stratified k-fold cross-validation --
    the usual no-adaptation baseline of Blitzer et al. (2007) style studies, on any numeric matrix.

    ``sample_weight`` weighs the fits (every fold's and the final one); the folds are scored by
    plain accuracy on their held-out rows, the same whether scikit-learn's metadata routing is on
    or off (the search runs with routing on and explicit requests: weights to ``fit``, none to the
    scorer). The solver is liblinear for two classes and lbfgs (multinomial) for more.

    Args:
        Cs: candidate C values; a single value skips the search.
        cv: folds of the search (an int: ``min(cv, rows of the smallest class)`` shuffled
            stratified folds), or a scikit-learn splitter / iterable of splits.
        max_iter: solver iterations.
        random_state: seeds the folds and the solver.

    Attributes:
        C_, cv_scores_ (C -> mean held-out accuracy; empty without a search), clf_ (the fitted
        ``LogisticRegression``), classes_, n_features_in_, n_iter_.
    """

    def __init__(self, Cs=(0.1, 1.0, 10.0, 100.0), cv: int = 5, max_iter: int = 2000, random_state=0) -> None:
        self.Cs = Cs
        self.cv = cv
        self.max_iter = max_iter
        self.random_state = random_state

    def _base(self, n_classes: int) -> LogisticRegression:
        # liblinear for two classes (the sentiment baseline); lbfgs (multinomial) beyond, which
        # liblinear does not support
        solver = "liblinear" if n_classes <= 2 else "lbfgs"
        return LogisticRegression(solver=solver, max_iter=self.max_iter, random_state=self.random_state)

    def fit(self, X, y, sample_weight=None) -> CVLogisticRegression:
        """Choose C, then fit on all rows. Returns self."""
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=(np.float64, np.float32))
        check_classification_targets(y)
        Cs = [float(c) for c in np.atleast_1d(np.asarray(self.Cs, dtype=np.float64))]
        if not Cs or any(not np.isfinite(c) or c <= 0 for c in Cs):
            raise Errors.E322(what="Cs", expected="positive numbers", got=repr(self.Cs), cls=EstimatorInputError)
        if isinstance(self.cv, numbers.Integral) and (isinstance(self.cv, bool) or self.cv < 2):
            raise Errors.E322(what="cv", expected="an integer >= 2 or a cross-validation splitter", got=repr(self.cv),
                              cls=EstimatorInputError)
        classes, counts = np.unique(y, return_counts=True)
        if len(classes) < 2:
            raise Errors.E323(what="the labels", found=classes.tolist(), cls=EstimatorInputError)
        fit_params = {}
        if sample_weight is not None:
            fit_params["sample_weight"] = _check_sample_weight(sample_weight, X, dtype=np.float64)
        self.cv_scores_: dict[float, float] = {}
        if len(Cs) > 1:
            folds = self.cv
            if isinstance(self.cv, numbers.Integral):
                n_splits = int(min(self.cv, counts.min()))
                if n_splits < 2:
                    shown = ", ".join(f"{c} of class {k!r}" for k, c in zip(classes.tolist(), counts.tolist(),
                                                                            strict=True))
                    raise Errors.E326(what="the training data", got=f"{len(y)} rows ({shown})",
                                      needs="choosing C by cross-validation needs at least 2 rows of every class "
                                      "(or pass a single C in Cs to skip the search)", cls=EstimatorInputError)
                folds = StratifiedKFold(n_splits, shuffle=True, random_state=self.random_state)
            # explicit requests, routing on inside: the same search whatever the global setting
            with config_context(enable_metadata_routing=True):
                base = self._base(len(classes)).set_fit_request(sample_weight=True)
                scorer = make_scorer(accuracy_score).set_score_request(sample_weight=False)
                search = GridSearchCV(base, {"C": Cs}, cv=folds, scoring=scorer, error_score="raise")
                search.fit(X, y, **fit_params)
            self.C_ = float(search.best_params_["C"])
            self.cv_scores_ = {c: float(s) for c, s in zip(Cs, search.cv_results_["mean_test_score"], strict=True)}
            clf = search.best_estimator_
        else:
            self.C_ = Cs[0]
            clf = self._base(len(classes)).set_params(C=self.C_).fit(X, y, **fit_params)
        self.clf_ = clf
        self.classes_ = clf.classes_
        self.n_iter_ = clf.n_iter_
        return self

    def _X(self, X):
        check_is_fitted(self, "clf_")
        return validate_data(self, X, accept_sparse="csr", dtype=(np.float64, np.float32), reset=False)

    def decision_function(self, X) -> np.ndarray:
        X = self._X(X)
        return self.clf_.decision_function(X)

    def predict_proba(self, X) -> np.ndarray:
        X = self._X(X)
        return self.clf_.predict_proba(X)

    def predict(self, X) -> np.ndarray:
        X = self._X(X)
        return self.clf_.predict(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


# ------------------------------------------------------------------------- the tagger
class FeatureTagger(BaseEstimator):
    """Logistic-regression POS tagger over sparse token features.

    ``X`` is a list of sentences (each a list of token strings), ``y`` one tag list per sentence.
    Not a scikit-learn classifier (``y`` holds sequences); :meth:`score` is token accuracy, so
    ``GridSearchCV`` (plain k-fold over sentences) works with it.

    Args:
        C: inverse regularisation strength.
        max_iter: iterations of the solver.
        random_state: random state of the solver.
        extra_features: optional callable ``(sentences) -> array (n_tokens, k)`` whose columns are
            appended to the sparse features (the hook later methods, e.g. SCL, use).

    Attributes:
        vectorizer_ (``DictVectorizer``), clf_ (``LogisticRegression``), classes_.
    """

    def __init__(self, C: float = 1.0, max_iter: int = 200, random_state=0, extra_features=None) -> None:
        self.C = C
        self.max_iter = max_iter
        self.random_state = random_state
        self.extra_features = extra_features

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = True
        return tags

    def featurize(self, sentences: Sequence[Sequence[str]], fit: bool = False) -> sp.csr_matrix:
        """Sparse feature matrix, one row per token (the vectorizer is fitted only if ``fit``)."""
        feats = sentence_features(sentences)
        X = self.vectorizer_.fit_transform(feats) if fit else self.vectorizer_.transform(feats)
        if self.extra_features is not None:
            extra = np.asarray(self.extra_features(sentences), dtype=np.float64)
            X = sp.hstack([X, sp.csr_matrix(extra)], format="csr")
        return X.tocsr()

    @staticmethod
    def _token_weights(sample_weight, sentences: list[list[str]]) -> np.ndarray | None:
        """Per-token weights from one weight per sentence (spread over its tokens) or one per token."""
        if sample_weight is None:
            return None
        w = np.asarray(sample_weight, dtype=np.float64).ravel()
        lens = [len(s) for s in sentences]
        if len(w) == len(sentences):
            return np.repeat(w, lens)
        if len(w) == sum(lens):
            return w
        raise Errors.E320(what="sample_weight", got=len(w),
                          expected=f"{len(sentences)} sentences ({sum(lens)} tokens) of X",
                          per="sentence or one per token", cls=EstimatorInputError)

    def fit(self, X: Sequence[Sequence[str]], y: Sequence[Sequence[str]], sample_weight=None) -> FeatureTagger:
        """Train on tokenized sentences ``X`` and their tags ``y``; ``sample_weight``: one per
        sentence (spread over its tokens) or one per token. Returns self."""
        return self._fit(X, y, sample_weight)

    def _fit(self, X, y, sample_weight, **featurize_kw) -> FeatureTagger:
        sentences, tags = _sentences(X), [list(t) for t in y] if y is not None else None
        if tags is None:
            raise Errors.E324(what=type(self).__name__, cls=EstimatorInputError)
        if len(sentences) != len(tags):
            raise Errors.E320(what="y (tag sequences)", got=len(tags), expected=f"{len(sentences)} sentences of X",
                              per="sentence", cls=EstimatorInputError)
        for k, (s, t) in enumerate(zip(sentences, tags, strict=True)):
            if len(s) != len(t):
                raise Errors.E320(what=f"y[{k}] (tags)", got=len(t), expected=f"{len(s)} tokens of sentence {k}",
                                  per="token", cls=EstimatorInputError)
        if not sentences or not any(sentences):
            raise Errors.E305(detail="no training sentences (0 tokens)", cls=EstimatorInputError)
        found = sorted({t for seq in tags for t in seq})
        if len(found) < 2:
            raise Errors.E323(what="the tags", found=found, cls=EstimatorInputError)
        w = self._token_weights(sample_weight, sentences)
        self.vectorizer_ = DictVectorizer(dtype=np.float32)
        Xf = self.featurize(sentences, fit=True, **featurize_kw)
        flat = np.array([t for seq in tags for t in seq])
        self.clf_ = LogisticRegression(C=self.C, max_iter=self.max_iter, random_state=self.random_state,
                                       solver="lbfgs")
        self.clf_.fit(Xf, flat, sample_weight=w)
        self.classes_ = self.clf_.classes_
        return self

    def predict_proba(self, X: Sequence[Sequence[str]]) -> np.ndarray:
        """Tag probabilities, one row per token (sentences concatenated), columns in ``classes_``."""
        _check_fitted(self, "clf_")
        sentences = _sentences(X)
        if not any(sentences):
            return np.zeros((0, len(self.classes_)))
        return self.clf_.predict_proba(self.featurize(sentences))

    def predict(self, X: Sequence[Sequence[str]]) -> list[list[str]]:
        """Tag each sentence; returns one tag list per sentence."""
        return self._predict(X)

    def _predict(self, X, **featurize_kw) -> list[list[str]]:
        _check_fitted(self, "clf_")
        sentences = _sentences(X)
        if not any(sentences):
            return [[] for _ in sentences]
        flat = self.clf_.predict(self.featurize(sentences, **featurize_kw))
        out, k = [], 0
        for s in sentences:
            out.append([str(t) for t in flat[k : k + len(s)]])
            k += len(s)
        return out

    def score(self, X, y, sample_weight=None) -> float:
        """Token accuracy of :meth:`predict` against ``y`` (``sample_weight`` as in :meth:`fit`)."""
        sentences = _sentences(X)
        pred = [t for s in self.predict(sentences) for t in s]
        gold = [t for s in y for t in s]
        if len(pred) != len(gold):
            raise Errors.E320(what="y (gold tags)", got=len(gold), expected=f"{len(pred)} tokens of X", per="token",
                              cls=EstimatorInputError)
        return float(accuracy_score(gold, pred, sample_weight=self._token_weights(sample_weight, sentences)))

    # -- keeping
    def save(self, directory: str | Path) -> None:
        """Write ``tagger.json`` and ``tagger.npz`` (no pickle) into ``directory``. An
        ``extra_features`` callable is not saved: pass it again to :meth:`load`."""
        _check_fitted(self, "clf_")
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        params = {k: v for k, v in self.get_params(deep=False).items() if k != "extra_features"}
        atomic_write_json(d / "tagger.json", {
            "kind": type(self).__name__, "params": params, "extra_features": self.extra_features is not None,
            "features": self.vectorizer_.feature_names_, "classes": [str(c) for c in self.classes_],
        })
        _save_arrays(d / "tagger.npz", coef=self.clf_.coef_, intercept=self.clf_.intercept_)

    @classmethod
    def load(cls, directory: str | Path, extra_features=None, **params) -> FeatureTagger:
        """Rebuild a tagger written by :meth:`save` (``params`` override the saved ones, e.g. the
        arguments of a subclass)."""
        d = Path(directory)
        if not (d / "tagger.json").is_file():
            raise Errors.E307(detail="no tagger.json; expected a folder written by FeatureTagger.save", path=d)
        meta = json.loads((d / "tagger.json").read_text(encoding="utf-8"))
        arr = _load_arrays(d / "tagger.npz")
        saved = meta.get("params") or {"C": meta["C"], "max_iter": meta["max_iter"], "random_state": meta["seed"]}
        kw = {**saved, **params}
        if extra_features is not None:
            kw["extra_features"] = extra_features
        self = cls(**kw)
        self.vectorizer_ = DictVectorizer(dtype=np.float32)
        self.vectorizer_.feature_names_ = list(meta["features"])
        self.vectorizer_.vocabulary_ = {f: i for i, f in enumerate(meta["features"])}
        self.clf_ = _restored_logistic(arr["coef"], arr["intercept"], np.array(meta["classes"]))
        self.classes_ = self.clf_.classes_
        return self


# ------------------------------------------------------------------------- sentiment
class BowSentimentClassifier(ClassifierMixin, BaseEstimator):
    """Tf-idf uni+bigram logistic regression over raw texts; ``C`` chosen by stratified k-fold CV
    on the training data (:class:`CVLogisticRegression`; the usual no-adaptation baseline of
    Blitzer et al. 2007 style studies). Labels are 0/1 (-1 marks unlabeled rows, which cannot be
    trained on).

    Args:
        ngram_range: n-gram orders ``(min, max)``.
        Cs: candidate C values; a single value skips the search.
        cv: folds of the search.
        min_df: minimum document frequency of a feature in the training texts.
        binary: binary counts instead of tf-idf weights.
        random_state: seeds the CV folds and the solver.

    Attributes:
        vectorizer_, classifier_ (the fitted :class:`CVLogisticRegression`), C_, cv_scores_, classes_.
    """

    def __init__(self, ngram_range=(1, 2), Cs=(0.1, 1.0, 10.0, 100.0), cv: int = 5, min_df: int = 1,
                 binary: bool = False, random_state=0) -> None:
        self.ngram_range = ngram_range
        self.Cs = Cs
        self.cv = cv
        self.min_df = min_df
        self.binary = binary
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags

    def _vectorizer(self) -> TfidfVectorizer:
        ngr = tuple(int(n) for n in self.ngram_range)
        if len(ngr) != 2 or not 1 <= ngr[0] <= ngr[1]:
            raise Errors.E322(what="ngram_range", expected="(min, max) with 1 <= min <= max",
                              got=repr(self.ngram_range), cls=EstimatorInputError)
        return TfidfVectorizer(ngram_range=ngr, min_df=self.min_df, sublinear_tf=True,
                               use_idf=not self.binary, binary=self.binary, norm="l2",
                               lowercase=True, dtype=np.float64)

    def fit(self, X: Sequence[str], y: Sequence[int], sample_weight=None) -> BowSentimentClassifier:
        """Fit the vectorizer and the classifier on labeled texts. Returns self."""
        texts = _text_list(X)
        if y is None:
            raise Errors.E324(what="BowSentimentClassifier", cls=EstimatorInputError)
        labels = np.asarray(y)
        if len(texts) != len(labels):
            raise Errors.E320(what="y (labels)", got=len(labels), expected=f"{len(texts)} texts of X", per="text",
                              cls=EstimatorInputError)
        if not texts:
            raise Errors.E305(detail="no training texts (0 samples)", cls=EstimatorInputError)
        found = set(np.unique(labels).tolist())
        if found - {0, 1}:
            raise Errors.E322(what="y (labels)", expected="0/1 (-1 marks unlabeled rows)",
                              got=f"{sorted(found, key=str)}", cls=EstimatorInputError)
        if len(found) < 2:
            raise Errors.E323(what="the labels", found=sorted(found), cls=EstimatorInputError)
        self.vectorizer_ = self._vectorizer()
        Xv = _fit_vectorizer(self.vectorizer_, texts, "the training texts")
        self.classifier_ = CVLogisticRegression(Cs=self.Cs, cv=self.cv, random_state=self.random_state)
        self.classifier_.fit(Xv, labels, sample_weight=sample_weight)
        self.C_, self.cv_scores_ = self.classifier_.C_, self.classifier_.cv_scores_
        self.classes_ = self.classifier_.classes_
        return self

    def transform(self, X: Sequence[str]) -> sp.csr_matrix:
        """The tf-idf features of texts (the classifier's input)."""
        _check_fitted(self, "vectorizer_")
        return self.vectorizer_.transform(_text_list(X))

    def decision_function(self, X: Sequence[str]) -> np.ndarray:
        _check_fitted(self, "classifier_")
        return self.classifier_.decision_function(self.transform(X))

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        _check_fitted(self, "classifier_")
        return self.classifier_.predict_proba(self.transform(X))

    def predict(self, X: Sequence[str]) -> np.ndarray:
        _check_fitted(self, "classifier_")
        return self.classifier_.predict(self.transform(X))

    # -- keeping
    def save(self, directory: str | Path) -> None:
        """Write ``classifier.json`` and ``classifier.npz`` (no pickle) into ``directory``."""
        _check_fitted(self, "classifier_")
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        vocab = self.vectorizer_.vocabulary_
        params = self.get_params(deep=False)
        params = {k: (list(v) if isinstance(v, tuple | np.ndarray) else v) for k, v in params.items()}
        atomic_write_json(d / "classifier.json", {
            "kind": "BowSentimentClassifier", "params": params, "C": self.C_,
            "cv_scores": [[c, s] for c, s in self.cv_scores_.items()],
            "vocabulary": sorted(vocab, key=vocab.get),
        })
        clf = self.classifier_.clf_
        arrays = {"coef": clf.coef_, "intercept": clf.intercept_, "classes": clf.classes_}
        if not self.binary:
            arrays["idf"] = self.vectorizer_.idf_
        _save_arrays(d / "classifier.npz", **arrays)

    @classmethod
    def load(cls, directory: str | Path) -> BowSentimentClassifier:
        """Rebuild a classifier written by :meth:`save`."""
        d = Path(directory)
        if not (d / "classifier.json").is_file():
            raise Errors.E307(detail="no classifier.json; expected a folder written by BowSentimentClassifier.save",
                              path=d)
        meta = json.loads((d / "classifier.json").read_text(encoding="utf-8"))
        arr = _load_arrays(d / "classifier.npz")
        params = meta.get("params") or {  # folders written before the estimators took random_state
            "ngram_range": meta["ngram_range"], "Cs": [meta["C"]], "min_df": meta["min_df"], "binary": meta["binary"],
            "random_state": meta["seed"]}
        self = cls(**params)
        self.vectorizer_ = self._vectorizer()
        self.vectorizer_.vocabulary_ = {w: i for i, w in enumerate(meta["vocabulary"])}
        if not self.binary:
            self.vectorizer_.idf_ = arr["idf"]
        core = CVLogisticRegression(Cs=self.Cs, cv=self.cv, random_state=self.random_state)
        core.clf_ = _restored_logistic(arr["coef"], arr["intercept"], arr["classes"], solver="liblinear")
        core.C_ = float(meta["C"])
        core.cv_scores_ = {float(c): float(s) for c, s in meta.get("cv_scores", [])}
        core.classes_, core.n_features_in_, core.n_iter_ = core.clf_.classes_, core.clf_.n_features_in_, core.clf_.n_iter_
        self.classifier_ = core
        self.C_, self.cv_scores_, self.classes_ = core.C_, core.cv_scores_, core.classes_
        return self
