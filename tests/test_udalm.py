"""UDALM (Karouzos et al. 2021) on tiny random BERTs built from a config (no download): the loss
is the documented mix of the task and masked-LM losses, each loss reaches the shared LoRA adapter
(and only the task loss the task head), a resumed run equals an uninterrupted one, the checkpoint
fingerprint holds the mixing, fit -> save -> ``nlpta.load_model`` predicts the same, and a task
without unlabeled target rows is refused."""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from finetune_helpers import pos_rows, sentiment_rows, tiny_bert  # noqa: E402
from peft import LoraConfig  # noqa: E402

from nlpta.errors import NlptaError  # noqa: E402
from nlpta.finetune import encode  # noqa: E402
from nlpta.finetune.trainer import TrainConfig, TrainingInterrupted, latest_checkpoint  # noqa: E402
from nlpta.finetune.udalm import UDALMAdapterModel, _UDALMCollator, encoder_of, task_weight_at  # noqa: E402

ROWS = {"sentiment": sentiment_rows, "pos": pos_rows}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_bert(tmp_path_factory.mktemp("tiny") / "bert")


def _model(tiny, kind="sentiment", full=False, dropout=0.0, **kw):
    train = {"lr": 1e-2, "batch_size": 8, "seed": 3, "warmup_ratio": 0.0, **kw.pop("train", {})}
    lora = None if full else LoraConfig(r=4, lora_alpha=8, lora_dropout=dropout, target_modules=["query", "value"])
    return UDALMAdapterModel(kind, model=str(tiny), method="full-ft" if full else "lora", lora_config=lora,
                             max_length=32, train=TrainConfig(**train), **kw)


def _batch(m, kind, step=0):
    """A mixed batch (8 source rows, 8 masked target rows) for ``m``'s wrapper."""
    src = m._encode(ROWS[kind](8, 1), with_labels=True)
    tgt = m._mlm_examples(ROWS[kind](16, 2, "tgt"))
    coll = _UDALMCollator(kind, tgt, m.tokenizer_, 8, seed=5, rank=0, world=1, mask_prob=0.3)
    return coll(src, step)


def test_task_weight_schedule_known_answer():
    assert task_weight_at(0, 5, 0.5) == task_weight_at(4, 5, 0.5) == 0.5  # constant without an end
    assert task_weight_at(0, 5, 0.9, 0.5) == pytest.approx(0.9)  # first step: the start
    assert task_weight_at(2, 5, 0.9, 0.5) == pytest.approx(0.7)  # halfway
    assert task_weight_at(4, 5, 0.9, 0.5) == pytest.approx(0.5)  # last step: the end
    assert task_weight_at(0, 1, 0.9, 0.5) == pytest.approx(0.9)  # a one-step run keeps the start


@pytest.mark.parametrize("kind", ["sentiment", "pos"])
def test_loss_is_the_documented_mix(tiny, kind):
    m = _model(tiny, kind, task_weight=0.25)
    w = m.build().eval()  # no dropout: the three computations see the same network
    b = _batch(m, kind)
    assert int((b["mlm_labels"] != encode.IGNORE).sum()) > 0
    # the MLM head's output projection IS the encoder's word embedding matrix (tied, one tensor)
    emb = encoder_of(w.model).get_input_embeddings().weight
    assert w.mlm_head.predictions.decoder.weight is emb
    with torch.no_grad():
        out = w(**b)
        # task loss, separately: the task model on the source batch alone
        task = w.model(input_ids=b["input_ids"], attention_mask=b["attention_mask"], labels=b["labels"]).loss
        # MLM loss, separately and another way: the head over EVERY position, -100 ignored
        hid = w.model(input_ids=b["mlm_input_ids"], attention_mask=b["mlm_attention_mask"],
                      output_hidden_states=True).hidden_states[-1]
        scores = w.mlm_head(hid)
        mlm = torch.nn.functional.cross_entropy(scores.reshape(-1, scores.shape[-1]), b["mlm_labels"].reshape(-1),
                                                ignore_index=encode.IGNORE)
    torch.testing.assert_close(out.task_loss, task, atol=1e-6, rtol=0)
    torch.testing.assert_close(out.mlm_loss, mlm, atol=1e-5, rtol=0)
    assert abs(float(task) - float(mlm)) > 0.5  # two different numbers (random vocabulary ~ ln 65 = 4.2 vs ~ln k)
    torch.testing.assert_close(out.loss, 0.25 * task + 0.75 * mlm, atol=1e-5, rtol=0)
    w.task_weight = 0.8  # what on_step sets
    with torch.no_grad():
        torch.testing.assert_close(w(**b).loss, 0.8 * task + 0.2 * mlm, atol=1e-5, rtol=0)


