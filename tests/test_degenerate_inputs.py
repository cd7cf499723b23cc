"""Degenerate inputs to every classical method (issue 18, "nothing silently wrong"): too few rows, a
single class, empty texts end in an NlptaError that says what is there and what is needed (never a
raw scikit-learn error); adaptation never reads the target test rows; fit reports (the weights'
effective sample size) and the domain-separability check give known answers.

Tasks are built in memory from tiny inline samples (no corpus is read)."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

import nlpta
from nlpta.data import pos_dataset, sentiment_dataset
from nlpta.errors import NlptaError
from nlpta.evaluators.domain import SEPARABLE_ACCURACY, domain_separability
from nlpta.methods import METHODS, get_method
from nlpta.methods.finetune import _Transformer
from nlpta.methods.registry import Method
from nlpta.methods.reweighting import ESS_WARN_SHARE
from nlpta.tasks import DataSpec, TaskSpec, TransferTask

CLASSICAL = sorted(n for n, c in METHODS.items() if not issubclass(c, _Transformer))
MULTI_SOURCE = {"ms-weighted", "ms-ensemble"}
CROSS_LANGUAGE = {"cl-scl", "dict-translate", "align"}
# methods that adapt with target unlabeled rows (and refuse a task without them)
NEEDS_UNLABELED = {"reweight-clf", "kmm", "kliep", "ms-weighted", "ms-ensemble", "scl", "scl-mi", "sfa", "cl-scl",
                   "dann"}

POSITIVE = "good great fine nice excellent love lovely superb".split()
NEGATIVE = "bad awful poor terrible hate boring worse dull".split()
GERMAN = {1: ["gut", "toll"], 0: ["schlecht", "schrecklich"]}


def test_the_method_lists_cover_the_registry():
    assert {"none", "in-domain", "reweight-clf", "kmm", "kliep", "scl", "sfa", "dann", "align"} <= set(CLASSICAL)
    assert not {"lora", "full-ft", "lora-dann"} & set(CLASSICAL)
    assert NEEDS_UNLABELED <= set(CLASSICAL)


# ------------------------------------------------------------------------------ tiny tasks
def senti(n: int, label: int | None = None, *, lang: str = "en", domain: str = "books", empty: bool = False,
          seed: int = 0, domains: tuple[str, ...] | None = None):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        y = i % 2 if label is None else label
        words = GERMAN[y] if lang == "de" else (POSITIVE if y else NEGATIVE)
        text = "" if empty else " ".join(rng.choice(words) for _ in range(6)) + (" buch" if lang == "de" else " book")
        rows.append({"id": f"{domain}{i}", "text": text, "label": y, "lang": lang,
                     "domain": domains[(i // 2) % len(domains)] if domains else domain})
    return sentiment_dataset(rows)


def pos(n: int, *, empty: bool = False, one_token: bool = False, lang: str = "en", domain: str = "email",
        seed: int = 0, domains: tuple[str, ...] | None = None):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        if empty:
            toks, tags = [], []
        elif one_token:
            toks, tags = ["."], ["PUNCT"]
        else:
            toks = ["the", rng.choice(["dog", "cat", "man", "book"]), rng.choice(["runs", "sleeps", "reads"]), "."]
            tags = ["DET", "NOUN", "VERB", "PUNCT"]
        rows.append({"id": str(i), "tokens": toks, "upos": tags, "lang": lang,
                     "domain": domains[i % len(domains)] if domains else domain})
    return pos_dataset(rows)


def make_task(kind: str, source, target, unlabeled=None, target_labeled=None) -> TransferTask:
    """A TransferTask over in-memory datasets (what TransferTask(spec) holds after loading)."""
    t = object.__new__(TransferTask)
    t.spec = TaskSpec(name="tiny", task=kind, source=DataSpec("tiny-source"), target=DataSpec("tiny-target"))
    t.seed, t.kind = 1, kind
    t.source, t.target, t.unlabeled, t.target_labeled = source, target, unlabeled, target_labeled
    return t


@pytest.fixture(scope="module")
def resources(tmp_path_factory):
    """A tiny en-de dictionary (both directions) and tiny word2vec text files for ``align``."""
    d = tmp_path_factory.mktemp("lexica")
    pairs = [("good", "gut"), ("great", "toll"), ("bad", "schlecht"), ("awful", "schrecklich"), ("book", "buch")]
    (d / "en-de.txt").write_text("".join(f"{a} {b}\n" for a, b in pairs), encoding="utf-8")
    (d / "de-en.txt").write_text("".join(f"{b} {a}\n" for a, b in pairs), encoding="utf-8")
    rng = np.random.default_rng(0)
    for name, words in (("en", POSITIVE + NEGATIVE + ["book", "the", "dog", "cat", "man", "runs", "sleeps", "reads",
                                                      "."]),
                        ("de", [w for ws in GERMAN.values() for w in ws] + ["buch", "der", "hund"])):
        lines = [f"{len(words)} 8"] + [w + " " + " ".join(f"{x:.4f}" for x in rng.normal(size=8)) for w in words]
        (d / f"{name}.vec").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return d


def params(name: str, res) -> dict:
    return {"dann": {"epochs": 2},
            "cl-scl": {"dictionary": str(res / "en-de.txt"), "min_count": 2, "n_pivots": 4, "h": 2},
            "dict-translate": {"dictionary": str(res / "de-en.txt")},
            "align": {"src_vectors": str(res / "en.vec"), "tgt_vectors": str(res / "de.vec"),
                      "dictionary": str(res / "en-de.txt"), "alignment": "procrustes", "refine_vocab": 10}}.get(name, {})


def sentiment_task(name: str, source, *, unlabeled="default"):
    """The method's sentiment task with ``source`` as its labeled training rows."""
    de = name in CROSS_LANGUAGE
    target = senti(12, lang="de" if de else "en", domain="kitchen", seed=5)
    unl = senti(30, lang="de" if de else "en", domain="kitchen", seed=6) if unlabeled == "default" else unlabeled
    if name == "in-domain":  # trains on the target labeled set
        return make_task("sentiment", senti(20), target, unl, target_labeled=source)
    return make_task("sentiment", source, target, unl)


