"""Training, segmentation, semantic shift, the CLI and the ``align`` method (known answers on
real text: a planted word swap, and a 'pseudo-language' whose words are renamed English words
with rotated GloVe vectors)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import ortho_group

from nlpta import data
from nlpta.embeddings import evaluate_bli, keyed_vectors, load_vectors, save_vectors
from nlpta.embeddings.shift import semantic_shift
from nlpta.embeddings.train import dataset_sentences, tokenize, train_vectors
from nlpta.errors import NlptaError

pytestmark = pytest.mark.data


def _pseudo(kv, suffix="zz", seed=1):
    R = ortho_group.rvs(kv.vector_size, random_state=seed).astype(np.float32)
    noise = np.random.default_rng(seed).normal(0, 0.05, kv.vectors.shape).astype(np.float32)
    return keyed_vectors([w + suffix for w in kv.index_to_key], kv.vectors @ R + noise)


@pytest.fixture(scope="module")
def ewt(data_root):
    return dataset_sentences(data.load("ud:en_ewt", split="train"))


def test_tokenize():
    assert tokenize("Don't pay $3.50, it's BAD!") == ["don't", "pay", "$", "3.50", ",", "it's", "bad", "!"]
    vocab = {"完成", "ほど", "の", "度", "驚", "く"}
    assert tokenize("驚くほどの完成度", lang="ja", vocab=vocab) == ["驚", "く", "ほど", "の", "完成", "度"]
    assert tokenize("アップル 信者", lang="ja", vocab=set()) == ["アップル", "信", "者"]


def test_training_is_seeded_and_fasttext_handles_oov(ewt):
    a = train_vectors(ewt[:1500], vector_size=20, epochs=2, seed=3, progress=False)
    b = train_vectors(ewt[:1500], vector_size=20, epochs=2, seed=3, progress=False)
    c = train_vectors(ewt[:1500], vector_size=20, epochs=2, seed=4, progress=False)
    assert a.index_to_key[:5] == [".", "the", ",", "to", "i"] or a.index_to_key[0] in {".", "the", ","}
    np.testing.assert_array_equal(a.vectors, b.vectors)  # workers=1: exact repeat
    assert not np.allclose(a.vectors, c.vectors)
    ft = train_vectors(ewt[:800], algo="fasttext", vector_size=20, epochs=1, seed=0, progress=False)
    assert ft["unseenwordxyz"].shape == (20,)
    with pytest.raises(NlptaError, match="unknown algorithm"):
        train_vectors(ewt[:10], algo="glove")


def test_semantic_shift_finds_a_planted_swap(ewt):
    """Target = the same text with 'good' and 'time' swapped: those two words shift most (the
    default averages 3 runs: one run alone is not stable across machines, see below)."""
    src = ewt[:6000]
    swap = {"good": "time", "time": "good"}
    tgt = [[swap.get(t, t) for t in s] for s in src]
    df = semantic_shift(src, tgt, min_count=20, seed=0, vector_size=50, epochs=5, domain_epochs=10)
    assert list(df.columns) == ["word", "shift", "shift_sd", "source_count", "target_count", "source_neighbors",
                                "target_neighbors"]
    top = set(df["word"].head(6))
    assert {"good", "time"} <= top, df.head(10)


def test_cli_align_writes_bli(tmp_path, capsys):
    from nlpta.cli import main

    g = load_vectors("glove-6b-50d", limit=3000)
    save_vectors(g, tmp_path / "en.vec")
    save_vectors(_pseudo(g), tmp_path / "xx.bin", "word2vec-binary")
    (tmp_path / "train.txt").write_text("".join(f"{w} {w}zz\n" for w in g.index_to_key[:1000]), encoding="utf-8")
    (tmp_path / "test.txt").write_text("".join(f"{w} {w}zz\n" for w in g.index_to_key[1500:2500]), encoding="utf-8")
    rc = main(["align", "--src", str(tmp_path / "en.vec"), "--tgt", str(tmp_path / "xx.bin"), "--dict",
               str(tmp_path / "train.txt"), "--test-dict", str(tmp_path / "test.txt"), "--method", "procrustes",
               "--out", str(tmp_path / "out")])
    assert rc == 0
    r = json.loads((tmp_path / "out" / "bli.json").read_text())
    assert set(r) >= {"p_at_1", "p_at_5", "p_at_10", "coverage", "retrieval", "method", "seconds"}
    assert r["p_at_1"] > 95 and r["coverage"] == 100.0
    mapped = load_vectors(tmp_path / "out" / "src.mapped.vec")
    assert len(mapped) == 3000
    assert main(["align", "--src", str(tmp_path / "en.vec"), "--tgt", str(tmp_path / "xx.bin"),
                 "--method", "refine", "--out", str(tmp_path / "o2")]) == 2


def test_cli_embed_train(tmp_path):
    from nlpta.cli import main

    out = tmp_path / "v.bin"
    assert main(["embed", "train", "--corpus", "ud:en_pud", "--algo", "word2vec", "--dim", "16", "--epochs", "1",
                 "--out", str(out)]) == 0
    kv = load_vectors(out)
    assert kv.vector_size == 16 and "the" in kv.key_to_index


def _task(kind, source, target):
    from nlpta.tasks import TransferTask

    t = TransferTask.__new__(TransferTask)
    t.kind, t.source, t.target, t.unlabeled, t.target_labeled = kind, source, target, None, None
    return t


def _rename(ds, col):
    def f(r):
        if col == "text":
            r["text"] = " ".join(w + "zz" for w in tokenize(r["text"]))
        else:
            r["tokens"] = [w + "zz" for w in r["tokens"]]
        r["lang"] = "xx"
        return r

    return ds.map(f)


@pytest.fixture(scope="module")
def pseudo_vectors(tmp_path_factory):
    d = tmp_path_factory.mktemp("vec")
    g = load_vectors("glove-6b-50d", limit=8000)
    save_vectors(g, d / "en.npz", "npz")
    save_vectors(_pseudo(g), d / "xx.npz", "npz")
    (d / "dict.txt").write_text("".join(f"{w} {w}zz\n" for w in g.index_to_key[:5000]), encoding="utf-8")
    return d


def test_align_method_sentiment_pseudo_language(pseudo_vectors):
    """English reviews -> the same reviews in a renamed 'language' with rotated, noised vectors:
    the aligned classifier keeps its English accuracy."""
    from nlpta.methods import get_method

    src = data.load("mdsd:books", split="train", split_seed=1).shuffle(seed=0).select(range(600))
    test = data.load("mdsd:books", split="test", split_seed=1).select(range(300))
    task = _task("sentiment", src, _rename(test, "text"))
    d = pseudo_vectors
    kw = {"src_vectors": str(d / "en.npz"), "tgt_vectors": str(d / "xx.npz"), "dictionary": str(d / "dict.txt")}
    accs = {}
    for al in ("procrustes", "refine"):
        m = get_method("align", "sentiment", seed=0, alignment=al, refine_vocab=3000, Cs=[1.0, 10.0], **kw).fit(task)
        accs[al] = np.mean(np.array(m.predict(task.target)) == np.array(test["label"]))
        accs[al + " (English test)"] = np.mean(np.array(m.predict(test)) == np.array(test["label"]))
        assert abs(accs[al] - accs[al + " (English test)"]) < 0.04, accs
    assert accs["procrustes (English test)"] > 0.6, accs
    assert abs(accs["procrustes"] - accs["refine"]) < 0.03, accs


def test_align_method_pos_pseudo_language(pseudo_vectors, tmp_path):
    from nlpta.methods import get_method

    src = data.load("ud:en_ewt", split="train").select(range(800))
    test = data.load("ud:en_ewt", split="test").select(range(200))
    task = _task("pos", src, _rename(test, "tokens"))
    d = pseudo_vectors
    m = get_method("align", "pos", seed=0, src_vectors=str(d / "en.npz"), tgt_vectors=str(d / "xx.npz"),
                   dictionary=str(d / "dict.txt"), alignment="procrustes", pos_dims=32, max_iter=100).fit(task)
    gold = np.array([t for s in test["upos"] for t in s])
    acc = {name: np.mean(np.array([t for s in m.predict(ds) for t in s]) == gold)
           for name, ds in (("xx", task.target), ("en", test))}
    assert acc["en"] > 0.6 and abs(acc["xx"] - acc["en"]) < 0.03, acc
    m.save(tmp_path / "m")
    assert (tmp_path / "m" / "align.json").is_file() and (tmp_path / "m" / "vectors.xx.npz").is_file()
    with pytest.raises(NlptaError, match="one language"):
        m.predict(data.load("ud:en_ewt", split="test").select(range(3)).map(lambda r: r).add_column("x", [1, 2, 3])
                  .remove_columns("lang").add_column("lang", ["en", "de", "en"]))


def test_bli_known_answer_rotated_glove():
    g = load_vectors("glove-6b-50d", limit=2000)
    x = _pseudo(g)
    pairs = [(w, w + "zz") for w in g.index_to_key[1000:]]
    assert evaluate_bli(g, x, pairs, retrieval="nn")["p_at_1"] < 5  # unaligned: chance


def test_context_bias_unlabeled_mode_with_embeddings(data_root):
    """The context-bias evaluator's unlabeled mode ranks by semantic shift with an injected
    ``scorer=shift_scorer(...)``: the planted swap of 'good' and 'time' comes out on top.

    One training run puts them anywhere in the top 20 (its float order differs between machines,
    so a one-run test passed on one machine and failed on another); averaged over 5 runs both
    were in the top 3 for every seed group tried (seeds 0-4 and 5-9)."""
    from nlpta.embeddings.shift import shift_scorer
    from nlpta.evaluators import context_bias

    src = data.load("ud:en_ewt", split="train").select(range(6000))
    swap = {"good": "time", "time": "good"}
    tgt = src.map(lambda r: {"tokens": [swap.get(t.lower(), t) for t in r["tokens"]]})
    df = context_bias(src, tgt, mode="unlabeled", scorer=shift_scorer(min_count=20, seed=0, n_runs=5), min_count=20)
    assert set(df["mode"]) == {"unlabeled-scorer"} and df["p_value"].isna().all()
    assert (df["n_source"] >= 20).all() and (df["n_target"] >= 20).all()
    assert list(df["divergence"]) == sorted(df["divergence"], reverse=True)
    assert {"good", "time"} <= set(df["feature"].head(6)), df.head(10)
