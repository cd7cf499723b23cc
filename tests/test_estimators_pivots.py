"""The pivot transformers as scikit-learn estimators: ``check_estimator``, ``clone``, ``Pipeline``
and ``GridSearchCV``, with scikit-learn's metadata routing off and on (``import skada`` turns it on
for the whole process), target rows travelling inside ``X`` with ``sample_domain`` (SKADA's
convention)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.semi_supervised import SelfTrainingClassifier
from sklearn.utils.estimator_checks import check_estimator

from nlpta.pivots import CLSCL, SCL, SFA, OneDomainWarning, PivotError

# check_estimator's data has 2-10 columns: one pivot leaves the others to predict it from (with
# the defaults -- 1000 pivots, each in >= 10 rows -- every column would be a pivot). CLSCL's pair
# (0, 0) is a word spelt alike in both languages (a name, "dvd"), a legal pivot.
CHECKED = [SCL(n_pivots=1, h=2, min_count=1),
           SCL(n_pivots=1, h=2, min_count=1, pivot_criterion="mi", concat=False),
           SFA(n_pivots=1, h=2, min_count=1),
           CLSCL(pairs=[(0, 0)], n_pivots=1, h=2, min_count=1)]
EXPECTED_FAILED: dict[str, str] = {}  # none declared: every check applies and passes


@pytest.mark.filterwarnings("ignore::nlpta.pivots.OneDomainWarning")  # the checks' data has no target rows
@pytest.mark.parametrize("routing", [False, True], ids=["routing-off", "routing-on"])
@pytest.mark.parametrize("estimator", CHECKED, ids=repr)
def test_check_estimator(estimator, routing):
    with sklearn.config_context(enable_metadata_routing=routing):
        check_estimator(estimator, expected_failed_checks=EXPECTED_FAILED)


def test_default_parameters_on_too_few_columns_say_what_to_change():
    X = np.random.default_rng(0).uniform(size=(30, 3))
    with pytest.raises(PivotError, match="lower n_pivots"), pytest.warns(OneDomainWarning):
        SCL().fit(X)


# ---------------------------------------------------------------------------------- planted data
# columns 0-1: pivots (positive / negative, both domains); 2-3: source words, 4-5: target words
# (positive / negative); 6-9: noise. Rows: n labeled source, n unlabeled source, n target.
def planted(n: int, seed: int):
    """Returns ``(X, y, sample_domain, ym)``: ``y`` the true labels, ``ym`` as a domain-adaptation
    fit sees them (SKADA: -1 on the unlabeled source rows and on every target row)."""
    rng = np.random.default_rng(seed)
    X, y, sd = [], [], []
    for domain, (pos, neg) in ((1, (2, 3)), (1, (2, 3)), (-1, (4, 5))):
        lab = rng.integers(0, 2, n)
        M = (rng.random((n, 10)) < 0.15).astype(float)
        M[:, :6] = 0
        for i, c in enumerate(lab):
            M[i, 0 if c else 1] = rng.random() < 0.6
            M[i, pos if c else neg] = 1
        X.append(M)
        y.append(lab)
        sd.append(np.full(n, domain))
    y = np.concatenate(y)
    return sp.csr_matrix(np.vstack(X)), y, np.concatenate(sd), np.r_[y[:n], np.full(2 * n, -1)]


def _pipe(**kw) -> Pipeline:
    # SelfTrainingClassifier with max_iter=0 fits its classifier on the rows whose y is not -1
    return Pipeline([("scl", SCL(n_pivots=2, h=1, min_count=5, pivot_criterion="mi", **kw)),
                     ("clf", SelfTrainingClassifier(LogisticRegression(), max_iter=0))])


def _labeled_accuracy(est, X, y) -> float:
    keep = y != -1
    return float(est.score(X[keep], y[keep]))


def test_clone_keeps_parameters_and_drops_the_fit():
    mask = np.array([True, False, True])
    scl = SCL(feature_names=["a", "b", "c"], allowed_pivots=mask, input_mask=mask, random_state=3)
    c = clone(scl)
    assert c.get_params()["random_state"] == 3
    assert c.allowed_pivots is not mask and np.array_equal(c.allowed_pivots, mask)
    X, _, sd, ym = planted(200, 0)
    fitted = SCL(n_pivots=2, h=1, min_count=5).fit(X, ym, sample_domain=sd)
    assert not hasattr(clone(fitted), "theta_")
    assert clone(CLSCL(pairs=[(0, 4)])).pairs == [(0, 4)]


@pytest.mark.parametrize("routing", [False, True])
def test_pipeline_routes_sample_domain(routing):
    """Off: the step-prefixed ``scl__sample_domain``; on: plain ``sample_domain``, requested by
    default (``__metadata_request__fit``). Both give the standalone fit."""
    X, y, sd, ym = planted(300, 1)
    alone = SCL(n_pivots=2, h=1, min_count=5, pivot_criterion="mi").fit(X, ym, sample_domain=sd)
    assert (alone.n_source_rows_, alone.n_target_rows_) == (300, 300)
    with sklearn.config_context(enable_metadata_routing=routing):
        pipe = _pipe()
        if routing:
            pipe.fit(X, ym, sample_domain=sd)
        else:
            pipe.fit(X, ym, scl__sample_domain=sd)
            with pytest.raises(ValueError, match="sample_domain"):
                _pipe().fit(X, ym, sample_domain=sd)  # routing off: Pipeline wants step__param
        np.testing.assert_array_equal(pipe.named_steps["scl"].theta_, alone.theta_)


@pytest.mark.parametrize("seed", range(5))
def test_pivot_pipeline_beats_the_source_classifier_on_planted_shift(seed):
    """The target words mean nothing to a source classifier; through the projection they do.
    Measured over seeds 0-9: pipeline 0.92-1.0, source only 0.78-0.88, gain 0.12-0.22."""
    X, y, sd, ym = planted(300, seed)
    target = sd < 0
    pipe = _pipe().fit(X, ym, scl__sample_domain=sd)
    adapted = pipe.score(X[target], y[target])
    source_only = LogisticRegression().fit(X[:300], y[:300]).score(X[target], y[target])
    assert adapted >= 0.9 and adapted >= source_only + 0.1, (adapted, source_only)


def test_routing_on_opt_out_falls_back_to_labels():
    """With routing on, ``set_fit_request(sample_domain=False)`` leaves the domains to SKADA's
    default -- rows labeled -1 are the target --, the same rows here."""
    X, _, sd, ym = planted(300, 2)
    sd = np.where(ym == -1, -1, 1)  # here every unlabeled row is a target row
    with sklearn.config_context(enable_metadata_routing=True):
        scl = SCL(n_pivots=2, h=1, min_count=5, pivot_criterion="mi")
        assert scl.get_metadata_routing().fit.requests["sample_domain"] is True
        pipe = Pipeline([("scl", scl.set_fit_request(sample_domain=False)),
                         ("clf", SelfTrainingClassifier(LogisticRegression(), max_iter=0))]).fit(X, ym)
        ref = SCL(n_pivots=2, h=1, min_count=5, pivot_criterion="mi").fit(X, ym, sample_domain=sd)
        np.testing.assert_array_equal(pipe.named_steps["scl"].theta_, ref.theta_)


@pytest.mark.parametrize("routing", [False, True])
def test_grid_search_over_a_pivot_pipeline(routing):
    X, _, sd, ym = planted(200, 3)
    with sklearn.config_context(enable_metadata_routing=routing):
        search = GridSearchCV(_pipe(), {"scl__h": [1, 2], "scl__scale": [0.5, 1.0]}, cv=3, scoring=_labeled_accuracy)
        if routing:
            search.fit(X, ym, sample_domain=sd)
        else:
            search.fit(X, ym, scl__sample_domain=sd)
    assert len(search.cv_results_["params"]) == 4
    best = search.best_estimator_.named_steps["scl"]
    assert best.n_target_rows_ == 200  # refit on every row: sample_domain reached the step
    assert all(np.isfinite(search.cv_results_["mean_test_score"]))
