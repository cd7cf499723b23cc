"""scikit-learn's ``check_estimator`` on the classical estimators, and their behaviour inside
``clone``, ``Pipeline`` and ``GridSearchCV`` with metadata routing on and off.

* numeric estimators (:class:`CVLogisticRegression`, the importance-weight estimators,
  :class:`ShallowDANN`) run the full ``check_estimator`` suite. scikit-learn's check data marks no
  target rows (no ``sample_domain``, no label -1), so a second run marks every third row as a
  target row (a test-only subclass) to drive the weight solvers and the adversarial branch through
  the same checks.
* the text models (:class:`BowSentimentClassifier` takes strings, :class:`FeatureTagger` token
  lists) declare 1-d string input, so ``check_estimator`` skips them (asserted below); the checks
  that need no data run on them one by one, and the data checks' intent (fit returns self, does
  not touch the parameters, adds only ``_`` attributes, refits the same, pickles) is tested here
  with texts.

Expected failures (one, on both ShallowDANN runs): ``check_classifiers_classes`` trains on labels
{-1, 1}; in SKADA's convention, which ShallowDANN follows, -1 marks an unlabeled target row, so
that training set holds one class.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.base import clone
from sklearn.exceptions import NotFittedError, SkipTestWarning
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_checks as ec
from sklearn.utils.estimator_checks import check_estimator
from sklearn.utils.validation import _num_samples

from nlpta.adversarial import ShallowDANN
from nlpta.models import BowSentimentClassifier, FeatureTagger
from nlpta.models.classical import CVLogisticRegression, NoTargetRowsWarning
from nlpta.reweighting import KLIEP, KMM, DomainClassifierWeights

DANN_EXPECTED_FAILURES = {
    "check_classifiers_classes": "trains on labels {-1, 1}: by SKADA's convention (which ShallowDANN follows) -1 marks "
                                 "an unlabeled target row, so the training set holds a single class",
}


def _every_third_is_target(X, sample_domain):
    if sample_domain is None:
        sample_domain = np.where(np.arange(_num_samples(X)) % 3 == 2, -1, 1)
    return sample_domain


# test-only subclasses (module level, so that they pickle): every third row of check data is a target row
class DomainClassifierWeightsThirds(DomainClassifierWeights):
    def fit(self, X, y=None, sample_domain=None):
        return super().fit(X, y, sample_domain=_every_third_is_target(X, sample_domain))


class KMMThirds(KMM):
    def fit(self, X, y=None, sample_domain=None):
        return super().fit(X, y, sample_domain=_every_third_is_target(X, sample_domain))


class KLIEPThirds(KLIEP):
    def fit(self, X, y=None, sample_domain=None):
        return super().fit(X, y, sample_domain=_every_third_is_target(X, sample_domain))


class ShallowDANNThirds(ShallowDANN):
    def fit(self, X, y, sample_domain=None):
        return super().fit(X, y, sample_domain=_every_third_is_target(X, sample_domain))


_SMALL_DANN = {"hidden": 8, "epochs": 10, "batch_size": 32, "max_features": 50}

NUMERIC = {
    "CVLogisticRegression": (lambda: CVLogisticRegression(Cs=(0.1, 1.0), cv=2, max_iter=200), {}),
    "DomainClassifierWeights": (lambda: DomainClassifierWeights(), {}),
    "KMM": (lambda: KMM(), {}),
    "KLIEP": (lambda: KLIEP(), {}),
    "DomainClassifierWeights-thirds": (lambda: DomainClassifierWeightsThirds(), {}),
    "KMM-thirds": (lambda: KMMThirds(B=10.0), {}),
    "KLIEP-thirds": (lambda: KLIEPThirds(sigma_grid=(0.5, 2.0), cv=2, n_centers=10), {}),
    "ShallowDANN": (lambda: ShallowDANN(**_SMALL_DANN), DANN_EXPECTED_FAILURES),
    "ShallowDANN-thirds": (lambda: ShallowDANNThirds(**_SMALL_DANN), DANN_EXPECTED_FAILURES),
}


@pytest.mark.parametrize("name", list(NUMERIC))
def test_check_estimator(name):
    make, expected = NUMERIC[name]
    results = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoTargetRowsWarning)  # the plain runs: check data has no target rows
        check_estimator(make(), expected_failed_checks=expected, on_fail=None,
                        callback=lambda **kw: results.append(kw))
    status = {}
    for r in results:
        status.setdefault(r["check_name"], set()).add(r["status"])
    failed = {r["check_name"]: str(r.get("exception"))[:300] for r in results if r["status"] == "failed"}
    assert failed == {}
    assert {c for c, s in status.items() if "xfail" in s} == set(expected)
    assert len(status) >= 30  # the suite ran (not skipped by tags)


TEXT_MODELS = {
    "BowSentimentClassifier": (lambda: BowSentimentClassifier(Cs=[1.0, 10.0], cv=3),
                               ["good great fine", "bad awful poor", "great film good", "awful bad plot"] * 6,
                               [1, 0, 1, 0] * 6),
    "FeatureTagger": (lambda: FeatureTagger(max_iter=50),
                      [["The", "dog", "runs", "."], ["A", "cat", "sleeps", "."], ["Dogs", "run", "fast", "."]] * 4,
                      [["DET", "NOUN", "VERB", "PUNCT"], ["DET", "NOUN", "VERB", "PUNCT"],
                       ["NOUN", "VERB", "ADV", "PUNCT"]] * 4),
}

DATA_FREE_CHECKS = [ec.check_estimator_cloneable, ec.check_estimator_repr, ec.check_no_attributes_set_in_init,
                    ec.check_get_params_invariance, ec.check_set_params, ec.check_parameters_default_constructible,
                    ec.check_do_not_raise_errors_in_init_or_set_params, ec.check_estimator_tags_renamed,
                    ec.check_valid_tag_types, ec.check_mixin_order]


@pytest.mark.parametrize("name", list(TEXT_MODELS))
def test_text_models_skip_numeric_checks_and_pass_the_data_free_ones(name):
    make, _, _ = TEXT_MODELS[name]
    with pytest.warns(SkipTestWarning, match="requires input"):
        check_estimator(make())
    for check in DATA_FREE_CHECKS:
        check(name, make())


@pytest.mark.parametrize("name", list(TEXT_MODELS))
def test_text_models_follow_the_estimator_contract_on_text(name):
    make, X, y = TEXT_MODELS[name]
    est = make()
    with pytest.raises(NotFittedError):
        est.predict(X)
    before = {k: repr(v) for k, v in est.get_params().items()}
    public = {k for k in vars(est) if not k.startswith("_")}
    assert est.fit(X, y) is est
    assert {k: repr(v) for k, v in est.get_params().items()} == before  # parameters untouched
    added = {k for k in vars(est) if not k.startswith("_")} - public
    assert added and all(k.endswith("_") for k in added), added
    first = est.predict(X)
    assert est.fit(X, y).predict(X) == first if isinstance(first, list) else np.array_equal(est.predict(X), first)
    assert not hasattr(clone(est), "classes_")  # a clone is unfitted
    again = pickle.loads(pickle.dumps(est))
    assert str(again.predict(X)) == str(first)


# ------------------------------------------------------------------ Pipeline / GridSearchCV / routing
def _shifted(seed: int = 0, n: int = 150, d: int = 4):
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(n, d))
    xt = rng.normal(size=(n, d)) + np.r_[0.8, np.zeros(d - 1)]
    ys = (xs[:, 1] > 0).astype(int)
    X = np.vstack([xs, xt])
    y = np.r_[ys, -np.ones(n, dtype=int)]
    sd = np.r_[np.ones(n, dtype=int), -np.ones(n, dtype=int)]
    return X, y, sd


WEIGHTS = [DomainClassifierWeights(random_state=1), KMM(B=10.0, random_state=1),
           KLIEP(sigma_grid=(0.5, 1.0, 2.0), random_state=1)]


@pytest.mark.parametrize("est", WEIGHTS, ids=lambda e: type(e).__name__)
def test_weight_estimators_sample_domain_routing_on_and_off(est):
    """Target rows inside X: sample_domain, or y = -1 when it is absent, give the same weights;
    in a Pipeline the sample_domain reaches the estimator with routing on (requested by default)
    and by ``step__sample_domain`` with it off; the answers agree."""
    X, y, sd = _shifted(n=80)
    ref = clone(est).fit(X, sample_domain=sd)
    assert ref.n_source_ == 80 and ref.n_target_ == 80 and ref.weights_.shape == (80,)
    np.testing.assert_allclose(ref.weights_.mean(), 1.0)
    np.testing.assert_array_equal(clone(est).fit(X, y).weights_, ref.weights_)
    Xs = StandardScaler().fit_transform(X)
    expect = clone(est).fit(Xs, sample_domain=sd).weights_
    with sklearn.config_context(enable_metadata_routing=False):
        off = Pipeline([("scale", StandardScaler()), ("w", clone(est))]).fit(X, w__sample_domain=sd)
    with sklearn.config_context(enable_metadata_routing=True):
        on = Pipeline([("scale", StandardScaler()), ("w", clone(est))]).fit(X, sample_domain=sd)
        direct = clone(est).fit(Xs, sample_domain=sd)
    for w in (off[-1].weights_, on[-1].weights_, direct.weights_):
        np.testing.assert_array_equal(w, expect)
    if hasattr(ref, "density_ratio"):
        assert ref.density_ratio(X[:5]).shape == (5,)
    with pytest.raises(ValueError, match="sample_domain 0"):
        clone(est).fit(X, sample_domain=np.zeros(len(X), dtype=int))
    with pytest.warns(NoTargetRowsWarning):
        uniform = clone(est).fit(X[:80])
    np.testing.assert_array_equal(uniform.weights_, np.ones(80))


def test_weights_accept_sparse_rows():
    X, y, sd = _shifted()
    dense = DomainClassifierWeights().fit(X, sample_domain=sd).weights_
    np.testing.assert_allclose(DomainClassifierWeights().fit(sp.csr_matrix(X), sample_domain=sd).weights_, dense,
                               rtol=1e-6)


@pytest.mark.parametrize("routing", [False, True])
def test_shallow_dann_in_grid_search_with_routing(routing):
    """GridSearchCV over ShallowDANN with the target rows inside X: sample_domain is routed to fit
    (requested by default when routing is on; passed as a fit parameter when off), and the folds
    are scored on their labeled rows only."""
    X, y, sd = _shifted()
    grid = {"hidden": [4, 8]}
    dann = ShallowDANN(epochs=20, batch_size=32, random_state=0)
    folds = KFold(3, shuffle=True, random_state=0)
    with sklearn.config_context(enable_metadata_routing=routing):
        gs = GridSearchCV(dann, grid, cv=folds).fit(X, y, sample_domain=sd)
    assert set(gs.best_params_) == {"hidden"} and gs.best_estimator_.n_target_ == 150
    # held-out accuracy on the labeled rows only (a linear boundary, ~50 labeled rows per fold):
    # measured 0.953 (hidden 4) and 0.940 (hidden 8), the same with routing on and off
    assert gs.best_score_ >= 0.9
    ref = clone(dann).set_params(**gs.best_params_).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(gs.best_estimator_.predict_proba(X), ref.predict_proba(X))