def pos_task(name: str, source, *, unlabeled="default"):
    target = pos(6, lang="de" if name == "align" else "en", domain="reviews", seed=3)
    unl = pos(12, domain="reviews", seed=4) if unlabeled == "default" else unlabeled
    if name == "in-domain":
        return make_task("pos", pos(10), target, unl, target_labeled=source)
    return make_task("pos", source, target, unl)


def _sentiment_source(name: str, case: str):
    doms = ("books", "dvd") if name in MULTI_SOURCE else None
    return {"2 rows": senti(2, domains=doms), "5 rows of one class": senti(5, label=1, domains=doms),
            "empty texts": senti(10, empty=True, domains=doms)}[case]


# ------------------------------------------------------------------------------ 9a degenerate sizes
SENTIMENT_CASES = ("2 rows", "5 rows of one class", "empty texts")
# documented: the shallow DANN has no C search, so one labeled row of each class trains it
FITS = {("dann", "2 rows")}


@pytest.mark.parametrize("case", SENTIMENT_CASES)
@pytest.mark.parametrize("name", [n for n in CLASSICAL if "sentiment" in METHODS[n].tasks])
def test_degenerate_sentiment_sources_are_refused_with_counts(name, case, resources):
    task = sentiment_task(name, _sentiment_source(name, case))
    m = get_method(name, "sentiment", seed=1, **params(name, resources))
    if (name, case) in FITS:
        pred = m.fit(task).predict(task.target)
        assert len(pred) == len(task.target) and set(pred) <= {0, 1}
        return
    with pytest.raises(NlptaError) as e:
        m.fit(task)
    msg = str(e.value)
    if case == "empty texts":
        assert e.value.code == "E327" and "10 rows" in msg and "empty" in msg, msg
    elif case == "2 rows":
        assert e.value.code == "E326" and "2 rows (1 of class 0, 1 of class 1)" in msg
        assert "at least 2 rows of each class" in msg
    else:
        assert e.value.code == "E326" and "5 rows (5 of class 1)" in msg and "both classes" in msg
    assert repr(name) in msg  # the message names the method


@pytest.mark.parametrize("name", [n for n in CLASSICAL if "pos" in METHODS[n].tasks])
def test_degenerate_pos_sources(name, resources):
    m = get_method(name, "pos", seed=1, **params(name, resources))
    doms = ("email", "answers") if name in MULTI_SOURCE else None
    with pytest.raises(NlptaError) as e:  # empty token lists
        m.fit(pos_task(name, pos(5, empty=True, domains=doms)))
    assert e.value.code == "E327" and "5 sentences and none holds a token" in str(e.value)
    with pytest.raises(NlptaError) as e:  # one tag only
        m.fit(pos_task(name, pos(3, one_token=True, domains=doms)))
    assert e.value.code == "E326" and "3 sentences (3 tokens), all tagged 'PUNCT'" in str(e.value)
    # one sentence: the taggers train on its 4 tokens (documented); methods that need more say so
    task = pos_task(name, pos(1))
    try:
        m.fit(task)
    except NlptaError as err:
        assert name in {"reweight-clf", "scl", "ms-weighted", "ms-ensemble", "label-shift"}, f"{name}: {err}"
        assert any(s in str(err) for s in ("1 source", "source rows 4", "two or more domains")), str(err)
    else:
        pred = m.predict(task.target)
        assert [len(p) for p in pred] == [len(t) for t in task.target["tokens"]]


