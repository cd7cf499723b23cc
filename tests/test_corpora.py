"""Tests on the real corpora under the data root (``NLPTA_DATA`` or ``../shared/data``).

Every test here is marked ``data`` and needs the ``data_root`` fixture (conftest.py): without the
corpora the tests skip, or fail under ``NLPTA_REQUIRE_DATA=1``. Datasets are loaded once per
(name, split, options) through :func:`_load`, so Brown (~12 s) is read a single time.
"""

from __future__ import annotations

import functools
from collections import Counter

import pytest

import nlpta.data.api as api
from nlpta.data import (
    POS_FEATURES,
    REGISTRY,
    SENTIMENT_FEATURES,
    UPOS_TAGS,
    list_corpora,
    load,
)
from nlpta.data.pools import KEY_CHARS, normalize, pool_stats
from nlpta.data.registry import MDSD_DOMAINS, WEBIS_DOMAINS

pytestmark = [pytest.mark.data, pytest.mark.usefixtures("data_root")]

@functools.cache
def _load(name: str, split: str | None = None, **options):
    """``nlpta.data.load`` memoized for this module (its own cache keeps only 48 datasets)."""
    return load(name, split=split, **options)


def _col(ds, column: str) -> list:
    """A column as a Python list, straight from the Arrow table (``ds[column]`` is much slower)."""
    return ds.data.column(column).to_pylist()


def _default_split(name: str) -> str | None:
    """``None`` (all labeled splits), or the only split of a one-split corpus (same rows)."""
    splits = REGISTRY[name].splits
    return splits[0] if len(splits) == 1 else None


ALL_NAMES = list_corpora()
POS_NAMES = [n for n in ALL_NAMES if REGISTRY[n].task == "pos"]
EXPECTED = sorted((n, s, c) for n, corpus in REGISTRY.items() for s, c in corpus.expected.items())
PUD_NAMES = [n for n in ALL_NAMES if n.startswith("ud:") and n.endswith("_pud")]


# ----------------------------------------------------------------------------- the registry
def test_list_corpora_has_the_catalogue():
    must = {
        "ud:en_ewt", "ud:en_gum", "ud:de_gsd", "ud:fr_sequoia", "ud:de_pud", "tweebank", "brown",
        "mdsd:books", "webis:de/books", "fdu:apparel", "sst2",
    }  # fmt: skip
    assert must <= set(list_corpora())
    assert must <= set(list_corpora(available_only=True))
    assert set(list_corpora(task="pos")) >= {"ud:en_ewt", "brown", "tweebank"}
    assert "mdsd:books" not in list_corpora(task="pos")
    assert len(PUD_NAMES) == 15


# ------------------------------------------------------------------------- expected counts
@pytest.mark.parametrize(
    "name, split, count",
    EXPECTED,
)
def test_expected_row_count(name, split, count):
    ds = _load(name, split)
    assert len(ds) == count


# ------------------------------------------------------------ every available corpus loads
@pytest.mark.parametrize("name", ALL_NAMES)
def test_corpus_loads(name, require_corpus):
    corpus = require_corpus(name)
    ds = _load(name, _default_split(name))
    assert len(ds) > 0
    features = POS_FEATURES if corpus.task == "pos" else SENTIMENT_FEATURES
    assert ds.features == features
    assert set(ds.unique("lang")) == {corpus.lang}
    domains = set(ds.unique("domain"))
    assert "" not in domains
    if corpus.domains:
        assert domains <= set(corpus.domains)
    if corpus.task == "sentiment":
        assert set(ds.unique("label")) == {0, 1}  # the default splits are labeled, both classes present


@pytest.mark.parametrize("name", ALL_NAMES)
def test_row_ids_unique(name, require_corpus):
    require_corpus(name)
    ids = _col(_load(name, _default_split(name)), "id")
    dup = [i for i, n in Counter(ids).items() if n > 1]
    assert not dup, f"{len(dup)} repeated ids, e.g. {dup[:3]}"


