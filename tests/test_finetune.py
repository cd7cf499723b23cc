"""LoRA fine-tuning on tiny random BERTs built from a config (no download): label alignment,
training, save_pretrained / from_pretrained, merge, several adapters on one base,
checkpoint/resume, DAPT with pivots, the registered methods through the runner and
``nlpta.load_model``, and plain peft + transformers (without nlpta) loading what nlpta saves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from finetune_helpers import NEGATIVE, POSITIVE, pos_rows, sentiment_rows, tiny_bert, write_conllu  # noqa: E402
from peft import LoraConfig  # noqa: E402

from nlpta.errors import NlptaError  # noqa: E402
from nlpta.evaluators.metrics import evaluate_predictions  # noqa: E402
from nlpta.finetune import encode  # noqa: E402
from nlpta.finetune.model import AdapterModel, load_adapters  # noqa: E402
from nlpta.finetune.trainer import TrainConfig, TrainingInterrupted, latest_checkpoint  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_bert(tmp_path_factory.mktemp("tiny") / "bert")


def test_first_subword_labels_known_answer():
    # words: [w0 -> 2 pieces][w1 -> 1][w2 -> 3]; specials None
    wids = [None, 0, 0, 1, 2, 2, 2, None]
    assert encode.first_subword_labels(wids, [5, 6, 7]) == [-100, 5, -100, 6, 7, -100, -100, -100]


def test_encode_pos_aligns_on_real_tokenizer(tiny):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny)
    ex = encode.encode_pos(tok, [["the", "zyx", "."]], [["DET", "X", "PUNCT"]], {"DET": 0, "X": 1, "PUNCT": 2}, 32)[0]
    # "zyx" is not in the vocabulary: it splits into z ##y ##x; only its first piece is labelled
    assert tok.convert_ids_to_tokens(ex["input_ids"]) == ["[CLS]", "the", "z", "##y", "##x", ".", "[SEP]"]
    assert ex["labels"] == [-100, 0, 1, -100, -100, 2, -100]


def _cfg(**kw):
    base = {"lr": 2e-2, "epochs": 3, "batch_size": 16, "seed": 3, "warmup_ratio": 0.0}
    return TrainConfig(**{**base, **kw})


def _lora(r=4, alpha=8, targets=("query", "value"), **kw):
    return LoraConfig(r=r, lora_alpha=alpha, target_modules=list(targets), **kw)


SAFE_SUFFIXES = {".json", ".safetensors", ".txt", ".md"}


def _no_pickle(folder) -> list[str]:
    """The files of a saved folder (relative names); fails on anything but JSON, safetensors,
    the WordPiece vocabulary and the model card."""
    files = sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*") if p.is_file())
    assert files and all(Path(f).suffix in SAFE_SUFFIXES for f in files), files
    return files


def _assert_logits_close(a: list, b: list, atol: float = 1e-5) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x, y, atol=atol)


def test_lora_config_inside_and_bad_settings():
    m = AdapterModel("pos", model="unused", lora_config=_lora(r=2, alpha=4))
    assert isinstance(m.lora_config, LoraConfig) and m.lora_config.task_type == "TOKEN_CLS" and m.lora_config.r == 2
    assert AdapterModel("sentiment", model="unused").lora_config.task_type == "SEQ_CLS"  # default: r 8 on query/value
    assert AdapterModel("sentiment", model="unused").lora_config.r == 8
    assert AdapterModel("pos", model="unused", method="full-ft").lora_config is None
    with pytest.raises(NlptaError, match="TOKEN_CLS"):
        AdapterModel("pos", model="unused", lora_config=_lora(task_type="SEQ_CLS"))
    with pytest.raises(NlptaError, match="full fine-tuning"):
        AdapterModel("pos", model="unused", method="full-ft", lora_config=_lora())
    with pytest.raises(NlptaError, match="LoraConfig"):
        AdapterModel("pos", model="unused", lora_config={"r": 4})


def test_from_pretrained_and_save_pretrained_errors(tmp_path):
    from nlpta.errors import NotFittedError

    with pytest.raises(NlptaError, match="no model folder") as e:
        AdapterModel.from_pretrained(tmp_path / "missing")
    assert e.value.code == "E307"
    with pytest.raises(NlptaError, match="nlpta_model.json"):
        AdapterModel.from_pretrained(tmp_path)
    with pytest.raises(NotFittedError):
        AdapterModel("pos", model="unused").save_pretrained(tmp_path / "x")


def test_pos_lora_learns_saves_loads_and_merges(tiny, tmp_path):
    tr, te = pos_rows(128, 1), pos_rows(30, 2, "tgt")
    m = AdapterModel("pos", model=str(tiny), lora_config=_lora(8, 16, ["query", "value", "dense"]), max_length=32,
                     train=_cfg(epochs=4)).fit(tr)
    assert 0 < m.share_["share"] < 0.5  # adapter + head only
    assert m.lora_config.modules_to_save == ["classifier"]
    pred = m.predict(te)
    assert [len(p) for p in pred] == [len(t) for t in te["tokens"]]  # one tag per word
    acc = evaluate_predictions(te, pred)["accuracy"]
    assert acc > 0.8, acc  # 7 tags, deterministic templates: chance is ~0.2
    m.save_pretrained(tmp_path / "m")
    files = _no_pickle(tmp_path / "m")
    assert {"adapter_config.json", "adapter_model.safetensors", "config.json", "nlpta_model.json",
            "README.md"} <= set(files)
    assert "model.safetensors" not in files  # the adapter and head only, not the encoder
    conf = json.loads((tmp_path / "m" / "config.json").read_text())
    assert conf["id2label"]["3"] == m.labels[3] and conf["label2id"][m.labels[3]] == 3
    assert conf["architectures"] == ["BertForTokenClassification"]
    ad = json.loads((tmp_path / "m" / "adapter_config.json").read_text())
    assert ad["task_type"] == "TOKEN_CLS" and "classifier" in ad["modules_to_save"] and ad["r"] == 8
    back = AdapterModel.from_pretrained(tmp_path / "m")
    assert back.predict(te) == pred
    assert back.lora_config.r == 8 and back.lora_config.task_type == "TOKEN_CLS"
    lg = np.stack([x[:5] for x in back.logits(te)])
    back.merge()
    assert not hasattr(back.model_, "peft_config")
    np.testing.assert_allclose(np.stack([x[:5] for x in back.logits(te)]), lg, atol=1e-4)


def test_sentiment_head_in_adapter_and_several_adapters_on_one_base(tiny, tmp_path):
    tr, te = sentiment_rows(64, 1), sentiment_rows(16, 2, "tgt")
    dirs = {}
    models = {}
    for name, seed in (("a", 1), ("b", 2)):
        m = AdapterModel("sentiment", model=str(tiny), lora_config=_lora(), max_length=32,
                         train=_cfg(seed=seed, max_steps=4)).fit(tr)
        dirs[name] = m.save_pretrained(tmp_path / name)
        models[name] = m
    assert models["a"].lora_config.modules_to_save == ["classifier", "pooler"]
    from safetensors import safe_open

    with safe_open(str(tmp_path / "a" / "adapter_model.safetensors"), "pt") as f:
        keys = list(f.keys())
    assert any("classifier" in k for k in keys) and any("pooler" in k for k in keys)
    assert any("lora_A" in k for k in keys)
    pm = load_adapters(str(tiny), dirs, kind="sentiment")
    batch = encode.pad_batch(encode.encode_text(models["a"].tokenizer_, list(te["text"]), None, 32), 0)
    with torch.no_grad():
        for name in ("a", "b"):
            pm.set_adapter(name)
            got = pm(**batch).logits
            want = models[name].model_.cpu()(**batch).logits  # fit may have trained on a GPU
            torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
        pm.set_adapter("a")
        la = pm(**batch).logits
        pm.set_adapter("b")
        assert not torch.allclose(la, pm(**batch).logits)


def _weights(m):
    return {k: v.detach().clone() for k, v in m.model_.named_parameters() if v.requires_grad}


def test_interrupted_run_resumes_to_the_same_weights(tiny, tmp_path):
    tr, te = pos_rows(120, 4), pos_rows(20, 5)
    kw = {"model": str(tiny), "lora_config": _lora(lora_dropout=0.1), "max_length": 32}
    full = AdapterModel("pos", train=_cfg(max_steps=10, batch_size=8, lr=1e-2), **kw).fit(tr)
    ck = tmp_path / "ck"
    with pytest.raises(TrainingInterrupted):  # "killed" after step 7; the last checkpoint is step 6
        AdapterModel("pos", train=_cfg(max_steps=10, batch_size=8, lr=1e-2, checkpoint_dir=str(ck),
                                       checkpoint_every=3, stop_after=7), **kw).fit(tr)
    assert latest_checkpoint(ck).name == "checkpoint-00000006"
    assert not list(ck.glob(".tmp-*"))
    resumed = AdapterModel("pos", train=_cfg(max_steps=10, batch_size=8, lr=1e-2, checkpoint_dir=str(ck),
                                             checkpoint_every=3), **kw).fit(tr)
    assert resumed.train_info_["resumed_from"] == "checkpoint-00000006"
    a, b = _weights(full), _weights(resumed)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert resumed.predict(te) == full.predict(te)
    assert [h["loss"] for h in resumed.train_info_["losses"]] == [h["loss"] for h in full.train_info_["losses"]]


def test_select_pivot_words_known_answer():
    from nlpta.methods.finetune import select_pivot_words

    src = ["Great pan"] * 20 + ["awful pan"] * 20 + ["great knife"] * 5 + ["it's fine."] * 10
    lab = [1] * 20 + [0] * 20 + [1] * 5 + [0, 1] * 5
    tgt = ["great movie", "awful movie", "pan movie", "it's fine."] * 12
    # MI with the label (nats, by hand): "great" (25 of the 30 positive documents, no negative one)
    # 0.443 > "awful" (20 of the 25 negative) 0.428 > "pan" (40 documents, 20/20) 0.011 > "it's" =
    # "fine." (whitespace words, the masking unit; 5/5) 0.0009, ties alphabetical; "knife" is in
    # 5 source documents only, "movie" in none
    assert select_pivot_words(src, lab, tgt, n=2, min_count=10) == ["great", "awful"]
    assert select_pivot_words(src, lab, tgt, n=6, min_count=10) == ["great", "awful", "pan", "fine.", "it's"]
    with pytest.raises(NlptaError, match="min_count"):
        select_pivot_words(src, lab, tgt, n=2, min_count=100)


def test_pivot_words_are_masked_preferentially(tiny):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny)
    texts = [["the", "good", "book", "is", "very", "good"]] * 64
    exs = encode.encode_mlm(tok, texts, 32, pivots=["good"])
    assert exs[0]["pivot_words"] == [1, 5]
    coll = encode.MLMCollator(tok, mask_prob=0.05, pivot_mask_prob=1.0, seed=1)
    b = coll(exs, step=0)
    good = tok.convert_tokens_to_ids("good")
    orig = torch.tensor([x["input_ids"] for x in exs])
    chosen = b["labels"] != -100
    assert bool(chosen[orig == good].all())  # every pivot is a target
    assert chosen[(orig != good) & (orig > 4)].float().mean() < 0.2
    b2 = coll(exs, step=0)
    assert torch.equal(b["input_ids"], b2["input_ids"])  # seeded by the step: resumable


def test_dapt_then_task_adapter_saves_and_reloads(tiny, tmp_path):
    tr, te = sentiment_rows(80, 1), sentiment_rows(20, 2, "tgt")
    unl = sentiment_rows(60, 3, "tgt", labeled=False)
    m = AdapterModel("sentiment", model=str(tiny), lora_config=_lora(), max_length=32, train=_cfg(max_steps=6))
    info = m.dapt([t.split() for t in unl["text"]], _cfg(max_steps=6, batch_size=8), pivots=["good", "bad"])
    assert np.isfinite([h["loss"] for h in info["losses"]]).all()
    m.fit(tr)
    lg = np.stack(m.logits(te))
    m.save_pretrained(tmp_path / "d")
    assert (tmp_path / "d" / "dapt" / "adapter_model.safetensors").exists()
    assert json.loads((tmp_path / "d" / "dapt" / "adapter_config.json").read_text())["task_type"] is None
    back = AdapterModel.from_pretrained(tmp_path / "d")
    np.testing.assert_allclose(np.stack(back.logits(te)), lg, atol=1e-5)
    back.save_pretrained(tmp_path / "d2")  # a loaded model saves again, DAPT adapter included
    np.testing.assert_allclose(np.stack(AdapterModel.from_pretrained(tmp_path / "d2").logits(te)), lg, atol=1e-5)
    # the DAPT adapter matters: the same task adapter on the plain base gives other logits
    (tmp_path / "d" / "nlpta_model.json").write_text(
        (tmp_path / "d" / "nlpta_model.json").read_text().replace('"dapt": true', '"dapt": false'))
    assert not np.allclose(np.stack(AdapterModel.from_pretrained(tmp_path / "d").logits(te)), lg, atol=1e-5)


def test_dapt_head_warmup_keeps_the_adapter_still_and_auto_warms_a_fresh_head(tiny, tmp_path):
    """The tiny BERT is saved without a masked-LM head (as the zoo's sentence-embedding encoders):
    ``head_warmup: auto`` warms the fresh head for half of the DAPT steps. While warming, the
    adapter gets no gradient: with every step a warm-up step the merged encoder equals the base
    checkpoint's (LoRA's B starts at zero and stays there) while the head has trained; with no
    warm-up the adapter moves. A checkpoint saved with its head gets no warm-up from ``auto``."""
    from transformers import BertForMaskedLM, BertModel

    unl = sentiment_rows(40, 3, "tgt", labeled=False)
    texts = [t.split() for t in unl["text"]]
    base = BertModel.from_pretrained(str(tiny)).state_dict()

    def run(model=tiny, **kw):
        m = AdapterModel("sentiment", model=str(model), lora_config=_lora(), max_length=32, train=_cfg(max_steps=4))
        return m, m.dapt(texts, _cfg(max_steps=4, batch_size=8), **kw)

    m, info = run()
    assert info["head_new"] and all(k.startswith("cls.") for k in info["head_new"])
    assert info["head_warmup"] == "auto" and info["head_warmup_steps"] == 2
    m, info = run(head_warmup=4)
    assert info["head_warmup_steps"] == 4 and np.isfinite([h["loss"] for h in info["losses"]]).all()
    assert all(torch.equal(m.encoder_state_[k], v) for k, v in base.items() if k in m.encoder_state_)
    m, info = run(head_warmup=0)
    moved = [k for k, v in base.items() if k in m.encoder_state_ and not torch.equal(m.encoder_state_[k], v)]
    assert info["head_warmup_steps"] == 0 and any("query" in k for k in moved) and any("value" in k for k in moved)
    with_head = tmp_path / "with-head"
    BertForMaskedLM.from_pretrained(str(tiny)).save_pretrained(with_head)
    for f in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (tiny / f).exists():
            (with_head / f).write_bytes((tiny / f).read_bytes())
    _, info = run(model=with_head)
    assert info["head_new"] == [] and info["head_warmup_steps"] == 0
    for bad in (-1, 1.5, True, "half"):
        with pytest.raises(NlptaError, match="dapt_warmup"):
            run(head_warmup=bad)


def test_lora_dapt_reports_its_head_warmup_and_warns_without_one(tiny):
    from nlpta.methods import get_method

    task = SimpleNamespace(source=sentiment_rows(40, 1), target=sentiment_rows(10, 2, "tgt"),
                           unlabeled=sentiment_rows(40, 3, "tgt", labeled=False), target_labeled=None)
    common = {"model": str(tiny), "max_steps": 2, "dapt_steps": 4, "max_length": 32, "batch_size": 8}
    rep = get_method("lora-dapt", "sentiment", **common).fit(task).fit_report()
    assert rep["dapt_steps"] == 4 and rep["head_new"] > 0 and rep["head_warmup_steps"] == 2 and not rep["warnings"]
    assert np.isfinite([rep["first_mlm_loss"], rep["final_mlm_loss"]]).all()
    rep = get_method("lora-dapt", "sentiment", dapt_warmup=0, **common).fit(task).fit_report()
    assert rep["head_warmup_steps"] == 0
    assert any("no masked-LM head" in w and "dapt_warmup" in w for w in rep["warnings"]), rep["warnings"]


def test_registered_methods_through_the_runner(tiny, tmp_path):
    from nlpta import load_model
    from nlpta.data import load
    from nlpta.methods import METHODS, get_method
    from nlpta.pipeline import run_task
    from nlpta.tasks import load_task

    assert {"lora", "lora-dapt", "full-ft"} <= set(METHODS)
    src = write_conllu(tmp_path / "src.conllu", pos_rows(60, 1))
    tgt = write_conllu(tmp_path / "tgt.conllu", pos_rows(20, 2))
    task = tmp_path / "t.yaml"
    task.write_text(f"name: tiny-pos\ntask: pos\nsource: {{corpus: {src}}}\ntarget: {{corpus: {tgt}}}\n"
                    f"unlabeled: {{corpus: {tgt}, labeled: false}}\nmethod: lora\n"
                    f"params: {{model: {tiny}, max_steps: 3, max_length: 32, batch_size: 8}}\nseeds: [1]\n")
    spec = load_task(task)
    for meth in ("lora", "lora-dapt", "full-ft"):
        params = {"model": str(tiny), "max_steps": 3, "max_length": 32, "batch_size": 8}
        if meth == "lora-dapt":
            params.update(dapt_steps=2, pivots=["the"])
        res = run_task(spec, method=meth, out_dir=tmp_path / meth, params=params, save_model=True)
        run = tmp_path / meth
        rows = [json.loads(x) for x in (run / "predictions.jsonl").read_text().splitlines()]
        words = [(g, p) for r in rows for g, p in zip(r["gold"], r["pred"], strict=True)]
        assert len(rows) == 20 and res.accuracy == pytest.approx(np.mean([g == p for g, p in words]))
        saved = run / "model-seed1"
        _no_pickle(saved)
        assert {"method.json", "train_info.json", "nlpta_model.json"} <= {p.name for p in saved.iterdir()}
        back = load_model(saved)  # the registry: method.json -> get_method -> _load
        assert back.name == meth and back.params["max_steps"] == 3
        assert back.predict(load(str(tgt))) == [r["pred"] for r in rows]
    with pytest.raises(NlptaError, match="pivots: auto"):
        get_method("lora-dapt", "pos", pivots="auto", model=str(tiny), dapt_steps=1, max_steps=1).fit(
            __import__("nlpta.tasks", fromlist=["TransferTask"]).TransferTask(spec, seed=1))


# ----------------------------------------------------------------------------- save / load
@pytest.fixture(scope="module")
def fitted(tiny, tmp_path_factory):
    """Fitted methods saved with ``Method.save``: (name, task) -> (method, folder, target rows)."""
    from nlpta.methods import get_method

    root = tmp_path_factory.mktemp("fitted")
    tasks = {"pos": SimpleNamespace(source=pos_rows(48, 1), target=pos_rows(12, 7, "tgt"),
                                    unlabeled=pos_rows(24, 6, "tgt"), target_labeled=None),
             "sentiment": SimpleNamespace(source=sentiment_rows(96, 1), target=sentiment_rows(16, 7, "tgt"),
                                          unlabeled=sentiment_rows(80, 3, "tgt", labeled=False),
                                          target_labeled=None)}
    common = {"model": str(tiny), "max_steps": 4, "max_length": 32, "batch_size": 8, "lr": 1e-2}
    cases = {("lora", "pos"): {}, ("full-ft", "pos"): {"lr": 1e-3},
             ("lora-dapt", "sentiment"): {"dapt_steps": 2, "pivots": "auto", "n_pivots": 4},
             ("full-ft", "sentiment"): {"lr": 1e-3}}
    out = {}
    for (name, kind), extra in cases.items():
        m = get_method(name, kind, seed=2, **{**common, **extra}).fit(tasks[kind])
        out[name, kind] = (m, m.save(root / f"{name}-{kind}"), tasks[kind].target)
    return out


@pytest.mark.parametrize("case", [("lora", "pos"), ("full-ft", "pos"), ("lora-dapt", "sentiment"),
                                  ("full-ft", "sentiment")])
def test_methods_save_and_load_through_the_registry(fitted, case):
    from nlpta import load_model

    m, folder, rows = fitted[case]
    files = _no_pickle(folder)
    assert {"method.json", "train_info.json", "nlpta_model.json", "config.json"} <= set(files)
    assert ("adapter_model.safetensors" in files) == (case[0] != "full-ft")
    assert ("model.safetensors" in files) == (case[0] == "full-ft")
    back = load_model(folder)
    assert type(back) is type(m) and back.params == m.params and back.seed == m.seed == 2
    assert back.info_ == json.loads(json.dumps(m.info_))  # train_info.json
    assert back.predict(rows) == m.predict(rows)
    _assert_logits_close(back.model_.logits(rows), m.model_.logits(rows))
    if case[0] == "lora-dapt":  # pivots: auto picked sentiment words, frequent in both domains
        assert len(m.model_.pivots_) == 4 and set(m.model_.pivots_) <= set(POSITIVE + NEGATIVE)
        assert back.model_.pivots_ == m.model_.pivots_ and "dapt/adapter_model.safetensors" in files


PLAIN = r"""
import json, sys
sys.modules["nlpta"] = None  # plain peft + transformers: importing nlpta would fail here
import torch
from peft import AutoPeftModelForTokenClassification, PeftModel
from transformers import (AutoConfig, AutoModelForSequenceClassification, AutoModelForTokenClassification,
                          AutoTokenizer)