def _grads(module, pred) -> dict[str, float]:
    return {n: (0.0 if p.grad is None else float(p.grad.abs().sum())) for n, p in module.named_parameters() if pred(n)}


@pytest.mark.parametrize("kind", ["sentiment", "pos"])
def test_each_loss_reaches_the_adapter_and_only_the_task_loss_the_head(tiny, kind):
    m = _model(tiny, kind)
    w = m.build().eval()
    with torch.no_grad():  # LoRA's B starts at zero, which zeroes A's gradient: move it off zero
        g = torch.Generator().manual_seed(0)
        for n, p in w.named_parameters():
            if "lora_B" in n:
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    lora = [n for n, p in w.named_parameters() if "lora_" in n and p.requires_grad]
    # two layers x (query, value) x (A, B)
    assert len(lora) == 8 and {n.split(".")[-4] for n in lora} == {"query", "value"}
    head = ["classifier", "pooler"] if kind == "sentiment" else ["classifier"]

    def is_head(n):
        return any(f".{h}." in n for h in head) and "modules_to_save" in n

    task, mlm, _ = w.losses(**_batch(m, kind))
    task.backward()
    from_task = _grads(w, lambda n: True)
    w.zero_grad(set_to_none=True)
    mlm.backward()
    from_mlm = _grads(w, lambda n: True)
    for n in lora:  # both objectives train every A and B of the query / value adapters
        assert from_task[n] > 0, f"task loss does not reach {n}"
        assert from_mlm[n] > 0, f"MLM loss does not reach {n}"
    heads = [n for n in from_task if is_head(n)]
    assert heads and all(from_task[n] > 0 for n in heads if n.endswith("weight") and "classifier" in n)
    assert all(from_mlm[n] == 0.0 for n in heads), "the MLM loss reached the task head"
    mlm_head = [n for n in from_mlm if n.startswith("mlm_head.") and "transform" in n]
    assert mlm_head and all(from_mlm[n] > 0 for n in mlm_head) and all(from_task[n] == 0.0 for n in mlm_head)
    assert all(not p.requires_grad for n, p in w.named_parameters() if "word_embeddings" in n)  # frozen with LoRA


def test_full_finetuning_trains_the_encoder_with_both_losses(tiny):
    m = _model(tiny, "sentiment", full=True)
    w = m.build().eval()
    task, mlm, _ = w.losses(**_batch(m, "sentiment"))
    q = "model.bert.encoder.layer.0.attention.self.query.weight"
    emb = "model.bert.embeddings.word_embeddings.weight"
    task.backward()
    a = _grads(w, lambda n: n in (q, emb))
    w.zero_grad(set_to_none=True)
    mlm.backward()
    b = _grads(w, lambda n: n in (q, emb) or n.startswith("model.classifier"))
    assert a[q] > 0 and b[q] > 0 and a[emb] > 0 and b[emb] > 0  # the tied embeddings learn from the MLM head too
    assert all(v == 0.0 for n, v in b.items() if n.startswith("model.classifier"))


def _trained(m) -> dict:
    return {k: v.detach().clone() for k, v in m.model_.named_parameters() if v.requires_grad}


