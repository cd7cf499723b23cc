"""Transformer self-training (``lora-self-train``) on tiny random BERTs built from a config (no
download): the pseudo-label selection on planted probabilities (thresholded, class-balanced for
sentiment, whole sentences by their least confident word for POS), the EMA teacher's update rule,
end-to-end fits that record their rounds, save and load, and a run with an EMA teacher that,
killed inside a round and resumed, ends where an uninterrupted run ends."""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from finetune_helpers import pos_rows, sentiment_rows, tiny_bert  # noqa: E402

from nlpta.errors import NlptaError  # noqa: E402
from nlpta.finetune.self_train import ema_update, self_train  # noqa: E402
from nlpta.methods.finetune import pseudo_label_selection  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_bert(tmp_path_factory.mktemp("tiny") / "bert")


# ------------------------------------------------------------------------------ selection, no model
# planted (row: top probability, its class): 0 (.95, 0) 1 (.90, 1) 2 (.99, 0) 3 (.80, 1) 4 (.97, 0)
# 5 (.98, 1) 6 (.93, 0)
PLANTED = [[0.95, 0.05], [0.10, 0.90], [0.99, 0.01], [0.20, 0.80], [0.97, 0.03], [0.02, 0.98], [0.93, 0.07]]


def test_sentiment_selection_is_thresholded_and_class_balanced():
    P = [np.array(r) for r in PLANTED]
    # >= 0.9: class 0 has rows 2, 4, 0, 6 (most confident first), class 1 rows 5, 1 (row 3 is below):
    # 2 per class, as many as the rarest class has -> class 0's two most confident (2, 4), class 1's (5, 1)
    rows, labels, conf = pseudo_label_selection("sentiment", P, threshold=0.9)
    assert rows.tolist() == [1, 2, 4, 5] and labels == [1, 0, 0, 1]
    np.testing.assert_allclose(conf, [0.95, 0.90, 0.99, 0.80, 0.97, 0.98, 0.93])
    # top_share 0.5 caps the total at floor(0.5 * 7) = 3 -> 1 per class: the most confident of each
    rows, labels, _ = pseudo_label_selection("sentiment", P, threshold=0.9, top_share=0.5)
    assert rows.tolist() == [2, 5] and labels == [0, 1]
    # a lower threshold lets row 3 in: class 1 has 3 candidates, class 0 still 4 -> 3 each
    rows, labels, _ = pseudo_label_selection("sentiment", P, threshold=0.8)
    assert rows.tolist() == [0, 1, 2, 3, 4, 5] and labels == [0, 1, 0, 1, 0, 1]
    # no class-1 row reaches 0.99: balance leaves nothing rather than one class only
    rows, labels, _ = pseudo_label_selection("sentiment", P, threshold=0.99)
    assert rows.tolist() == [] and labels == []
    with pytest.raises(NlptaError, match="threshold") as e:
        pseudo_label_selection("sentiment", P, threshold=1.5)
    assert e.value.code == "E322"


def test_pos_selection_takes_whole_sentences_by_their_least_confident_word():
    P = [np.array([[0.95, 0.05], [0.08, 0.92]]),  # min 0.92, tags [0, 1]
         np.array([[0.99, 0.01], [0.40, 0.60]]),  # min 0.60
         np.zeros((0, 2)),                         # no word within max_length: never selected
         np.array([[0.09, 0.91]])]                 # min 0.91, tags [1]
    rows, labels, conf = pseudo_label_selection("pos", P, threshold=0.9)
    assert rows.tolist() == [0, 3] and [x.tolist() for x in labels] == [[0, 1], [1]]
    np.testing.assert_allclose(conf, [0.92, 0.60, -1.0, 0.91])
    rows, labels, _ = pseudo_label_selection("pos", P, threshold=0.0)
    assert rows.tolist() == [0, 1, 3] and labels[1].tolist() == [0, 1]  # the empty sentence stays out
    rows, _, _ = pseudo_label_selection("pos", P, threshold=None, top_share=0.5)  # the 2 most confident of 4
    assert rows.tolist() == [0, 3]


