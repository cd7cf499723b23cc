"""One module per shared concept (issue 17): the seeded row sampler, the MUSE loader, the domain
classifier and its proxy A-distance, the sentence encoder, injected context-bias scorers, pool
counts that travel with the pool, and NlptaError codes for user mistakes in the evaluators."""

from __future__ import annotations

import gzip

import datasets
import numpy as np
import pandas as pd
import pytest
from _planted import planted_pos, planted_sentiment

from nlpta import data
from nlpta._sampling import sample_indices, sample_rows
from nlpta.errors import NlptaError


# ----------------------------------------------------------------------------- the row sampler
@pytest.mark.parametrize("n, limit, seed", [(100, 10, 3), (1000, 999, 0), (7, 3, 12345), (2000, 1600, 1)])
def test_sample_indices_is_the_sorted_seeded_permutation_prefix(n, limit, seed):
    idx = sample_indices(n, limit, seed)
    # the selection every bench number was computed with (nlpta.data.sample_rows before issue 17)
    old = sorted(np.random.default_rng(seed).permutation(n)[:limit].tolist())
    assert idx.tolist() == old
    assert len(set(idx.tolist())) == limit and idx.min() >= 0 and idx.max() < n


@pytest.mark.parametrize("limit", [None, 5, 6])
def test_sample_indices_takes_every_row_when_not_cut(limit):
    assert sample_indices(5, limit, 0).tolist() == [0, 1, 2, 3, 4]


def test_sample_rows_keeps_order_and_is_the_public_sampler():
    ds = datasets.Dataset.from_dict({"a": list(range(300))})
    got = sample_rows(ds, 40, 7)["a"]
    assert got == sorted(np.random.default_rng(7).permutation(300)[:40].tolist())
    assert data.sample_rows(ds, 40, 7)["a"] == got
    assert sample_rows(ds, 40, 8)["a"] != got
    assert sample_rows(ds, None, 7) is ds and sample_rows(ds, 300, 7) is ds


# ----------------------------------------------------------------------------- the MUSE loader
@pytest.mark.data
@pytest.mark.parametrize("tgt", ["de", "ja"])
def test_both_dictionary_paths_give_the_same_pairs(data_root, tgt):
    from nlpta.data import lexicons
    from nlpta.embeddings.bli import load_dictionary as bli_load
    from nlpta.embeddings.bli import muse_dictionary
    from nlpta.pivots.lexicon import load_dictionary as pivots_load
    from nlpta.pivots.lexicon import muse_path

    full = muse_path("en", tgt)
    assert full == muse_dictionary("en", tgt, "full") == lexicons.muse_path("en", tgt)
    a, b = bli_load(full), pivots_load(full)
    assert a == b and len(a) > 20000
    assert muse_dictionary("en", tgt) == data_root / "lexicons" / "muse" / f"en-{tgt}.5000-6500.txt.gz"
    test_pairs = bli_load(muse_dictionary("en", tgt))
    assert set(test_pairs) <= set(a) and 1000 < len(test_pairs) < 5000


@pytest.mark.data
def test_jp_is_read_as_ja_by_every_path(data_root):
    from nlpta.embeddings.bli import muse_dictionary
    from nlpta.pivots.lexicon import muse_path

    assert muse_path("en", "jp") == muse_path("en", "ja")
    assert muse_dictionary("jp", "en", "train") == muse_dictionary("ja", "en", "train")


