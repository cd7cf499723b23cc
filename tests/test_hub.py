"""``nlpta push`` end to end against a fake Hub on 127.0.0.1, then the adapter loaded back from it
gives the same predictions. huggingface_hub runs in subprocesses so that HF_ENDPOINT and
HF_HUB_DISABLE_XET are set before it is imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytest.importorskip("peft")
pytest.importorskip("huggingface_hub")

from finetune_helpers import pos_rows, tiny_bert, write_conllu  # noqa: E402
from hub_server import FakeHub  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "hf_nlptaTestSecret0123456789"

LOAD_BACK = """
import json, sys
from nlpta.data import load
from nlpta.finetune.hub import load_from_hub
m = load_from_hub(sys.argv[1])
print(json.dumps(m.predict(load(sys.argv[2]))))
"""


def test_push_and_load_back(tmp_path):
    from nlpta.data import load
    from nlpta.finetune.model import AdapterModel
    from nlpta.pipeline import run_task

    tiny = tiny_bert(tmp_path / "bert")
    src = write_conllu(tmp_path / "src.conllu", pos_rows(48, 1))
    tgt = write_conllu(tmp_path / "tgt.conllu", pos_rows(12, 2))
    task = tmp_path / "t.yaml"
    task.write_text(f"name: tiny-push\ntask: pos\nsource: {{corpus: {src}}}\ntarget: {{corpus: {tgt}}}\n"
                    "method: lora\nseeds: [1]\n")
    run = tmp_path / "run"
    res = run_task(task, method="lora", out_dir=run, save_model=True,
                   params={"model": str(tiny), "max_steps": 4, "max_length": 32, "lr": 0.01})
    (run / "bias.json").write_text(json.dumps({"summary": {"largest_gap": "PROPN recall -12.5 points"}}))
    local = AdapterModel.load(run / "model-seed1").predict(load(str(tgt)))

    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_DISABLE_XET": "1", "HF_TOKEN": TOKEN,
           "HF_HOME": str(tmp_path / "hf_home"), "HF_HUB_DISABLE_TELEMETRY": "1"}
    env.pop("HF_HUB_OFFLINE", None)  # (TRANSFORMERS_OFFLINE also switches huggingface_hub offline)
    env.pop("TRANSFORMERS_OFFLINE", None)
    with FakeHub() as hub:
        env["HF_ENDPOINT"] = hub.url
        p = subprocess.run([sys.executable, "-m", "nlpta", "-v", "push", str(run), "--repo-id", "nlpta-test/tiny-pos"],
                           env=env, capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stdout + p.stderr
        assert TOKEN not in p.stdout + p.stderr  # never in logs
        assert f"Bearer {TOKEN}" in hub.auth  # but it was sent
        files = hub.repos["nlpta-test/tiny-pos"]
        assert {"adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "nlpta_model.json",
                "README.md"} <= set(files)
        card = files["README.md"].decode()
        meta = yaml.safe_load(card.split("---")[1])
        assert meta["library_name"] == "peft" and meta["base_model"] == str(tiny)
        assert meta["metrics"] == ["accuracy"] and "src.conllu" in meta["datasets"]
        acc = meta["model-index"][0]["results"][0]["metrics"][0]["value"]
        assert acc == round(res.accuracy, 4)
        assert "PROPN recall -12.5 points" in card and "Bias summary" in card
        # a second push to the same repo works (create_repo exist_ok)
        p = subprocess.run([sys.executable, "-m", "nlpta", "push", str(run), "--repo-id", "nlpta-test/tiny-pos"],
                           env=env, capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr
        q = subprocess.run([sys.executable, "-c", LOAD_BACK, "nlpta-test/tiny-pos", str(tgt)], env=env,
                           capture_output=True, text=True, timeout=300)
        assert q.returncode == 0, q.stderr[-3000:]
        assert any(r.startswith("GET /nlpta-test/tiny-pos/resolve/") for r in hub.requests)
    assert json.loads(q.stdout.strip().splitlines()[-1]) == local
