"""Share a fine-tuned model on the Hugging Face Hub: the folder
:meth:`~nlpta.finetune.model.AdapterModel.save_pretrained` writes (peft adapter + head or full
weights, ``config.json`` with ``id2label``, tokenizer, ``nlpta_model.json``, ``dapt/``) and a model
card, pushed with ``huggingface_hub``. Loading it back is
``AdapterModel.from_pretrained(repo_id)`` (or plain peft + transformers, as the card shows).

The card's YAML metadata carries ``base_model``, ``library_name: peft`` (``transformers`` for full
fine-tuning), ``datasets``, ``metrics`` and a ``model-index`` with the measured accuracy; its text
gives the source and target domains, accuracy per seed and per target domain, the training
parameters, and the bias summary when the run folder has a ``bias.json`` with a ``summary`` key.

The token comes from the ``token`` argument or ``HF_TOKEN`` and is never written to logs or
files. ``HF_ENDPOINT`` selects another Hub (read by huggingface_hub when it is imported).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from ..errors import Errors, HubError

log = logging.getLogger(__name__)

HUB_IDS = {"minilm-l6": "sentence-transformers/all-MiniLM-L6-v2",
           "multilingual-e5-small": "intfloat/multilingual-e5-small"}


class PushError(HubError):
    """A run folder cannot be pushed (no saved model, unreadable metrics): a :class:`~nlpta.errors.HubError`."""


def _model_dir(run_dir: Path, seed: int | None) -> Path:
    """The saved model in ``run_dir``: the folder itself, or its ``model-seed<S>/`` (the first, or ``seed``)."""
    if (run_dir / "nlpta_model.json").exists():
        return run_dir
    cands = sorted(run_dir.glob("model-seed*"), key=lambda p: int(p.name.removeprefix("model-seed") or 0))
    if seed is not None:
        cands = [p for p in cands if p.name == f"model-seed{seed}"]
    cands = [p for p in cands if (p / "nlpta_model.json").exists()]
    if not cands:
        raise Errors.E501(path=run_dir, cls=PushError,
                          detail="no saved transformer model here: expected model-seed<S>/nlpta_model.json (run "
                                 "with --save-model, or scripts/train_lora.py, a lora / lora-dapt / full-ft method)")
    return cands[0]


def _read_json(p: Path) -> Any:
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise Errors.E501(path=p, line=e.lineno, cls=PushError, detail=f"not valid JSON: {e.msg}") from None


def _datasets_of(task: dict) -> list[str]:
    names = []
    for key in ("source", "target", "unlabeled", "target_labeled"):
        v = task.get(key)
        if isinstance(v, dict) and v.get("corpus"):
            c = str(v["corpus"])
            names.append(Path(c).name if "/" in c else c)
    return list(dict.fromkeys(names))


def model_card(model_meta: dict, metrics: dict | None, task: dict | None, bias: dict | None) -> str:
    """The README.md of the pushed repository (YAML metadata + Markdown)."""
    base = HUB_IDS.get(model_meta["base_model"], model_meta["base_model"])
    kind = model_meta["kind"]
    pipeline = "token-classification" if kind == "pos" else "text-classification"
    lora = model_meta["method"] == "lora"
    auto = "AutoModelForTokenClassification" if kind == "pos" else "AutoModelForSequenceClassification"
    meta: dict[str, Any] = {"base_model": base, "library_name": "peft" if lora else "transformers",
                            "pipeline_tag": pipeline, "metrics": ["accuracy"],
                            "tags": ["nlpta", "domain-adaptation", "lora" if lora else "full-fine-tuning",
                                     "pos-tagging" if kind == "pos" else "sentiment-analysis"]}
    if task:
        meta["datasets"] = _datasets_of(task)
    acc = None
    if metrics:
        acc = metrics["summary"]["accuracy"]["mean"]
        meta["model-index"] = [{"name": (metrics.get("task") or "nlpta-model"), "results": [{
            "task": {"type": pipeline},
            "dataset": {"name": (metrics.get("data", {}).get("target", {}).get("spec") or "target"),
                        "type": (task or {}).get("target", {}).get("corpus", "target")},
            "metrics": [{"type": "accuracy", "value": round(float(acc), 4)}]}]}]
    lines = ["---", yaml.safe_dump(meta, sort_keys=False, allow_unicode=True).strip(), "---", "",
             f"# {metrics.get('task', 'nlpta model') if metrics else 'nlpta model'} ({model_meta['method']})", ""]
    what = "UPOS tagging (UD's 17 tags, per word)" if kind == "pos" else "binary sentiment classification"
    lines += [f"{what} with {'a LoRA adapter' if lora else 'full fine-tuning'} of `{base}`, trained with "
              "[nlpta](https://github.com/) for transfer across domains or languages."
              + (" A domain-adaptive masked-LM adapter (`dapt/`) was trained on target unlabeled text "
                 "and merged into the encoder before the task adapter." if model_meta.get("dapt") else ""), ""]
    if task:
        lines += ["## Transfer", "", "| role | data |", "|---|---|"]
        for key in ("source", "target", "unlabeled", "target_labeled"):
            v = task.get(key)
            if isinstance(v, dict):
                desc = " ".join(f"{k}={v[k]}" for k in ("split", "domain", "lang", "limit") if v.get(k) is not None)
                lines.append(f"| {key} | `{Path(str(v['corpus'])).name if '/' in str(v['corpus']) else v['corpus']}` {desc} |")
        lines.append("")
    if metrics:
        s = metrics["summary"]["accuracy"]
        lines += ["## Measured accuracy", "",
                  f"Target accuracy ({metrics.get('unit', 'unit')}-level): **{100 * s['mean']:.2f}**"
                  + (f" ± {100 * s['half_width']:.2f} (95% CI over {s['n']} seeds)" if s.get("n", 1) > 1 else
                     " (one seed)"), "", "| seed | accuracy |", "|---:|---:|"]
        for r in metrics.get("runs", []):
            lines.append(f"| {r['seed']} | {100 * r['accuracy']:.2f} |")
        pd = metrics["summary"].get("per_domain", {})
        if len(pd) > 1:
            lines += ["", "| target domain | accuracy |", "|---|---:|"]
            lines += [f"| {d} | {100 * v['mean']:.2f} |" for d, v in pd.items()]
        lines.append("")
    if bias and "summary" in bias:
        summ = bias["summary"]
        lines += ["## Bias summary", ""]
        if isinstance(summ, str):
            lines.append(summ)
        else:
            lines += ["```yaml", yaml.safe_dump(summ, sort_keys=False, allow_unicode=True).strip(), "```"]
        lines.append("")
    params = {**(model_meta.get("lora") or {}), "max_length": model_meta.get("max_length")}
    if metrics:
        params.update({k: v for k, v in (metrics.get("params") or {}).items() if k not in ("report_dir", "checkpoint_dir")})
    lines += ["## Training", "", "```yaml", yaml.safe_dump(params, sort_keys=True).strip(), "```", "",
              "## Use", "", "```python", "from nlpta.finetune import AdapterModel",
              "model = AdapterModel.from_pretrained(\"REPO_ID\")",
              "model.predict(rows)   # nlpta rows: POS tokens, or review text", "```", "",
              "Without nlpta" + (", with peft and transformers:" if lora else ", with transformers:"), "",
              "```python"]
    if lora:
        lines += ["from peft import PeftModel", f"from transformers import AutoConfig, {auto}, AutoTokenizer", "",
                  "config = AutoConfig.from_pretrained(\"REPO_ID\")   # id2label / label2id of the head",
                  f"model = {auto}.from_pretrained(\"{base}\", config=config)"]
        if model_meta.get("dapt"):
            lines.append("model = PeftModel.from_pretrained(model, \"REPO_ID\", subfolder=\"dapt\").merge_and_unload()")
        lines.append("model = PeftModel.from_pretrained(model, \"REPO_ID\").eval()")
    else:
        lines += [f"from transformers import {auto}, AutoTokenizer", "",
                  f"model = {auto}.from_pretrained(\"REPO_ID\").eval()"]
    lines += ["tokenizer = AutoTokenizer.from_pretrained(\"REPO_ID\")", "```", ""]
    return "\n".join(lines)


def stage(run_dir: str | Path, out: str | Path, seed: int | None = None, repo_id: str = "REPO_ID") -> Path:
    """Lay out the files to push in ``out``: the saved model folder (adapter or model files at
    the top, ``config.json``, tokenizer, ``nlpta_model.json``, ``dapt/``), ``metrics.json`` and the
    model card ``README.md``; the adapter configs name the public base model. Returns ``out``."""
    run_dir, out = Path(run_dir), Path(out)
    mdir = _model_dir(run_dir, seed)
    meta = _read_json(mdir / "nlpta_model.json")
    out.mkdir(parents=True, exist_ok=True)
    for f in mdir.iterdir():
        if f.is_dir() and f.name in ("adapter", "model"):  # folders saved by older nlpta versions
            for g in f.iterdir():
                shutil.copy2(g, out / g.name)
        elif f.is_dir():
            shutil.copytree(f, out / f.name, dirs_exist_ok=True)
        else:
            shutil.copy2(f, out / f.name)
    public = HUB_IDS.get(meta["base_model"], meta["base_model"])
    for cfg in [out / "adapter_config.json", out / "dapt" / "adapter_config.json"]:
        if cfg.exists():  # point the adapter at the public base model, not at a local path
            c = _read_json(cfg)
            c["base_model_name_or_path"] = public
            cfg.write_text(json.dumps(c, indent=2))
    metrics = _read_json(run_dir / "metrics.json") if (run_dir / "metrics.json").exists() else None
    task = yaml.safe_load((run_dir / "task.yaml").read_text()) if (run_dir / "task.yaml").exists() else None
    bias = _read_json(run_dir / "bias.json") if (run_dir / "bias.json").exists() else None
    if metrics:
        shutil.copy2(run_dir / "metrics.json", out / "metrics.json")
    (out / "README.md").write_text(model_card(meta, metrics, task, bias).replace("REPO_ID", repo_id), encoding="utf-8")
    return out


def push(run_dir: str | Path, repo_id: str, token: str | None = None, private: bool = False,
         seed: int | None = None, commit_message: str | None = None) -> str:
    """Create ``repo_id`` (if needed) and upload the run's model (``run_dir``: a run folder with
    ``model-seed<S>/``, or a folder written by ``save_pretrained``) with a model card.

    Returns:
        the commit URL.
    """
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    with tempfile.TemporaryDirectory(prefix="nlpta-push-") as tmp:
        staged = stage(run_dir, Path(tmp) / "repo", seed=seed, repo_id=repo_id)
        url = api.create_repo(repo_id, private=private, exist_ok=True)
        log.info("pushing %d files to %s", sum(1 for _ in staged.rglob("*") if _.is_file()), url)
        info = api.upload_folder(repo_id=repo_id, folder_path=str(staged),
                                 commit_message=commit_message or f"nlpta: upload {Path(run_dir).name}")
    return str(getattr(info, "commit_url", info))
