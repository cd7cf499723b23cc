"""scripts/train_lora.py under ``accelerate launch`` with two CPU processes trains one model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("accelerate")
pytest.importorskip("peft")

from finetune_helpers import pos_rows, tiny_bert, write_conllu  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def test_two_processes_train_one_model(tmp_path):
    tiny = tiny_bert(tmp_path / "bert")
    src = write_conllu(tmp_path / "src.conllu", pos_rows(64, 1))
    tgt = write_conllu(tmp_path / "tgt.conllu", pos_rows(16, 2))
    task = tmp_path / "t.yaml"
    task.write_text(f"name: tiny-ddp\ntask: pos\nsource: {{corpus: {src}}}\ntarget: {{corpus: {tgt}}}\n"
                    "method: lora\nseeds: [1]\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    reports = tmp_path / "reports"
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
           str(ROOT / "scripts" / "train_lora.py"), str(task), "--method", "lora", "--model", str(tiny),
           "--max-steps", "4", "--max-length", "32", "--batch-size", "4", "--out", str(tmp_path / "run"),
           "--report-dir", str(reports), "--param", "lr=0.01"]
    p = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    r = [json.loads((reports / f"lora_pos-rank{k}.json").read_text()) for k in (0, 1)]
    assert [x["world_size"] for x in r] == [2, 2]
    assert set(r[0]["first_shard"]).isdisjoint(r[1]["first_shard"])  # each process its own examples
    assert len(r[0]["first_shard"]) == len(r[1]["first_shard"]) == 4
    # different data on each process, yet the same weights after 4 steps: gradients were averaged
    assert r[0]["weights_sha256"] == r[1]["weights_sha256"]
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    rows = [json.loads(x) for x in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
    words = [(g, p) for r in rows for g, p in zip(r["gold"], r["pred"], strict=True)]
    assert len(rows) == 16  # the main process alone wrote the run folder, once
    assert m["method"] == "lora" and m["summary"]["accuracy"]["mean"] == pytest.approx(
        sum(g == p for g, p in words) / len(words))
    saved = tmp_path / "run" / "model-seed1"
    assert (saved / "adapter_model.safetensors").exists()
    # the model the two processes trained is the one saved: it predicts what the run reported
    from nlpta import load_model
    from nlpta.data import load

    assert load_model(saved).predict(load(str(tgt))) == [r["pred"] for r in rows]


def test_two_processes_run_dapt_with_its_head_warmup(tmp_path):
    """lora-dapt's head warm-up (``dapt_warmup: auto``, 2 of 4 masked-LM steps on the tiny BERT,
    which has no masked-LM head) under two processes: the adapter gets a zero gradient in the
    warm-up yet stays in the graph, so distributed data parallel averages every weight and the
    run completes with the same weights on both processes."""
    tiny = tiny_bert(tmp_path / "bert")
    src = write_conllu(tmp_path / "src.conllu", pos_rows(64, 1))
    tgt = write_conllu(tmp_path / "tgt.conllu", pos_rows(16, 2))
    task = tmp_path / "t.yaml"
    task.write_text(f"name: tiny-ddp-dapt\ntask: pos\nsource: {{corpus: {src}}}\ntarget: {{corpus: {tgt}}}\n"
                    f"unlabeled: {{corpus: {tgt}, labeled: false}}\nmethod: lora-dapt\nseeds: [1]\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
           str(ROOT / "scripts" / "train_lora.py"), str(task), "--method", "lora-dapt", "--model", str(tiny),
           "--max-steps", "2", "--max-length", "32", "--batch-size", "4", "--out", str(tmp_path / "run"),
           "--report-dir", str(tmp_path / "reports"), "--param", "dapt_steps=4"]
    p = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    info = json.loads((tmp_path / "run" / "model-seed1" / "train_info.json").read_text())
    assert info["dapt"]["steps"] == 4 and info["dapt"]["head_warmup_steps"] == 2 and info["dapt"]["head_new"]
    assert info["dapt"]["world_size"] == 2
    # the task stage on the DAPT-merged encoder: the same weights on both processes
    r = [json.loads((tmp_path / "reports" / f"lora-dapt_pos-rank{k}.json").read_text()) for k in (0, 1)]
    assert r[0]["weights_sha256"] == r[1]["weights_sha256"]
