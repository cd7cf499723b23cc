"""Importance weights (domain classifier, KMM, KLIEP) and the multi-source methods.

Known answer: source x ~ N(0, I_5), target x ~ N(m, S) with m = (0.7, -0.5, 0, 0, 0) and
S = diag(0.36, 1, 1, 1, 1), so the true density ratio p_t(x)/p_s(x) is known in closed form;
1,000 rows each, the target rows inside X with sample_domain -1. Measured Spearman correlations of
estimated with true weights over seeds 0-4: domain classifier 0.915-0.930, KMM 0.689-0.845, KLIEP
0.857-0.919. The floors below hold on every one of those seeds with a margin.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import sklearn
from scipy.stats import multivariate_normal, spearmanr

import nlpta
from nlpta.errors import NlptaError
from nlpta.methods import get_method
from nlpta.reweighting import (
    KLIEP,
    KMM,
    DomainClassifierWeights,
    effective_sample_size,
    normalize_weights,
)
from nlpta.tasks import DataSpec, TaskSpec, TransferTask, parse_task

THRESHOLDS = {"DomainClassifierWeights": 0.88, "KMM": 0.62, "KLIEP": 0.82}
SEEDS = (0, 1, 2, 3, 4)


def _shift(seed: int, n: int = 1000, d: int = 5):
    rng = np.random.default_rng(seed)
    mt = np.r_[0.7, -0.5, np.zeros(d - 2)]
    cov = np.diag(np.r_[0.36, np.ones(d - 1)])
    xs = rng.normal(size=(n, d))
    xt = rng.multivariate_normal(mt, cov, size=n)
    true = multivariate_normal(mt, cov).pdf(xs) / multivariate_normal(np.zeros(d), np.eye(d)).pdf(xs)
    return xs, xt, true / true.mean()


def _together(xs, xt):
    return np.vstack([xs, xt]), np.r_[np.ones(len(xs), dtype=int), -np.ones(len(xt), dtype=int)]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("make", [lambda s: DomainClassifierWeights(clip=None, random_state=s),
                                  lambda s: KMM(random_state=s), lambda s: KLIEP(random_state=s)],
                         ids=["clf", "kmm", "kliep"])
def test_weights_track_the_true_density_ratio(make, seed):
    xs, xt, true = _shift(seed)
    X, domain = _together(xs, xt)
    est = make(seed).fit(X, sample_domain=domain)
    w = est.weights_
    assert w.shape == (len(xs),) and np.all(w >= 0) and abs(w.mean() - 1) < 1e-6
    rho = spearmanr(w, true)[0]
    assert rho >= THRESHOLDS[type(est).__name__], (type(est).__name__, rho)
    assert est.ess_ == pytest.approx(effective_sample_size(w))
    # shifted: fewer effective rows, but not degenerate (measured ESS share 0.14-0.45 over seeds 0-4)
    assert 0.08 * len(xs) < est.ess_ < 0.6 * len(xs)


def test_no_shift_gives_nearly_uniform_weights():
    rng = np.random.default_rng(3)
    X, domain = _together(rng.normal(size=(800, 5)), rng.normal(size=(800, 5)))
    # KMM matches the sample's noise too (measured ESS share 0.71 here; the others 0.9+)
    for est, low in ((DomainClassifierWeights(random_state=0), 0.8), (KLIEP(random_state=0), 0.8),
                     (KMM(random_state=0), 0.6)):
        est.fit(X, sample_domain=domain)
        assert est.ess_ / 800 > low, (type(est).__name__, est.ess_)


def test_effective_sample_size_and_normalisation():
    assert effective_sample_size(np.ones(50)) == pytest.approx(50)
    assert effective_sample_size(np.r_[1.0, np.zeros(9)]) == pytest.approx(1)
    w = normalize_weights(np.r_[np.ones(99), 1000.0], clip=5.0)
    assert w.mean() == pytest.approx(1) and w.max() <= 5.0 + 1e-9
    assert normalize_weights(np.r_[4.0, 1.0], power=0.5).tolist() == pytest.approx([4 / 3, 2 / 3])
    with pytest.raises(NlptaError, match="all zero"):
        normalize_weights(np.zeros(5))


def test_bad_input_errors():
    xs = np.zeros((10, 3))
    with pytest.raises(NlptaError, match="no source rows"):
        KMM().fit(xs, sample_domain=-np.ones(10, dtype=int))
    with pytest.raises(ValueError, match="sample_domain has 5 values for 10 rows"):
        KLIEP().fit(xs, sample_domain=[1, 1, -1, -1, -1])
    with pytest.raises(ValueError, match="NaN"):
        KMM().fit(np.full((4, 2), np.nan), sample_domain=[1, 1, -1, -1])
    with pytest.raises(NlptaError, match="at least 2 source and 2 target rows"):
        DomainClassifierWeights().fit(np.eye(3), sample_domain=[1, -1, -1])
    with pytest.raises(ValueError, match="clip must be"):
        KMM(clip=-1.0).fit(xs, sample_domain=[1] * 5 + [-1] * 5)


def _b2k(limit_src: int = 600, limit_unl: int = 800) -> TaskSpec:
    return TaskSpec(name="b2k", task="sentiment", source=DataSpec("mdsd:books", split="train", limit=limit_src),
                    target=DataSpec("mdsd:kitchen", split="test"),
                    unlabeled=DataSpec("mdsd:kitchen", split="unlabeled", labeled=False, limit=limit_unl))


def _roundtrip(m, ds, folder):
    """Save, read back with nlpta.load_model (no pickle), and check the predictions are the same."""
    before = m.predict(ds)
    m.save(folder)
    assert not [f for f in folder.rglob("*") if f.suffix in (".pkl", ".pickle", ".pt", ".joblib")]
    back = nlpta.load_model(folder)
    assert type(back) is type(m) and back.params == m.params and back.seed == m.seed
    assert back.predict(ds) == before
    return back


@pytest.mark.data
@pytest.mark.parametrize("name", ["reweight-clf", "kmm", "kliep"])
def test_reweighting_methods_on_blitzer(data_root, tmp_path, name):
    tt = TransferTask(_b2k(), seed=1)
    m = get_method(name, "sentiment", seed=1).fit(tt)
    pred = m.predict(tt.target)
    acc = float(np.mean(np.asarray(pred) == np.asarray(tt.target["label"])))
    # measured 0.735 (reweight-clf), 0.632 (kmm), 0.752 (kliep); none on this task: 0.745. KMM
    # concentrates the weight on the few book reviews nearest the kitchen ones (ESS ~ 12%), so its
    # floor only says "above chance"
    assert acc >= {"reweight-clf": 0.68, "kmm": 0.57, "kliep": 0.7}[name], acc
    info = m.weight_info_
    assert info["n"] == 600 and info["target_rows"] == 800 and info["target_from"] == "unlabeled"
    assert 0.05 * 600 < info["ess"] < 600  # measured ESS share: 0.72 (clf), 0.12 (kmm), 0.93 (kliep)
    back = _roundtrip(m, tt.target, tmp_path / "m")
    saved = json.loads((tmp_path / "m" / "weights.json").read_text())
    assert len(saved["weights"]) == 600 and saved["ess"] == pytest.approx(info["ess"])
    np.testing.assert_array_equal(back.weights_, m.weights_)
    assert back.weight_info_ == json.loads(json.dumps(info))


@pytest.mark.data
@pytest.mark.parametrize("name", ["reweight-clf", "kmm", "kliep"])
def test_reweighting_methods_with_metadata_routing_on_and_off(data_root, name):
    """``import skada`` switches scikit-learn's metadata routing on for the whole process; the
    weighted C search and the weight estimators must give the same model either way."""
    tt = TransferTask(_b2k(300, 400), seed=1)
    runs = {}
    for routing in (False, True):
        with sklearn.config_context(enable_metadata_routing=routing):
            m = get_method(name, "sentiment", seed=1, Cs=[1.0, 10.0, 100.0], cv=3).fit(tt)
            runs[routing] = (m.weights_, m.model_.cv_scores_, m.predict(tt.target))
    np.testing.assert_array_equal(runs[True][0], runs[False][0])
    assert runs[True][1] == runs[False][1] and len(runs[True][1]) == 3
    assert runs[True][2] == runs[False][2]


@pytest.mark.data
def test_reweight_pos_weights_sentences(data_root, tmp_path):
    spec = TaskSpec(name="e2r", task="pos", source=DataSpec("ud:en_ewt", split="train", domain="email", limit=300),
                    target=DataSpec("ud:en_ewt", split="test", domain="reviews", limit=100),
                    unlabeled=DataSpec("ud:en_ewt", split="train", domain="reviews", labeled=False, limit=300))
    tt = TransferTask(spec, seed=1)
    m = get_method("reweight-clf", "pos", seed=1, max_iter=50).fit(tt)
    assert m.weight_info_["target_from"] == "unlabeled"
    assert len(m.weights_) == 300
    pred = m.predict(tt.target)
    assert [len(p) for p in pred] == [len(t) for t in tt.target["tokens"]]
    acc = np.mean([p == g for ps, gs in zip(pred, tt.target["upos"], strict=True) for p, g in zip(ps, gs, strict=True)])
    assert acc >= 0.78, acc  # measured 0.831 (none: 0.829; 300 email sentences, max_iter 50)
    _roundtrip(m, tt.target, tmp_path / "m")


@pytest.mark.data
def test_multi_source_task_file_and_methods(data_root, tmp_path):
    raw = {"name": "rest-to-kitchen", "task": "sentiment",
           "source": [{"corpus": "mdsd:books", "split": "train", "limit": 300},
                      {"corpus": "mdsd:electronics", "split": "train", "limit": 300}],
           "target": {"corpus": "mdsd:kitchen", "split": "test"},
           "unlabeled": {"corpus": "mdsd:kitchen", "split": "unlabeled", "limit": 500}}
    spec = parse_task(raw)
    assert len(spec.sources) == 2 and "mdsd:books" in spec.describe_source()
    tt = TransferTask(spec, seed=1)
    assert len(tt.source) == 600 and set(tt.source["domain"]) == {"books", "electronics"}
    gold = np.asarray(tt.target["label"])
    w = get_method("ms-weighted", "sentiment", seed=1).fit(tt)
    assert set(w.domain_weights_) == {"books", "electronics"} and sum(w.domain_weights_.values()) == pytest.approx(1)
    # electronics reviews are closer to kitchen reviews than book reviews are
    assert w.similarity_["electronics"]["similarity"] > w.similarity_["books"]["similarity"]
    e = get_method("ms-ensemble", "sentiment", seed=1).fit(tt)
    for m in (w, e):
        assert np.mean(np.asarray(m.predict(tt.target)) == gold) > 0.7
    _roundtrip(w, tt.target, tmp_path / "w")
    back = _roundtrip(e, tt.target, tmp_path / "ens")
    assert (tmp_path / "ens" / "source-books" / "classifier.json").exists()
    assert back.domain_weights_ == e.domain_weights_ and list(back.models_) == list(e.models_)
    u = get_method("ms-ensemble", "sentiment", seed=1, weighting="uniform").fit(tt)
    assert u.domain_weights_ == {"books": 0.5, "electronics": 0.5}
    from nlpta.pipeline import run_task

    r = run_task(spec, method="ms-weighted", seeds=[1], out_dir=tmp_path / "run")
    assert r.metrics["data"]["source"]["spec"].count(" + ") == 1 and r.metrics["data"]["source"]["rows"] == 600
    assert "mdsd:electronics" in (tmp_path / "run" / "task.yaml").read_text()


@pytest.mark.data
def test_multi_source_pos_ensemble_and_errors(data_root, tmp_path):
    spec = TaskSpec(name="ewt-loo", task="pos",
                    source=DataSpec("ud:en_ewt", split="train", domain=["email", "answers"], limit=300),
                    target=DataSpec("ud:en_ewt", split="test", domain="reviews", limit=80),
                    unlabeled=DataSpec("ud:en_ewt", split="train", domain="reviews", labeled=False, limit=200))
    tt = TransferTask(spec, seed=1)
    m = get_method("ms-ensemble", "pos", seed=1, max_iter=50).fit(tt)
    pred = m.predict(tt.target)
    assert [len(p) for p in pred] == [len(t) for t in tt.target["tokens"]]
    acc = np.mean([p == g for ps, gs in zip(pred, tt.target["upos"], strict=True) for p, g in zip(ps, gs, strict=True)])
    assert acc > 0.75
    _roundtrip(m, tt.target, tmp_path / "ens")
    single = TransferTask(TaskSpec(name="one", task="pos", source=DataSpec("ud:en_ewt", split="train", domain="email",
                                                                            limit=50),
                                   target=DataSpec("ud:en_ewt", split="test", domain="reviews", limit=20)), seed=1)
    with pytest.raises(NlptaError, match="two or more domains"):
        get_method("ms-weighted", "pos", seed=1).fit(single)
    with pytest.raises(NlptaError, match="weighting must be similarity or uniform; got 'best'"):
        get_method("ms-ensemble", "pos", seed=1, weighting="best").fit(tt)


def test_multi_source_task_errors(data_root, tmp_path):
    f = tmp_path / "t.yaml"
    f.write_text("name: x\ntask: sentiment\nsource: []\ntarget: {corpus: mdsd:kitchen, split: test}\n")
    from nlpta.errors import TaskSpecError
    from nlpta.tasks import load_task

    with pytest.raises(TaskSpecError, match="empty list"):
        load_task(f)
    f.write_text("name: x\ntask: sentiment\nsource:\n  - {corpus: mdsd:books, split: train}\n"
                 "  - {corpus: mdsd:dvd, splt: train}\ntarget: {corpus: mdsd:kitchen, split: test}\n")
    with pytest.raises(TaskSpecError, match=r"t.yaml:5: .*unknown key.*'splt' in source\[1\]"):
        load_task(f)
