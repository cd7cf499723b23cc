"""Pivot transformers on synthetic data whose right answer is known by construction."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier
from sklearn.pipeline import Pipeline

from nlpta.errors import NlptaError, NotFittedError
from nlpta.pivots import CLSCL, SCL, SFA, mutual_information, select_pivots, solve_pivot_predictors
from nlpta.pivots.base import binary_rows
from nlpta.pivots.scl import pivot_targets, structural_projection

# vocabulary of the synthetic domains (column ranges)
POS_PIV, NEG_PIV, NEUTRAL = range(0, 5), range(5, 10), range(10, 20)
SRC_POS, SRC_NEG, TGT_POS, TGT_NEG = range(20, 30), range(30, 40), range(40, 50), range(50, 60)
N_FEAT = 60


def synth(n: int, domain: str, rng: np.random.Generator, p_pivot: float = 0.5):
    """Documents with a polarity: a pivot of that polarity with probability ``p_pivot``, two or
    three domain-specific words of that polarity, three neutral words."""
    y = rng.integers(0, 2, n)
    pos, neg = (SRC_POS, SRC_NEG) if domain == "source" else (TGT_POS, TGT_NEG)
    rows, cols = [], []
    for i, lab in enumerate(y):
        words = list(rng.choice(NEUTRAL, 3, replace=False))
        words += list(rng.choice(pos if lab else neg, rng.integers(2, 4), replace=False))
        if rng.random() < p_pivot:
            words.append(rng.choice(POS_PIV if lab else NEG_PIV))
        rows += [i] * len(words)
        cols += words
    X = sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(n, N_FEAT))
    X.sum_duplicates()
    X.data[:] = 1.0
    return X, y


@pytest.fixture(scope="module")
def domains():
    rng = np.random.default_rng(0)
    Xs, ys = synth(400, "source", rng)
    Xt, yt = synth(400, "target", rng)
    return Xs, ys, Xt, yt


def test_mutual_information_known_values():
    X = sp.csr_matrix(np.array([[1, 0, 1], [1, 0, 0], [0, 1, 1], [0, 1, 0]]))
    y = np.array([1, 1, 0, 0])
    mi = mutual_information(X, y)
    assert mi[0] == pytest.approx(np.log(2))  # determines the label
    assert mi[1] == pytest.approx(np.log(2))
    assert mi[2] == pytest.approx(0.0, abs=1e-12)  # independent of it


def test_pivot_selection_finds_shared_features(domains):
    Xs, ys, Xt, _ = domains
    idx, scores, cs, ct = select_pivots(Xs, Xt, n_pivots=20, min_count=10, criterion="freq")
    assert set(idx) <= set(POS_PIV) | set(NEG_PIV) | set(NEUTRAL)  # never a domain-specific word
    assert set(NEUTRAL) <= set(idx)
    assert np.all(np.diff(scores) <= 0) and np.all(cs >= 10) and np.all(ct >= 10)
    idx_mi, _, _, _ = select_pivots(Xs, Xt, ys, n_pivots=10, min_count=10, criterion="mi")
    assert set(idx_mi) == set(POS_PIV) | set(NEG_PIV)  # the sentiment pivots beat the neutral words
    idx_dom, _, _, _ = select_pivots(Xs, Xt, n_pivots=20, min_count=10, criterion="domain-mi")
    assert set(idx_dom) <= set(POS_PIV) | set(NEG_PIV) | set(NEUTRAL)


def test_dual_solver_equals_per_pivot_ridge_loop(domains):
    Xs, _, Xt, _ = domains
    X = binary_rows(sp.vstack([Xs, Xt], format="csr")[:, 10:])
    Y = pivot_targets(sp.vstack([Xs, Xt], format="csr"), np.arange(10))
    W = solve_pivot_predictors(X, Y, alpha=0.5, solver="dual", dtype=np.float64)
    Xb = sp.hstack([X, np.ones((X.shape[0], 1))], format="csr")
    loop = np.column_stack([Ridge(alpha=0.5, fit_intercept=False, solver="cholesky").fit(Xb, Y[:, j]).coef_[:-1]
                            for j in range(Y.shape[1])])
    np.testing.assert_allclose(W, loop, atol=1e-8)
    for solver, tol in (("primal", 1e-8), ("lowrank", 1e-6)):
        np.testing.assert_allclose(solve_pivot_predictors(X, Y, alpha=0.5, solver=solver, rank=60,
                                                          dtype=np.float64), loop, atol=tol)
    np.testing.assert_allclose(solve_pivot_predictors(X, Y, alpha=0.5, solver="dual"), loop, atol=1e-4)


def test_projection_close_to_modified_huber_predictors(domains):
    """The subspace SCL keeps from the vectorised squared-loss solve is the one per-pivot
    modified-Huber SGD predictors (the papers' loss) give: principal-angle cosines near 1."""
    Xs, _, Xt, _ = domains
    Xall = sp.vstack([Xs, Xt], format="csr")
    X = binary_rows(Xall[:, 10:])
    Y = pivot_targets(Xall, np.arange(10))
    W = solve_pivot_predictors(X, Y, alpha=1.0, dtype=np.float64)
    huber = np.column_stack([SGDClassifier(loss="modified_huber", alpha=1e-3, max_iter=200, tol=1e-6,
                                           random_state=0).fit(X, Y[:, j]).coef_.ravel() for j in range(10)])
    for h, least in ((2, 0.9), (5, 0.95)):  # h = 3, 4 cut between near-equal singular values
        cos = np.linalg.svd(structural_projection(W, h).T @ structural_projection(huber, h), compute_uv=False)
        assert cos.min() > least, (h, cos)


def test_scl_aligns_domain_specific_words_and_helps_target(domains):
    Xs, ys, Xt, yt = domains
    scl = SCL(n_pivots=10, h=2, min_count=10, pivot_criterion="mi", concat=False).fit(Xs, ys, X_target_unlabeled=Xt)
    assert set(scl.pivot_index_) == set(POS_PIV) | set(NEG_PIV)
    # a source-positive word and a target-positive word land on the same side of the projection
    emb = scl.theta_
    sp_, sn, tp, tn = (emb[list(r)].mean(0) for r in (SRC_POS, SRC_NEG, TGT_POS, TGT_NEG))
    assert np.dot(sp_ - sn, tp - tn) > 0.5 * np.linalg.norm(sp_ - sn) * np.linalg.norm(tp - tn)
    base = LogisticRegression(C=1.0).fit(Xs, ys).score(Xt, yt)
    both = SCL(n_pivots=10, h=2, min_count=10, pivot_criterion="mi", scale=2.0).fit(Xs, ys, X_target_unlabeled=Xt)
    adapted = LogisticRegression(C=1.0).fit(both.transform(Xs), ys).score(both.transform(Xt), yt)
    assert adapted > base + 0.1, (base, adapted)


def test_sfa_aligns_domain_specific_words(domains):
    Xs, ys, Xt, yt = domains
    sfa = SFA(n_pivots=10, h=3, min_count=10, pivot_criterion="mi", scale=2.0).fit(Xs, ys, X_target_unlabeled=Xt)
    assert set(sfa.pivot_index_) == set(POS_PIV) | set(NEG_PIV)
    base = LogisticRegression(C=1.0).fit(Xs, ys).score(Xt, yt)
    adapted = LogisticRegression(C=1.0).fit(sfa.transform(Xs), ys).score(sfa.transform(Xt), yt)
    assert adapted > base + 0.1, (base, adapted)


def test_clscl_pairs_translate_sentiment():
    """Two languages with disjoint columns: target columns = source columns + 60; the dictionary
    covers only the sentiment pivots, yet the classifier trained on source rows works on target rows."""
    rng = np.random.default_rng(1)
    Xs, ys = synth(400, "source", rng)
    Xt, yt = synth(400, "source", rng)  # same structure, other language: shift its columns
    Xs = sp.hstack([Xs, sp.csr_matrix((400, N_FEAT))], format="csr")
    Xt = sp.hstack([sp.csr_matrix((400, N_FEAT)), Xt], format="csr")
    pairs = [(j, j + N_FEAT) for j in list(POS_PIV) + list(NEG_PIV)]
    names = [f"en{j}" for j in range(N_FEAT)] + [f"xx{j}" for j in range(N_FEAT)]
    cl = CLSCL(pairs=pairs, n_pivots=10, h=2, min_count=5, scale=2.0, feature_names=names).fit(
        Xs, ys, X_target_unlabeled=Xt)
    assert {p["feature"] for p in cl.pivots_} == {f"en{j}|xx{j}" for j in range(10)}
    clf = LogisticRegression().fit(cl.transform(Xs), ys)
    assert clf.score(cl.transform(Xt), yt) > 0.8
    assert LogisticRegression().fit(Xs, ys).score(Xt, yt) < 0.65  # without it: pivots only


def test_pipeline_and_save_load_round_trip(domains, tmp_path):
    Xs, ys, Xt, yt = domains
    pipe = Pipeline([("scl", SCL(n_pivots=10, h=3, min_count=10)), ("lr", LogisticRegression())])
    pipe.fit(Xs, ys, scl__X_target_unlabeled=Xt)
    assert pipe.score(Xt, yt) > 0.6
    for tr in (pipe.named_steps["scl"], SFA(n_pivots=10, h=3, min_count=10).fit(Xs, ys, X_target_unlabeled=Xt)):
        tr.save(tmp_path / tr.kind)
        back = type(tr).load(tmp_path / tr.kind)
        np.testing.assert_allclose(back.transform(Xt).toarray(), tr.transform(Xt).toarray())
        assert back.pivots_ == tr.pivots_
        assert not list((tmp_path / tr.kind).glob("*.pkl"))
    cl = CLSCL(pairs=[(0, 5), (1, 6)], n_pivots=2, h=1, min_count=1).fit(Xs, ys, X_target_unlabeled=Xt)
    cl.save(tmp_path / "cl")
    np.testing.assert_allclose(CLSCL.load(tmp_path / "cl").transform(Xt), cl.transform(Xt))
    with pytest.raises(NlptaError, match="scl.json"):
        SCL.load(tmp_path / "cl")


def test_bad_input_errors(domains):
    Xs, ys, Xt, _ = domains
    with pytest.raises(NlptaError, match="X_target_unlabeled"):
        SCL().fit(Xs, ys)
    with pytest.raises(NlptaError, match="columns"):
        SCL().fit(Xs, ys, X_target_unlabeled=Xt[:, :30])
    with pytest.raises(NlptaError, match="labels"):
        SCL().fit(Xs, ys[:10], X_target_unlabeled=Xt)
    with pytest.raises(NlptaError, match="NaN"):
        SCL().fit(np.full((3, 4), np.nan), None, X_target_unlabeled=np.ones((3, 4)))
    with pytest.raises(NlptaError, match="min_count"):
        SCL(min_count=10_000).fit(Xs, ys, X_target_unlabeled=Xt)
    with pytest.raises(NlptaError, match="criterion"):
        SCL(pivot_criterion="best").fit(Xs, ys, X_target_unlabeled=Xt)
    with pytest.raises(NlptaError, match="needs the source labels"):
        SCL(pivot_criterion="mi", min_count=5).fit(Xs, None, X_target_unlabeled=Xt)
    with pytest.raises(NotFittedError):
        SCL().transform(Xs)
    fitted = SCL(n_pivots=10, h=2, min_count=10).fit(Xs, ys, X_target_unlabeled=Xt)
    with pytest.raises(NlptaError, match="fitted on 60"):
        fitted.transform(Xs[:, :30])
    with pytest.raises(NlptaError, match="pairs"):
        CLSCL(pairs=[(0, 999)]).fit(Xs, ys, X_target_unlabeled=Xt)
    with pytest.raises(NlptaError, match="solver"):
        solve_pivot_predictors(Xs, np.ones((Xs.shape[0], 1)), solver="magic")