@pytest.mark.parametrize("warmup", [0, 5, "auto"])  # 5: interrupted inside the head warm-up; auto: 3 of 7
def test_resumed_run_equals_an_uninterrupted_one(tiny, tmp_path, warmup):
    src, unl, te = sentiment_rows(48, 1), sentiment_rows(40, 2, "tgt", labeled=False), sentiment_rows(16, 3, "tgt")
    # dropout, a schedule and a head warm-up: all must resume
    kw = {"dropout": 0.1, "task_weight": 0.9, "task_weight_end": 0.4, "mlm_warmup": warmup}
    full = _model(tiny, train={"max_steps": 7, "log_every": 1}, **kw).fit(src, unl)
    ck = tmp_path / "ck"
    with pytest.raises(TrainingInterrupted):  # "killed" after step 5; the last checkpoint is step 4
        _model(tiny, train={"max_steps": 7, "log_every": 1, "checkpoint_dir": str(ck), "checkpoint_every": 2,
                            "stop_after": 5}, **kw).fit(src, unl)
    assert latest_checkpoint(ck).name == "checkpoint-00000004"
    resumed = _model(tiny, train={"max_steps": 7, "log_every": 1, "checkpoint_dir": str(ck), "checkpoint_every": 2},
                     **kw).fit(src, unl)
    assert resumed.train_info_["resumed_from"] == "checkpoint-00000004"
    a, b = _trained(full), _trained(resumed)
    assert a.keys() == b.keys() and any("lora_B" in k for k in a)
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert resumed.predict(te) == full.predict(te)
    lf, lr = full.logits(te), resumed.logits(te)
    assert all(torch.equal(torch.as_tensor(x), torch.as_tensor(y)) for x, y in zip(lf, lr, strict=True))
    # the resumed run logged steps 5-7 exactly as the uninterrupted one did
    assert resumed.train_info_["udalm"] == full.train_info_["udalm"][4:]
    assert [r["task_weight"] for r in full.train_info_["udalm"]] == pytest.approx([0.9 - 0.5 * s / 6 for s in range(7)])
    # the checkpoint holds the MLM head too (it trains with the adapter)
    from safetensors import safe_open

    with safe_open(str(latest_checkpoint(ck) / "trainable.safetensors"), "pt") as f:
        assert any(k.startswith("mlm_head.") for k in f.keys())


def test_head_warmup_keeps_the_mlm_gradient_out_of_the_encoder(tiny):
    """While ``mlm_to_encoder`` is off (the first ``mlm_warmup`` steps) the MLM loss trains the
    MLM head and nothing of the encoder; the task loss reaches the adapter as before."""
    m = _model(tiny, "sentiment", mlm_warmup=3)
    w = m.build().eval()
    with torch.no_grad():
        g = torch.Generator().manual_seed(0)
        for n, p in w.named_parameters():
            if "lora_B" in n:
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    lora = [n for n, p in w.named_parameters() if "lora_" in n and p.requires_grad]
    w.mlm_to_encoder = False
    task, mlm, _ = w.losses(**_batch(m, "sentiment"))
    mlm.backward()
    from_mlm = _grads(w, lambda n: True)
    assert all(from_mlm[n] == 0.0 for n in lora), "the MLM loss reached the adapter during the warm-up"
    head = [n for n in from_mlm if n.startswith("mlm_head.") and "transform" in n]
    assert head and all(from_mlm[n] > 0 for n in head)
    w.zero_grad(set_to_none=True)
    task, mlm, _ = w.losses(**_batch(m, "sentiment"))
    task.backward()
    assert all(_grads(w, lambda n: True)[n] > 0 for n in lora)
    w.zero_grad(set_to_none=True)
    w.mlm_to_encoder = True  # after the warm-up: as before
    _, mlm, _ = w.losses(**_batch(m, "sentiment"))
    mlm.backward()
    assert all(_grads(w, lambda n: True)[n] > 0 for n in lora)
    # fit: the switch follows the step; the warm-up is in the training record and the saved meta
    src, unl = sentiment_rows(32, 1), sentiment_rows(24, 2, "tgt", labeled=False)
    seen = []
    orig = type(w).losses

    def spy(self, *a, **k):
        seen.append(self.mlm_to_encoder)
        return orig(self, *a, **k)

    type(w).losses = spy
    try:
        fitted = _model(tiny, train={"max_steps": 5}, mlm_warmup=3).fit(src, unl)
    finally:
        type(w).losses = orig
    assert seen == [False, False, False, True, True]
    assert fitted.train_info_["mlm_warmup_steps"] == 3 and fitted.meta()["udalm"]["mlm_warmup"] == 3
    with pytest.raises(NlptaError, match="mlm_warmup") as e:
        _model(tiny, mlm_warmup=-1)
    assert e.value.code == "E322"


