"""CORAL, label-shift correction (BBSE / EM) and self-training: the estimators of
:mod:`nlpta.correction` and the registered methods ``coral``, ``label-shift``, ``self-train``.

Known answers:
* CORAL: after the transform the source rows' covariance is the target's -- exactly when the
  regulariser is ~0, and up to the regulariser's known term otherwise.
* BBSE / EM: kitchen reviews, source = the seed's train split (balanced), target "unlabeled" rows =
  the seed's test split subsampled to 80% positive (200 + 50 reviews, labels stripped); p(x|y) is
  the same, so only the prior moved. Measured over seeds 1-5 (C = 1, 3 folds): BBSE estimates
  0.76-0.85 positive with 0.8 inside every 95% bootstrap interval; the corrected classifier beats
  ``none`` on the shifted rows on every seed.
* Self-training: synthetic reviews whose source sentiment words are rare in the target, which has
  its own sentiment words; pseudo-labels teach the model the target's words. Measured over seeds
  0-4: ``none`` 0.78-0.94, ``self-train`` (top 30%, balanced) 1.00.
"""

from __future__ import annotations

import types

import numpy as np
import pytest

import nlpta
from nlpta.correction import (
    CORAL,
    LabelShift,
    SelfTraining,
    adjust_proba,
    bbse_weights,
    coral_distance,
    select_pseudo_labels,
    select_sequences,
    sequence_confidence,
)
from nlpta.correction.coral import matrix_power_sym
from nlpta.data import strip_labels
from nlpta.data.schema import sentiment_dataset
from nlpta.errors import NlptaError
from nlpta.methods import get_method
from nlpta.models.classical import BowSentimentClassifier
from nlpta.tasks import DataSpec, TaskSpec, TransferTask

SEEDS = (1, 2, 3, 4, 5)


# ------------------------------------------------------------------------------------- CORAL
def _gaussians(seed: int, d: int = 6, n: int = 3000):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(d, d))
    B = rng.normal(size=(d, d)) * 0.5
    xs = rng.normal(size=(n, d)) @ A
    xt = rng.normal(size=(n, d)) @ B + 1.0
    return xs, xt


@pytest.mark.parametrize("seed", SEEDS)
def test_coral_gives_the_source_the_target_covariance(seed):
    xs, xt = _gaussians(seed)
    X = np.vstack([xs, xt])
    dom = np.r_[np.ones(len(xs), int), -np.ones(len(xt), int)]
    # no regulariser: the covariances agree to rounding
    Z = CORAL(reg=1e-10).fit_transform(X, sample_domain=dom)
    np.testing.assert_allclose(np.cov(Z[: len(xs)], rowvar=False), np.cov(xt, rowvar=False), atol=1e-6)
    np.testing.assert_array_equal(Z[len(xs):], xt)  # target rows unchanged
    # reg = 1: cov(Xs A) = C_t - reg * C_t^1/2 C_s^-1 C_t^1/2 with C = cov + reg * I (the known term)
    c = CORAL(reg=1.0).fit(X, sample_domain=dom)
    Zs = c.transform(xs, sample_domain=np.ones(len(xs), int))
    half = matrix_power_sym(c.cov_target_, 0.5)
    expected = c.cov_target_ - half @ np.linalg.inv(c.cov_source_) @ half
    np.testing.assert_allclose(np.cov(Zs, rowvar=False), expected, atol=1e-8)
    assert c.distance_after_ < 0.05 * c.distance_before_
    assert coral_distance(xs, xt) == pytest.approx(c.distance_before_)
    # without sample_domain every row is a target row: prediction time leaves rows alone
    np.testing.assert_array_equal(c.transform(xt), xt)


def test_coral_input_errors():
    X = np.zeros((6, 2))
    with pytest.raises(NlptaError, match=r"\[E322\].*reg must be a number >= 0"):
        CORAL(reg=-1).fit(X, sample_domain=[1, 1, 1, -1, -1, -1])
    with pytest.raises(NlptaError, match=r"\[E326\].*1 source and 5 target rows"):
        CORAL().fit(X, sample_domain=[1, -1, -1, -1, -1, -1])
    with pytest.raises(ValueError, match="sample_domain has 3 values"):
        CORAL().fit(X, sample_domain=[1, -1, 1])


def _b2k(limit_src: int = 400, limit_unl: int = 400) -> TaskSpec:
    return TaskSpec(name="b2k", task="sentiment", source=DataSpec("mdsd:books", split="train", limit=limit_src),
                    target=DataSpec("mdsd:kitchen", split="test", limit=200),
                    unlabeled=DataSpec("mdsd:kitchen", split="unlabeled", labeled=False, limit=limit_unl))