# ---------------------------------------------------------------------------------- POS rows
@pytest.mark.parametrize("name", POS_NAMES)
def test_pos_rows_are_aligned_upos(name, require_corpus):
    require_corpus(name)
    ds = _load(name, _default_split(name))
    allowed = set(UPOS_TAGS)
    bad = []
    columns = (_col(ds, c) for c in ("id", "tokens", "upos", "xpos"))
    for rid, toks, upos, xpos in zip(*columns, strict=True):
        if not toks or len(toks) != len(upos) or not set(upos) <= allowed or len(xpos) not in (0, len(toks)):
            bad.append(rid)
    assert not bad, f"{len(bad)} rows with empty/misaligned tokens or non-UPOS tags, e.g. {bad[:3]}"


def test_ewt_train_genres():
    counts = Counter(_col(_load("ud:en_ewt", "train"), "domain"))
    assert counts == {"answers": 2631, "email": 3770, "newsgroup": 1833, "reviews": 2725, "weblog": 1585}


def test_ewt_domain_filter():
    ds = load("ud:en_ewt", split="train", domain=["email", "weblog"])
    assert len(ds) == 3770 + 1585
    assert set(ds["domain"]) == {"email", "weblog"}


def test_gum_train_has_15_genres():
    genres = Counter(_col(_load("ud:en_gum", "train"), "domain"))
    assert len(genres) == 15
    assert set(genres) == set(REGISTRY["ud:en_gum"].domains)
    assert "academic" in genres and "whow" in genres


@pytest.mark.parametrize("split", ["train", "dev", "test"])
def test_sequoia_domains(split):
    assert set(_load("ud:fr_sequoia", split).unique("domain")) == {"europarl", "medical", "news", "wiki"}


@pytest.mark.parametrize("name", PUD_NAMES)
def test_pud_news_and_wiki(name):
    assert Counter(_col(_load(name, "test"), "domain")) == {"news": 500, "wiki": 500}


def test_brown_categories():
    ds = _load("brown", "all")
    cats = Counter(_col(ds, "domain"))
    assert set(cats) == set(REGISTRY["brown"].domains) and len(cats) == 15
    assert cats["news"] == 4623  # NLTK's Brown news category
    # the 12-tag universal set maps to these 12 UPOS tags, never PROPN/AUX/SCONJ/INTJ/SYM
    tags = set(ds.data.column("upos").combine_chunks().flatten().unique().to_pylist())
    assert tags <= set(UPOS_TAGS) - {"PROPN", "AUX", "SCONJ", "INTJ", "SYM"}


# ----------------------------------------------------------------------------- Blitzer MDSD
@pytest.mark.parametrize("domain", MDSD_DOMAINS)
def test_mdsd_split_sizes_and_disjoint(domain):
    name = f"mdsd:{domain}"
    train, test, every = _load(name, "train"), _load(name, "test"), _load(name, "all")
    assert (len(train), len(test), len(every)) == (1600, 400, 2000)
    assert Counter(train["label"]) == {0: 800, 1: 800}
    assert Counter(test["label"]) == {0: 200, 1: 200}
    tr, te = set(train["id"]), set(test["id"])
    assert len(tr) == 1600 and len(te) == 400
    assert not tr & te
    assert tr | te == set(every["id"])
    assert set(train.unique("domain")) == set(test.unique("domain")) == {domain}


@pytest.mark.parametrize("domain", MDSD_DOMAINS)
def test_mdsd_split_seed(domain, monkeypatch):
    name = f"mdsd:{domain}"
    test1 = _load(name, "test", split_seed=1)
    test2 = _load(name, "test", split_seed=2)
    assert set(test1["id"]) != set(test2["id"])
    assert set(_load(name, "train", split_seed=1)["id"]) != set(_load(name, "train", split_seed=2)["id"])
    assert not set(test1["id"]) & set(_load(name, "train", split_seed=1)["id"])
    monkeypatch.setattr(api, "_CACHE", {})  # read the files again, not load()'s cached dataset
    again = load(name, split="test", split_seed=1)
    assert again is not test1
    assert list(again["id"]) == list(test1["id"])
    assert list(again["text"]) == list(test1["text"])