# ------------------------------------------------------------------------------ EMA teacher
def test_ema_update_known_answer():
    torch.manual_seed(0)
    student = torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.BatchNorm1d(1))
    teacher = torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.BatchNorm1d(1))
    with torch.no_grad():
        teacher[0].weight.copy_(torch.tensor([[1.0, 2.0]]))
        teacher[0].bias.fill_(0.0)
        student[0].weight.copy_(torch.tensor([[3.0, -2.0]]))
        student[0].bias.fill_(1.0)
        student[1].running_mean.fill_(5.0)
    student[0].bias.requires_grad_(False)  # a weight the student does not train: the teacher keeps its own
    ema_update(teacher, student, 0.9)
    torch.testing.assert_close(teacher[0].weight, torch.tensor([[1.2, 1.6]]))  # 0.9 * [1, 2] + 0.1 * [3, -2]
    assert teacher[0].bias.item() == 0.0
    assert teacher[1].running_mean.item() == 5.0  # buffers follow the student
    ema_update(teacher, student, 0.5)
    torch.testing.assert_close(teacher[0].weight, torch.tensor([[2.1, -0.2]]))  # 0.5 * [1.2, 1.6] + 0.5 * [3, -2]
    ema_update(teacher, student, 0.0)  # decay 0: the student itself
    torch.testing.assert_close(teacher[0].weight, student[0].weight)


# ------------------------------------------------------------------------------ end to end
COMMON = {"max_steps": 3, "max_length": 32, "batch_size": 8, "lr": 1e-2, "max_unlabeled": 24}


def _task(kind):
    if kind == "sentiment":
        return SimpleNamespace(source=sentiment_rows(48, 1), target=sentiment_rows(12, 7, "tgt"),
                               unlabeled=sentiment_rows(40, 3, "tgt", labeled=False), target_labeled=None)
    return SimpleNamespace(source=pos_rows(48, 1), target=pos_rows(12, 7, "tgt"), unlabeled=pos_rows(30, 3, "tgt"),
                           target_labeled=None)


# sentiment: 40 steps at 3e-2 before the tiny model predicts both classes (after 3-10 steps it
# predicts one class, and the class balance then leaves nothing to pseudo-label)
@pytest.mark.parametrize("kind,params", [("sentiment", {"threshold": 0.5, "max_steps": 40, "lr": 3e-2,
                                                        "warmup_ratio": 0.0}),
                                         ("pos", {"threshold": None, "top_share": 0.5})])
def test_fit_records_rounds_saves_and_loads(tiny, tmp_path, kind, params):
    import nlpta
    from nlpta.methods import get_method

    task = _task(kind)
    m = get_method("lora-self-train", kind, seed=2, model=str(tiny), rounds=2, **{**COMMON, **params}).fit(task)
    st = m.info_["self_training"]
    assert [h["round"] for h in st["rounds"]] == [1, 2] and st["target_rows"] == 24
    for h in st["rounds"]:
        assert h["threshold"] == params["threshold"] and h["teacher"] == "student"
        assert h["train_steps"] == params.get("max_steps", 3)
        if kind == "sentiment":
            # threshold 0.5 with two classes: every row is a candidate; balanced -> the same count per class
            assert h["selected"] > 0 and h["per_class"]["0"] == h["per_class"]["1"] == h["selected"] // 2
        else:
            assert h["selected"] == 12  # top_share 0.5 of 24 sentences
            assert sum(h["per_class"].values()) > 12  # word tags of whole sentences
    assert st["rounds"][1]["changed"] is not None
    rep = m.fit_report()
    assert rep["rounds"] == st["rounds"] and rep["pseudo_labeled"] == st["rounds"][-1]["selected"]
    assert rep["warnings"] == []
    before = m.predict(task.target)
    back = nlpta.load_model(m.save(tmp_path / "m"))
    assert back.name == "lora-self-train" and back.predict(task.target) == before
    assert back.fit_report() == rep