base, cases = sys.argv[1], json.loads(sys.argv[2])
out = {}
for name, (folder, kind, inputs) in cases.items():
    auto = AutoModelForTokenClassification if kind == "pos" else AutoModelForSequenceClassification
    tok = AutoTokenizer.from_pretrained(folder)
    if name.startswith("full-ft"):
        model = auto.from_pretrained(folder)
    else:
        config = AutoConfig.from_pretrained(folder)  # id2label / label2id of the head
        model = auto.from_pretrained(base, config=config)
        if name.startswith("lora-dapt"):
            model = PeftModel.from_pretrained(model, f"{folder}/dapt").merge_and_unload()
        model = PeftModel.from_pretrained(model, folder)
    model.eval()
    enc = tok(inputs, is_split_into_words=kind == "pos", padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**enc).logits
    out[name] = {"logits": logits.tolist(), "mask": enc["attention_mask"].tolist(),
                 "id2label": {str(k): v for k, v in model.config.id2label.items()}}
    if name == "lora-pos":  # the same through AutoPeftModel (base from adapter_config.json)
        config = AutoConfig.from_pretrained(folder)
        ap = AutoPeftModelForTokenClassification.from_pretrained(folder, id2label=config.id2label,
                                                                 label2id=config.label2id).eval()
        with torch.no_grad():
            out["auto-peft"] = {"logits": ap(**enc).logits.tolist()}
