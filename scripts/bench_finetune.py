"""Benchmarks of the transformer methods (LoRA, LoRA + DAPT, full fine-tuning) on a CPU budget.

    python scripts/bench_finetune.py                     # every group (long on 2 CPU cores)
    python scripts/bench_finetune.py --only compare      # LoRA vs full FT (sentiment + POS)
    python scripts/bench_finetune.py --only blitzer      # books->kitchen: frozen MiniLM / lora / lora-dapt
    python scripts/bench_finetune.py --only ewt          # EWT email->reviews: lora vs lora-dapt
    python scripts/bench_finetune.py --only xling        # zero-shot en->de/fr/es POS, Webis en->de/fr/jp
    python scripts/bench_finetune.py --seeds 1,2 --only compare
    python scripts/bench_finetune.py --table             # only rewrite the fragment from the cache
    # on a GPU machine: 8 configurations at a time, into the GPU cache (its own table)
    python scripts/bench_finetune.py --only blitzer-gpu --seeds 1,2,3,4,5,6,7,8,9,10 --jobs 8 \
        --cache bench_out/finetune_gpu.json

Every configuration runs in its own process (``--one NAME --seed S``) so that its peak memory
(``ru_maxrss``: model, data and activations) is its own. Results are cached per (configuration,
seed) in ``bench_out/finetune.json`` (GPU runs: ``bench_out/finetune_gpu.json``, ``--cache``); the Markdown fragment goes to
``bench_out/sections/40_finetune.md`` and BENCHMARKS.md is reassembled by ``scripts/bench.py``.

Protocol (chosen to fit 2 shared CPU cores): subsets of the training sets (seeded samples),
short inputs, few steps; it is stated beside each table. Torch uses 2 threads.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

OUT = ROOT / "bench_out"
CACHE = OUT / "finetune.json"
CACHE_GPU = OUT / "finetune_gpu.json"
FRAGMENT = OUT / "sections" / "40_finetune.md"
# the configurations rerun on a GPU with more seeds (group "blitzer-gpu" of --only)
GPU_NAMES = ("bk-lora", "bk-dapt", "db-lora", "db-dapt", "ed-lora", "ed-dapt", "ke-lora", "ke-dapt", "bk-full",
             "bk-dapt-pivots")

DOM = {"b": "books", "d": "dvd", "e": "electronics", "k": "kitchen"}
# one Blitzer pair per target domain
PAIRS = ("bk", "db", "ed", "ke")


def _sent(pair: str) -> dict:
    s, t = DOM[pair[0]], DOM[pair[1]]
    return {"source": {"corpus": f"mdsd:{s}", "split": "train"},
            "targets": [{"corpus": f"mdsd:{t}", "split": "test"}],
            "unlabeled": {"corpus": f"mdsd:{t}", "split": "unlabeled"}}


# all 1,600 training reviews of the seed's split, 128 subwords, 1 epoch of batch 16 = 100 steps
SENT_P = {"max_examples": 1600, "max_length": 128, "batch_size": 16, "epochs": 1}
POS = {"source": {"corpus": "ud:en_ewt", "split": "train", "domain": "email"},
       "targets": [{"corpus": "ud:en_ewt", "split": "test", "domain": "reviews"}],
       "unlabeled": {"corpus": "ud:en_ewt", "split": "train", "domain": "reviews", "labeled": False}}
POS2 = {"source": {"corpus": "ud:en_ewt", "split": "train", "domain": "answers"},
        "targets": [{"corpus": "ud:en_ewt", "split": "test", "domain": "weblog"}],
        "unlabeled": {"corpus": "ud:en_ewt", "split": "train", "domain": "weblog", "labeled": False}}
POS_P = {"max_examples": 4000, "max_length": 128, "batch_size": 16, "epochs": 1}
# DAPT: one pass of batch 16 over 1,600 target unlabeled rows (100 masked-LM steps), merged, then the task adapter
DAPT_P = {"dapt_examples": 1600, "dapt_lr": 1e-3, "dapt_epochs": 1}
XPOS = {"source": {"corpus": "ud:en_ewt", "split": "train"},
        "targets": [{"corpus": f"ud:{lang}_{tb}", "split": "test", "limit": 300}
                    for tb in ("gsd", "pud") for lang in ("de", "fr", "es")]}
XSENT = {"source": {"corpus": "webis:en/books", "split": "train"},
         "targets": [{"corpus": f"webis:{lang}/books", "split": "test", "limit": 500} for lang in ("de", "fr", "jp")]}
E5 = {"model": "multilingual-e5-small"}

XPOS_P = {"max_examples": 3000, "max_length": 128, "batch_size": 16, "epochs": 1}
XSENT_P = {"max_examples": 2000, "max_length": 128, "batch_size": 16, "epochs": 1}

# In the order they run (most needed first: the CPU budget may stop the list early).
CONFIGS: dict[str, dict] = {}
for _p in PAIRS:
    _d = _sent(_p)
    CONFIGS[f"{_p}-tfidf"] = {"group": "blitzer", "task": "sentiment", "data": _d, "method": "none", "params": {}}
    CONFIGS[f"{_p}-lora"] = {"group": "blitzer", "task": "sentiment", "data": _d, "method": "lora",
                             "params": {**SENT_P, "lr": 1e-3}}
    CONFIGS[f"{_p}-dapt"] = {"group": "blitzer", "task": "sentiment", "data": _d, "method": "lora-dapt",
                             "params": {**SENT_P, **DAPT_P, "lr": 1e-3}}
    CONFIGS[f"{_p}-frozen"] = {"group": "blitzer", "task": "sentiment", "data": _d, "method": "frozen",
                               "params": SENT_P}
CONFIGS.update({
    # LoRA vs full fine-tuning (the lora rows are the ones above)
    "bk-full": {"group": "compare", "task": "sentiment", "data": _sent("bk"), "method": "full-ft",
                "params": {**SENT_P, "lr": 5e-5}},
    "ewt-none": {"group": "ewt", "task": "pos", "data": POS, "method": "none", "params": {}},
    "ewt-lora": {"group": "ewt", "task": "pos", "data": POS, "method": "lora", "params": {**POS_P, "lr": 2e-3}},
    "ewt-dapt": {"group": "ewt", "task": "pos", "data": POS, "method": "lora-dapt", "params": {**POS_P, **DAPT_P, "lr": 2e-3}},
    "ewt-full": {"group": "compare", "task": "pos", "data": POS, "method": "full-ft", "params": {**POS_P, "lr": 1e-4}},
    # group xling: zero-shot across languages with multilingual-e5-small
    "xsent-e5": {"group": "xling", "task": "sentiment", "data": XSENT, "method": "lora",
                 "params": {**XSENT_P, **E5, "lr": 1e-3}},
    "xpos-e5": {"group": "xling", "task": "pos", "data": XPOS, "method": "lora",
                "params": {**XPOS_P, **E5, "lr": 2e-3}},
    "ewt2-none": {"group": "ewt", "task": "pos", "data": POS2, "method": "none", "params": {}},
    "ewt2-lora": {"group": "ewt", "task": "pos", "data": POS2, "method": "lora", "params": {**POS_P, "lr": 2e-3}},
    "ewt2-dapt": {"group": "ewt", "task": "pos", "data": POS2, "method": "lora-dapt",
                  "params": {**POS_P, **DAPT_P, "lr": 2e-3}},
    "bk-dapt-pivots": {"group": "blitzer", "task": "sentiment", "data": _sent("bk"), "method": "lora-dapt",
                       "params": {**SENT_P, **DAPT_P, "lr": 1e-3, "pivots": "auto", "n_pivots": 100}},
})


def _spec(d: dict):
    from nlpta.tasks import DataSpec

    return DataSpec(**d)


def frozen_encoder_predict(train_ds, targets, params, seed):
    """`none` with a frozen MiniLM: mean-pooled encoder features + logistic regression (C by
    5-fold CV on the source), the frozen-feature baseline of ANCHORS.md."""
    import numpy as np
    import torch
    from sklearn.linear_model import LogisticRegressionCV
    from transformers import AutoModel, AutoTokenizer

    from nlpta.models import resolve

    p = resolve(params.get("model", "minilm-l6"))
    tok, enc = AutoTokenizer.from_pretrained(p), AutoModel.from_pretrained(p).eval()

    def embed(texts):
        out = []
        order = np.argsort([len(t) for t in texts])
        with torch.no_grad():
            for s in range(0, len(texts), 64):
                idx = order[s:s + 64]
                b = tok([texts[i] for i in idx], truncation=True, max_length=params["max_length"], padding=True,
                        return_tensors="pt")
                h = enc(**b).last_hidden_state
                m = b["attention_mask"].unsqueeze(-1).float()
                out.append(((h * m).sum(1) / m.sum(1)).numpy())
        e = np.concatenate(out)
        res = np.empty_like(e)
        res[order] = e
        return res

    t0 = time.perf_counter()
    clf = LogisticRegressionCV(Cs=[0.1, 1.0, 10.0], cv=5, max_iter=2000, random_state=seed)
    clf.fit(embed(list(train_ds["text"])), list(train_ds["label"]))
    fit_s = time.perf_counter() - t0
    return [clf.predict(embed(list(t["text"]))).tolist() for t in targets], fit_s


def run_one(name: str, seed: int) -> dict:
    """Train one configuration and evaluate it on each of its targets (in this process)."""
    import torch

    from nlpta.evaluators.metrics import evaluate_predictions
    from nlpta.methods import get_method
    from nlpta.tasks import TaskSpec, TransferTask

    torch.set_num_threads(2)
    c = CONFIGS[name]
    d = c["data"]
    spec = TaskSpec(name=name, task=c["task"], source=_spec(d["source"]), target=_spec(d["targets"][0]),
                    unlabeled=_spec(d["unlabeled"]) if "unlabeled" in d else None, method="none")
    tt = TransferTask(spec, seed=seed)
    targets = [tt.target] + [_spec(t).load(seed) for t in d["targets"][1:]]
    row: dict = {"name": name, "seed": seed, "method": c["method"], "task": c["task"], "params": c["params"]}
    t0 = time.perf_counter()
    if c["method"] == "frozen":
        from nlpta.data import sample_rows

        train_ds = sample_rows(tt.source, c["params"]["max_examples"], seed)
        preds, fit_s = frozen_encoder_predict(train_ds, targets, c["params"], seed)
        row.update(fit_seconds=fit_s, train_rows=len(train_ds))
    else:
        params = dict(c["params"])
        if c["method"] == "none":
            from nlpta.data import sample_rows

            n = (SENT_P if c["task"] == "sentiment" else POS_P)["max_examples"]  # the same rows as the adapters
            tt.source = sample_rows(tt.source, n, seed)
        m = get_method(c["method"], c["task"], seed=seed, **params)
        m.fit(tt)
        row["fit_seconds"] = time.perf_counter() - t0
        row["train_rows"] = len(tt.source) if c["method"] == "none" else min(len(tt.source), params["max_examples"])
        if hasattr(m, "info_"):
            tr = m.info_["train"]
            row.update(train_seconds=tr["seconds"], steps=tr["steps"], epochs=tr["epochs"],
                       seconds_per_epoch=tr["seconds"] / tr["epochs"], final_loss=tr["losses"][-1]["loss"],
                       trainable=m.info_["trainable"])
            if m.info_.get("dapt"):
                row["dapt"] = {k: m.info_["dapt"][k] for k in ("steps", "seconds", "examples", "pivots")}
        t1 = time.perf_counter()
        preds = [m.predict(t) for t in targets]
        row["predict_seconds"] = time.perf_counter() - t1
    row["targets"] = {}
    for spec_d, t, p in zip(d["targets"], targets, preds, strict=True):
        ev = evaluate_predictions(t, p, seed=seed)
        key = spec_d["corpus"] + (f"/{spec_d['domain']}" if spec_d.get("domain") else "")
        row["targets"][key] = {"accuracy": ev["accuracy"], "ci95": ev["ci95"], "n": ev["n"], "rows": ev["n_rows"]}
    import transformers

    row["device"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    row["versions"] = {"torch": torch.__version__, "transformers": transformers.__version__}
    row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row["seconds"] = time.perf_counter() - t0
    return row


def _load_cache(path: Path = CACHE) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def _save_cache(c: dict, path: Path = CACHE) -> None:
    from nlpta.io import atomic_write_json

    atomic_write_json(path, c)


# ------------------------------------------------------------------------------ tables
def _acc(r: dict, key: str | None = None) -> str:
    t = r["targets"][key] if key else next(iter(r["targets"].values()))
    return f"{100 * t['accuracy']:.1f}"


def _rows(cache: dict, name: str) -> list[dict]:
    return [v for k, v in sorted(cache.items()) if k.split("@")[0] == name]


def _mean_acc(rows: list[dict], key: str | None = None) -> str:
    import numpy as np

    vals = [(r["targets"][key] if key else next(iter(r["targets"].values())))["accuracy"] for r in rows]
    s = f"{100 * np.mean(vals):.1f}"
    return s + (f" (n={len(vals)} seeds)" if len(vals) > 1 else "")


def _method_rows(cache: dict, items) -> list[str]:
    out = []
    for name, what in items:
        rows = _rows(cache, name)
        out.append(f"| {what} | {_mean_acc(rows) if rows else 'not run'} |")
    return out


def _accs(cache: dict, name: str, key: str | None = None) -> dict[int, float]:
    """{seed: accuracy in %} of one configuration."""
    out = {}
    for r in _rows(cache, name):
        t = r["targets"][key] if key else next(iter(r["targets"].values()))
        out[r["seed"]] = 100 * t["accuracy"]
    return out


def _cell(vals: dict[int, float] | list[float]) -> str:
    from nlpta.evaluators.metrics import mean_ci

    v = list(vals.values()) if isinstance(vals, dict) else list(vals)
    if not v:
        return "not run"
    if len(v) == 1:
        return f"{v[0]:.1f}"
    ci = mean_ci(v)
    return f"{ci['mean']:.1f} ± {ci['half_width']:.1f}"


def _classical(pair: str) -> dict[str, dict[int, float]]:
    """SFA (pivots bench) and in-domain (foundation bench) per seed, same seeded splits."""
    s, t = DOM[pair[0]], DOM[pair[1]]
    out: dict[str, dict[int, float]] = {"sfa": {}, "in-domain": {}}
    for pv in sorted(OUT.glob("pivots_blitzer*.json")):  # the pivots bench's cache and its workers' parts
        for k, v in json.loads(pv.read_text())["runs"].items():
            pr, m, seed = k.split("|")
            if pr == f"{s}->{t}" and m == "sfa":
                out["sfa"][int(seed)] = 100 * v["accuracy"]
    fb = OUT / "blitzer.json"
    if fb.exists():
        b = json.loads(fb.read_text())
        d = b["in_domain"].get(f"{t}->{t}")
        if d:
            out["in-domain"] = {seed: 100 * a for seed, a in zip(b["seeds"], d["accs"], strict=True)}
    return out


def _paired(a: dict[int, float], b: dict[int, float]) -> str:
    """b - a over the seeds both have: mean ± 95% CI (paired) and per-seed signs."""
    from nlpta.evaluators.metrics import mean_ci

    seeds = sorted(set(a) & set(b))
    if not seeds:
        return "—"
    d = [b[s] - a[s] for s in seeds]
    if len(d) == 1:
        return f"{d[0]:+.1f}"
    ci = mean_ci(d)
    return f"{ci['mean']:+.1f} ± {ci['half_width']:.1f}"


def _mean_over_pairs(ms: list[dict[int, float]]) -> dict[int, float]:
    """{seed: mean accuracy over the pairs} on the seeds every pair has."""
    seeds = set.intersection(*[set(m) for m in ms]) if ms and all(ms) else set()
    return {s: sum(m[s] for m in ms) / len(ms) for s in sorted(seeds)}


def render(cache: dict, gpu: dict | None = None) -> str:
    L = ["## Transformers with LoRA adapters (MiniLM, multilingual-e5-small)", "",
         "CPU-only protocol (2 CPU cores, torch 2 threads, fp32; times are from this machine). Sentiment: all "
         "1,600 training reviews of the seed's split (title + text truncated to 128 subwords), 1 epoch of "
         "batch 16 (100 steps), tested on the 400 target test reviews of the same split (the foundation "
         "protocol, so the `none` column equals the foundation's). POS: up to 4,000 EWT training sentences "
         "of the source genre (128 subwords), 1 epoch of batch 16, tested per word (gold tokenization) on "
         "the target genre's test sentences. LoRA: r 8, alpha 16, dropout 0.1 on query/value, head (+ "
         "pooler) trained and saved with the adapter, lr 1e-3 (sentiment) / 2e-3 (POS), linear decay after "
         "6% warm-up; full fine-tuning lr 5e-5 / 1e-4. DAPT (`lora-dapt`): one pass of masked-LM LoRA "
         "(batch 16, 15% masking, lr 1e-3) over 1,600 target unlabeled rows (100 steps), merged into "
         "the encoder, then the task adapter as in `lora`. Peak memory is the process's maximum RSS "
         "(model, data, activations). Mean ± 95% CI (Student t) over seeds where there are several."]
    done = {k.split("@")[0] for k in cache}
    if {"bk-lora", "bk-full", "ewt-lora", "ewt-full"} & done:
        L += ["", "### LoRA vs full fine-tuning", "",
              "Command: `python scripts/bench_finetune.py --only compare` (the `lora` rows from `--only blitzer` "
              "and `--only ewt`; seed 1).", "",
              "| task (source → target) | method | trainable params (share) | peak RSS MB | train s / epoch | steps | target accuracy |",
              "|---|---|---:|---:|---:|---:|---:|"]
        for name, label in (("bk-lora", "books → kitchen"), ("bk-full", "books → kitchen"),
                            ("ewt-lora", "EWT email → reviews"), ("ewt-full", "EWT email → reviews")):
            rows = [r for r in _rows(cache, name) if r["seed"] == 1]
            if not rows:
                L.append(f"| {label} | {name.split('-')[1]} | not run | | | | |")
                continue
            r = rows[0]
            tr = r["trainable"]
            L.append(f"| {label} | {r['method']} | {tr['trainable']:,} ({100 * tr['share']:.2f}%) | "
                     f"{r['peak_rss_mb']:.0f} | {r['seconds_per_epoch']:.0f} | {r['steps']} | "
                     f"{100 * next(iter(r['targets'].values()))['accuracy']:.1f} |")
    if any(f"{p}-lora" in done for p in PAIRS):
        ran = sorted({s for p in PAIRS for s in _accs(cache, f"{p}-lora")})
        L += ["", "### Blitzer: frozen encoder vs LoRA vs LoRA + DAPT, one pair per target domain", "",
              f"Command: `python scripts/bench_finetune.py --only blitzer --seeds {','.join(map(str, ran))}`"
              + (" (one seed: about 28 min per seed on 2 cores; the CIs of the classical columns are in the "
                 "pivots section)" if len(ran) == 1 else "") + ". `none` = the foundation's "
              "tf-idf uni+bigram logistic regression on the same 1,600 reviews; `sfa` = the best classical "
              "adaptation method here (`python scripts/bench_pivots.py --only blitzer`, same splits); frozen "
              "MiniLM = mean-pooled all-MiniLM-L6-v2 features (128 subwords) + logistic regression, C by 5-fold "
              "CV; `in-domain` = tf-idf trained on the target's own 1,600 training reviews (foundation bench, "
              "same seeds).", "",
              "| source → target | seeds | `none` (tf-idf) | `sfa` | frozen MiniLM | `lora` | `lora-dapt` | "
              "`lora-dapt` − `lora` (paired) | `in-domain` (tf-idf) |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        avg: dict[str, list[dict[int, float]]] = {}
        for p in PAIRS:
            cols = {m: _accs(cache, f"{p}-{m}") for m in ("tfidf", "frozen", "lora", "dapt")}
            cl = _classical(p)
            seeds = sorted(cols["lora"])
            cols["sfa"] = {s: v for s, v in cl["sfa"].items() if s in seeds}
            cols["in-domain"] = {s: v for s, v in cl["in-domain"].items() if s in seeds}
            for m, v in cols.items():
                avg.setdefault(m, []).append(v)
            L.append(f"| {DOM[p[0]]} → {DOM[p[1]]} | {','.join(map(str, seeds))} | {_cell(cols['tfidf'])} | "
                     f"{_cell(cols['sfa'])} | {_cell(cols['frozen'])} | {_cell(cols['lora'])} | {_cell(cols['dapt'])} | "
                     f"{_paired(cols['lora'], cols['dapt'])} | {_cell(cols['in-domain'])} |")

        if all(avg["lora"]):
            A = {m: _mean_over_pairs(v) for m, v in avg.items()}
            L.append(f"| **average ({len(PAIRS)} pairs)** | {','.join(map(str, sorted(A['lora'])))} | "
                     f"**{_cell(A['tfidf'])}** | **{_cell(A['sfa'])}** | **{_cell(A['frozen'])}** | "
                     f"**{_cell(A['lora'])}** | **{_cell(A['dapt'])}** | **{_paired(A['lora'], A['dapt'])}** | "
                     f"**{_cell(A['in-domain'])}** |")
            L += ["", f"`lora` − `none` on the average: {_paired(A['tfidf'], A['lora'])} points (paired over seeds); "
                  f"`lora-dapt` − `none`: {_paired(A['tfidf'], A['dapt'])}; `lora-dapt` − `sfa`: "
                  f"{_paired(A['sfa'], A['dapt'])}; frozen MiniLM − `none`: {_paired(A['tfidf'], A['frozen'])}."]
        piv = _accs(cache, "bk-dapt-pivots")
        if piv:
            L += ["", f"`lora-dapt` with `pivots: auto` (100 pivots by MI with the source label, masked with "
                  f"probability 0.5, the PERL idea) on books → kitchen: {_cell(piv)} (seeds "
                  f"{','.join(map(str, sorted(piv)))}; random masking: {_cell({s: v for s, v in _accs(cache, 'bk-dapt').items() if s in piv})})."]
    if gpu:
        L += _gpu_section(cache, gpu)
    if {"ewt-lora", "ewt2-lora"} & done:
        ewt_seeds = sorted(_accs(cache, "ewt-lora") or _accs(cache, "ewt2-lora"))
        L += ["", "### EWT genre transfer: LoRA vs LoRA + DAPT", "",
              f"Command: `python scripts/bench_finetune.py --only ewt --seeds {','.join(map(str, ewt_seeds))}`. "
              "`none` = the foundation's feature tagger on the same training sentences (every source sentence "
              "is used when the genre has fewer than 4,000, so it does not move with the seed); DAPT reads the "
              "target genre's training sentences without their tags.", "",
              "| source → target | seeds | `none` (feature tagger) | `lora` | `lora-dapt` | `lora-dapt` − `lora` |",
              "|---|---:|---:|---:|---:|---:|"]
        for pre, label in (("ewt", "email → reviews"), ("ewt2", "answers → weblog")):
            c = {m: _accs(cache, f"{pre}-{m}") for m in ("none", "lora", "dapt")}
            if not c["lora"]:
                continue
            L.append(f"| {label} | {','.join(map(str, sorted(c['lora'])))} | {_cell(c['none'])} | {_cell(c['lora'])} | "
                     f"{_cell(c['dapt'])} | {_paired(c['lora'], c['dapt'])} |")
    if {"xpos-e5", "xsent-e5"} & done:
        L += ["", "### Zero-shot across languages with multilingual-e5-small (LoRA)", "",
              "Command: `python scripts/bench_finetune.py --only xling`. Train on English only; no target "
              "data. POS: 3,000 EWT training sentences (all genres; 128 subwords, 1 epoch of batch 16), "
              "tested on 300 sentences (seeded sample) of each UD test set. Sentiment: the 2,000 Webis-CLS-10 "
              "English books training reviews (128 subwords, 1 epoch of batch 16), tested on 500 (seeded "
              "sample) of each language's books test set. Published zero-shot figures are with larger "
              "encoders and full training sets: mBERT POS ≈ 89 German (Pires et al. 2019, as listed in "
              "ANCHORS.md, unverified); mBERT Webis zero-shot 72.0 / 75.4 / 66.9 de / fr / jp averaged over "
              "books, dvd, music (as tabulated in the CLTS paper's repository, ANCHORS.md). Floors from this "
              "repo: the English feature tagger on German GSD 27.8, French GSD 33.6, Spanish GSD 31.9 "
              "(ANCHORS.md); CL-SCL and dictionary translation on Webis books in the pivots section.", "",
              "| task | target | accuracy |", "|---|---|---:|"]
        for name in ("xpos-e5", "xsent-e5"):
            rows = _rows(cache, name)
            if rows:
                for key in rows[0]["targets"]:
                    L.append(f"| {'POS (UPOS)' if rows[0]['task'] == 'pos' else 'sentiment'} | {key} | "
                             f"{_cell(_accs(cache, name, key))} |")
    missing = [n for n in CONFIGS if n not in done]
    if missing:
        L += ["", f"Not run yet (CPU budget): {', '.join(missing)}."]
    return "\n".join(L) + "\n"


def _gpu_section(cache: dict, gpu: dict) -> list[str]:
    """The Blitzer rows rerun on a GPU with more seeds; `none` (tf-idf, CPU) from the CPU cache."""
    ran = sorted({s for p in PAIRS for s in _accs(gpu, f"{p}-lora")})
    if not ran:
        return []
    dev = next((r.get("device") for r in gpu.values() if r.get("device")), "a GPU")
    r0 = next(iter(gpu.values()))
    env = (f" (torch {r0['versions']['torch']}, transformers {r0['versions']['transformers']})"
           if r0.get("versions") else "")
    if r0.get("weights_note"):
        env += f"; {r0['weights_note']}"
    L = ["", "### Blitzer on a GPU: LoRA vs LoRA + DAPT over more seeds", "",
         f"Command (on a GPU machine): `python scripts/bench_finetune.py --only blitzer-gpu --seeds "
         f"{','.join(map(str, ran))} --jobs 8 --cache bench_out/finetune_gpu.json`; `none` from "
         f"`python scripts/bench_finetune.py --only bk-tfidf,db-tfidf,ed-tfidf,ke-tfidf --seeds "
         f"{','.join(map(str, ran))}` on the CPU. "
         f"The protocol above, unchanged (fp32, same splits, same steps), on {dev}{env}. Seeds 1–3 repeat the CPU "
         "runs: the same seed gives a different accuracy on the other hardware (different kernels, so "
         "different rounding and dropout draws), which is part of the spread below.", "",
         "| source → target | seeds | `none` (tf-idf) | `lora` | `lora-dapt` | `lora-dapt` − `lora` (paired) | "
         "`lora` − `none` (paired) | train s (lora / dapt MLM) |",
         "|---|---:|---:|---:|---:|---:|---:|---:|"]
    per: dict[str, list[dict[int, float]]] = {}
    for p in PAIRS:
        lo, da = _accs(gpu, f"{p}-lora"), _accs(gpu, f"{p}-dapt")
        no = {s: v for s, v in _accs(cache, f"{p}-tfidf").items() if s in lo}
        for m, v in (("none", no), ("lora", lo), ("dapt", da)):
            per.setdefault(m, []).append(v)
        tl = [r["train_seconds"] for r in _rows(gpu, f"{p}-lora")]
        td = [r["dapt"]["seconds"] for r in _rows(gpu, f"{p}-dapt") if r.get("dapt")]
        L.append(f"| {DOM[p[0]]} → {DOM[p[1]]} | {len(lo)} | {_cell(no)} | {_cell(lo)} | {_cell(da)} | "
                 f"{_paired(lo, da)} | {_paired(no, lo)} | {sum(tl) / max(1, len(tl)):.1f} / "
                 f"{sum(td) / max(1, len(td)):.1f} |")
    A = {m: _mean_over_pairs(ms) for m, ms in per.items()}
    if A.get("lora"):
        L.append(f"| **average ({len(PAIRS)} pairs)** | {len(A['lora'])} | **{_cell(A['none'])}** | "
                 f"**{_cell(A['lora'])}** | **{_cell(A['dapt'])}** | **{_paired(A['lora'], A['dapt'])}** | "
                 f"**{_paired(A['none'], A['lora'])}** | |")
    extra = []
    full, lo = _accs(gpu, "bk-full"), _accs(gpu, "bk-lora")
    if full:
        extra.append(f"full fine-tuning on books → kitchen {_cell(full)} vs `lora` {_cell(lo)} (paired "
                     f"{_paired(lo, full)})")
    piv, da = _accs(gpu, "bk-dapt-pivots"), _accs(gpu, "bk-dapt")
    if piv:
        extra.append(f"`lora-dapt` with `pivots: auto` on books → kitchen {_cell(piv)} vs random masking "
                     f"{_cell(da)} (paired {_paired(da, piv)})")
    if extra:
        L += ["", "Same seeds: " + "; ".join(extra) + "."]
    return L


def write_fragment(cache: dict, gpu: dict | None = None) -> None:
    from nlpta.io import atomic_write_text

    atomic_write_text(FRAGMENT, render(cache, gpu or {}))
    subprocess.run([sys.executable, str(ROOT / "scripts" / "bench.py"), "--assemble"], check=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=None, help="group (compare, blitzer, ewt, xling) or configuration name(s), comma-separated")
    ap.add_argument("--seeds", default="1")
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--force", action="store_true", help="rerun cached configurations")
    ap.add_argument("--table", action="store_true", help="only rewrite the fragment from the cache")
    ap.add_argument("--cache", default=None, help=f"result cache (default {CACHE.relative_to(ROOT)}; GPU runs: "
                    f"{CACHE_GPU.relative_to(ROOT)}, which gets its own table)")
    ap.add_argument("--jobs", type=int, default=1, help="configurations run at a time (a GPU machine: 8)")
    a = ap.parse_args()
    if a.one:
        print("RESULT " + json.dumps(run_one(a.one, a.seed)))
        return 0
    path = Path(a.cache) if a.cache else CACHE
    cache = _load_cache(path)
    if not a.table:
        sel = a.only.split(",") if a.only else list(CONFIGS)
        names = []  # in the order given (a group expands in place)
        for x in sel:
            group = GPU_NAMES if x == "blitzer-gpu" else [n for n in CONFIGS if n == x or CONFIGS[n]["group"] == x]
            names += [n for n in group if n not in names]
        todo = [f"{n}@{seed}" for seed in [int(s) for s in a.seeds.split(",")] for n in names
                if a.force or f"{n}@{seed}" not in cache]
        lock = threading.Lock()

        def one(key: str) -> None:
            n, seed = key.split("@")
            print(f"== {key}", flush=True)
            p = subprocess.run([sys.executable, __file__, "--one", n, "--seed", seed], capture_output=True, text=True)
            line = [x for x in p.stdout.splitlines() if x.startswith("RESULT ")]
            if p.returncode != 0 or not line:
                print(f"{key} failed:\n{p.stderr[-3000:]}", file=sys.stderr)
                return
            r = json.loads(line[-1][7:])
            with lock:
                cache[key] = r
                _save_cache(cache, path)
            accs = ", ".join(f"{k}: {100 * v['accuracy']:.1f}" for k, v in r["targets"].items())
            print(f"   {key} {accs} ({r['seconds']:.0f} s, peak {r['peak_rss_mb']:.0f} MB)", flush=True)

        with ThreadPoolExecutor(max(1, a.jobs)) as ex:
            list(ex.map(one, todo))
    write_fragment(_load_cache(CACHE), _load_cache(CACHE_GPU))
    return 0


if __name__ == "__main__":
    sys.exit(main())