def test_few_rows_per_class_shrink_the_cv_folds():
    """Documented: C is chosen over min(cv, rows of the smallest class) folds, so 2 rows of each
    class give 2-fold CV instead of an error."""
    task = make_task("sentiment", senti(4), senti(6, seed=5))
    m = get_method("none", "sentiment", seed=1).fit(task)
    assert len(m.model_.cv_scores_) == 4 and len(m.predict(task.target)) == 6


# ------------------------------------------------------------------------------ 9b no leaks
@pytest.mark.parametrize("name", sorted(NEEDS_UNLABELED))
def test_methods_that_adapt_refuse_a_task_without_unlabeled_rows(name, resources):
    kind = "sentiment" if "sentiment" in METHODS[name].tasks else "pos"
    build, src = (sentiment_task, senti(20, domains=("books", "dvd") if name in MULTI_SOURCE else None))
    for unl, code in ((None, "E306"), ("empty", "E328")):
        if unl == "empty":
            unl = senti(30, lang="de" if name in CROSS_LANGUAGE else "en").select([])
        with pytest.raises(NlptaError) as e:
            get_method(name, kind, seed=1, **params(name, resources)).fit(build(name, src, unlabeled=unl))
        assert e.value.code == code and "unlabeled" in str(e.value)
    if "pos" in METHODS[name].tasks:
        src = pos(10, domains=("email", "answers") if name in MULTI_SOURCE else None)
        with pytest.raises(NlptaError) as e:
            get_method(name, "pos", seed=1).fit(pos_task(name, src, unlabeled=None))
        assert e.value.code == "E306"


class SpyRows:
    """Stands in for the target test rows and records every read (columns, attributes, len)."""

    def __init__(self, ds) -> None:
        self._ds = ds
        self.reads: list[str] = []

    @property
    def column_names(self) -> list[str]:
        return self._ds.column_names

    def __getitem__(self, key):
        self.reads.append(key if isinstance(key, str) else f"[{key!r}]")
        return self._ds[key]

    def __len__(self) -> int:
        self.reads.append("len")
        return len(self._ds)

    def __iter__(self):
        self.reads.append("iter")
        return iter(self._ds)

    def __getattr__(self, name):
        self.reads.append(name)
        return getattr(self._ds, name)


@pytest.mark.parametrize("name", CLASSICAL)
def test_fit_never_reads_the_target_test_rows(name, resources):
    """Only the target rows' ``lang`` column (which language the task is in) may be looked at."""
    for kind in METHODS[name].tasks:
        if kind == "sentiment":
            task = sentiment_task(name, senti(40, domains=("books", "dvd") if name in MULTI_SOURCE else None))
        else:
            task = pos_task(name, pos(30, domains=("email", "answers") if name in MULTI_SOURCE else None))
        spy = SpyRows(task.target)
        task.target = spy
        get_method(name, kind, seed=1, **params(name, resources)).fit(task)
        assert set(spy.reads) <= {"lang"}, f"{name} ({kind}) read the target test rows: {sorted(set(spy.reads))}"


def test_align_without_unlabeled_rows_uses_no_target_idf_and_says_so(resources):
    task = sentiment_task("align", senti(20), unlabeled=None)
    spy = SpyRows(task.target)
    task.target = spy
    m = get_method("align", "sentiment", seed=1, **params("align", resources)).fit(task)
    assert set(spy.reads) <= {"lang"}
    rep = m.fit_report()
    assert rep["target_idf_from"] is None and "no target unlabeled rows" in rep["warnings"][0]
    with_unl = get_method("align", "sentiment", seed=1, **params("align", resources)).fit(sentiment_task("align",
                                                                                                        senti(20)))
    assert with_unl.fit_report() == {"target_idf_from": "unlabeled", "warnings": []}


# ------------------------------------------------------------------------------ 9c fit reports
def _weighted(weights, **info) -> Method:
    m = get_method("kmm", "sentiment", seed=1)
    m.weights_ = np.asarray(weights, dtype=np.float64)
    m.weight_info_ = {"target_rows": 30, "target_from": "unlabeled", **info}
    return m


