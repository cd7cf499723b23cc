"""LoRA fine-tuning on tiny random BERTs built from a config (no download): label alignment,
training, save/load, merge, several adapters on one base, checkpoint/resume, DAPT with pivots,
and the registered methods through the runner."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from finetune_helpers import pos_rows, sentiment_rows, tiny_bert, write_conllu  # noqa: E402

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


def test_pos_lora_learns_saves_loads_and_merges(tiny, tmp_path):
    tr, te = pos_rows(128, 1), pos_rows(30, 2, "tgt")
    m = AdapterModel("pos", model=str(tiny), r=8, alpha=16, targets=["query", "value", "dense"], max_length=32,
                     train=_cfg(epochs=4)).fit(tr)
    assert 0 < m.share_["share"] < 0.5  # adapter + head only
    pred = m.predict(te)
    assert [len(p) for p in pred] == [len(t) for t in te["tokens"]]  # one tag per word
    acc = evaluate_predictions(te, pred)["accuracy"]
    assert acc > 0.8, acc  # 7 tags, deterministic templates: chance is ~0.2
    m.save(tmp_path / "m")
    assert (tmp_path / "m" / "adapter" / "adapter_model.safetensors").exists()
    back = AdapterModel.load(tmp_path / "m")
    assert back.predict(te) == pred
    lg = np.stack([x[:5] for x in back.logits(te)])
    back.merge()
    assert not hasattr(back.model_, "peft_config")
    np.testing.assert_allclose(np.stack([x[:5] for x in back.logits(te)]), lg, atol=1e-4)


def test_sentiment_head_in_adapter_and_several_adapters_on_one_base(tiny, tmp_path):
    tr, te = sentiment_rows(64, 1), sentiment_rows(16, 2, "tgt")
    dirs = {}
    models = {}
    for name, seed in (("a", 1), ("b", 2)):
        m = AdapterModel("sentiment", model=str(tiny), r=4, alpha=8, max_length=32,
                         train=_cfg(seed=seed, max_steps=4)).fit(tr)
        dirs[name] = m.save(tmp_path / name)
        models[name] = m
    assert set(models["a"].predict(te)) <= {0, 1}
    from safetensors import safe_open

    with safe_open(str(tmp_path / "a" / "adapter" / "adapter_model.safetensors"), "pt") as f:
        keys = list(f.keys())
    assert any("classifier" in k for k in keys) and any("lora_A" in k for k in keys)
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
    kw = {"model": str(tiny), "r": 4, "alpha": 8, "dropout": 0.1, "max_length": 32}
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


def test_select_pivots_known_answer():
    src = ["great pan"] * 20 + ["awful pan"] * 20 + ["great knife"] * 5
    lab = [1] * 20 + [0] * 20 + [1] * 5
    tgt = ["great movie", "awful movie", "pan movie"] * 12
    piv = encode.select_pivots(src, lab, tgt, n=2, min_count=10)
    assert piv == ["awful", "great"]  # "pan" is frequent in both but carries no label information


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
    m = AdapterModel("sentiment", model=str(tiny), r=4, alpha=8, max_length=32, train=_cfg(max_steps=6))
    info = m.dapt([t.split() for t in unl["text"]], _cfg(max_steps=6, batch_size=8), pivots=["good", "bad"])
    assert np.isfinite([h["loss"] for h in info["losses"]]).all()
    m.fit(tr)
    lg = np.stack(m.logits(te))
    m.save(tmp_path / "d")
    assert (tmp_path / "d" / "dapt" / "adapter_model.safetensors").exists()
    back = AdapterModel.load(tmp_path / "d")
    np.testing.assert_allclose(np.stack(back.logits(te)), lg, atol=1e-5)
    # the DAPT adapter matters: the same task adapter on the plain base gives other logits
    (tmp_path / "d" / "nlpta_model.json").write_text(
        (tmp_path / "d" / "nlpta_model.json").read_text().replace('"dapt": true', '"dapt": false'))
    assert not np.allclose(np.stack(AdapterModel.load(tmp_path / "d").logits(te)), lg, atol=1e-5)


def test_registered_methods_through_the_runner(tiny, tmp_path):
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
        assert 0 <= res.accuracy <= 1
        assert (tmp_path / meth / "model-seed1" / "nlpta_model.json").exists()
    with pytest.raises(NlptaError, match="pivots: auto"):
        get_method("lora-dapt", "pos", pivots="auto", model=str(tiny), dapt_steps=1, max_steps=1).fit(
            __import__("nlpta.tasks", fromlist=["TransferTask"]).TransferTask(spec, seed=1))
