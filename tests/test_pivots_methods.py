"""Pivot methods through the registry, on the real corpora (data root), and the lexicon helpers.

Seed-dependent claims hold over seeds 1-5: a paired mean gain with its one-sided 95% Student-t
bound, or a floor on every seed. Saving: every pivot method round-trips through
:func:`nlpta.load_model` with identical predictions.
"""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from scipy import stats
from threadpoolctl import threadpool_limits

from nlpta import load_model
from nlpta.errors import FormatError, NlptaError
from nlpta.methods import get_method
from nlpta.pivots.lexicon import load_dictionary, max_match_tokenizer, word_tokenizer
from nlpta.tasks import DataSpec, TaskSpec, TransferTask

SEEDS = (1, 2, 3, 4, 5)


@pytest.fixture(scope="module", autouse=True)
def _one_blas_thread():
    """One BLAS thread: on a shared 2-core machine, threaded BLAS spins against the other jobs (this
    file took 6 min with the default threads under load 3, 2 min with one). Results do not
    depend on it: every assertion has a margin."""
    with threadpool_limits(limits=1):
        yield


def _acc(pred, gold) -> float:
    return float(np.mean(np.asarray(pred) == np.asarray(gold)))


def _lower_bound(gains: list[float], level: float = 0.95) -> float:
    """One-sided Student-t lower confidence bound of the mean of paired gains."""
    g = np.asarray(gains)
    return float(g.mean() - stats.t.ppf(level, len(g) - 1) * g.std(ddof=1) / np.sqrt(len(g)))


def blitzer(src: str, tgt: str, seed: int, limit: int | None = None) -> TransferTask:
    spec = TaskSpec(name=f"{src}2{tgt}", task="sentiment", source=DataSpec(f"mdsd:{src}", split="train", limit=limit),
                    target=DataSpec(f"mdsd:{tgt}", split="test", limit=limit),
                    unlabeled=DataSpec(f"mdsd:{tgt}", split="unlabeled", labeled=False, limit=limit))
    return TransferTask(spec, seed=seed)


def webis(lang: str, domain: str, seed: int = 1, limit: int | None = None) -> TransferTask:
    spec = TaskSpec(name=f"en2{lang}", task="sentiment", source=DataSpec(f"webis:en/{domain}", split="train", limit=limit),
                    target=DataSpec(f"webis:{lang}/{domain}", split="test", limit=limit),
                    unlabeled=DataSpec(f"webis:{lang}/{domain}", split="train", labeled=False, limit=limit))
    return TransferTask(spec, seed=seed)


def ewt_email_to_reviews(seed: int) -> TransferTask:
    spec = TaskSpec(name="e2r", task="pos", source=DataSpec("ud:en_ewt", split="train", domain="email", limit=200),
                    target=DataSpec("ud:en_ewt", split="test", domain="reviews", limit=100),
                    unlabeled=DataSpec("ud:en_ewt", split="train", domain="reviews", labeled=False, limit=300))
    return TransferTask(spec, seed=seed)


def _round_trip(model, ds, tmp_path) -> list:
    """Save, load with nlpta.load_model, check identical predictions and no pickle; returns them."""
    pred = model.predict(ds)
    model.save(tmp_path)
    back = load_model(tmp_path)
    assert type(back) is type(model) and back.params == model.params and back.seed == model.seed
    assert back.predict(ds) == pred
    assert not [p.name for p in tmp_path.iterdir() if p.suffix in {".pkl", ".pickle", ".joblib"}]
    return pred


# ------------------------------------------------------------------------------ save / load
@pytest.mark.data
@pytest.mark.parametrize("name", ["scl", "scl-mi", "sfa"])
def test_sentiment_pivot_methods_save_and_load(data_root, tmp_path, name):
    tt = blitzer("books", "kitchen", seed=1, limit=200)
    _round_trip(get_method(name, "sentiment", seed=1).fit(tt), tt.target, tmp_path)


