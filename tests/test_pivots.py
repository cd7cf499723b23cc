"""Pivot transformers on synthetic data whose right answer is known by construction."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier
from threadpoolctl import threadpool_limits

from nlpta.errors import NlptaError, NotFittedError
from nlpta.pivots import (
    CLSCL,
    SCL,
    SFA,
    OneDomainWarning,
    PivotError,
    mutual_information,
    select_pivots,
    solve_pivot_predictors,
)
from nlpta.pivots.base import binary_rows, split_domains
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


def stack(Xs, ys, Xt):
    """SKADA's layout: source rows then target rows, ``y = -1`` and ``sample_domain = -1`` on the target."""
    return (sp.vstack([Xs, Xt], format="csr"), np.r_[ys, np.full(Xt.shape[0], -1)],
            np.r_[np.ones(Xs.shape[0], int), -np.ones(Xt.shape[0], int)])


def make_domains(seed: int):
    rng = np.random.default_rng(seed)
    Xs, ys = synth(400, "source", rng)
    Xt, yt = synth(400, "target", rng)
    return Xs, ys, Xt, yt


SEEDS = range(5)  # the synthetic data's seeds: seed-dependent assertions hold on each


@pytest.fixture(scope="module", autouse=True)
def _one_blas_thread():
    """One BLAS thread (threaded BLAS spins against other jobs on a shared 2-core machine)."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def domains():
    return make_domains(0)


def test_mutual_information_known_values():
    X = sp.csr_matrix(np.array([[1, 0, 1], [1, 0, 0], [0, 1, 1], [0, 1, 0]]))
    y = np.array([1, 1, 0, 0])
    mi = mutual_information(X, y)
    assert mi[0] == pytest.approx(np.log(2))  # determines the label
    assert mi[1] == pytest.approx(np.log(2))
    assert mi[2] == pytest.approx(0.0, abs=1e-12)  # independent of it


@pytest.mark.parametrize("seed", SEEDS)
def test_pivot_selection_finds_shared_features(seed):
    Xs, ys, Xt, _ = make_domains(seed)
    idx, scores, cs, ct = select_pivots(Xs, Xt, n_pivots=20, min_count=10, criterion="freq")
    assert set(idx) <= set(POS_PIV) | set(NEG_PIV) | set(NEUTRAL)  # never a domain-specific word
    assert set(NEUTRAL) <= set(idx)
    assert np.all(np.diff(scores) <= 0) and np.all(cs >= 10) and np.all(ct >= 10)
    # each sentiment pivot is in ~20 rows of each domain (8 at the least over these seeds)
    idx_mi, _, _, _ = select_pivots(Xs, Xt, ys, n_pivots=10, min_count=5, criterion="mi")
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


@pytest.mark.parametrize("seed", SEEDS)
def test_projection_close_to_modified_huber_predictors(seed):
    """The subspace SCL keeps from the vectorised squared-loss solve is the one per-pivot
    modified-Huber SGD predictors (the papers' loss) give: principal-angle cosines near 1 for the
    two polarity directions (h = 2; measured 0.94-0.99 over data seeds 0-7). Further directions
    have near-equal singular values, so where h cuts them depends on the sample."""
    Xs, _, Xt, _ = make_domains(seed)
    Xall = sp.vstack([Xs, Xt], format="csr")
    X = binary_rows(Xall[:, 10:])
    Y = pivot_targets(Xall, np.arange(10))
    W = solve_pivot_predictors(X, Y, alpha=1.0, dtype=np.float64)
    huber = np.column_stack([SGDClassifier(loss="modified_huber", alpha=1e-3, max_iter=200, tol=1e-6,
                                           random_state=0).fit(X, Y[:, j]).coef_.ravel() for j in range(10)])
    cos = np.linalg.svd(structural_projection(W, 2).T @ structural_projection(huber, 2), compute_uv=False)
    assert cos.min() > 0.9, cos


@pytest.mark.parametrize("seed", SEEDS)
def test_scl_aligns_domain_specific_words_and_helps_target(seed):
    """Default (``labeled_rows=False``): the pivot predictors read the unlabeled rows, here the
    target rows and 400 unlabeled source rows; ``labeled_rows=True`` adds the labeled ones."""
    Xs, ys, Xt, yt = make_domains(seed)
    Xsu, _ = synth(400, "source", np.random.default_rng(100 + seed))
    X, y, sd = stack(Xs, ys, Xt)
    X, y, sd = sp.vstack([X, Xsu], format="csr"), np.r_[y, np.full(400, -1)], np.r_[sd, np.ones(400, int)]
    base = LogisticRegression(C=1.0).fit(Xs, ys).score(Xt, yt)
    X2, y2, sd2 = stack(Xs, ys, Xt)
    kw = dict(n_pivots=10, h=2, min_count=5, pivot_criterion="mi")
    for extra, data in (({}, (X, y, sd)), ({"labeled_rows": True}, (X2, y2, sd2))):
        scl = SCL(**kw, **extra, concat=False).fit(data[0], data[1], sample_domain=data[2])
        assert set(scl.pivot_index_) == set(POS_PIV) | set(NEG_PIV)
        # a source-positive word and a target-positive word land on the same side of the projection
        emb = scl.theta_
        sp_, sn, tp, tn = (emb[list(r)].mean(0) for r in (SRC_POS, SRC_NEG, TGT_POS, TGT_NEG))
        assert np.dot(sp_ - sn, tp - tn) > 0.5 * np.linalg.norm(sp_ - sn) * np.linalg.norm(tp - tn)
        both = SCL(**kw, **extra, scale=2.0).fit(data[0], data[1], sample_domain=data[2])
        adapted = LogisticRegression(C=1.0).fit(both.transform(Xs), ys).score(both.transform(Xt), yt)
        assert adapted > base + 0.1, (base, adapted)
    assert (scl.n_source_rows_, scl.n_target_rows_) == (400, 400)


@pytest.mark.parametrize("seed", SEEDS)
def test_sfa_aligns_domain_specific_words(seed):
    Xs, ys, Xt, yt = make_domains(seed)
    X, y, sd = stack(Xs, ys, Xt)
    sfa = SFA(n_pivots=10, h=3, min_count=5, pivot_criterion="mi", scale=2.0).fit(X, y, sample_domain=sd)
    assert set(sfa.pivot_index_) == set(POS_PIV) | set(NEG_PIV)
    base = LogisticRegression(C=1.0).fit(Xs, ys).score(Xt, yt)
    adapted = LogisticRegression(C=1.0).fit(sfa.transform(Xs), ys).score(sfa.transform(Xt), yt)
    assert adapted > base + 0.1, (base, adapted)


def bilingual(seed: int):
    """Two languages with disjoint columns: target columns = source columns + 60."""
    rng = np.random.default_rng(seed)
    Xs, ys = synth(400, "source", rng)
    Xt, yt = synth(400, "source", rng)  # same structure, other language: shift its columns
    Xs = sp.hstack([Xs, sp.csr_matrix((400, N_FEAT))], format="csr")
    Xt = sp.hstack([sp.csr_matrix((400, N_FEAT)), Xt], format="csr")
    return Xs, ys, Xt, yt


@pytest.mark.parametrize("seed", SEEDS)
def test_clscl_pairs_translate_sentiment(seed):
    """The dictionary covers only the sentiment pivots, yet the classifier trained on source rows
    works on target rows."""
    Xs, ys, Xt, yt = bilingual(seed + 1)
    pairs = [(j, j + N_FEAT) for j in list(POS_PIV) + list(NEG_PIV)]
    names = [f"en{j}" for j in range(N_FEAT)] + [f"xx{j}" for j in range(N_FEAT)]
    cl = CLSCL(pairs=pairs, n_pivots=10, h=2, min_count=5, scale=2.0, feature_names=names).fit(
        *stack(Xs, ys, Xt)[:2], sample_domain=stack(Xs, ys, Xt)[2])
    assert {p["feature"] for p in cl.pivots_} == {f"en{j}|xx{j}" for j in range(10)}
    assert cl.is_target(Xt).all() and not cl.is_target(Xs).any()
    clf = LogisticRegression().fit(cl.transform(Xs), ys)
    assert clf.score(cl.transform(Xt), yt) > 0.8
    assert LogisticRegression().fit(Xs, ys).score(Xt, yt) < 0.65  # without it: pivots only


def test_source_rows_labeled_minus_one_are_more_unlabeled_text(domains):
    """A source row labeled -1 joins the pivot predictors' rows, not the pivot statistics; the
    labeled source rows join the predictors' rows only with ``labeled_rows=True``; without any
    label every source row is unlabeled."""
    Xs, ys, Xt, _ = domains
    X, y, sd = stack(Xs[:300], ys[:300], Xt)
    Xm = sp.vstack([X, Xs[300:]], format="csr")
    ym, sdm = np.r_[y, np.full(100, -1)], np.r_[sd, np.ones(100, int)]
    rows = split_domains(Xm, ym, sdm)
    assert [m.shape[0] for m in (rows.source, rows.target, rows.source_unlabeled)] == [300, 400, 100]
    np.testing.assert_array_equal(rows.y, ys[:300])
    assert rows.unlabeled(labeled_rows=False).shape[0] == 500
    np.testing.assert_array_equal(rows.unlabeled(labeled_rows=True).toarray(),  # order: source, target, more source
                                  sp.vstack([Xs[:300], Xt, Xs[300:]]).toarray())
    rows = split_domains(Xm, None, sdm)
    assert rows.y is None and rows.source.shape[0] == 400 and rows.source_unlabeled is None
    assert rows.unlabeled(labeled_rows=False).shape[0] == 800
    kw = dict(n_pivots=10, h=2, min_count=5, pivot_criterion="mi")
    more = SCL(**kw).fit(Xm, ym, sample_domain=sdm)
    base = SCL(**kw).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(more.pivot_source_counts_, base.pivot_source_counts_)  # statistics: labeled rows
    assert not np.allclose(more.theta_, base.theta_)  # predictors: 100 more rows
    assert not np.allclose(SCL(**kw, labeled_rows=True).fit(Xm, ym, sample_domain=sdm).theta_, more.theta_)


def test_sample_domain_defaults_follow_skada(domains):
    """Without sample_domain, rows labeled -1 are the target; without y as well, every row is a
    target row (one domain: a warning, the rows stand for both)."""
    Xs, ys, Xt, _ = domains
    X, y, sd = stack(Xs, ys, Xt)
    kw = dict(n_pivots=10, h=2, min_count=10)
    explicit = SCL(**kw).fit(X, y, sample_domain=sd)
    inferred = SCL(**kw).fit(X, y)
    np.testing.assert_array_equal(explicit.theta_, inferred.theta_)
    # SKADA numbers its domains 1, 2, ... and -1, -2, ...: only the sign matters here
    np.testing.assert_array_equal(SCL(**kw).fit(X, y, sample_domain=np.where(sd > 0, 2, -3)).theta_, explicit.theta_)
    with pytest.warns(OneDomainWarning, match="one domain only"):
        one = SCL(**kw).fit(Xs, ys)
    assert (one.n_source_rows_, one.n_target_rows_) == (0, 0)
    assert np.all(one.pivot_source_counts_ == one.pivot_target_counts_)
    with pytest.warns(OneDomainWarning, match="target"):
        SCL(**kw).fit(X)
    with pytest.raises(PivotError, match="non-zero integers"):
        SCL(**kw).fit(X, y, sample_domain=np.zeros(X.shape[0]))
    with pytest.raises(PivotError, match=r"\[E320\] sample_domain has 10 values for"):
        SCL(**kw).fit(X, y, sample_domain=sd[:10])


def test_deprecated_keyword_entry_gives_the_same_fit(domains):
    Xs, ys, Xt, _ = domains
    kw = dict(n_pivots=10, h=2, min_count=10, pivot_criterion="mi")
    new = CLSCL(pairs=[(0, 5), (1, 6)], n_pivots=2, h=1, min_count=1).fit(*stack(Xs, ys, Xt)[:2],
                                                                          sample_domain=stack(Xs, ys, Xt)[2])
    with pytest.warns(FutureWarning, match="sample_domain"):
        old = CLSCL(pairs=[(0, 5), (1, 6)], n_pivots=2, h=1, min_count=1).fit(
            Xs[:300], ys[:300], X_target_unlabeled=Xt, X_source_unlabeled=Xs[300:])
    X = sp.vstack([Xs[:300], Xt, Xs[300:]], format="csr")
    y = np.r_[ys[:300], np.full(500, -1)]
    sd = np.r_[np.ones(300, int), -np.ones(400, int), np.ones(100, int)]
    np.testing.assert_array_equal(old.theta_, CLSCL(pairs=[(0, 5), (1, 6)], n_pivots=2, h=1, min_count=1)
                                  .fit(X, y, sample_domain=sd).theta_)
    assert new.theta_.shape == old.theta_.shape
    with pytest.warns(FutureWarning):
        old = SCL(**kw).fit(Xs, ys, X_target_unlabeled=Xt)
    np.testing.assert_array_equal(old.theta_, SCL(**kw).fit(*stack(Xs, ys, Xt)[:2], sample_domain=stack(Xs, ys, Xt)[2]).theta_)


def test_save_load_round_trip(domains, tmp_path):
    Xs, ys, Xt, yt = domains
    X, y, sd = stack(Xs, ys, Xt)
    mask = np.ones(N_FEAT, bool)
    mask[55:] = False
    for tr in (SCL(n_pivots=10, h=3, min_count=10, allowed_pivots=mask, input_mask=~np.eye(N_FEAT, dtype=bool)[0]),
               SFA(n_pivots=10, h=3, min_count=10),
               CLSCL(pairs=[(0, 5), (1, 6)], n_pivots=2, h=1, min_count=1)):
        tr.fit(X, y, sample_domain=sd)
        tr.save(tmp_path / tr.kind)
        back = type(tr).load(tmp_path / tr.kind)
        out, out_back = tr.transform(Xt), back.transform(Xt)
        np.testing.assert_array_equal(out.toarray() if sp.issparse(out) else out,
                                      out_back.toarray() if sp.issparse(out_back) else out_back)
        assert back.pivots_ == tr.pivots_
        assert repr(back) == repr(tr)
        assert not list((tmp_path / tr.kind).glob("*.pkl"))
    with pytest.raises(NlptaError, match="scl.json"):
        SCL.load(tmp_path / "clscl")


def test_reads_format_1_folders(domains, tmp_path):
    """Folders written before format 2 (fitted scalars at the top level, array parameters in the JSON)."""
    Xs, ys, Xt, _ = domains
    mask = np.ones(N_FEAT, bool)
    tr = SCL(n_pivots=10, h=3, min_count=10, allowed_pivots=mask).fit(*stack(Xs, ys, Xt)[:2],
                                                                     sample_domain=stack(Xs, ys, Xt)[2])
    tr.save(tmp_path)
    meta = json.loads((tmp_path / "scl.json").read_text())
    params = {**meta["params"], "allowed_pivots": mask.tolist()}
    (tmp_path / "scl.json").write_text(json.dumps({
        "kind": "SCL", "format": 1, "params": params, "n_features_in": N_FEAT, "scale_": tr.scale_, "extra": {}}))
    with np.load(tmp_path / "scl.npz") as arr:
        np.savez(tmp_path / "scl.npz", **{k: arr[k] for k in arr.files if not k.startswith("param:")})
    np.testing.assert_array_equal(SCL.load(tmp_path).transform(Xt).toarray(), tr.transform(Xt).toarray())


def test_bad_input_errors(domains):
    Xs, ys, Xt, _ = domains
    X, y, sd = stack(Xs, ys, Xt)
    with pytest.raises(PivotError, match="labels"):
        SCL().fit(X, y[:10], sample_domain=sd)
    with pytest.raises(ValueError, match="NaN"):  # a PivotError: nlpta's error and scikit-learn's ValueError
        SCL().fit(np.full((3, 4), np.nan), None)
    with pytest.raises(NlptaError, match="min_count"):
        SCL(min_count=10_000).fit(X, y, sample_domain=sd)
    with pytest.raises(NlptaError, match="criterion"):
        SCL(pivot_criterion="best").fit(X, y, sample_domain=sd)
    with pytest.raises(NlptaError, match="needs the source labels"):
        SCL(pivot_criterion="mi", min_count=5).fit(X, None, sample_domain=sd)
    with pytest.raises(NlptaError, match="n_pivots must be an integer"):
        SCL(n_pivots=0).fit(X, y, sample_domain=sd)
    with pytest.raises(NlptaError, match="nothing is left"):
        SCL(min_count=1).fit(X[:, :4], y, sample_domain=sd)
    with pytest.raises(NlptaError, match="allowed_pivots"):
        SCL(allowed_pivots=[True, False]).fit(X, y, sample_domain=sd)
    with pytest.raises(NlptaError, match="feature_names"):
        SCL(feature_names=["a"]).fit(X, y, sample_domain=sd)
    with pytest.raises(NotFittedError):
        SCL().transform(Xs)
    fitted = SCL(n_pivots=10, h=2, min_count=10).fit(X, y, sample_domain=sd)
    with pytest.raises(NlptaError, match="is expecting 60 features"):
        fitted.transform(Xs[:, :30])
    with pytest.raises(NlptaError, match="pairs"):
        CLSCL(pairs=[(0, 999)]).fit(X, y, sample_domain=sd)
    with pytest.raises(NlptaError, match="solver"):
        solve_pivot_predictors(Xs, np.ones((Xs.shape[0], 1)), solver="magic")
    with pytest.raises(PivotError, match="columns"), pytest.warns(FutureWarning):
        SCL().fit(Xs, ys, X_target_unlabeled=Xt[:, :30])