def test_fit_report_default_is_empty():
    m = get_method("none", "sentiment", seed=1).fit(make_task("sentiment", senti(20), senti(6, seed=5)))
    assert m.fit_report() == {}


def test_ess_of_equal_weights_is_n():
    rep = _weighted(np.full(50, 1.0)).fit_report()
    assert rep["ess"] == pytest.approx(50) and rep["ess_share"] == pytest.approx(1.0) and rep["source_rows"] == 50
    assert rep["weight_min"] == rep["weight_max"] == rep["weight_mean"] == pytest.approx(1.0)
    assert rep["warnings"] == []
    json.dumps(rep)


def test_one_dominant_weight_leaves_ess_near_one_and_warns():
    w = np.r_[1000.0, np.full(99, 1e-3)]
    rep = _weighted(w).fit_report()
    assert rep["ess"] == pytest.approx(1.0, abs=0.01) and rep["ess_share"] < ESS_WARN_SHARE
    assert len(rep["warnings"]) == 1 and "1% of the source rows in play" in rep["warnings"][0]
    assert rep["weight_max"] == 1000.0 and rep["weight_min"] == pytest.approx(1e-3)
    # the threshold is on the share: 12 of 100 rows in play is above it
    w = np.r_[np.full(12, 1.0), np.zeros(88)]
    assert _weighted(w).fit_report()["warnings"] == []


def test_separable_domains_warn_in_the_reweighting_report():
    rep = _weighted(np.ones(10), domain_accuracy=1.0).fit_report()
    assert rep["domain_accuracy"] == 1.0 and any("tells the source rows from the target" in s for s in rep["warnings"])
    assert _weighted(np.ones(10), domain_accuracy=0.7).fit_report()["warnings"] == []


@pytest.mark.parametrize("name", ["reweight-clf", "kliep"])
def test_fit_report_of_a_fitted_and_reloaded_reweighting_method(name, tmp_path):
    task = make_task("sentiment", senti(40), senti(10, domain="kitchen", seed=5),
                     senti(30, domain="kitchen", seed=6))
    m = get_method(name, "sentiment", seed=1).fit(task)
    rep = m.fit_report()
    assert rep["source_rows"] == 40 and 1.0 <= rep["ess"] <= 40 + 1e-9 and rep["target_from"] == "unlabeled"
    assert rep["weight_mean"] == pytest.approx(1.0) and rep["ess_share"] == pytest.approx(rep["ess"] / 40)
    m.save(tmp_path / "m")
    assert nlpta.load_model(tmp_path / "m").fit_report() == json.loads(json.dumps(rep))


# ------------------------------------------------------------------------------ domain separability
def _docs(vocab: list[str], n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(vocab) for _ in range(8)) for _ in range(n)]


def test_identical_domains_are_not_separable():
    vocab = [f"w{i}" for i in range(300)]
    out = domain_separability(_docs(vocab, 400, 1), _docs(vocab, 400, 2), seed=1)
    assert out["separable"] is False and out["accuracy"] < 0.7 and out["pad"] < 0.8, out
    assert out["rows_per_domain"] == 400 and out["threshold"] == SEPARABLE_ACCURACY


def test_disjoint_vocabularies_are_separable_and_max_rows_caps_the_sample():
    src = _docs([f"a{i}" for i in range(300)], 1500, 1)
    tgt = _docs([f"b{i}" for i in range(300)], 1200, 2)
    out = domain_separability(src, tgt, seed=1)
    assert out["separable"] is True and out["accuracy"] == 1.0 and out["pad"] == 2.0
    assert out["rows_per_domain"] == 1000


def test_domain_separability_reads_pos_rows_and_datasets():
    a = pos(20, seed=1)
    b = pos_dataset([{"id": str(i), "tokens": ["zz", "yy", str(i)], "upos": ["X", "X", "NUM"]} for i in range(20)])
    assert domain_separability(a, b, seed=0)["separable"] is True
    rows = [{"tokens": t} for t in a["tokens"]]
    assert domain_separability(rows, a, seed=0)["separable"] is False
    assert domain_separability(senti(20), senti(20, seed=9), seed=0)["separable"] is False


def test_domain_separability_refuses_degenerate_input():
    with pytest.raises(NlptaError) as e:
        domain_separability(["one text"], ["a", "b", "c"], seed=0)
    assert e.value.code == "E326" and "1 source and 3 target rows" in str(e.value)
    with pytest.raises(NlptaError) as e:
        domain_separability(["", " "], ["", ""], seed=0)
    assert e.value.code == "E327"
    with pytest.raises(NlptaError):
        domain_separability("a single string", ["a", "b"], seed=0)
