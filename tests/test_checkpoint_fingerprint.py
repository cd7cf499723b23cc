"""Checkpoints never silently mix runs: each seed checkpoints into its own ``seed<S>/`` folder, a
checkpoint carries the fingerprint of its run and a folder of another configuration is refused
(E311); ``checkpoint_every`` without a folder is refused (E313) instead of writing nothing.
On tiny random BERTs (no download)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from finetune_helpers import pos_rows, tiny_bert, write_conllu  # noqa: E402

from nlpta.errors import NlptaError  # noqa: E402
from nlpta.finetune.trainer import latest_checkpoint  # noqa: E402

COMMON = {"max_steps": 4, "max_length": 32, "batch_size": 8, "lr": 1e-2, "checkpoint_every": 2}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_bert(tmp_path_factory.mktemp("tiny") / "bert")


def _preds(run: Path) -> dict[int, list]:
    rows = [json.loads(x) for x in (run / "predictions.jsonl").read_text().splitlines()]
    out: dict[int, list] = {}
    for r in rows:
        out.setdefault(r["seed"], []).append(r["pred"])
    return out


def test_multi_seed_checkpointed_lora_run_keeps_the_seeds_apart(tiny, tmp_path):
    from nlpta.pipeline import run_task

    src = write_conllu(tmp_path / "src.conllu", pos_rows(48, 1))
    tgt = write_conllu(tmp_path / "tgt.conllu", pos_rows(16, 2, "tgt"))
    task = tmp_path / "t.yaml"
    task.write_text(f"name: tiny-pos\ntask: pos\nsource: {{corpus: {src}}}\ntarget: {{corpus: {tgt}}}\n"
                    "method: lora\nseeds: [1, 2]\n")
    ck = tmp_path / "ck"
    params = {**COMMON, "model": str(tiny), "checkpoint_dir": str(ck)}
    run_task(task, out_dir=tmp_path / "run", params=params)
    first = _preds(tmp_path / "run")
    # each seed trained its own model (before: seed 2 "resumed" from seed 1's final checkpoint)
    assert first[1] != first[2]
    assert sorted(p.name for p in ck.iterdir()) == ["seed1", "seed2"]
    for s in (1, 2):
        last = latest_checkpoint(ck / f"seed{s}")
        assert last is not None and last.name == "checkpoint-00000004"
        fp = json.loads((last / "state.json").read_text())["fingerprint"]
        assert fp["run"]["seed"] == s and fp["run"]["method"] == "lora" and fp["train"]["seed"] == s
        assert fp["run"]["params"]["lr"] == 1e-2 and "checkpoint_dir" not in fp["run"]["params"]
    # a rerun of the same configuration resumes from each seed's own checkpoints: same predictions
    run_task(task, out_dir=tmp_path / "run2", params=params)
    assert _preds(tmp_path / "run2") == first
    # the same folder with another configuration is refused, not resumed from
    with pytest.raises(NlptaError, match=r"E311.*checkpoint from another run.*lr: 0\.01 \(checkpoint\) vs 0\.005"):
        run_task(task, out_dir=tmp_path / "run3", params={**params, "lr": 5e-3})
    assert not (tmp_path / "run3").exists()


@pytest.fixture()
def pos_task():
    return SimpleNamespace(source=pos_rows(32, 1), target=pos_rows(8, 7, "tgt"), unlabeled=None, target_labeled=None)


def test_checkpoint_folder_of_another_configuration_is_refused(tiny, tmp_path, pos_task):
    from nlpta.finetune.model import AdapterModel
    from nlpta.finetune.trainer import TrainConfig
    from nlpta.methods import get_method

    ck = tmp_path / "ck"
    kw = {**COMMON, "model": str(tiny), "checkpoint_dir": str(ck)}
    m = get_method("lora", "pos", seed=3, **kw).fit(pos_task)
    assert m.info_["train"]["resumed_from"] is None
    again = get_method("lora", "pos", seed=3, **kw).fit(pos_task)
    assert again.info_["train"]["resumed_from"] == "checkpoint-00000004"
    assert again.predict(pos_task.target) == m.predict(pos_task.target)
    # another method, other parameters, other training rows: refused, naming what differs
    with pytest.raises(NlptaError, match=r"E311.*method: \"lora\" \(checkpoint\) vs \"full-ft\""):
        get_method("full-ft", "pos", seed=3, **kw).fit(pos_task)
    with pytest.raises(NlptaError, match=r"E311.*params\.r: 8 \(checkpoint\) vs 4"):
        get_method("lora", "pos", seed=3, **{**kw, "r": 4}).fit(pos_task)
    other = SimpleNamespace(**{**vars(pos_task), "source": pos_rows(32, 9)})
    with pytest.raises(NlptaError, match=r"E311.*examples\.sha256"):
        get_method("lora", "pos", seed=3, **kw).fit(other)
    # the trainer itself refuses a foreign folder too (here: pointed straight at seed 3's folder)
    with pytest.raises(NlptaError, match="E311"):
        AdapterModel("pos", model=str(tiny), max_length=32,
                     train=TrainConfig(max_steps=4, batch_size=8, seed=3, checkpoint_dir=str(ck / "seed3"),
                                       checkpoint_every=2)).fit(pos_task.source)
    # a checkpoint without a fingerprint (an older nlpta) cannot be matched: refused
    state = ck / "seed3" / "checkpoint-00000004" / "state.json"
    d = json.loads(state.read_text())
    del d["fingerprint"]
    state.write_text(json.dumps(d))
    with pytest.raises(NlptaError, match="E311.*no run fingerprint"):
        get_method("lora", "pos", seed=3, **kw).fit(pos_task)


def test_checkpoint_every_without_a_folder_is_refused(tiny, pos_task):
    from nlpta.cli import main
    from nlpta.finetune.model import AdapterModel
    from nlpta.finetune.trainer import TrainConfig
    from nlpta.methods import get_method

    with pytest.raises(ValueError, match=r"E313.*checkpoint_every=2 needs a checkpoint folder.*checkpoint_dir"):
        get_method("lora", "pos", seed=1, model=str(tiny), max_steps=2, checkpoint_every=2).fit(pos_task)
    with pytest.raises(NlptaError, match="E313"):
        AdapterModel("pos", model=str(tiny), max_length=32,
                     train=TrainConfig(max_steps=2, batch_size=8, checkpoint_every=2)).fit(pos_task.source)
    with pytest.raises(NlptaError, match="E322.*checkpoint_every"):
        get_method("lora", "pos", seed=1, model=str(tiny), checkpoint_every=-1).fit(pos_task)
    assert "--checkpoint-dir" in _help(main)


def _help(main) -> str:
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.suppress(SystemExit):
        main(["finetune", "--help"])
    return buf.getvalue()