def test_lexicon_errors(tmp_path, monkeypatch):
    from nlpta.data.lexicons import load_dictionary, muse_path
    from nlpta.errors import DataNotFoundError, FormatError

    monkeypatch.setenv("NLPTA_DATA", str(tmp_path))
    with pytest.raises(NlptaError, match="split 'dev'") as e:
        muse_path("en", "de", "dev")
    assert e.value.code == "E110"
    with pytest.raises(DataNotFoundError, match="en-ja"):
        muse_path("en", "jp")
    p = tmp_path / "d.txt.gz"
    with gzip.open(p, "wt", encoding="utf-8") as fh:
        fh.write("Cat Chat\n\ndog\n")
    with pytest.raises(FormatError, match=r"d.txt.gz:3: malformed: expected 'source target'"):
        load_dictionary(p)
    p.write_bytes(gzip.compress(b"cat chat\n\xff\xfe x\n"))
    with pytest.raises(FormatError, match="not UTF-8"):
        load_dictionary(p)
    (tmp_path / "empty.txt").write_text("\n\n", encoding="utf-8")
    with pytest.raises(FormatError, match="no word pairs"):
        load_dictionary(tmp_path / "empty.txt")
    (tmp_path / "c.txt").write_text("Cat Chat\n", encoding="utf-8")
    assert load_dictionary(tmp_path / "c.txt") == [("Cat", "Chat")]
    assert load_dictionary(tmp_path / "c.txt", lower=True) == [("cat", "chat")]


# ------------------------------------------------------------- the domain classifier and PAD
def test_one_pad_formula():
    from nlpta.evaluators import pad_from_accuracy

    assert [pad_from_accuracy(a) for a in (0.5, 0.75, 1.0)] == [0.0, 1.0, 2.0]
    assert pad_from_accuracy(0.3) == 0.0  # worse than chance reads as indistinguishable


def test_dataset_pad_is_the_feature_probe_on_tfidf_rows():
    from nlpta.evaluators import domain_distance, proxy_a_distance

    src = planted_sentiment(400, seed=1)
    tgt = planted_sentiment(400, seed=2, freq_boost={f"w{i}": 6.0 for i in range(100, 140)})
    pad = proxy_a_distance(src, tgt, seed=0)
    assert pad["pad"] == pytest.approx(2 * (1 - 2 * pad["error"]))
    assert pad["n_per_domain"] == 400 and pad["pad"] > 0.5
    # domain_distance featurises once but runs the same probe on the same sample
    dd = domain_distance(src, tgt, seed=0, n_permutations=20)
    assert dd["pad_detail"] == pad


def test_balanced_indices_cap_both_sides_from_the_one_sampler():
    from nlpta.evaluators import balanced_indices

    i_s, i_t = balanced_indices(500, 300, 200, seed=4)
    assert i_s.tolist() == sample_indices(500, 200, 4).tolist()
    assert i_t.tolist() == sample_indices(300, 200, 5).tolist()
    i_s, i_t = balanced_indices(50, 80, None, seed=0)
    assert i_s.tolist() == list(range(50)) and len(i_t) == 50


def test_minilm_embedder_is_a_model_reexported():
    from nlpta.evaluators import distance, minilm_embedder
    from nlpta.models import encoders

    assert distance.minilm_embedder is encoders.minilm_embedder is minilm_embedder


# ------------------------------------------------------------------ injected context-bias scorers
def _rank_by_length(ts, tt):
    words = sorted({w for s in ts for w in s} & {w for s in tt for w in s})
    return pd.DataFrame({"word": words, "shift": [float(len(w)) for w in words]})


def test_context_bias_takes_an_injected_scorer():
    from nlpta.evaluators import context_bias

    src, tgt = planted_pos(800, seed=1), planted_pos(800, seed=2)
    df = context_bias(src, tgt, scorer=_rank_by_length, min_count=5)  # auto + scorer: unlabeled
    assert set(df["mode"]) == {"unlabeled-scorer"} and df["p_value"].isna().all() and not df["biased"].any()
    assert list(df["divergence"]) == sorted(df["divergence"], reverse=True)
    assert df["divergence"].iloc[0] == max(len(w) for w in df["feature"])
    assert (df["n_source"] >= 5).all() and (df["n_target"] >= 5).all()


def test_context_bias_scorer_mistakes_are_nlpta_errors():
    from nlpta.evaluators import context_bias

    src, tgt = planted_pos(300, seed=1), planted_pos(300, seed=2)
    with pytest.raises(NlptaError, match="shift_scorer") as e:
        context_bias(src, tgt, mode="unlabeled", contexts="embeddings")
    assert e.value.code == "E601"
    with pytest.raises(NlptaError, match="'word' and 'shift'") as e:
        context_bias(src, tgt, mode="unlabeled", scorer=lambda a, b: pd.DataFrame({"w": []}))
    assert e.value.code == "E602"
    with pytest.raises(NlptaError, match="mode='unlabeled'") as e:
        context_bias(src, tgt, mode="labeled", scorer=_rank_by_length)
    assert e.value.code == "E602"


