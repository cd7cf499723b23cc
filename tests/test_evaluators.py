"""Shift detectors on planted shifts (known answers) and on real corpora."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _planted import planted_pos, planted_sentiment

from nlpta import data
from nlpta.cli import main
from nlpta.data.schema import strip_labels
from nlpta.errors import EmptyDataError, LabelError, NlptaError
from nlpta.evaluators import (
    BiasReport,
    context_bias,
    diagnose,
    domain_distance,
    frequency_bias,
    label_shift,
    mmd,
    negative_transfer,
    recovery,
)

FREQ_WORDS = [f"noun{i}" for i in range(20, 40)]  # mid-frequency nouns, 4x as frequent in the target
MOVED = {f"noun{i}": ("NOUN", "VERB") for i in range(5, 15)}  # frequent nouns that become verbs
SWAPPED = [f"good{i}" for i in range(10)]  # positive words that turn negative


@pytest.fixture(scope="module")
def pos_pair():
    src = planted_pos(3000, seed=1)
    tgt = planted_pos(3000, seed=2, freq_boost={w: 4.0 for w in FREQ_WORDS}, moved=MOVED)
    same = planted_pos(3000, seed=3)
    return src, tgt, same


@pytest.fixture(scope="module")
def senti_pair():
    src = planted_sentiment(2000, seed=1)
    tgt = planted_sentiment(2000, seed=2, p_positive=0.7, freq_boost={f"w{i}": 4.0 for i in range(100, 120)},
                            swapped=SWAPPED)
    same = planted_sentiment(2000, seed=3)
    return src, tgt, same


def precision_at(ranked: list, truth, k: int) -> float:
    return len(set(ranked[:k]) & set(truth)) / k


# ------------------------------------------------------------------ planted: what was planted is found
def test_frequency_bias_finds_planted_pos_words(pos_pair):
    src, tgt, _ = pos_pair
    fb = frequency_bias(src, tgt, suffix=0)
    assert precision_at(fb["feature"].tolist(), FREQ_WORDS, 20) >= 0.9
    assert (fb.set_index("feature").loc[FREQ_WORDS, "score"] > 0).all()  # positive = more frequent in target
    assert list(fb.columns[:3]) == ["feature", "source_count", "target_count"]


def test_frequency_bias_finds_planted_sentiment_words(senti_pair):
    src, tgt, _ = senti_pair
    fb = frequency_bias(src, tgt, ngram=1)
    neutral = fb[fb["feature"].str.startswith("w")]
    assert precision_at(neutral["feature"].tolist(), [f"w{i}" for i in range(100, 120)], 20) >= 0.9


def test_no_false_positives_on_one_domain(pos_pair, senti_pair):
    # two independent samples of one domain: at FDR 5% nothing should be flagged (rate <= 1% stated)
    for (src, _, same), kw in ((pos_pair, {"suffix": 0}), (senti_pair, {"ngram": 1})):
        fb = frequency_bias(src, same, **kw)
        assert fb["biased"].mean() <= 0.01, fb.head()
        for mode in ("labeled", "unlabeled"):
            cb = context_bias(src, same, mode=mode)
            assert len(cb) > 50
            assert cb["biased"].mean() <= 0.01, (mode, cb.head())


def test_context_bias_labeled_finds_moved_words(pos_pair):
    src, tgt, _ = pos_pair
    cb = context_bias(src, tgt, mode="labeled")
    assert precision_at(cb["feature"].tolist(), list(MOVED), 10) >= 0.9
    row = cb.set_index("feature").loc["noun5"]
    assert row["source_top"] == "NOUN" and row["target_top"] == "VERB" and row["flipped"]
    assert row["source_dist"]["NOUN"] == 1.0 and row["target_dist"]["VERB"] == 1.0
    # frequency-shifted words keep their tag: not context-biased
    assert not cb.set_index("feature").loc[FREQ_WORDS, "biased"].any()


def test_context_bias_unlabeled_finds_moved_words_from_contexts(pos_pair):
    src, tgt, _ = pos_pair
    cb = context_bias(src, strip_labels(tgt), mode="auto")
    assert (cb["mode"] == "unlabeled").all()
    assert precision_at(cb["feature"].tolist(), list(MOVED), 10) >= 0.9
    assert not cb.set_index("feature").loc[FREQ_WORDS, "biased"].any()
    lab = context_bias(src, tgt, mode="labeled")
    rec = recovery(lab, cb)
    assert rec["auc"] > 0.95 and rec["precision_at_k"][10] >= 0.9


def test_context_bias_sentiment_finds_swapped_words_despite_label_shift(senti_pair):
    src, tgt, _ = senti_pair
    cb = context_bias(src, tgt, mode="labeled")
    assert precision_at(cb["feature"].tolist(), SWAPPED, 10) >= 0.9
    # the planted label shift (50% -> 70% positive) alone does not flag ordinary sentiment words
    other = cb[cb["feature"].str.startswith(("good", "bad")) & ~cb["feature"].isin(SWAPPED)]
    assert other["biased"].mean() <= 0.05


def test_label_shift_labeled_and_bbse(senti_pair):
    src, tgt, same = senti_pair
    ls = label_shift(src, tgt)
    assert ls["mode"] == "labeled" and ls["p_value"] < 1e-6
    assert ls["difference"]["1"] == pytest.approx(0.2, abs=0.04)
    assert label_shift(src, same)["p_value"] > 0.01
    # without target labels, under pure label shift (P(X|Y) unchanged): black-box shift estimation
    # recovers the 70% positive share although the classifier's raw predictions are off
    pure = planted_sentiment(1000, seed=4, p_positive=0.7)
    est = label_shift(src.select(range(1000)), strip_labels(pure), seed=0)
    assert est["mode"] == "unlabeled" and est["method"] == "bbse"
    truth = float(np.mean(pure["label"]))
    assert est["target"]["1"] == pytest.approx(truth, abs=0.04)
    assert abs(est["target"]["1"] - truth) <= abs(est["predicted"]["1"] - truth) + 0.01


def test_domain_distance_separates_and_does_not_false_alarm(senti_pair):
    src, tgt, same = senti_pair
    sub = lambda ds: ds.select(range(600))  # noqa: E731
    d = domain_distance(sub(src), sub(tgt), n_permutations=100)
    assert d["pad"] > 0.5 and d["mmd_p_value"] < 0.05
    assert domain_distance(sub(src), sub(same), n_permutations=100)["pad"] < 0.3
    # MMD's permutation p-value under the null: rejections at 5% over 6 same-domain pairs stay rare
    rej = sum(mmd(planted_sentiment(150, seed=10 + i), planted_sentiment(150, seed=40 + i), n_permutations=100,
                  seed=i)["p_value"] < 0.05 for i in range(6))
    assert rej <= 1


def test_negative_transfer_verdicts():
    base = {1: 0.80, 2: 0.78, 3: 0.82}
    worse = {1: 0.76, 2: 0.75, 3: 0.77}
    better = {1: 0.84, 2: 0.83, 3: 0.86}
    noisy = {1: 0.85, 2: 0.70, 3: 0.83}
    assert negative_transfer(worse, base)["verdict"].startswith("adaptation hurt")
    assert negative_transfer(better, base)["verdict"] == "adaptation helped"
    assert negative_transfer(noisy, base)["verdict"].startswith("inconclusive")
    r = negative_transfer(better, base, target_only={1: 0.88, 2: 0.87, 3: 0.89})
    assert r["vs_target_only"]["verdict"] == "below target-only"
    assert r["gap_closed"] == pytest.approx((0.8433 - 0.80) / (0.88 - 0.80), abs=0.01)


# ------------------------------------------------------------------ bad input
def test_bad_input_errors(pos_pair, senti_pair):
    src, tgt, _ = pos_pair
    with pytest.raises(EmptyDataError):
        frequency_bias(src, tgt.select([]))
    with pytest.raises(LabelError, match="unlabeled"):
        context_bias(src, strip_labels(tgt), mode="labeled")
    with pytest.raises(LabelError, match="unlabeled"):
        diagnose(src, strip_labels(tgt), mode="labeled")
    with pytest.raises(NlptaError, match="task"):
        frequency_bias(src, senti_pair[0])
    # mismatched label sets: a 3-class target against a binary source
    s3 = senti_pair[1].map(lambda r, i: {"label": 2 if i % 10 == 0 else r["label"]}, with_indices=True)
    with pytest.raises(LabelError, match="never has"):
        label_shift(senti_pair[0], s3)
    # POS: PTB tags against a UPOS source are an error; a UPOS tag the source never uses is a shift
    ptb = tgt.map(lambda r: {"upos": ["NN" if t == "NOUN" else t for t in r["upos"]]})
    with pytest.raises(LabelError, match="NN"):
        context_bias(src, ptb, mode="labeled")
    intj = tgt.map(lambda r: {"upos": ["INTJ" if t == "ADV" else t for t in r["upos"]]})
    assert label_shift(src, intj)["difference"]["INTJ"] > 0


# ------------------------------------------------------------------ report, bias.json, plots
def test_report_roundtrip_and_files(tmp_path, senti_pair):
    src, tgt, _ = senti_pair
    rep = diagnose(src, tgt, source_name="planted-a", target_name="planted-b", n_permutations=50)
    out = rep.save(tmp_path / "diag")
    d = json.loads((out / "bias.json").read_text())
    assert {"frequency_bias", "context_bias", "label_shift", "domain_distance", "summary"} <= set(d)
    assert {"feature", "source_count", "target_count", "score", "p_value"} <= set(d["frequency_bias"][0])
    assert {"feature", "source_dist", "target_dist", "divergence", "p_value", "n_source", "n_target", "mode"} \
        <= set(d["context_bias"][0])
    assert {"pad", "mmd", "mmd_p_value"} <= set(d["domain_distance"])
    for png in ("frequency_bias.png", "context_bias.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"
    md = (out / "report.md").read_text()
    assert "Frequency feature bias" in md and "good0" in md
    back = BiasReport.load(out)
    assert back.summary["n_context_biased"] == rep.summary["n_context_biased"]
    assert back.frequency_bias["feature"].tolist()[:5] == rep.frequency_bias["feature"].tolist()[:5]


# ------------------------------------------------------------------ real corpora
@pytest.mark.data
def test_real_blitzer_books_to_kitchen(data_root):
    b = data.load("mdsd:books", split="train")
    k = data.load("mdsd:kitchen", split="train")
    rep = diagnose(b, k, n_permutations=50, detectors=("frequency", "context", "label"))
    fb = rep.frequency_bias
    top_src = fb[fb["score"] < 0]["feature"].head(10).tolist()
    top_tgt = fb[fb["score"] > 0]["feature"].head(10).tolist()
    assert "book" in top_src and "product" in top_tgt
    cb = rep.context_bias.set_index("feature")
    # "return" and "started" turn negative in kitchen reviews (a returned appliance; it started leaking)
    assert cb.loc["return", "biased"] and cb.loc["return", "target_dist"]["0"] > 0.8
    assert rep.label_shift["tv_distance"] == 0  # Blitzer's splits are balanced


@pytest.mark.data
def test_real_ewt_email_to_reviews_and_cli(data_root, tmp_path):
    e = data.load("ud:en_ewt", split="train", domain="email")
    r = data.load("ud:en_ewt", split="train", domain="reviews")
    lab = context_bias(e, r, mode="labeled")
    row = lab.set_index("feature").loc["like"]
    assert row["biased"] and row["source_top"] == "VERB" and row["target_top"] == "ADP"
    unl = context_bias(e, strip_labels(r), mode="unlabeled")
    rec = recovery(lab, unl)
    assert rec["auc"] > 0.7 and rec["precision_at_k"][10] > 3 * rec["base_rate"]
    rc = main(["diagnose", "--source", "ud:en_ewt", "--source-split", "train", "--source-domain", "email",
               "--target", "ud:en_ewt", "--target-split", "dev", "--target-domain", "reviews",
               "--permutations", "20", "--out", str(tmp_path / "d")])
    assert rc == 0
    d = json.loads((tmp_path / "d" / "bias.json").read_text())
    assert d["task"] == "pos" and d["summary"]["oov_token_rate"] > 0.05
    assert rc == 0 and main(["diagnose", "--source", "mdsd:books", "--target", "ud:en_ewt"]) == 2


def test_cli_verdict(tmp_path, capsys):
    for name, accs in (("a", [0.70, 0.71, 0.69]), ("b", [0.75, 0.76, 0.74])):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.json").write_text(json.dumps(
            {"runs": [{"seed": s, "accuracy": x} for s, x in zip((1, 2, 3), accs, strict=True)]}))
    assert main(["verdict", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    assert "adaptation hurt" in capsys.readouterr().out
    assert main(["verdict", str(tmp_path / "a"), str(tmp_path / "missing")]) == 2


@pytest.mark.data
def test_task_file_diagnose_section(data_root, tmp_path):
    from nlpta.pipeline import run_task
    from nlpta.tasks import parse_task

    spec = parse_task({
        "name": "diag", "task": "pos",
        "source": {"corpus": "ud:en_ewt", "split": "train", "domain": "email", "limit": 600},
        "target": {"corpus": "ud:en_ewt", "split": "test", "domain": "reviews"},
        "target_labeled": {"corpus": "ud:en_ewt", "split": "train", "domain": "reviews", "limit": 300},
        "method": "in-domain", "seeds": [1, 2], "params": {"max_iter": 100},
        "diagnose": {"baseline": "none", "permutations": 20},
    })
    res = run_task(spec, out_dir=tmp_path / "run")
    d = json.loads((tmp_path / "run" / "diagnose" / "bias.json").read_text())
    groups = {g["group"]: g for g in d["after"]["accuracy_by_group"]}
    assert set(groups) >= {"unseen in source", "other"}
    assert d["after"]["negative_transfer"]["vs_source_only"]["n"] == 2
    assert "Why it degrades" in (tmp_path / "run" / "report.md").read_text()
    assert np.isclose(res.metrics["diagnose"]["summary"]["oov_token_rate"], d["summary"]["oov_token_rate"])


def test_domain_distance_over_sentence_embeddings():
    from nlpta.data.schema import sentiment_dataset
    from nlpta.evaluators import minilm_embedder

    embed = minilm_embedder()
    v = embed(["The blender broke after a week.", "The mixer stopped working in days.", "A moving novel about war."])
    assert v.shape == (3, 384) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-4)
    assert v[0] @ v[1] > v[0] @ v[2]  # two broken appliances are closer than a novel
    kitchen = [f"The {x} {y} after {n} days." for x in ("blender", "toaster", "kettle", "mixer")
               for y in ("broke", "leaked", "stopped working") for n in (2, 5, 9)]
    books = [f"The {x} {y} of the {z}." for x in ("novel", "memoir", "story", "biography")
             for y in ("tells the life", "follows the journey", "describes the youth") for z in ("hero", "author", "king")]
    mk = lambda texts, d: sentiment_dataset({"id": f"{d}{i}", "text": t, "label": i % 2, "domain": d, "lang": "en"}  # noqa: E731
                                            for i, t in enumerate(texts))
    d = domain_distance(mk(books, "b"), mk(kitchen, "k"), embed=embed, n_permutations=100)
    assert d["embedding"]["pad"] > 1.5 and d["embedding"]["mmd_p_value"] < 0.05