def test_a_checkpoint_without_an_mlm_head_is_reported(tiny, tmp_path):
    """The tiny BERT is saved without a pretraining head (as the zoo's sentence-embedding
    checkpoints): its head weights are listed as new, ``mlm_warmup: auto`` (the default) warms the
    head up for half of the steps, and the fit report warns when a fresh head gets no warm-up
    (``mlm_warmup: 0``); a checkpoint saved with its MLM head lists none and ``auto`` is 0 there."""
    from transformers import BertForMaskedLM

    from nlpta.methods import get_method

    common = {"model": str(tiny), "max_steps": 4, "max_length": 32, "batch_size": 8}
    rep = get_method("udalm", "sentiment", **common).fit(_task("sentiment")).fit_report()
    assert rep["mlm_head_new"] > 0 and rep["mlm_warmup_steps"] == 2 and not rep["warnings"]
    rep = get_method("udalm", "sentiment", mlm_warmup=0, **common).fit(_task("sentiment")).fit_report()
    assert rep["mlm_warmup_steps"] == 0
    assert any("no masked-LM head" in w and "mlm_warmup" in w for w in rep["warnings"]), rep["warnings"]
    with_head = tmp_path / "with-head"
    BertForMaskedLM.from_pretrained(str(tiny)).save_pretrained(with_head)
    for f in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (tiny / f).exists():
            (with_head / f).write_bytes((tiny / f).read_bytes())
    rep = get_method("udalm", "sentiment", **{**common, "model": str(with_head)}).fit(_task("sentiment")).fit_report()
    assert rep["mlm_head_new"] == 0 and rep["mlm_warmup_steps"] == 0 and not rep["warnings"]


def test_after_dapt_the_mlm_loss_starts_from_dapt_s_head(tiny):
    """With the paper's first stage (``dapt: true``) UDALM's masked-LM head starts from the head
    DAPT trained, not from a fresh one: its weights equal DAPT's, none is listed as new, and
    ``mlm_warmup: auto`` gives no warm-up; the fit report says where the head came from."""
    from nlpta.methods import get_method

    m = _model(tiny, train={"max_steps": 2})
    m.dapt([t.split() for t in sentiment_rows(24, 3, "tgt", labeled=False)["text"]],
           TrainConfig(lr=1e-2, max_steps=4, batch_size=8, seed=3, warmup_ratio=0.0))
    assert m.dapt_info_["head_new"] and m.dapt_info_["head_warmup_steps"] == 2
    wrapper = m.build()
    assert m.mlm_head_new_ == [] and m.mlm_head_from_ == "dapt"
    state = wrapper.mlm_head.state_dict()
    assert set(m.dapt_head_state_) == {k for k in state if not k.endswith("decoder.weight")}
    assert all(torch.equal(state[k], v) for k, v in m.dapt_head_state_.items())
    fresh = _model(tiny, train={"max_steps": 2})
    fresh.build()
    assert fresh.mlm_head_new_ and fresh.mlm_head_from_ == "checkpoint"
    common = {"model": str(tiny), "max_steps": 4, "max_length": 32, "batch_size": 8}
    rep = get_method("udalm", "sentiment", dapt=True, dapt_steps=2, **common).fit(_task("sentiment")).fit_report()
    assert rep["mlm_head_from"] == "dapt" and rep["mlm_head_new"] == 0 and rep["mlm_warmup_steps"] == 0
    assert not rep["warnings"]
    rep = get_method("udalm", "sentiment", **common).fit(_task("sentiment")).fit_report()
    assert rep["mlm_head_from"] == "checkpoint" and rep["mlm_head_new"] > 0 and rep["mlm_warmup_steps"] == 2