def test_shift_scorer_fixes_its_options():
    from nlpta.embeddings.shift import semantic_shift, shift_scorer

    s = shift_scorer(min_count=20, seed=3, epochs=2)
    assert s.func is semantic_shift and s.keywords == {"min_count": 20, "seed": 3, "epochs": 2}
    with pytest.raises(NlptaError, match="no option"):
        shift_scorer(windw=3)


# ------------------------------------------------------------------ evaluator mistakes: codes
def test_evaluator_option_mistakes_raise_nlpta_errors():
    from nlpta.data.schema import task_of
    from nlpta.evaluators import context_bias, frequency_bias, label_shift

    src, tgt = planted_sentiment(200, seed=1), planted_sentiment(200, seed=2)
    for call in (lambda: frequency_bias(src, tgt, unit="sentence"),
                 lambda: label_shift(src, tgt, mode="both"),
                 lambda: context_bias(src, tgt, mode="both")):
        with pytest.raises(NlptaError) as e:
            call()
        assert e.value.code == "E601" and isinstance(e.value, ValueError)  # an EvaluatorError is also a ValueError
    pos = planted_pos(200, seed=1)
    with pytest.raises(NlptaError, match="fitted tagger") as e:
        label_shift(pos, data.strip_labels(planted_pos(200, seed=2)), mode="unlabeled")
    assert e.value.code == "E603"
    with pytest.raises(NlptaError, match="neither 'tokens'") as e:
        task_of(datasets.Dataset.from_dict({"x": [1]}))
    assert e.value.code == "E111"


# ------------------------------------------------------------------ pool counts travel with the pool
def _fdu_domain(root, domain: str, test: list[str], unlabel: list[str]) -> None:
    base = root / "sentiment" / "fdu_mtl"
    base.mkdir(parents=True, exist_ok=True)
    for split, lines in (("train", [f"1\t{t}" for t in test]), ("test", [f"0\t{t}" for t in test]),
                         ("unlabel", unlabel)):
        with gzip.open(base / f"{domain}.task.{split}.gz", "wt", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")


def _review(i: int, topic: str) -> str:
    return f"review number {i} about the {topic}, which was quite something to use every day"


def test_two_pools_loaded_one_after_another_keep_their_own_counts(tmp_path, monkeypatch):
    from nlpta.data import dataset_meta, describe, pool_stats, pools

    monkeypatch.setenv("NLPTA_DATA", str(tmp_path))
    shirts = [_review(i, "shirt") for i in range(5)]
    _fdu_domain(tmp_path, "apparel", test=shirts[:1],
                unlabel=shirts + [shirts[2], shirts[3]])  # 7 read: 1 is a test review, 2 repeats
    prams = [_review(i, "pram") for i in range(9)]
    _fdu_domain(tmp_path, "baby", test=[_review(99, "cot")], unlabel=prams + [prams[0]])  # 10 read: 1 repeat
    a = data.load("fdu:apparel", split="unlabeled")
    b = data.load("fdu:baby", split="unlabeled")
    assert pool_stats(a) == {"fdu": 7, "removed_labeled": 1, "removed_duplicate": 2, "kept": 4} and len(a) == 4
    assert pool_stats(b) == {"fdu": 10, "removed_labeled": 0, "removed_duplicate": 1, "kept": 9} and len(b) == 9
    assert pool_stats(a)["kept"] == 4  # loading b did not change what a reports
    assert pool_stats(data.sample_rows(a, 2, seed=0)) == pool_stats(a)  # a sample keeps its pool's counts
    assert dataset_meta(a)["source"] == "fdu:apparel" and dataset_meta(a)["split"] == "unlabeled"
    assert pool_stats(data.load("fdu:apparel", split="test")) is None
    assert describe("fdu:baby")["splits"]["unlabeled"]["pool"] == pool_stats(b)
    assert not hasattr(pools, "POOL_STATS")