def _roundtrip(m, ds, folder):
    """Save, read back with nlpta.load_model (no pickle), and check the predictions are the same."""
    before = m.predict(ds)
    m.save(folder)
    assert not [f for f in folder.rglob("*") if f.suffix in (".pkl", ".pickle", ".pt", ".joblib")]
    back = nlpta.load_model(folder)
    assert type(back) is type(m) and back.params == m.params and back.seed == m.seed
    assert back.predict(ds) == before
    assert back.fit_report() == m.fit_report()
    return back


@pytest.mark.data
def test_coral_method_folds_its_pipeline_into_one_linear_model(data_root, tmp_path):
    """The saved model (one linear model over tf-idf) decides exactly as tf-idf -> SVD -> scaler ->
    logistic regression trained on the CORAL-aligned source rows, rebuilt here by hand."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import StandardScaler

    from nlpta._sampling import sample_rows
    from nlpta.models.classical import CVLogisticRegression

    tt = TransferTask(_b2k(), seed=1)
    m = get_method("coral", "sentiment", seed=1, svd_dim=40, Cs=[1.0]).fit(tt)
    rep = m.fit_report()
    assert rep["svd_dim"] == 40 and rep["target_from"] == "unlabeled" and rep["source_rows"] == len(tt.source)
    assert rep["coral_distance_after"] < rep["coral_distance_before"] and rep["warnings"] == []
    # by hand
    tgt = sample_rows(tt.unlabeled, 2000, 1)
    texts = list(tt.source["text"]) + list(tgt["text"])
    X = m.model_.vectorizer_.transform(texts)
    svd = TruncatedSVD(40, random_state=1)
    Z = svd.fit_transform(X)
    sc = StandardScaler().fit(Z)
    Z = sc.transform(Z)
    dom = np.r_[np.ones(len(tt.source), int), -np.ones(len(tgt), int)]
    Zs = CORAL(reg=1.0).fit_transform(Z, sample_domain=dom)[: len(tt.source)]
    lr = CVLogisticRegression(Cs=[1.0], random_state=1).fit(Zs, np.asarray(tt.source["label"]))
    test = list(tt.target["text"])
    by_hand = lr.decision_function(sc.transform(svd.transform(m.model_.vectorizer_.transform(test))))
    np.testing.assert_allclose(m.model_.decision_function(test), by_hand, atol=1e-8)
    _roundtrip(m, tt.target, tmp_path / "coral")


def test_coral_refuses_pos_and_tasks_without_unlabeled_rows():
    with pytest.raises(NlptaError, match=r"\[E303\].*coral"):
        get_method("coral", "pos")
    task = types.SimpleNamespace(source=_synthetic(40, 0, 1.0, "s"), unlabeled=None, kind="sentiment")
    with pytest.raises(NlptaError, match=r"\[E306\].*coral"):
        get_method("coral", "sentiment", Cs=[1.0]).fit(task)


# ------------------------------------------------------------------------------- label shift
def test_bbse_solves_the_confusion_system_and_adjusts_posteriors():
    # a classifier right 90% of the time on each class; the target is 80/20
    conf = np.array([[0.45, 0.05], [0.05, 0.45]])  # P(yhat=i, y=j), source prior 50/50
    q = np.array([0.2, 0.8])
    mu = (conf / conf.sum(0)) @ q  # P(yhat) on the target
    w = bbse_weights(conf, mu, np.array([0.5, 0.5]))
    np.testing.assert_allclose(w * 0.5, q)
    P = np.array([[0.6, 0.4], [0.3, 0.7]])
    adj = adjust_proba(P, w)
    np.testing.assert_allclose(adj.sum(1), 1.0)
    assert adj[0, 0] < 0.5 < P[0, 0]  # the minority class needs more evidence now
    with pytest.raises(NlptaError, match=r"\[E322\].*estimator must be 'bbse' or 'em'"):
        LabelShift(estimator="nope").fit(np.eye(2), [0, -1])


def _shifted_kitchen(seed: int):
    """Kitchen train -> kitchen test rows subsampled to 200 positive + 50 negative as the
    unlabeled target (a pure prior shift); returns the task and the labeled shifted rows."""
    tt = TransferTask(TaskSpec(name="k2k", task="sentiment", source=DataSpec("mdsd:kitchen", split="train"),
                               target=DataSpec("mdsd:kitchen", split="test")), seed=seed)
    lab = np.asarray(tt.target["label"])
    rng = np.random.default_rng(seed)
    keep = np.sort(np.r_[np.flatnonzero(lab == 1), rng.choice(np.flatnonzero(lab == 0), 50, replace=False)])
    shifted = tt.target.select(keep.tolist())
    tt.unlabeled = strip_labels(shifted)
    return tt, shifted


@pytest.mark.data
@pytest.mark.parametrize("seed", SEEDS)
def test_bbse_recovers_a_planted_label_shift(data_root, seed):
    tt, shifted = _shifted_kitchen(seed)
    m = get_method("label-shift", "sentiment", seed=seed, Cs=[1.0], folds=3, n_bootstrap=100).fit(tt)
    r = m.fit_report()
    lo, hi = r["target_prior_ci95"]["1"]
    assert lo <= 0.8 <= hi, (r["target_prior"], lo, hi)
    assert abs(r["target_prior"]["1"] - 0.8) < 0.1 and hi - lo < 0.25
    assert r["source_prior"] == {"0": 0.5, "1": 0.5}
    y = np.asarray(shifted["label"])
    acc_none = np.mean(np.asarray(m.model_.predict(shifted["text"])) == y)
    acc = np.mean(np.asarray(m.predict(shifted)) == y)
    assert acc > acc_none, (acc, acc_none)


@pytest.mark.data
def test_em_prior_adjustment_and_round_trip(data_root, tmp_path):
    tt, shifted = _shifted_kitchen(1)
    m = get_method("label-shift", "sentiment", seed=1, Cs=[1.0], folds=3, n_bootstrap=50, estimator="em").fit(tt)
    r = m.fit_report()
    assert r["estimator"] == "em" and r["em_iterations"] >= 1 and r["condition_number"] is None
    assert r["target_prior_ci95"]["1"][0] <= 0.8 <= r["target_prior_ci95"]["1"][1]
    _roundtrip(m, shifted, tmp_path / "em")


EWT = dict(source=DataSpec("ud:en_ewt", split="train", domain="email", limit=150),
           target=DataSpec("ud:en_ewt", split="test", domain="reviews", limit=40),
           unlabeled=DataSpec("ud:en_ewt", split="train", domain="reviews", labeled=False, limit=150))


@pytest.fixture(scope="module")
def ewt_task(data_root):
    """EWT email (150 sentences) -> reviews, loaded once for the POS tests."""
    return TransferTask(TaskSpec(name="e2r", task="pos", **EWT), seed=1)


@pytest.mark.data
def test_label_shift_on_pos_estimates_tag_priors_per_token(ewt_task, tmp_path):
    tt = ewt_task
    m = get_method("label-shift", "pos", seed=1, max_iter=50, folds=2, n_bootstrap=20).fit(tt)
    r = m.fit_report()
    tags = {t for seq in tt.source["upos"] for t in seq}
    assert set(r["target_prior"]) == tags and sum(r["target_prior"].values()) == pytest.approx(1.0)
    assert r["source_units"] == sum(len(s) for s in tt.source["tokens"])
    assert r["target_units"] == sum(len(s) for s in tt.unlabeled["tokens"])
    assert all(a <= r["target_prior"][t] + 1e-9 or np.isnan(a) for t, (a, _) in r["target_prior_ci95"].items())
    pred = m.predict(tt.target)
    assert [len(p) for p in pred] == [len(s) for s in tt.target["tokens"]]
    _roundtrip(m, tt.target, tmp_path / "ls-pos")


# ------------------------------------------------------------------------------ self-training
def test_pseudo_label_selection_is_thresholded_and_balanced():
    P = np.array([[0.99, 0.01], [0.95, 0.05], [0.92, 0.08], [0.50, 0.50], [0.03, 0.97], [0.09, 0.91],
                  [0.15, 0.85]])
    rows, cls = select_pseudo_labels(P, threshold=0.9, balance="equal")
    assert rows.tolist() == [0, 1, 4, 5] and cls.tolist() == [0, 0, 1, 1]  # 2 per class, the most confident
    rows, cls = select_pseudo_labels(P, threshold=0.9, balance="prior", prior=np.array([0.75, 0.25]))
    assert rows.tolist() == [0, 1, 2, 4] and np.bincount(cls).tolist() == [3, 1]  # 3 : 1, as the prior
    rows, _ = select_pseudo_labels(P, threshold=0.9, balance="none")
    assert rows.tolist() == [0, 1, 2, 4, 5]
    rows, cls = select_pseudo_labels(P, threshold=None, balance="equal", top_share=0.3)  # cap 2: 1 per class
    assert rows.tolist() == [0, 4] and cls.tolist() == [0, 1]
    assert len(select_pseudo_labels(P, threshold=0.999)[0]) == 0
    with pytest.raises(NlptaError, match="balance must be"):
        select_pseudo_labels(P, balance="bogus")
    conf, cols = sequence_confidence(np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]]), [2, 1, 0], "min")
    assert conf.tolist() == pytest.approx([0.6, 0.8, 0.0]) and cols.tolist() == [0, 0, 1]
    assert select_sequences(np.array([0.95, 0.5, 0.99, 0.91]), 0.9, top_share=0.5).tolist() == [0, 2]


def _synthetic(n: int, seed: int, share_a: float, dom: str):
    """Reviews of 24 Zipf-distributed neutral words and 6 sentiment words of the review's label;
    each sentiment word comes from set A (``a{pos,neg}*``) with probability ``share_a``, else from
    set B (``b{pos,neg}*``)."""
    rng = np.random.default_rng(seed)
    neutral = np.array([f"n{i}" for i in range(1000)])
    pn = 1.0 / np.arange(1, 1001)
    pn /= pn.sum()
    rows = []
    for i in range(n):
        y = int(rng.random() < 0.5)
        words = list(rng.choice(neutral, 24, p=pn))
        words += [f"{'a' if rng.random() < share_a else 'b'}{'pos' if y else 'neg'}{rng.integers(40)}" for _ in range(6)]
        rng.shuffle(words)
        rows.append({"id": f"{dom}{i}", "text": " ".join(words), "label": y, "domain": dom, "lang": "xx"})
    return sentiment_dataset(rows)


def _planted_task(seed: int):
    """Source: A words only; target: 30% A, 70% B words (B never seen in the source)."""
    src = _synthetic(400, seed, 1.0, "s")
    test = _synthetic(300, 100 + seed, 0.3, "t")
    unl = strip_labels(_synthetic(1000, 200 + seed, 0.3, "t"))
    return types.SimpleNamespace(source=src, target=test, unlabeled=unl, kind="sentiment", target_labeled=None)


@pytest.mark.parametrize("seed", (0, 1, 2, 3, 4))
def test_self_training_learns_the_target_words_of_a_planted_shift(seed):
    task = _planted_task(seed)
    y = np.asarray(task.target["label"])
    none = get_method("none", "sentiment", seed=seed, Cs=[10.0]).fit(task)
    st = get_method("self-train", "sentiment", seed=seed, Cs=[10.0], threshold=None, top_share=0.3).fit(task)
    acc_none = np.mean(np.asarray(none.predict(task.target)) == y)
    acc_st = np.mean(np.asarray(st.predict(task.target)) == y)
    assert acc_st >= acc_none + 0.05, (acc_st, acc_none)
    rep = st.fit_report()
    assert len(rep["rounds"]) == 3 and rep["warnings"] == []
    for h in rep["rounds"]:  # 30% of 1000 rows, the same number per class
        assert h["selected"] == 300 and h["per_class"] == {"0": 150, "1": 150}


def test_self_training_threshold_is_respected_and_history_saved(tmp_path):
    task = _planted_task(0)
    st = get_method("self-train", "sentiment", seed=0, Cs=[10.0], rounds=2, threshold=0.9).fit(task)
    base = BowSentimentClassifier(Cs=[10.0], random_state=0).fit(task.source["text"], task.source["label"])
    conf = base.predict_proba(task.unlabeled["text"]).max(1)
    lab = base.predict(task.unlabeled["text"])
    first = st.history_[0]
    m = min(int(np.sum((conf >= 0.9) & (lab == c))) for c in (0, 1))
    assert first["selected"] == 2 * m and first["per_class"] == {"0": m, "1": m}
    assert first["selected"] == 0 or first["mean_confidence"] >= 0.9
    _roundtrip(st, task.target, tmp_path / "st")


def test_self_training_estimator_errors():
    with pytest.raises(NlptaError, match="estimator must be"):
        SelfTraining(estimator=None).fit(["a b"], [1])
    with pytest.raises(NlptaError, match="threshold / top_share"):
        SelfTraining(BowSentimentClassifier(), threshold=None).fit(["a b"], [1])
    with pytest.raises(NlptaError, match=r"\[E326\]"):
        SelfTraining(BowSentimentClassifier()).fit(["a b", "c d"], [-1, -1])


@pytest.mark.data
def test_self_training_on_pos_selects_confident_sentences(ewt_task, tmp_path):
    tt = ewt_task
    m = get_method("self-train", "pos", seed=1, max_iter=50, rounds=1, threshold=None, top_share=0.5).fit(tt)
    rep = m.fit_report()
    n_unl = sum(1 for s in tt.unlabeled["tokens"] if len(s))
    assert [h["selected"] for h in rep["rounds"]] == [n_unl // 2]
    assert all(h["mean_confidence"] > 0 for h in rep["rounds"])
    _roundtrip(m, tt.target, tmp_path / "st-pos")