@pytest.mark.data
def test_source_unlabeled_rows_save_and_load(data_root, tmp_path):
    tt = blitzer("books", "kitchen", seed=1, limit=200)
    m = get_method("scl-mi", "sentiment", seed=1, source_unlabeled=True, max_unlabeled=300).fit(tt)
    _round_trip(m, tt.target, tmp_path)
    assert m.transformer_.n_source_rows_ == 200  # the labeled rows; 300 more books reviews joined the predictors


@pytest.mark.data
def test_methods_carry_their_own_features(data_root):
    """No state shared between method objects: two methods fitted on one task hold their own
    vectorizers, and refitting one leaves the other's predictions alone."""
    tt = blitzer("books", "kitchen", seed=1, limit=200)
    a = get_method("scl", "sentiment", seed=1).fit(tt)
    pred = a.predict(tt.target)
    b = get_method("sfa", "sentiment", seed=1).fit(tt)
    assert a.counts_ is not b.counts_ and a.tfidf_ is not b.tfidf_
    get_method("scl", "sentiment", seed=2).fit(blitzer("dvd", "kitchen", seed=2, limit=200))
    assert a.predict(tt.target) == pred


@pytest.mark.data
def test_pos_scl_saves_and_loads(data_root, tmp_path):
    tt = ewt_email_to_reviews(seed=1)
    m = get_method("scl", "pos", seed=1, n_pivots=100, h=10, min_count=5).fit(tt)
    _round_trip(m, tt.target, tmp_path)


@pytest.mark.data
def test_cross_language_methods_save_and_load(data_root, tmp_path):
    tt = webis("de", "books", limit=300)
    cl = get_method("cl-scl", "sentiment", seed=1, min_count=5, max_unlabeled=400,
                    target_unlabeled=["webis:de/dvd@train"]).fit(tt)
    assert cl.n_unlabeled_ == 400  # a seeded sample of the 300 + 2,000 target-language reviews
    _round_trip(cl, tt.target, tmp_path / "cl-scl")
    _round_trip(get_method("dict-translate", "sentiment", seed=1).fit(tt), tt.target, tmp_path / "dict")


# ------------------------------------------------------------------------------ what they buy
@pytest.mark.data
def test_scl_mi_beats_none_on_books_to_kitchen(data_root):
    """Blitzer books -> kitchen, full protocol (1,600 source reviews, 4,000 unlabeled), seeds 1-5,
    paired gain over ``none`` in accuracy points. Measured: none 78.25 78.75 75.75 80.50 79.25,
    scl-mi 80.50 79.50 78.25 83.50 81.50; gains 2.25 0.75 2.50 3.00 2.25 (mean 2.15, one-sided
    95% bound 1.35; seed 2 alone is +0.75). Asserted: the bound above 0. (sfa, same seeds: gains
    7.25 0.75 5.00 5.25 5.75, bound 2.49; left out to keep this file short.)"""
    gains = []
    for seed in SEEDS:
        tt = blitzer("books", "kitchen", seed)
        gold = tt.target["label"]
        none = _acc(get_method("none", "sentiment", seed=seed).fit(tt).predict(tt.target), gold)
        model = get_method("scl-mi", "sentiment", seed=seed).fit(tt)
        gains.append(100 * (_acc(model.predict(tt.target), gold) - none))
        piv = model.transformer_.pivots_
        assert len(piv) == 1000 and all(p["source_count"] >= 10 and p["target_count"] >= 10 for p in piv)
        assert {"excellent", "waste", "disappointing"} <= {p["feature"] for p in piv[:30]}
    assert _lower_bound(gains) > 0, gains


@pytest.mark.data
def test_cl_scl_transfers_english_to_french(data_root):
    """Webis en -> fr dvd (2,000 English reviews, the 2,000 French train reviews as unlabeled
    text); the splits are fixed, the seed picks the CV folds that choose C. Measured over seeds
    1-5: 72.45 72.45 71.40 72.45 67.70 (mean 71.29, one-sided 95% bound 69.33); a broken
    projection lands near 50. Asserted: >= 60% on every seed, the bound >= 65%."""
    tt = webis("fr", "dvd")
    accs = []
    for seed in SEEDS:
        model = get_method("cl-scl", "sentiment", seed=seed).fit(tt)
        assert len(model.transformer_.pivot_index_) == 450
        accs.append(100 * _acc(model.predict(tt.target), tt.target["label"]))
    assert min(accs) >= 60 and _lower_bound(accs) >= 65, accs