def _starts_or_ends_like(labeled: list[str]):
    """An index of labeled reviews, independent of pools.ReviewIndex: a normalized text matches if
    it equals one, or shares its first or last KEY_CHARS characters (the whole review if shorter)."""
    full: set[str] = set()
    heads: dict[int, set[str]] = {}
    tails: dict[int, set[str]] = {}
    for t in labeled:
        n = normalize(t)
        full.add(n)
        if len(n) >= 20:
            k = min(len(n), KEY_CHARS)
            heads.setdefault(k, set()).add(n[:k])
            tails.setdefault(k, set()).add(n[-k:])

    def match(text: str) -> bool:
        n = normalize(text)
        return n in full or any(n[:k] in s for k, s in heads.items() if len(n) >= k) or any(
            n[-k:] in s for k, s in tails.items() if len(n) >= k
        )

    return match


@pytest.mark.parametrize("domain", MDSD_DOMAINS)
def test_mdsd_unlabeled_pool_has_no_labeled_review(domain):
    name = f"mdsd:{domain}"
    pool = _load(name, "unlabeled")
    labeled = _col(_load(name, "all"), "text") + _col(_load(name, "all", with_title=False), "text")
    stats = pool_stats(pool)
    assert stats["removed_labeled"] > 0
    assert stats["kept"] == len(pool) > 1000
    read = sum(stats.get(src, 0) for src in ("hatn", "fdu"))
    assert read == stats["kept"] + stats["removed_labeled"] + stats["removed_duplicate"]
    assert set(pool.unique("label")) == {-1}
    assert len(pool.unique("id")) == len(pool)
    texts = _col(pool, "text")
    match = _starts_or_ends_like(labeled)
    leaked = [t for t in texts if match(t)]
    assert not leaked, f"{len(leaked)} pool reviews match labeled ones, e.g. {leaked[0][:80]!r}"
    assert len({normalize(t)[-KEY_CHARS:] for t in texts}) == len(pool)  # no duplicates


@pytest.mark.parametrize("domain", ["books", "electronics", "apparel"])
def test_fdu_unlabeled_pool_has_no_test_review(domain):
    name = f"fdu:{domain}"
    pool = _load(name, "unlabeled")
    stats = pool_stats(pool)
    assert stats["removed_labeled"] > 0 and stats["kept"] == len(pool)
    assert stats["fdu"] == stats["kept"] + stats["removed_labeled"] + stats["removed_duplicate"]
    match = _starts_or_ends_like(_col(_load(name, "test"), "text"))
    assert not [t for t in _col(pool, "text") if match(t)]


def test_mdsd_unlabeled_not_in_default_split():
    assert REGISTRY["mdsd:books"].default_splits == ("all",)
    assert set(_load("mdsd:books", "all").unique("label")) == {0, 1}


# ---------------------------------------------------------------------------- Webis-CLS-10
@pytest.mark.parametrize("domain", WEBIS_DOMAINS)
def test_webis_jp_is_japanese(domain):
    for split in ("train", "test"):
        ds = _load(f"webis:jp/{domain}", split)
        assert set(ds.unique("lang")) == {"ja"}
        assert Counter(_col(ds, "label")) == {0: 1000, 1: 1000}
    alias = load(f"webis:ja/{domain}", split="test")
    assert list(alias["id"]) == list(_load(f"webis:jp/{domain}", "test")["id"])


def test_webis_unlabeled_is_not_available():
    from nlpta.errors import NlptaError

    with pytest.raises(NlptaError, match="no split 'unlabeled'"):
        load("webis:de/books", split="unlabeled")
