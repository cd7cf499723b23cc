"""Benchmarks of the transformer methods (LoRA, LoRA + DAPT, full fine-tuning, frozen encoder):
the GPU sections of BENCHMARKS.md.

    python scripts/bench_finetune.py --gpu --jobs 8        # every section, on a GPU machine (make bench-gpu)
    python scripts/bench_finetune.py --only blitzer --jobs 8
    python scripts/bench_finetune.py --only compare --seeds 1   # works on a CPU too, slowly

Each transformer run is its own process (its peak memory is its own); ``--jobs`` runs that many
at once. The classical columns (`none`, `sfa`, `in-domain`) are the same tasks as the CPU
sections', so the cache shares them. `make bench` renders these sections from their stored
results and says so where they are missing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from nlpta.bench import Section, main, provenance_line, target_label  # noqa: E402
from nlpta.bench.specs import blitzer, ewt, ud  # noqa: E402
from nlpta.bench.stats import ci, fmt_ci, fmt_paired, mean_over, per_seed, restrict  # noqa: E402
from nlpta.tasks import DataSpec  # noqa: E402

SCRIPT = "scripts/bench_finetune.py"
PREFIX = "finetune-"
DOM = {"b": "books", "d": "dvd", "e": "electronics", "k": "kitchen"}
PAIRS = ("bk", "db", "ed", "ke")  # one Blitzer pair per target domain

# all 1,600 training reviews of the seed's split, 128 subwords, 1 epoch of batch 16 = 100 steps
SENT_P = {"max_examples": 1600, "max_length": 128, "batch_size": 16, "epochs": 1}
POS_P = {"max_examples": 4000, "max_length": 128, "batch_size": 16, "epochs": 1}
# DAPT: one pass of batch 16 over 1,600 target unlabeled rows (100 masked-LM steps), merged, then the task adapter
DAPT_P = {"dapt_examples": 1600, "dapt_lr": 1e-3, "dapt_epochs": 1}
FROZEN_P = {"max_examples": 1600, "max_length": 128}
E5 = {"model": "multilingual-e5-small"}
XPOS_P = {"max_examples": 3000, "max_length": 128, "batch_size": 16, "epochs": 1}
XSENT_P = {"max_examples": 2000, "max_length": 128, "batch_size": 16, "epochs": 1}
INFO = ("info_",)  # what the transformer methods record of their training (steps, seconds, trainable share)


def senti(pair: str, unlabeled: bool = True):
    return blitzer(DOM[pair[0]], DOM[pair[1]], unlabeled=unlabeled)


def nn(task, method: str, params: dict, seed: int, **kw) -> dict:
    """A transformer run's request: in its own process, with its training record."""
    return {"task": task, "method": method, "seed": seed, "params": params, "record": INFO, "isolate": True, **kw}


def blitzer_configs() -> dict[str, tuple]:
    """name -> (task, method, params) of the transformer runs of the Blitzer table."""
    out = {}
    for p in PAIRS:
        out[f"{p}-lora"] = (senti(p), "lora", {**SENT_P, "lr": 1e-3})
        out[f"{p}-dapt"] = (senti(p), "lora-dapt", {**SENT_P, **DAPT_P, "lr": 1e-3})
    out["bk-full"] = (senti("bk"), "full-ft", {**SENT_P, "lr": 5e-5})
    out["bk-dapt-pivots"] = (senti("bk"), "lora-dapt", {**SENT_P, **DAPT_P, "lr": 1e-3, "pivots": "auto", "n_pivots": 100})
    return out


EWT_PAIRS = (("email", "reviews"), ("answers", "weblog"))


def ewt_configs() -> dict[str, tuple]:
    out = {}
    for s, t in EWT_PAIRS:
        out[f"{s}-lora"] = (ewt(s, t, unlabeled=True), "lora", {**POS_P, "lr": 2e-3})
        out[f"{s}-dapt"] = (ewt(s, t, unlabeled=True), "lora-dapt", {**POS_P, **DAPT_P, "lr": 2e-3})
    out["email-full"] = (ewt("email", "reviews", unlabeled=True), "full-ft", {**POS_P, "lr": 1e-4})
    return out


def _acc(r: dict) -> float:
    return r["accuracy"]


# ------------------------------------------------------------------------------ compare
COMPARE = (("books → kitchen", "bk-lora", "blitzer"), ("books → kitchen", "bk-full", "blitzer"),
           ("EWT email → reviews", "email-lora", "ewt"), ("EWT email → reviews", "email-full", "ewt"))


def compute_compare(bench, seeds) -> dict:
    confs = {**blitzer_configs(), **ewt_configs()}
    reqs = [nn(*confs[n], seed=s) for _, n, _ in COMPARE for s in seeds]
    bench.prefetch(reqs)
    out = []
    for label, n, _ in COMPARE:
        for s in seeds:
            r = bench.run(**nn(*confs[n], seed=s))
            info = r["model"]["info_"]
            tr = info["train"]
            out.append({"task": label, "method": confs[n][1], "seed": s, "accuracy": r["accuracy"],
                        "trainable": info["trainable"], "peak_rss_mb": r["peak_rss_mb"], "steps": tr["steps"],
                        "seconds_per_epoch": tr["seconds"] / tr["epochs"]})
    return {"rows": out}