@pytest.mark.data
def test_pos_scl_adds_projection_features_and_gains_over_none(data_root):
    """EWT email -> reviews, 200 source / 300 unlabeled / 100 test sentences (a seeded sample per
    seed), 100 pivots, h = 10. Measured token accuracy over seeds 1-5: none 78.76 78.79 78.41
    82.38 77.74, scl 80.00 79.26 79.96 82.96 78.87; gains 1.24 0.47 1.55 0.58 1.13 (mean 0.99,
    one-sided 95% bound 0.56). Asserted: the bound above 0 and scl >= 78% on every seed."""
    gains = []
    for seed in SEEDS:
        tt = ewt_email_to_reviews(seed)
        gold = [t for s in tt.target["upos"] for t in s]
        none = _acc([t for s in get_method("none", "pos", seed=seed).fit(tt).predict(tt.target) for t in s], gold)
        m = get_method("scl", "pos", seed=seed, n_pivots=100, h=10, min_count=5).fit(tt)
        acc = _acc([t for s in m.predict(tt.target) for t in s], gold)
        assert acc >= 0.78, (seed, acc)
        gains.append(100 * (acc - none))
        # pivots are context words; the pivot predictors never read a neighbour feature
        assert all(p["feature"].startswith(("w-1=", "w+1=", "w-2=", "w+2=")) for p in m.transformer_.pivots_)
        cols = np.asarray(m.transformer_.feature_names)[m.transformer_.input_columns_]
        assert not any(c.startswith(("w-", "w+", "s3-", "s3+", "w0w")) for c in cols)
        extra = m.extra_features(tt.target["tokens"][:5])
        assert extra.shape == (sum(len(s) for s in tt.target["tokens"][:5]), 10)
    assert _lower_bound(gains) > 0, gains


@pytest.mark.data
def test_methods_reject_bad_tasks(data_root):
    spec = TaskSpec(name="b2k", task="sentiment", source=DataSpec("mdsd:books", split="train", limit=50),
                    target=DataSpec("mdsd:kitchen", split="test", limit=20))
    tt = TransferTask(spec, seed=1)
    for name in ("scl", "scl-mi", "sfa", "cl-scl"):
        with pytest.raises(NlptaError, match="unlabeled"):
            get_method(name, "sentiment", seed=1).fit(tt)
    with pytest.raises(NlptaError, match="does not support 'pos'"):
        get_method("scl-mi", "pos")
    with pytest.raises(NlptaError, match="no parameter"):
        get_method("scl", "sentiment", n_pivot=5)


def test_estimator_and_method_defaults_agree():
    """``labeled_rows``: the estimator's default is the methods' (the measured best: the pivot
    predictors leave the labeled reviews out)."""
    from nlpta.methods.pivots import SCLMethod, SCLMISentiment
    from nlpta.pivots import SCL

    assert SCL().labeled_rows is False
    assert SCLMethod.defaults["sentiment"]["labeled_rows"] is False
    assert SCLMISentiment.defaults["sentiment"]["labeled_rows"] is False


def test_dictionary_file_errors_and_tokenizers(tmp_path):
    good = tmp_path / "d.txt.gz"
    with gzip.open(good, "wt", encoding="utf-8") as fh:
        fh.write("Good gut\n\nbad schlecht\n")
    assert load_dictionary(good) == [("good", "gut"), ("bad", "schlecht")]
    bad = tmp_path / "bad.txt"
    bad.write_text("good gut\nthree fields here\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"bad.txt:2: .*two non-empty words.*got 3 field"):
        load_dictionary(bad)
    with pytest.raises(NlptaError, match="not found"):
        load_dictionary(tmp_path / "missing.txt")
    tok = max_match_tokenizer(["映画", "面白い", "とても"])
    assert tok("とても面白い映画だ。DVD") == ["とても", "面白い", "映画", "だ", "dvd"]
    assert word_tokenizer("de")("Das Buch ist gut, nicht?") == ["das", "buch", "ist", "gut", "nicht"]