def test_empty_rounds_warn_and_bad_settings_are_refused(tiny):
    from nlpta.methods import get_method

    m = get_method("lora-self-train", "sentiment", seed=1, model=str(tiny), rounds=1, threshold=1.0,
                   **COMMON).fit(_task("sentiment"))
    assert m.info_["self_training"]["rounds"][0]["selected"] == 0  # a random tiny model is never that sure
    assert "no target row passed" in m.fit_report()["warnings"][0]
    bad = [({"threshold": None}, "threshold / top_share"), ({"ema": 1.0}, "ema"), ({"rounds": -1}, "rounds"),
           ({"top_share": 2}, "top_share")]
    for extra, what in bad:
        with pytest.raises(NlptaError, match=what) as e:
            get_method("lora-self-train", "sentiment", model=str(tiny), **{**COMMON, **extra}).fit(_task("sentiment"))
        assert e.value.code == "E322", extra
    no_unl = _task("sentiment")
    no_unl.unlabeled = None
    with pytest.raises(NlptaError, match="needs target unlabeled rows") as e:
        get_method("lora-self-train", "sentiment", model=str(tiny), **COMMON).fit(no_unl)
    assert e.value.code == "E306"


def test_ema_teacher_run_resumes_exactly(tiny, tmp_path):
    """Killed inside round 2 (after its step 3; last checkpoint step 2), the rerun resumes round 0 and 1
    from their final checkpoints, round 2 from step 2 with the teacher saved beside it, and ends with
    the weights and the round records of the uninterrupted run."""
    from dataclasses import replace

    from peft import LoraConfig

    from nlpta.finetune.model import AdapterModel
    from nlpta.finetune.trainer import TrainConfig, TrainingInterrupted, latest_checkpoint

    src, unl = pos_rows(40, 1), pos_rows(32, 3, "tgt")
    base = TrainConfig(lr=1e-2, max_steps=4, batch_size=8, seed=4, warmup_ratio=0.0)

    def select(proba):  # the half of the target sentences whose least sure word is surest
        return pseudo_label_selection("pos", proba, threshold=None, top_share=0.5)

    def run(ck=None, stop_in_round2=None):
        def cfg(r):
            if ck is None:
                return base
            return replace(base, checkpoint_dir=str(ck / f"round{r}"), checkpoint_every=2,
                           stop_after=stop_in_round2 if r == 2 else None)

        m = AdapterModel("pos", model=str(tiny), max_length=32, train=cfg(0),
                         lora_config=LoraConfig(r=4, lora_alpha=8, lora_dropout=0.1, target_modules=["query", "value"]))
        hist = self_train(m, src, unl, select, rounds=2, ema=0.5, threshold=None, round_config=cfg)
        return m, hist

    full, h_full = run()
    ck = tmp_path / "ck"
    with pytest.raises(TrainingInterrupted):
        run(ck, stop_in_round2=3)
    assert latest_checkpoint(ck / "round2").name == "checkpoint-00000002"
    assert (ck / "round2" / "teacher-00000002.safetensors").is_file()
    resumed, h_res = run(ck)
    assert resumed.train_info_["resumed_from"] == "checkpoint-00000002"
    assert h_res == h_full and all(h["teacher"] == "ema" and h["selected"] == 16 for h in h_full)
    assert h_full[1]["changed"] is not None  # round 2's pseudo-labels came from the EMA teacher
    a = {k: v for k, v in full.model_.named_parameters() if v.requires_grad}
    b = {k: v for k, v in resumed.model_.named_parameters() if v.requires_grad}
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    # a checkpoint without its teacher is refused rather than resumed inexactly
    (ck / "round2" / "teacher-00000004.safetensors").unlink()
    with pytest.raises(NlptaError, match="EMA teacher") as e:
        run(ck)
    assert e.value.code == "E311"