print(json.dumps(out))
"""


def test_plain_peft_and_transformers_load_what_nlpta_saves(fitted, tiny, tmp_path):
    """A user without nlpta: AutoModelFor*.from_pretrained(base) + PeftModel.from_pretrained(folder)
    (after merging dapt/ for lora-dapt), or AutoModelFor*.from_pretrained(folder) for full-ft, gives
    nlpta's logits and label names. The base is the tiny random BERT saved to a temp folder."""
    from nlpta.finetune.model import AdapterModel

    cases, ours = {}, {}
    for name, kind in (("lora", "pos"), ("full-ft", "pos"), ("lora-dapt", "sentiment"), ("full-ft", "sentiment")):
        _, folder, rows = fitted[name, kind]
        key = f"{name}-{kind}"
        rows = rows.select(range(6))
        inputs = [list(t) for t in rows["tokens"]] if kind == "pos" else list(rows["text"])
        cases[key] = (str(folder), kind, inputs)
        m = AdapterModel.from_pretrained(folder)  # nlpta, on the CPU like the plain run
        ours[key] = (m, m.logits(rows), m.predict(rows))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": ""}
    p = subprocess.run([sys.executable, "-c", PLAIN, str(tiny), json.dumps(cases)], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    got = json.loads(p.stdout.strip().splitlines()[-1])
    for key, (m, logits, preds) in ours.items():
        plain, mask = np.asarray(got[key]["logits"]), np.asarray(got[key]["mask"])
        assert got[key]["id2label"] == {str(i): t for i, t in enumerate(m.labels)}
        for i, lg in enumerate(logits):
            row = plain[i, : int(mask[i].sum())] if m.kind == "pos" else plain[i]
            np.testing.assert_allclose(row, lg, atol=1e-5)
        if m.kind == "sentiment":
            assert [int(np.argmax(x)) for x in plain] == preds
    np.testing.assert_allclose(np.asarray(got["auto-peft"]["logits"]), np.asarray(got["lora-pos"]["logits"]),
                               atol=1e-6)
