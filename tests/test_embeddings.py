"""Loaders, alignment and BLI: known-answer tests (a real space and a rotated, noised copy)."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from nlpta.embeddings import (
    EmbeddingAligner,
    VectorFormatError,
    evaluate_bli,
    keyed_vectors,
    load_dictionary,
    load_vectors,
    save_vectors,
)
from nlpta.errors import FormatError, NlptaError


@pytest.fixture(scope="module")
def glove():
    return load_vectors("glove-6b-50d", limit=3000)


def _rotated(kv, noise: float, shared_every: int = 20, seed: int = 1):
    """A randomly rotated, noised copy of ``kv`` whose words are renamed except every
    ``shared_every``-th one (those stay identical strings)."""
    from scipy.stats import ortho_group

    rng = np.random.default_rng(seed)
    R = ortho_group.rvs(kv.vector_size, random_state=seed).astype(np.float32)
    scale = float(np.abs(kv.vectors).mean())
    V = kv.vectors @ R + rng.normal(0, noise * scale, kv.vectors.shape).astype(np.float32)
    words = [w if i % shared_every == 0 else "T_" + w for i, w in enumerate(kv.index_to_key)]
    return keyed_vectors(words, V), dict(zip(kv.index_to_key, words, strict=True))


def test_glove_package_loads(glove):
    assert glove.vector_size == 50 and len(glove) == 3000
    assert glove.index_to_key[:3] == ["the", ",", "."]
    assert glove.most_similar("king", topn=10)[0][0] in {"queen", "prince", "kings", "throne", "son"}


@pytest.mark.parametrize("fmt,name", [("word2vec", "v.txt"), ("glove", "v.glove.txt"),
                                      ("word2vec-binary", "v.bin"), ("npz", "v.npz"), ("word2vec", "v.vec.gz")])
def test_round_trip_formats(tmp_path, glove, fmt, name):
    kv = keyed_vectors(glove.index_to_key[:200], glove.vectors[:200])
    p = tmp_path / name
    if name.endswith(".gz"):
        save_vectors(kv, tmp_path / "plain.vec", fmt)
        p.write_bytes(gzip.compress((tmp_path / "plain.vec").read_bytes()))
    else:
        save_vectors(kv, p, fmt)
    back = load_vectors(p)  # the format is sniffed
    assert back.index_to_key == kv.index_to_key
    np.testing.assert_allclose(back.vectors, kv.vectors, rtol=1e-5, atol=1e-5)
    assert len(load_vectors(p, limit=10)) == 10


def test_gensim_reads_our_files(tmp_path, glove):
    from gensim.models import KeyedVectors

    kv = keyed_vectors(glove.index_to_key[:50], glove.vectors[:50])
    save_vectors(kv, tmp_path / "a.bin", "word2vec-binary")
    g = KeyedVectors.load_word2vec_format(tmp_path / "a.bin", binary=True)
    np.testing.assert_allclose(g["the"], kv["the"], rtol=1e-6)


def test_malformed_vector_files_name_file_and_line(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_text("3 4\na 1 2 3 4\nb 1 2 3\nc 1 2 3 4\n", encoding="utf-8")
    with pytest.raises(VectorFormatError, match=r"bad.txt:3: .*expected 4 numbers after the word 'b', got 3") as e:
        load_vectors(p)
    assert e.value.code == "E402" and isinstance(e.value, FormatError)
    p.write_text("a 1 2 x\n", encoding="utf-8")
    with pytest.raises(VectorFormatError, match=r":1: .*expected a word followed by numbers"):
        load_vectors(p, fmt="glove")
    p.write_bytes(b"2 3\nab \x00\x00")
    with pytest.raises(VectorFormatError, match="truncated"):
        load_vectors(p, fmt="word2vec-binary")
    with pytest.raises(NlptaError, match="not found"):
        load_vectors(tmp_path / "missing.vec")


def test_dictionary_errors(tmp_path):
    p = tmp_path / "d.txt"
    p.write_text("cat chat\ndog\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"d.txt:2: .*expected 'source target'"):
        load_dictionary(p)


@pytest.mark.parametrize("method", ["procrustes", "refine", "identical", "unsupervised"])
def test_rotation_known_answer(glove, method):
    """Every method recovers a random rotation (P@1 ~ 100%) of a real space plus noise."""
    src = keyed_vectors(glove.index_to_key[:2000], glove.vectors[:2000])
    tgt, name = _rotated(src, noise=0.1)
    words = src.index_to_key
    train = [(w, name[w]) for w in words[:500]]
    test = [(w, name[w]) for w in words[1000:2000]]
    al = EmbeddingAligner(method=method, refine_vocab=2000, init_vocab=2000, n_refine=3)
    al.fit(src, tgt, train if method in ("procrustes", "refine") else None)
    S, T = al.transform_source(src), al.transform_target(tgt)
    for retrieval in ("csls", "nn"):
        r = evaluate_bli(S, T, test, retrieval=retrieval)
        assert r["coverage"] == 100.0
        assert r["p_at_1"] >= 97.0, (method, retrieval, r)


def test_unrotated_baseline_fails_and_dims_differ(glove):
    """Without a map, retrieval is at chance; with a 50d -> 30d random linear map, CCA still recovers."""
    src = keyed_vectors(glove.index_to_key[:2000], glove.vectors[:2000])
    tgt, name = _rotated(src, noise=0.05)
    test = [(w, name[w]) for w in src.index_to_key[1000:2000]]
    assert evaluate_bli(src, tgt, test, retrieval="nn")["p_at_1"] < 5
    rng = np.random.default_rng(0)
    low = keyed_vectors(tgt.index_to_key, tgt.vectors @ rng.normal(size=(50, 45)).astype(np.float32))
    train = [(w, name[w]) for w in src.index_to_key[:1000]]
    with pytest.raises(NlptaError, match="equal dimensions"):
        EmbeddingAligner(map="orthogonal").fit(src, low, train)
    for m in ("cca", "linear"):
        al = EmbeddingAligner(method="procrustes", map=m, normalize=("center",)).fit(src, low, train)
        assert al.map_ == m
        r = evaluate_bli(al.transform_source(src), al.transform_target(low), test, retrieval="csls")
        assert r["p_at_1"] >= 80, (m, r)


def test_coverage_counts_missing_words(glove):
    src = keyed_vectors(glove.index_to_key[:100], glove.vectors[:100])
    pairs = [(w, w) for w in src.index_to_key[:50]] + [("zzzqx", "the"), ("the", "zzzqy")]
    r = evaluate_bli(src, src, pairs, retrieval="nn")
    assert r["n_test"] == 51 and r["n_covered"] == 50 and r["p_at_1"] == 100.0


@pytest.mark.slow
def test_spacy_pipeline_vectors():
    kv = load_vectors("spacy:fr_core_news_md")
    assert kv.vector_size == 300 and len(kv) == 20000  # one word per vector row
    assert kv.index_to_key[:2] == [",", "de"]
    assert {"prince", "monarque", "empereur"} & {w for w, _ in kv.most_similar("roi", topn=5)}
    with pytest.raises(NlptaError, match="not installed"):
        load_vectors("spacy:xx_no_such_pipeline")
