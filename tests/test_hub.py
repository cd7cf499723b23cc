"""``nlpta push`` end to end against a fake Hub on 127.0.0.1 (the real huggingface_hub client), then
the adapter loaded back from it -- with nlpta, and with plain peft + transformers as the model card
says -- gives the same predictions, and ``AdapterModel.push_to_hub`` uploads the same files.
huggingface_hub runs in subprocesses so that HF_ENDPOINT and HF_HUB_DISABLE_XET are set before it
is imported."""

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
import torch
from peft import PeftModel
from transformers import AutoConfig, AutoModelForTokenClassification, AutoTokenizer
from nlpta.data import load
from nlpta.finetune import AdapterModel
repo, tgt, base = sys.argv[1:4]
m = AdapterModel.from_pretrained(repo)
rows = load(tgt)
preds = m.predict(rows)
# plain peft + transformers from the Hub repository, as the model card says
config = AutoConfig.from_pretrained(repo)
plain = PeftModel.from_pretrained(AutoModelForTokenClassification.from_pretrained(base, config=config), repo).eval()
tok = AutoTokenizer.from_pretrained(repo)
enc = tok([list(t) for t in rows["tokens"]], is_split_into_words=True, padding=True, return_tensors="pt")
with torch.no_grad():
    lg = plain(**enc).logits
plain_preds = []
for i, words in enumerate(rows["tokens"]):
    tags, prev = [m.fallback_] * len(words), None
    for t, w in enumerate(enc.word_ids(i)):
        if w is not None and w != prev:
            tags[w] = config.id2label[int(lg[i, t].argmax())]
        prev = w
    plain_preds.append(tags)
url = m.push_to_hub(repo + "-copy")
print(json.dumps({"preds": preds, "plain": plain_preds, "url": url}))
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
    local = AdapterModel.from_pretrained(run / "model-seed1").predict(load(str(tgt)))

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
        assert {"adapter_config.json", "adapter_model.safetensors", "config.json", "tokenizer.json",
                "nlpta_model.json", "README.md"} <= set(files)
        assert json.loads(files["config.json"])["id2label"]["0"] == "ADJ"
        card = files["README.md"].decode()
        meta = yaml.safe_load(card.split("---")[1])
        assert meta["library_name"] == "peft" and meta["base_model"] == str(tiny)
        assert meta["metrics"] == ["accuracy"] and "src.conllu" in meta["datasets"]
        acc = meta["model-index"][0]["results"][0]["metrics"][0]["value"]
        assert acc == round(res.accuracy, 4)
        assert "PROPN recall -12.5 points" in card and "Bias summary" in card
        assert "PeftModel.from_pretrained(model, \"nlpta-test/tiny-pos\")" in card
        # a second push to the same repo works (create_repo exist_ok)
        p = subprocess.run([sys.executable, "-m", "nlpta", "push", str(run), "--repo-id", "nlpta-test/tiny-pos"],
                           env=env, capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr
        q = subprocess.run([sys.executable, "-c", LOAD_BACK, "nlpta-test/tiny-pos", str(tgt), str(tiny)], env=env,
                           capture_output=True, text=True, timeout=300)
        assert q.returncode == 0, q.stderr[-3000:]
        assert any(r.startswith("GET /nlpta-test/tiny-pos/resolve/") for r in hub.requests)
        copy = hub.repos["nlpta-test/tiny-pos-copy"]  # AdapterModel.push_to_hub of the loaded model
        assert set(files) - {"metrics.json", "method.json", "train_info.json"} == set(copy)
        for f in ("adapter_model.safetensors", "config.json", "tokenizer.json"):
            assert copy[f] == files[f], f
        assert json.loads(copy["adapter_config.json"])["base_model_name_or_path"] == str(tiny)
    out = json.loads(q.stdout.strip().splitlines()[-1])
    assert out["preds"] == local and out["plain"] == local
    assert "nlpta-test/tiny-pos-copy/commit/" in out["url"]