def test_checkpoint_of_another_mixing_is_refused(tiny, tmp_path):
    src, unl = sentiment_rows(32, 1), sentiment_rows(24, 2, "tgt", labeled=False)
    ck = tmp_path / "ck"
    cfg = {"max_steps": 2, "checkpoint_dir": str(ck), "checkpoint_every": 2}
    _model(tiny, train=cfg, task_weight=0.5).fit(src, unl)
    with pytest.raises(NlptaError, match="task_weight") as e:
        _model(tiny, train=cfg, task_weight=0.7).fit(src, unl)
    assert e.value.code == "E311"
    with pytest.raises(NlptaError, match="mlm_warmup") as e:
        _model(tiny, train=cfg, task_weight=0.5, mlm_warmup=1).fit(src, unl)
    assert e.value.code == "E311"
    with pytest.raises(NlptaError, match="target") as e:  # other target rows, same settings
        _model(tiny, train=cfg, task_weight=0.5).fit(src, sentiment_rows(24, 9, "tgt", labeled=False))
    assert e.value.code == "E311"


def _task(kind, unlabeled=True):
    rows = ROWS[kind]
    unl = (sentiment_rows(40, 3, "tgt", labeled=False) if kind == "sentiment" else pos_rows(30, 3, "tgt")) \
        if unlabeled else None
    return SimpleNamespace(source=rows(48, 1), target=rows(12, 7, "tgt"), unlabeled=unl, target_labeled=None)


# sentiment with the paper's first stage too (dapt: a masked-LM adapter merged into the encoder)
@pytest.mark.parametrize("kind,extra", [("sentiment", {"dapt": True, "dapt_steps": 2, "dapt_examples": 16}),
                                        ("pos", {})])
def test_fit_save_load_model_predicts_the_same(tiny, tmp_path, kind, extra):
    import nlpta
    from nlpta.methods import get_method

    task = _task(kind)
    m = get_method("udalm", kind, seed=2, model=str(tiny), max_steps=3, max_length=32, batch_size=8, lr=1e-2,
                   max_unlabeled=24, task_weight=0.6, **extra).fit(task)
    assert m.info_["train"]["unlabeled"] == 24 and len(m.info_["train"]["udalm"]) == 1
    assert (m.info_["dapt"] is not None) == bool(extra)
    rep = m.fit_report()
    assert rep["task_weight"] == 0.6 and rep["unlabeled"] == 24 and rep["final_mlm_loss"] > 1.0
    before = m.predict(task.target)
    folder = m.save(tmp_path / "m")
    files = {p.name for p in folder.iterdir()}
    assert {"adapter_model.safetensors", "method.json", "nlpta_model.json"} <= files
    from safetensors import safe_open

    with safe_open(str(folder / "adapter_model.safetensors"), "pt") as f:  # the task model only: no MLM head
        keys = list(f.keys())
    assert any("lora_B" in k for k in keys) and not any("predictions" in k or "mlm_head" in k for k in keys)
    assert (folder / "dapt" / "adapter_model.safetensors").is_file() == bool(extra)
    assert json.loads((folder / "nlpta_model.json").read_text())["udalm"]["task_weight"] == 0.6
    back = nlpta.load_model(folder)
    assert back.name == "udalm" and back.predict(task.target) == before
    assert back.fit_report()["final_task_loss"] == rep["final_task_loss"]
    for x, y in zip(back.model_.logits(task.target), m.model_.logits(task.target), strict=True):
        assert torch.allclose(torch.as_tensor(x), torch.as_tensor(y), atol=1e-5)


def test_missing_or_bad_settings_are_refused(tiny):
    from nlpta.methods import get_method

    common = {"model": str(tiny), "max_steps": 1, "max_length": 32, "batch_size": 8}
    with pytest.raises(NlptaError, match="needs target unlabeled rows") as e:
        get_method("udalm", "sentiment", **common).fit(_task("sentiment", unlabeled=False))
    assert e.value.code == "E306" and "unlabeled:" in str(e.value)
    empty = _task("sentiment")
    empty.unlabeled = empty.unlabeled.select([])
    with pytest.raises(NlptaError) as e:
        get_method("udalm", "sentiment", **common).fit(empty)
    assert e.value.code == "E328"
    with pytest.raises(NlptaError, match="task_weight") as e:
        get_method("udalm", "sentiment", task_weight=1.5, **common).fit(_task("sentiment"))
    assert e.value.code == "E322"
    with pytest.raises(NlptaError, match="full"):
        get_method("udalm", "sentiment", full="yes", **common).fit(_task("sentiment"))
    with pytest.raises(NlptaError, match="unlabeled target rows"):  # the model API, without a task
        _model(tiny).fit(sentiment_rows(8, 1), None)