def render_compare(r: dict) -> str:
    lines = ["### LoRA vs full fine-tuning", "",
             "| task (source → target) | method | seed | trainable params (share) | peak RSS MB | train s / epoch | steps | "
             "target accuracy |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for x in r["results"]["rows"]:
        t = x["trainable"]
        lines.append(f"| {x['task']} | {x['method']} | {x['seed']} | {t['trainable']:,} ({100 * t['share']:.2f}%) | "
                     f"{x['peak_rss_mb']:.0f} | {x['seconds_per_epoch']:.1f} | {x['steps']} | {100 * x['accuracy']:.1f} |")
    lines += ["", provenance_line(r["provenance"], r["seeds"])]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ Blitzer
def compute_blitzer(bench, seeds) -> dict:
    confs = blitzer_configs()
    classical = [(senti(p, unlabeled=False), "none", {}) for p in PAIRS] + \
                [(senti(p), "sfa", {}) for p in PAIRS] + \
                [(blitzer(DOM[p[1]], DOM[p[1]]), "in-domain", {}) for p in PAIRS] + \
                [(senti(p, unlabeled=False), "frozen-encoder", FROZEN_P) for p in PAIRS]
    reqs = [nn(*c, seed=s) for c in confs.values() for s in seeds]
    reqs += [{"task": t, "method": m, "seed": s, "params": pr} for t, m, pr in classical for s in seeds]
    bench.prefetch(reqs)
    pairs = {}
    for p in PAIRS:
        row = {"none": bench.accuracy(senti(p, unlabeled=False), "none", seeds),
               "sfa": bench.accuracy(senti(p), "sfa", seeds),
               "frozen": bench.accuracy(senti(p, unlabeled=False), "frozen-encoder", seeds, FROZEN_P),
               "in-domain": bench.accuracy(blitzer(DOM[p[1]], DOM[p[1]]), "in-domain", seeds)}
        lora = {s: bench.run(**nn(*confs[f"{p}-lora"], seed=s)) for s in seeds}
        dapt = {s: bench.run(**nn(*confs[f"{p}-dapt"], seed=s)) for s in seeds}
        row["lora"] = {s: _acc(x) for s, x in lora.items()}
        row["dapt"] = {s: _acc(x) for s, x in dapt.items()}
        row["lora_train_seconds"] = float(np.mean([x["model"]["info_"]["train"]["seconds"] for x in lora.values()]))
        row["dapt_mlm_seconds"] = float(np.mean([x["model"]["info_"]["dapt"]["seconds"] for x in dapt.values()]))
        pairs[f"{DOM[p[0]]} → {DOM[p[1]]}"] = row
    extra = {k: {s: _acc(bench.run(**nn(*confs[k], seed=s))) for s in seeds} for k in ("bk-full", "bk-dapt-pivots")}
    return {"pairs": pairs, "bk": {"lora": pairs["books → kitchen"]["lora"], "dapt": pairs["books → kitchen"]["dapt"],
                                   "full": extra["bk-full"], "dapt-pivots": extra["bk-dapt-pivots"]}}


def render_blitzer(r: dict) -> str:
    seeds = r["seeds"]
    pairs = r["results"]["pairs"]
    cols = ("none", "sfa", "frozen", "lora", "dapt", "in-domain")
    lines = ["### Blitzer: frozen encoder vs LoRA vs LoRA + DAPT, one pair per target domain", "",
             "`none` = the baselines' tf-idf uni+bigram logistic regression on the same 1,600 reviews (same runs); "
             "`sfa` = the best classical adaptation method here (the pivots section's runs, same splits); frozen "
             "MiniLM = mean-pooled all-MiniLM-L6-v2 features (128 subwords) + logistic regression, C by 5-fold CV "
             "(`nlpta.bench.frozen`); `in-domain` = tf-idf trained on the target's own 1,600 training reviews. Mean "
             "± 95% CI over seeds; differences paired over seeds.", "",
             "| source → target | `none` (tf-idf) | `sfa` | frozen MiniLM | `lora` | `lora-dapt` | `lora-dapt` − `lora` | "
             "`lora` − `none` | `in-domain` (tf-idf) | train s (lora / dapt MLM) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    per = {k: {c: per_seed(v[c]) for c in cols} for k, v in pairs.items()}
    for k, row in per.items():
        lines.append(f"| {k} | {fmt_ci(row['none'])} | {fmt_ci(row['sfa'])} | {fmt_ci(row['frozen'])} | "
                     f"{fmt_ci(row['lora'])} | {fmt_ci(row['dapt'])} | {fmt_paired(row['lora'], row['dapt'])} | "
                     f"{fmt_paired(row['none'], row['lora'])} | {fmt_ci(row['in-domain'])} | "
                     f"{pairs[k]['lora_train_seconds']:.1f} / {pairs[k]['dapt_mlm_seconds']:.1f} |")
    A = {c: mean_over([row[c] for row in per.values()]) for c in cols}
    lines.append(f"| **average ({len(per)} pairs)** | **{fmt_ci(A['none'])}** | **{fmt_ci(A['sfa'])}** | "
                 f"**{fmt_ci(A['frozen'])}** | **{fmt_ci(A['lora'])}** | **{fmt_ci(A['dapt'])}** | "
                 f"**{fmt_paired(A['lora'], A['dapt'])}** | **{fmt_paired(A['none'], A['lora'])}** | "
                 f"**{fmt_ci(A['in-domain'])}** | |")
    bk = {k: per_seed(v) for k, v in r["results"]["bk"].items()}
    lines += ["", f"On the average: `lora-dapt` − `none` {fmt_paired(A['none'], A['dapt'])}; `lora-dapt` − `sfa` "
              f"{fmt_paired(A['sfa'], A['dapt'])}; frozen MiniLM − `none` {fmt_paired(A['none'], A['frozen'])} "
              "(points, paired over seeds).", "",
              f"Books → kitchen, same seeds: full fine-tuning {fmt_ci(bk['full'])} vs `lora` {fmt_ci(bk['lora'])} "
              f"(paired {fmt_paired(bk['lora'], bk['full'])}); `lora-dapt` with `pivots: auto` (100 pivots by MI "
              f"with the source label, masked with probability 0.5, the PERL idea) {fmt_ci(bk['dapt-pivots'])} vs "
              f"random masking {fmt_ci(restrict(bk['dapt'], list(bk['dapt-pivots'])))} (paired "
              f"{fmt_paired(bk['dapt'], bk['dapt-pivots'])}).", "", provenance_line(r["provenance"], seeds)]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------- EWT
def compute_ewt(bench, seeds) -> dict:
    confs = ewt_configs()
    reqs = [nn(*confs[f"{s}-{m}"], seed=sd) for s, _ in EWT_PAIRS for m in ("lora", "dapt") for sd in seeds]
    reqs += [{"task": ewt(s, t), "method": "none", "seed": sd} for s, t in EWT_PAIRS for sd in seeds]
    bench.prefetch(reqs)
    out = {}
    for s, t in EWT_PAIRS:
        out[f"{s} → {t}"] = {"none": bench.accuracy(ewt(s, t), "none", seeds),
                             **{m: {sd: _acc(bench.run(**nn(*confs[f"{s}-{m}"], seed=sd))) for sd in seeds}
                                for m in ("lora", "dapt")}}
    return out


def render_ewt(r: dict) -> str:
    lines = ["### EWT genre transfer: LoRA vs LoRA + DAPT", "",
             "`none` = the baselines' feature tagger on the same training sentences (every source sentence is used "
             "when the genre has fewer than 4,000, so it does not move with the seed); DAPT reads the target genre's "
             "training sentences without their tags.", "",
             "| source → target | `none` (feature tagger) | `lora` | `lora-dapt` | `lora-dapt` − `lora` |",
             "|---|---:|---:|---:|---:|"]
    for k, v in r["results"].items():
        c = {m: per_seed(x) for m, x in v.items()}
        lines.append(f"| {k} | {fmt_ci(c['none'])} | {fmt_ci(c['lora'])} | {fmt_ci(c['dapt'])} | "
                     f"{fmt_paired(c['lora'], c['dapt'])} |")
    lines += ["", provenance_line(r["provenance"], r["seeds"])]
    return "\n".join(lines)


# -------------------------------------------------------------------------------- xling
# The CPU protocol of issue 21's cross-lingual grid: the full test sets, three seeds, the three Webis domains
XPOS_TARGETS = [DataSpec(f"ud:{lang}_{tb}", split="test") for tb in ("gsd", "pud") for lang in ("de", "fr", "es")]
XSENT_LANGS = ("de", "fr", "jp")
XSENT_DOMAINS = ("books", "dvd", "music")
# POS: the protocol's LoRA (r 8 on query/value) and r 4 on every linear layer (what closed the gap on MiniLM)
XPOS_CONFIGS = {"lora r 8 q,v": {}, "lora r 4 all-linear": {"r": 4, "alpha": 8, "targets": "all-linear"}}


def xsent_targets(domain: str) -> list:
    return [DataSpec(f"webis:{lang}/{domain}", split="test") for lang in XSENT_LANGS]


def xling_configs() -> list[tuple[str, str, object, dict, list]]:
    """(task, configuration, task spec, params, extra targets) of the runs; each run is tested on
    its spec's target and the extra targets."""
    pos = [("POS (UPOS)", name, ud(DataSpec("ud:en_ewt", split="train"), XPOS_TARGETS[0], "ewt->xling"),
            {**XPOS_P, **E5, "lr": 2e-3, **over}, XPOS_TARGETS[1:]) for name, over in XPOS_CONFIGS.items()]
    sent = [("sentiment", "lora r 8 q,v", ud(DataSpec(f"webis:en/{d}", split="train"), xsent_targets(d)[0],
                                             f"webis en->xling {d}", task="sentiment"),
             {**XSENT_P, **E5, "lr": 1e-3}, xsent_targets(d)[1:]) for d in XSENT_DOMAINS]
    return pos + sent


def target_rows(r: dict, spec, extra, seed: int, **keys) -> list[dict]:
    """One row per test set of a run tested on ``spec``'s target and the ``extra`` targets:
    ``{**keys, "target", "seed", "accuracy"}``."""
    return [{**keys, "target": spec.target.corpus, "seed": seed, "accuracy": r["accuracy"]},
            *({**keys, "target": t.corpus, "seed": seed, "accuracy": r["targets"][target_label(t)]["accuracy"]}
              for t in extra)]


def compute_xling(bench, seeds) -> dict:
    confs = xling_configs()
    bench.prefetch([nn(spec, "lora", p, sd, targets=extra) for *_, spec, p, extra in confs for sd in seeds])
    rows, speed = [], []
    for label, conf, spec, p, extra in confs:
        for sd in seeds:
            r = bench.run(**nn(spec, "lora", p, sd, targets=extra))
            rows += target_rows(r, spec, extra, sd, task=label, config=conf)
            info = (r.get("model") or {}).get("info_") or {}
            train = info.get("train") or {}
            speed.append({"task": label, "config": conf, "seed": sd, "train_seconds": train.get("seconds"),
                          "train_examples": train.get("steps", 0) * p["batch_size"],
                          "predict_seconds": r["predict_seconds"], "predicted": r["n_rows"],
                          "trainable": (info.get("trainable") or {}).get("share")})
    return {"rows": rows, "speed": speed}


def render_xling(r: dict) -> str:
    from bench_neural import WEBIS_GOAL, XLM_UFD, XLMR_XPOS, XLMR_ZERO, XPOS_GOAL, goal_text

    res = r["results"]
    by: dict = {}
    for x in res["rows"]:
        by.setdefault((x["task"], x["config"], x["target"]), {})[x["seed"]] = x["accuracy"]
    pos_confs = [c for c in XPOS_CONFIGS if any(k[:2] == ("POS (UPOS)", c) for k in by)]
    lines = ["### Zero-shot across languages with multilingual-e5-small (LoRA, CPU protocol)", "",
             "Train on English only; no target-language data. The CPU protocol of the cross-lingual grid: the full "
             "test sets, three seeds. POS: a seeded sample of 3,000 EWT training sentences (all genres; 128 "
             "subwords, 1 epoch of batch 16, lr 2e-3), tested per word (gold tokens) on every sentence of the German, "
             "French and Spanish GSD and PUD test sets. Sentiment: the 2,000 Webis-CLS-10 English training reviews of "
             "a domain (title + text, 128 subwords, 1 epoch of batch 16, lr 1e-3), tested on the full 2,000-review "
             "test set of the same domain in German, French and Japanese. LoRA r 8, alpha 16, dropout 0.1 on the "
             "attention query and value unless the configuration says otherwise (`all-linear` = peft's "
             "`target_modules=\"all-linear\"`); the head trains whole. Mean ± 95% CI (Student t) over seeds. The "
             "GPU grid (`neural-webis`, `neural-xpos`: all 12,544 EWT sentences, 256 subwords for reviews, 3 epochs, "
             "target text for DAPT / UDALM) is further down.", "",
             "| target | " + " | ".join(f"`{c}`" for c in pos_confs) + (" | all-linear − q,v" if len(pos_confs) == 2
                                                                       else "") +
             " | XLM-R base (de Vries et al. 2022) | goal | best vs goal |",
             "|---|" + "---:|" * (len(pos_confs) + (len(pos_confs) == 2) + 2) + "---|"]
    for t in XPOS_TARGETS:
        lg, tb = t.corpus.split(":")[1].split("_")
        cells = {c: by.get(("POS (UPOS)", c, t.corpus), {}) for c in pos_confs}
        if tb == "gsd":
            best = max(pos_confs, key=lambda c: ci(cells[c])["mean"] if cells[c] else -1.0)
            tail = f" {XLMR_XPOS[lg]:.2f} | ≥ {XPOS_GOAL[lg]:.1f} | `{best}` {goal_text(cells[best], XPOS_GOAL[lg])} |"
        else:
            tail = " — | — | — |"
        diff = f" | {fmt_paired(*(cells[c] for c in pos_confs))}" if len(pos_confs) == 2 else ""
        lines.append(f"| {lg} {tb.upper()} (`{t.corpus}` test) | " + " | ".join(fmt_ci(cells[c]) for c in pos_confs) +
                     f"{diff} |{tail}")
    lines += ["", "The goals are for the GSD rows. What the CPU protocol leaves out is what the GPU grid adds: all "
              "12,544 EWT sentences instead of 3,000, three epochs instead of one, and full fine-tuning beside LoRA; "
              "XLM-R base (278M parameters, 2.4 times e5-small's 118M) is the published reference.", "",
              "Sentiment, `lora r 8 q,v`, per language and domain, and the averages over the three domains beside "
              "the published figures (Li et al. IJCAI 2020, Table 2: XLM-R zero-shot and XLM-UFD) and the goals:", "",
              "| language | " + " | ".join(XSENT_DOMAINS) + " | average | XLM-R zero-shot | XLM-UFD | goal | vs goal |",
              "|---|" + "---:|" * (len(XSENT_DOMAINS) + 4) + "---|"]
    for lg in XSENT_LANGS:
        cells = [by.get(("sentiment", "lora r 8 q,v", f"webis:{lg}/{d}"), {}) for d in XSENT_DOMAINS]
        have = [c for c in cells if c]
        avg = mean_over(have) if len(have) == len(cells) else {}
        lines.append(f"| {lg} | " + " | ".join(fmt_ci(c) for c in cells) + f" | {fmt_ci(avg)} | {XLMR_ZERO[lg]:.1f} | "
                     f"{XLM_UFD[lg]:.1f} | ≥ {WEBIS_GOAL[lg]:.1f} | {goal_text(avg, WEBIS_GOAL[lg])} |")
    sp = res.get("speed") or []
    if sp:
        lines += ["", "Speed on this device, one torch thread per run (two runs at a time): "]
        parts = []
        for task, conf in dict.fromkeys((x["task"], x["config"]) for x in sp):
            xs = [x for x in sp if (x["task"], x["config"]) == (task, conf)]
            train = np.mean([x["train_examples"] / x["train_seconds"] for x in xs])
            infer = np.mean([x["predicted"] / x["predict_seconds"] for x in xs])
            unit = "reviews" if task == "sentiment" else "sentences"
            share = f" ({100 * xs[0]['trainable']:.2f}% of the parameters trained)" if xs[0]["trainable"] else ""
            parts.append(f"{task} `{conf}`{share}: {train:.1f} training {unit} / s, {infer:.1f} test {unit} / s "
                         "predicted")
        lines[-1] += "; ".join(parts) + "."
    lines += ["", provenance_line(r["provenance"], r["seeds"])]
    return "\n".join(lines)


# -------------------------------------------------------------------------------- xpos-data
# Does more English data close the zero-shot UPOS goals? The xling protocol's best POS configuration
# (LoRA r 4 on every linear layer) on its 3,000-sentence sample and on all of EWT train, same seeds.
ALL_LINEAR_R4 = XPOS_CONFIGS["lora r 4 all-linear"]
XPOS_DATA = {"3,000 sentences": 3000, "all 12,544 sentences": None}


def xpos_data_configs() -> list[tuple[str, object, dict, list]]:
    """(label, task spec, params, extra targets) of the runs; each is tested on German GSD and the
    other five test sets."""
    spec = ud(DataSpec("ud:en_ewt", split="train"), XPOS_TARGETS[0], "ewt->xling")
    return [(label, spec, {**XPOS_P, **E5, "lr": 2e-3, **ALL_LINEAR_R4, "max_examples": n}, XPOS_TARGETS[1:])
            for label, n in XPOS_DATA.items()]


def compute_xpos_data(bench, seeds) -> dict:
    confs = xpos_data_configs()
    # the long runs first, so that two jobs finish together
    bench.prefetch([nn(spec, "lora", p, sd, targets=extra) for _, spec, p, extra in confs[::-1] for sd in seeds])
    rows, speed = [], []
    for label, spec, p, extra in confs:
        for sd in seeds:
            r = bench.run(**nn(spec, "lora", p, sd, targets=extra))
            rows += target_rows(r, spec, extra, sd, config=label)
            train = ((r.get("model") or {}).get("info_") or {}).get("train") or {}
            speed.append({"config": label, "seed": sd, "train_seconds": train.get("seconds"),
                          "train_examples": train.get("steps", 0) * p["batch_size"]})
    return {"rows": rows, "speed": speed}


def render_xpos_data(r: dict) -> str:
    from bench_neural import XLMR_XPOS, XPOS_GOAL, goal_text

    res = r["results"]
    by: dict = {}
    for x in res["rows"]:
        by.setdefault((x["config"], x["target"]), {})[x["seed"]] = x["accuracy"]
    small, full = XPOS_DATA
    lines = ["### Zero-shot UPOS: does all of English EWT close the goals? (multilingual-e5-small, CPU protocol)", "",
             "The best POS configuration of the table above (LoRA r 4, alpha 8, on every linear layer; 128 subwords, "
             "1 epoch of batch 16, lr 2e-3) trained on the same seeded 3,000-sentence sample and on all 12,544 EWT "
             "training sentences (all genres, English only), tested per word (gold tokens) on every sentence of the "
             "German, French and Spanish GSD and PUD test sets. Mean ± 95% CI (Student t) over seeds; the difference "
             "is paired by seed.", "",
             f"| target | {small} | {full} | all − 3,000 | XLM-R base (de Vries et al. 2022) | goal | "
             f"{full} vs goal |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for t in XPOS_TARGETS:
        lg, tb = t.corpus.split(":")[1].split("_")
        a, b = by.get((small, t.corpus), {}), by.get((full, t.corpus), {})
        tail = (f" {XLMR_XPOS[lg]:.2f} | ≥ {XPOS_GOAL[lg]:.1f} | {goal_text(b, XPOS_GOAL[lg])} |" if tb == "gsd"
                else " — | — | — |")
        lines.append(f"| {lg} {tb.upper()} (`{t.corpus}` test) | {fmt_ci(a)} | {fmt_ci(b)} | {fmt_paired(a, b)} |"
                     f"{tail}")
    sp = [x for x in res.get("speed") or [] if x.get("train_seconds")]
    if sp:
        parts = []
        for label in XPOS_DATA:
            xs = [x for x in sp if x["config"] == label]
            if xs:
                parts.append(f"{label}: {np.mean([x['train_seconds'] for x in xs]) / 60:.1f} min of training per run "
                             f"({np.mean([x['train_examples'] / x['train_seconds'] for x in xs]):.1f} sentences / s)")
        lines += ["", "On this device, one torch thread per run (two runs at a time): " + "; ".join(parts) + "."]
    lines += ["", provenance_line(r["provenance"], r["seeds"])]
    return "\n".join(lines)


# -------------------------------------------------------------------------------- xsent-linear
# Webis-CLS-10 with LoRA r 4 on every linear layer (ALL_LINEAR_R4: what gained +0.8 to +1.1 on zero-shot
# UPOS), the xling section's sentiment protocol otherwise


def xsent_linear_configs() -> list[tuple[str, object, dict, list]]:
    """(domain, task spec, params, extra targets): English ``domain`` train -> German ``domain``
    test, then French and Japanese."""
    return [(d, ud(DataSpec(f"webis:en/{d}", split="train"), xsent_targets(d)[0], f"webis en->xling {d}",
                   task="sentiment"), {**XSENT_P, **E5, "lr": 1e-3, **ALL_LINEAR_R4}, xsent_targets(d)[1:])
            for d in XSENT_DOMAINS]


def compute_xsent_linear(bench, seeds) -> dict:
    confs = xsent_linear_configs()
    bench.prefetch([nn(spec, "lora", p, sd, targets=extra) for _, spec, p, extra in confs for sd in seeds])
    rows = []
    for d, spec, p, extra in confs:
        for sd in seeds:
            rows += target_rows(bench.run(**nn(spec, "lora", p, sd, targets=extra)), spec, extra, sd, domain=d)
    return {"rows": rows}


def render_xsent_linear(r: dict) -> str:
    from bench_neural import WEBIS_GOAL, XLM_UFD, XLMR_ZERO, goal_text

    by: dict = {}
    for x in r["results"]["rows"]:
        by.setdefault(x["target"], {})[x["seed"]] = x["accuracy"]
    lines = ["### Webis-CLS-10 zero-shot with LoRA on every linear layer (multilingual-e5-small, CPU protocol)", "",
             "The sentiment protocol of the zero-shot table above (the 2,000 English training reviews of a domain, "
             "128 subwords, 1 epoch of batch 16, lr 1e-3, the full 2,000-review German, French and Japanese test "
             "sets, the same seeds) with LoRA r 4, alpha 8 on every linear layer (peft's `all-linear`) in place of "
             "r 8 on query and value: the change that gained +0.8 to +1.1 on zero-shot UPOS. Mean ± 95% CI "
             "(Student t) over seeds; compare each average with the `lora r 8 q,v` rows above.", "",
             "| language | " + " | ".join(XSENT_DOMAINS) + " | average | XLM-R zero-shot | XLM-UFD | goal | vs goal |",
             "|---|" + "---:|" * (len(XSENT_DOMAINS) + 4) + "---|"]
    for lg in XSENT_LANGS:
        cells = [by.get(f"webis:{lg}/{d}", {}) for d in XSENT_DOMAINS]
        avg = mean_over(cells) if all(cells) else {}
        lines.append(f"| {lg} | " + " | ".join(fmt_ci(c) for c in cells) + f" | {fmt_ci(avg)} | {XLMR_ZERO[lg]:.1f} | "
                     f"{XLM_UFD[lg]:.1f} | ≥ {WEBIS_GOAL[lg]:.1f} | {goal_text(avg, WEBIS_GOAL[lg])} |")
    lines += ["", provenance_line(r["provenance"], r["seeds"])]
    return "\n".join(lines)


# ------------------------------------------------------------------- UDALM, self-training
UDALM_PAIRS = ("bk", "db")
# udalm: one run of 0.5 x task loss (source batches) + 0.5 x masked-LM loss (target batches) over the
# 100 source steps; MiniLM's checkpoint has no masked-LM head, so the head starts fresh: `udalm-cold`
# mixes from the first step (mlm_warmup 0), `udalm` lets the MLM loss train the head alone for the
# first 50 steps (mlm_warmup 50, what the default `auto` gives a 100-step run without a head).
# lora-self-train: `lora`, then one round of class-balanced pseudo-labels at confidence >= 0.9 on
# the 1,600 target rows (one round, not the GPU grid's two: CPU time)
UDALM_P = {"task_weight": 0.5, "max_unlabeled": 1600}
SELF_P = {"rounds": 1, "threshold": 0.9, "max_unlabeled": 1600}
UDALM_COLS = {"lora": "`lora`", "udalm-cold": "`udalm`, `mlm_warmup: 0`", "udalm": "`udalm`, `mlm_warmup: 50`",
              "self": "`lora-self-train`"}


def udalm_configs() -> dict[str, tuple]:
    out = {}
    for p in UDALM_PAIRS:
        out[f"{p}-lora"] = (senti(p), "lora", {**SENT_P, "lr": 1e-3})
        out[f"{p}-udalm-cold"] = (senti(p), "udalm", {**SENT_P, **UDALM_P, "lr": 1e-3, "mlm_warmup": 0})
        out[f"{p}-udalm"] = (senti(p), "udalm", {**SENT_P, **UDALM_P, "lr": 1e-3, "mlm_warmup": 50})
        out[f"{p}-self"] = (senti(p), "lora-self-train", {**SENT_P, **SELF_P, "lr": 1e-3})
    return out


def compute_udalm(bench, seeds) -> dict:
    confs = udalm_configs()
    bench.prefetch([nn(*c, seed=s) for c in confs.values() for s in seeds] +
                   [{"task": senti(p, unlabeled=False), "method": "none", "seed": s, "params": {}}
                    for p in UDALM_PAIRS for s in seeds])
    pairs = {}
    for p in UDALM_PAIRS:
        row = {"none": bench.accuracy(senti(p, unlabeled=False), "none", seeds)}
        for m in UDALM_COLS:
            runs = {s: bench.run(**nn(*confs[f"{p}-{m}"], seed=s)) for s in seeds}
            row[m] = {s: _acc(x) for s, x in runs.items()}
            if m.startswith("udalm"):
                row[f"{m}_mlm_loss"] = {s: [w["mlm_loss"] for w in x["model"]["info_"]["train"]["udalm"]]
                                        for s, x in runs.items()}
        pairs[f"{DOM[p[0]]} → {DOM[p[1]]}"] = row
    return {"pairs": pairs}


def pair_rows(pairs: dict, cols: list, diffs) -> tuple[dict, list[str]]:
    """Table rows per pair (``{pair: {column: {seed: accuracy}}}``): each column's mean ± CI, then
    per ``(a, b)`` of ``diffs`` the paired difference b − a; an average row when there are several
    pairs. Returns ``(per-seed columns per pair, lines)``."""
    per = {k: {c: per_seed(v[c]) for c in cols} for k, v in pairs.items()}
    lines = [f"| {k} | " + " | ".join(fmt_ci(row[c]) for c in cols) + " | " +
             " | ".join(fmt_paired(row[a], row[b]) for a, b in diffs) + " |" for k, row in per.items()]
    if len(per) > 1:
        A = {c: mean_over([row[c] for row in per.values()]) for c in cols}
        lines.append(f"| **average ({len(per)} pairs)** | " + " | ".join(f"**{fmt_ci(A[c])}**" for c in cols) +
                     " | " + " | ".join(f"**{fmt_paired(A[a], A[b])}**" for a, b in diffs) + " |")
    return per, lines


def render_udalm(r: dict) -> str:
    pairs = r["results"]["pairs"]
    cols = ("none", *UDALM_COLS)
    lines = ["### Blitzer: UDALM and self-training with MiniLM (CPU protocol)", "",
             "The MiniLM protocol of \"Transformers with LoRA adapters\" (all-MiniLM-L6-v2, 1,600 source reviews, "
             "128 subwords, 1 epoch of batch 16 = 100 steps, LoRA r 8 on query/value, lr 1e-3), each run in its own "
             "process with one torch thread, two at a time on this machine's 2 cores. `udalm` (Karouzos et al. 2021): one run of 0.5 × task loss "
             "on the source batches + 0.5 × masked-LM loss (15% masking) on batches of up to 1,600 target unlabeled "
             "rows, through one LoRA adapter. MiniLM's checkpoint (a sentence-embedding model) has no masked-LM "
             "head, so UDALM trains one from scratch: with `mlm_warmup: 0` the masked-LM loss reaches the adapter "
             "from the first step; with `mlm_warmup: 50` it trains the head alone for the first 50 steps (what the "
             "default `mlm_warmup: auto` does in a 100-step run without a head). `lora-self-train`: `lora`, then "
             "one round of class-balanced pseudo-labels at confidence ≥ 0.9 on up to 1,600 target unlabeled rows, "
             "trained on together with the source rows. `none` = the baselines' tf-idf logistic regression on the "
             "same split. Mean ± 95% CI over seeds; differences paired over seeds. The grid of issue 21 "
             "(mpnet-base, 12 pairs, 10 seeds) is the GPU section `neural-blitzer` below.", "",
             "| source → target | `none` (tf-idf) | " + " | ".join(UDALM_COLS.values()) +
             " | `udalm` − `lora` | `lora-self-train` − `lora` |",
             "|---|" + "---:|" * (len(cols) + 2)]
    per, rows = pair_rows(pairs, cols, (("lora", "udalm"), ("lora", "self")))
    lines += rows
    loss = {c: [v for row in pairs.values() for v in row[f"{c}_mlm_loss"].values()] for c in ("udalm-cold", "udalm")}
    lines += ["", "The head warm-up, paired over seeds: `mlm_warmup: 50` − `mlm_warmup: 0` " + "; ".join(
        f"{k} {fmt_paired(row['udalm-cold'], row['udalm'])}" for k, row in per.items()) + ". The masked-LM loss "
        f"averages {np.mean([x[0] for x in loss['udalm-cold']]):.1f} over the first 20 steps and "
        f"{np.mean([x[-1] for x in loss['udalm-cold']]):.1f} over the last 20 without the warm-up "
        f"({np.mean([x[0] for x in loss['udalm']]):.1f} → {np.mean([x[-1] for x in loss['udalm']]):.1f} with it; "
        f"a uniform guess over the vocabulary is ln 30,522 = {np.log(30522):.1f}).",
        "", "Fit times are not compared here: these runs shared the 2 cores with other work (the `mlm_warmup: 0` "
        "runs with a test suite), so their wall times measure the machine's load, not the methods.",
        "", provenance_line(r["provenance"], r["seeds"])]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ hard English (CPU protocol)
# EWT train (a seeded sample of 4,000 sentences, POS_P) -> GENTLE test and Tweebank v2 test, MiniLM
HARD_CPU_METHODS = {"lora": "`lora`", "udalm": "`udalm`", "self": "`lora-self-train`"}


def hard_configs(label: str) -> dict[str, tuple]:
    from bench_neural import hard_task

    return {"lora": (hard_task(label, False), "lora", {**POS_P, "lr": 2e-3}),
            "udalm": (hard_task(label, True), "udalm", {**POS_P, **UDALM_P, "lr": 2e-3}),
            "self": (hard_task(label, True), "lora-self-train", {**POS_P, **SELF_P, "lr": 2e-3})}


def compute_hard_cpu(bench, seeds) -> dict:
    from bench_neural import HARD

    bench.prefetch([nn(*c, seed=s) for lb in HARD for c in hard_configs(lb).values() for s in seeds])
    out: dict = {}
    for lb in HARD:
        confs = hard_configs(lb)
        runs = {m: {s: bench.run(**nn(*confs[m], seed=s)) for s in seeds} for m in HARD_CPU_METHODS}
        out[lb] = {"accuracy": {m: {s: _acc(x) for s, x in v.items()} for m, v in runs.items()},
                   "per_domain": {m: {s: {d: e["accuracy"] for d, e in (x.get("per_domain") or {}).items()}
                                      for s, x in v.items()} for m, v in runs.items()},
                   "self_training": {s: x["model"]["info_"].get("self_training") for s, x in runs["self"].items()},
                   "udalm_warmup": {s: x["model"]["info_"]["train"].get("mlm_warmup_steps")
                                    for s, x in runs["udalm"].items()}}
    return out


def render_hard_cpu(r: dict) -> str:
    from bench_neural import HARD, gentle_genres, goal_text

    res, seeds = r["results"], r["seeds"]
    cols = list(HARD_CPU_METHODS)
    lines = ["### Hard English: GENTLE and Tweebank with an EWT-trained MiniLM tagger (CPU protocol)", "",
             "The POS protocol above (all-MiniLM-L6-v2, a seeded sample of 4,000 EWT training sentences of all "
             "genres, 128 subwords, first subword tagged, 1 epoch of batch 16 = 250 steps, LoRA r 8 on query/value, "
             "lr 2e-3), tested per word with gold tokens on GENTLE test (8 unusual genres) and Tweebank v2 test. "
             "Each run in its own process with one torch thread, two at a time. `lora` sees no target text; "
             "`udalm` (0.5 × task loss + 0.5 × masked-LM loss on up to 1,600 target rows; MiniLM has no masked-LM "
             "head, so `mlm_warmup: auto` trains the fresh head alone for the first half of the steps) and "
             "`lora-self-train` (`lora`, then one round of class-balanced pseudo-tags at confidence ≥ 0.9 on up to "
             "1,600 target rows, trained on with the source rows) read the target's words without tags: GENTLE's "
             "test sentences (transductively), Tweebank's training tweets. Mean ± 95% CI over seeds; differences "
             "paired over seeds. The issue-21 grid (mpnet-base, all 12,544 EWT sentences, 3 epochs) is the GPU "
             "section `neural-hard-en` below.", "",
             "| target | " + " | ".join(HARD_CPU_METHODS.values()) + " | `udalm` − `lora` | `lora-self-train` − "
             "`lora` | classical (EWT feature tagger) | goal (issue 21) | best vs goal |",
             "|---|" + "---:|" * (len(cols) + 4) + "---|"]
    for lb, (_, _, anchor, goal) in HARD.items():
        if lb not in res:
            continue
        a = {m: per_seed(res[lb]["accuracy"][m]) for m in cols}
        best = max(cols, key=lambda m: float(np.mean(list(a[m].values()))))
        lines.append(f"| {lb} | " + " | ".join(fmt_ci(a[m]) for m in cols) +
                     f" | {fmt_paired(a['lora'], a['udalm'])} | {fmt_paired(a['lora'], a['self'])} | {anchor:.1f} | "
                     f"≥ {goal:.0f} | {HARD_CPU_METHODS[best]} {goal_text(a[best], goal)} |")
    if "GENTLE" in res:
        lines += gentle_genres(res["GENTLE"]["per_domain"], HARD_CPU_METHODS)
    lines += ["", "Classical anchors: the `none` feature tagger trained on all of EWT train (this page's "
              "cross-corpus table).", "", provenance_line(r["provenance"], seeds)]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ LoRA gap (CPU protocol)
GAP_CPU_PAIR = "bk"  # books -> kitchen: where full fine-tuning led LoRA by 2.4 points (seed 1)
# name -> (method, overrides of the MiniLM protocol: LoRA r 8, alpha 16 on query/value, lr 1e-3; full-ft lr 5e-5)
GAP_CPU: dict[str, tuple[str, dict]] = {
    "full fine-tuning": ("full-ft", {"lr": 5e-5}),
    "r 8 q,v": ("lora", {"lr": 1e-3}),
    "r 8 q,v, lr 2e-3": ("lora", {"lr": 2e-3}),
    "r 8 q,v, 2 epochs": ("lora", {"lr": 1e-3, "epochs": 2}),
    "r 16 all-linear": ("lora", {"lr": 1e-3, "r": 16, "alpha": 32, "targets": "all-linear"}),
    "r 4 all-linear": ("lora", {"lr": 1e-3, "r": 4, "alpha": 8, "targets": "all-linear"}),
    "r 8 q,v, DoRA": ("lora", {"lr": 1e-3, "use_dora": True}),
}


def gap_cpu_request(name: str, seed: int) -> dict:
    method, over = GAP_CPU[name]
    return nn(senti(GAP_CPU_PAIR), method, {**SENT_P, **over}, seed)


def compute_gap_cpu(bench, seeds) -> dict:
    from bench_neural import adapter_size

    bench.prefetch([gap_cpu_request(n, s) for n in GAP_CPU for s in seeds])
    out: dict = {}
    for n, (method, over) in GAP_CPU.items():
        size = bench.measure(adapter_size, method=method, kind="sentiment",
                             params={k: v for k, v in over.items() if k in ("r", "alpha", "targets", "use_rslora",
                                                                            "use_dora")})
        runs = {s: bench.run(**gap_cpu_request(n, s)) for s in seeds}
        out[n] = {"method": method, "params": over, "bytes": size["bytes"], "accuracy": {s: _acc(x) for s, x in runs.items()},
                  "trainable": next(iter(runs.values()))["model"]["info_"]["trainable"],
                  "train_seconds": {s: x["model"]["info_"]["train"]["seconds"] for s, x in runs.items()},
                  "peak_rss_mb": max(x.get("peak_rss_mb") or 0 for x in runs.values())}
    return {"pair": f"{DOM[GAP_CPU_PAIR[0]]} → {DOM[GAP_CPU_PAIR[1]]}", "configs": out}


def render_gap_cpu(r: dict) -> str:
    from bench_neural import GAP_SHARE

    res, seeds = r["results"], r["seeds"]
    cfg = res["configs"]
    full = "full fine-tuning"
    acc = {n: per_seed(v["accuracy"]) for n, v in cfg.items()}
    full_ci = ci(acc[full])
    lines = ["### LoRA vs full fine-tuning on MiniLM: rank, targets, learning rate, epochs, DoRA (CPU protocol)",
             "",
             f"{res['pair']}, the MiniLM protocol above (1,600 source reviews, 128 subwords, batch 16, 1 epoch = 100 "
             "steps; LoRA r 8, alpha 16, dropout 0.1 on query/value, lr 1e-3; full fine-tuning lr 5e-5) unless the "
             "configuration says otherwise (`all-linear` = peft's `target_modules=\"all-linear\"`, every linear "
             "layer of the encoder; DoRA = weight-decomposed LoRA; rsLoRA is in the GPU grid only). Each run in its own "
             "process with one torch thread, two at a time on 2 cores. Trainable parameters from the fit record "
             "(adapter + head); size = the `.safetensors` weights `save_pretrained` writes (adapter + head for "
             "LoRA, the whole model for full fine-tuning); peak RSS = the run process's maximum. Mean ± 95% CI over "
             "seeds; differences paired over seeds. The issue-21 grid (mpnet-base, two pairs, 5 seeds) is the GPU "
             "section `neural-lora-gap` below.", "",
             f"| configuration | trainable (share) | size on disk | {res['pair']} | − full fine-tuning | train s | "
             "peak RSS MB | goal |", "|---|---:|---:|---:|---:|---:|---:|---|"]
    meets = []
    for n, v in cfg.items():
        tr = v["trainable"]
        secs = float(np.mean(list(v["train_seconds"].values())))
        if n == full:
            goal, diff = "reference", "—"
        else:
            diff = fmt_paired(acc[full], acc[n])
            within = ci(acc[n])["mean"] >= full_ci["low"]
            small = tr["share"] <= GAP_SHARE
            goal = "**met**" if within and small else ("within, but > 2% trained" if within else "below")
            if within and small:
                meets.append(n)
        lines.append(f"| {n} | {tr['trainable']:,} ({100 * tr['share']:.2f}%) | {v['bytes'] / 2 ** 20:,.1f} MB | "
                     f"{fmt_ci(acc[n])} | {diff} | {secs:.0f} | {v['peak_rss_mb']:.0f} | {goal} |")
    lines += ["", f"**Goal (issue 21): a LoRA configuration whose mean is within full fine-tuning's 95% interval "
              f"({fmt_ci(acc[full])}) while training ≤ 2% of the parameters.** Met by: "
              f"{'; '.join(meets) if meets else 'none'}.", "",
              "Train seconds are each run's own training time on one thread while another run shared the machine; "
              "compare them within this table only.", "", provenance_line(r["provenance"], seeds)]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ DAPT head warm-up (CPU protocol)
DAPT_WARM_PAIRS = ("bk",)  # books -> kitchen: where lora-dapt spread widest (82.5 ± 17.1 over seeds 1-3)
DAPT_WARM_COLS = {"lora": "`lora`", "dapt-cold": "`lora-dapt`, `dapt_warmup: 0`",
                  "dapt": "`lora-dapt`, `dapt_warmup: auto` (50 steps)"}


def dapt_warm_configs() -> dict[str, tuple]:
    out = {}
    for p in DAPT_WARM_PAIRS:
        out[f"{p}-lora"] = (senti(p), "lora", {**SENT_P, "lr": 1e-3})  # the lora runs of finetune-lora-gap
        out[f"{p}-dapt-cold"] = (senti(p), "lora-dapt", {**SENT_P, **DAPT_P, "lr": 1e-3, "dapt_warmup": 0})
        out[f"{p}-dapt"] = (senti(p), "lora-dapt", {**SENT_P, **DAPT_P, "lr": 1e-3})
    return out


def compute_dapt_warm(bench, seeds) -> dict:
    confs = dapt_warm_configs()
    bench.prefetch([nn(*c, seed=s) for c in confs.values() for s in seeds])
    pairs = {}
    for p in DAPT_WARM_PAIRS:
        row: dict = {}
        for m in DAPT_WARM_COLS:
            runs = {s: bench.run(**nn(*confs[f"{p}-{m}"], seed=s)) for s in seeds}
            row[m] = {s: _acc(x) for s, x in runs.items()}
            if m != "lora":
                row[f"{m}_dapt"] = {s: {k: (x["model"]["info_"]["dapt"] or {}).get(k)
                                        for k in ("steps", "head_warmup_steps", "losses")} for s, x in runs.items()}
        pairs[f"{DOM[p[0]]} → {DOM[p[1]]}"] = row
    return {"pairs": pairs}


def render_dapt_warm(r: dict) -> str:
    pairs = r["results"]["pairs"]
    cols = list(DAPT_WARM_COLS)
    lines = ["### Blitzer: DAPT with a head warm-up, MiniLM (CPU protocol)", "",
             "The MiniLM protocol above (1,600 source reviews, 128 subwords, 100 task steps, LoRA r 8 on query/value, "
             "lr 1e-3). `lora-dapt`: one pass of masked-LM LoRA (batch 16, 15% masking, lr 1e-3) over 1,600 target "
             "unlabeled reviews (100 steps), merged, then `lora`. MiniLM's checkpoint has no masked-LM head, so "
             "DAPT trains one from scratch: with `dapt_warmup: 0` the adapter follows that head's gradient from the "
             "first step (the behaviour before the option existed); with the default `auto` the head trains alone "
             "for the first half of the masked-LM steps (the adapter's gradient is zero there). The `lora-dapt` "
             "columns of the tables above that were computed before the option existed (see their commits) ran "
             "without a warm-up. Each run in its "
             "own process with one torch thread, two at a time. Mean ± 95% CI over seeds; differences paired over "
             "seeds.", "",
             "| source → target | " + " | ".join(DAPT_WARM_COLS.values()) + " | warm-up − no warm-up | "
             "`lora-dapt` (auto) − `lora` |", "|---|" + "---:|" * (len(cols) + 2)]
    lines += pair_rows(pairs, cols, (("dapt-cold", "dapt"), ("lora", "dapt")))[1]
    loss = {c: [[h["loss"] for h in d["losses"]] for row in pairs.values() for d in row[f"{c}_dapt"].values()]
            for c in ("dapt-cold", "dapt")}
    warm = sorted({d["head_warmup_steps"] for row in pairs.values() for d in row["dapt_dapt"].values()})
    lines += ["", "Masked-LM loss of the DAPT stage, first logged window → last: "
              f"{np.mean([x[0] for x in loss['dapt-cold']]):.2f} → {np.mean([x[-1] for x in loss['dapt-cold']]):.2f} "
              f"without the warm-up, {np.mean([x[0] for x in loss['dapt']]):.2f} → "
              f"{np.mean([x[-1] for x in loss['dapt']]):.2f} with it (warm-up steps: "
              f"{', '.join(map(str, warm))}; a uniform guess over the vocabulary is ln 30,522 = {np.log(30522):.1f}).",
              "", provenance_line(r["provenance"], r["seeds"])]
    return "\n".join(lines)


# ------------------------------------------------------------------------ CPU throughput
# issue 21 asks for throughput on both devices; the GPU side is bench_neural's neural-throughput (same
# measuring function, more steps, bf16). This CPU has no bf16 instructions (no avx512_bf16 / amx), so fp32 only.
CPU_THROUGHPUT_MODELS = ("minilm-l6", "multilingual-e5-small", "mpnet-base")  # LoRA targets: bench_neural.QV
CPU_THROUGHPUT_STEPS = 8  # optimiser steps of batch 32 timed
CPU_THROUGHPUT_ROWS = 256  # target rows predicted


def compute_throughput_cpu(bench, seeds) -> dict:
    from bench_neural import THROUGHPUT, params, throughput

    rows = []
    for model in CPU_THROUGHPUT_MODELS:
        for kind, method in THROUGHPUT:
            r = bench.measure(throughput, seed=seeds[0], kind=kind, method=method, precision="fp32",
                              params=params(method, model, kind),
                              train_steps=CPU_THROUGHPUT_STEPS, infer_rows=CPU_THROUGHPUT_ROWS)
            rows.append({"model": model, "kind": kind, "method": method, **r})
    return {"rows": rows, "threads": int(os.environ.get("OMP_NUM_THREADS", "0") or 0)}


def render_throughput_cpu(r: dict) -> str:
    res = r["results"]
    lines = ["### Throughput on this CPU: MiniLM, multilingual-e5-small and mpnet-base (fp32)", "",
             "The measuring function of the GPU table (`bench_neural.throughput`: nlpta's own `fit` / `predict`, a "
             f"fresh process per row) with the GPU protocol's shapes: {CPU_THROUGHPUT_STEPS} optimiser steps of batch "
             "32 timed from the first step (sentiment: Blitzer books reviews, 256 subwords; POS: EWT sentences, 128 "
             "subwords; so short a run that the rates carry a few percent of noise), then "
             f"{CPU_THROUGHPUT_ROWS} target rows predicted (kitchen reviews / EWT test sentences) after a warm-up "
             f"batch. One run at a time, {res.get('threads') or 'all'} torch thread(s). fp32 only: this CPU has no "
             "bf16 instructions. The ratio column is against MiniLM's rate on the same row, in the same run of "
             "this section.", "",
             "| model | task | method | train examples/s | ratio | inference | ratio | trainable share |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    base = {(x["kind"], x["method"]): x for x in res["rows"] if x["model"] == "minilm-l6"}
    for x in res["rows"]:
        b = base.get((x["kind"], x["method"]))
        rt = f"{x['train_examples_per_s'] / b['train_examples_per_s']:.2f}×" if b else "—"
        ri = f"{x['infer_per_s'] / b['infer_per_s']:.2f}×" if b else "—"
        lines.append(f"| {x['model']} | {x['kind']} | `{x['method']}` | {x['train_examples_per_s']:,.1f} | {rt} | "
                     f"{x['infer_per_s']:,.0f} {x['infer_unit']}/s | {ri} | {100 * x['trainable']['share']:.2f}% |")
    lines += ["", provenance_line(r["provenance"], r["seeds"])]
    return "\n".join(lines)


SECTIONS = [
    Section("finetune-compare", "### LoRA vs full fine-tuning", compute_compare, render_compare, seeds=[1], gpu=True,
            script=SCRIPT),
    Section("finetune-blitzer", "### Blitzer: frozen encoder vs LoRA vs LoRA + DAPT, one pair per target domain",
            compute_blitzer, render_blitzer, seeds=list(range(1, 11)), gpu=True, script=SCRIPT),
    Section("finetune-ewt", "### EWT genre transfer: LoRA vs LoRA + DAPT", compute_ewt, render_ewt, seeds=[1, 2, 3],
            gpu=True, script=SCRIPT),
    Section("finetune-xling", "### Zero-shot across languages with multilingual-e5-small (LoRA, CPU protocol)",
            compute_xling, render_xling, seeds=[1, 2, 3], gpu=True, script=SCRIPT),
    Section("finetune-xpos-data", "### Zero-shot UPOS: does all of English EWT close the goals? "
            "(multilingual-e5-small, CPU protocol)", compute_xpos_data, render_xpos_data, seeds=[1, 2, 3], gpu=True,
            script=SCRIPT),
    Section("finetune-xsent-linear", "### Webis-CLS-10 zero-shot with LoRA on every linear layer "
            "(multilingual-e5-small, CPU protocol)", compute_xsent_linear, render_xsent_linear, seeds=[1, 2, 3],
            gpu=True, script=SCRIPT),
    Section("finetune-udalm", "### Blitzer: UDALM and self-training with MiniLM (CPU protocol)", compute_udalm,
            render_udalm, seeds=[1, 2, 3], gpu=True, script=SCRIPT),
    Section("finetune-hard-en", "### Hard English: GENTLE and Tweebank with an EWT-trained MiniLM tagger (CPU protocol)",
            compute_hard_cpu, render_hard_cpu, seeds=[1, 2, 3], gpu=True, script=SCRIPT),
    Section("finetune-lora-gap", "### LoRA vs full fine-tuning on MiniLM: rank, targets, learning rate, epochs, "
            "DoRA (CPU protocol)", compute_gap_cpu, render_gap_cpu, seeds=[1, 2, 3], gpu=True, script=SCRIPT),
    Section("finetune-dapt-warmup", "### Blitzer: DAPT with a head warm-up, MiniLM (CPU protocol)", compute_dapt_warm,
            render_dapt_warm, seeds=[1, 2, 3], gpu=True, script=SCRIPT),
    Section("finetune-throughput", "### Throughput on this CPU: MiniLM, multilingual-e5-small and mpnet-base (fp32)",
            compute_throughput_cpu, render_throughput_cpu, seeds=[1], gpu=True, script=SCRIPT),
]
PAGE = ["## Transformers with LoRA adapters (MiniLM, multilingual-e5-small)\n\n"
        "Protocol (fp32, on the device named under each table). Sentiment: all 1,600 training reviews of the seed's "
        "split (title + text truncated to 128 subwords), 1 epoch of batch 16 (100 steps), tested on the 400 target "
        "test reviews of the same split (the baselines' protocol, so the `none` column is the baselines' run). POS: "
        "up to 4,000 EWT training sentences of the source genre (128 subwords), 1 epoch of batch 16, tested per "
        "word (gold tokenization) on the target genre's test sentences. LoRA: r 8, alpha 16, dropout 0.1 on "
        "query/value, head (+ pooler) trained and saved with the adapter, lr 1e-3 (sentiment) / 2e-3 (POS), linear "
        "decay after 6% warm-up; full fine-tuning lr 5e-5 / 1e-4. DAPT (`lora-dapt`): one pass of masked-LM LoRA "
        "(batch 16, 15% masking, lr 1e-3) over 1,600 target unlabeled rows (100 steps), merged into the encoder, "
        "then the task adapter as in `lora`. Each transformer run is its own process; peak memory is that "
        "process's maximum RSS (model, data, activations). These tables are computed by `make bench-gpu`.",
        *SECTIONS]

if __name__ == "__main__":
    from bench import page

    sys.exit(main(SECTIONS, page, prefix=PREFIX, description=__doc__.splitlines()[0]))
