"""Benchmarks of the shift detectors (nlpta.evaluators): what they find on real pairs, whether they
predict the transfer loss, how well unlabeled mode recovers labeled mode, and how fast they are.

    python scripts/bench_evaluators.py                    # these sections, then BENCHMARKS.md
    python scripts/bench_evaluators.py --only top,corr    # names: --list

The transfer losses of the correlation table are the baselines' runs (scripts/bench.py), asked
for by task: the cache supplies them, or they are computed here.
"""

from __future__ import annotations

import os
import sys
import time
from functools import lru_cache
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

from nlpta.bench import Section, main, provenance_line  # noqa: E402
from nlpta.bench.specs import BLITZER_PAIRS, EWT_GENRES  # noqa: E402

SCRIPT = "scripts/bench_evaluators.py"
PREFIX = "evaluators-"


@lru_cache(maxsize=32)
def rows(corpus: str, domain: str):
    """The rows a diagnosis compares: all 2,000 labeled reviews of a Blitzer domain; the train
    sentences of an EWT or GUM genre."""
    from nlpta import data

    if corpus == "blitzer":
        return data.load(f"mdsd:{domain}")
    return data.load("ud:en_ewt" if corpus == "ewt" else "ud:en_gum", split="train", domain=domain)


# --------------------------------------------------------------------------- top features
TOP_PAIRS = (("ewt", "email", "reviews"), ("blitzer", "books", "kitchen"))


def top_features(corpus: str, source: str, target: str, permutations: int, top: int, seed: int) -> dict:
    """A labeled-mode diagnosis: its findings, the most frequency-biased and context-biased features."""
    from nlpta.evaluators import diagnose

    s, t = rows(corpus, source), rows(corpus, target)
    rep = diagnose(s, t, n_permutations=permutations, seed=seed)
    fb, cb = rep.frequency_bias, rep.context_bias
    cols = ["feature", "source_count", "target_count", "score"]
    return {"findings": rep.summary["findings"], "n_rows": [len(s), len(t)],
            "freq_target": fb[fb["score"] > 0].head(top)[cols].to_dict("records"),
            "freq_source": fb[fb["score"] < 0].head(top)[cols].to_dict("records"),
            "context": cb.head(top)[["feature", "source_dist", "target_dist", "q_value", "n_source",
                                     "n_target"]].to_dict("records")}


def compute_top(bench, seeds) -> dict:
    return {f"{c} {s} -> {t}": bench.measure(top_features, corpus=c, source=s, target=t, permutations=100, top=12,
                                              seed=seeds[0])
            for c, s, t in TOP_PAIRS}


def _dist(d: dict) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in list(d.items())[:3])


def render_top(r: dict) -> str:
    lines = ["### What the detectors find on real pairs", "",
             "Source and target: EWT train sentences of each genre; all 2,000 labeled reviews of each Blitzer "
             "domain. Labeled mode (the gold labels of both sides), 100 permutations for MMD."]
    for key, v in r["results"].items():
        lines += ["", f"**{key}** ({v['n_rows'][0]:,} / {v['n_rows'][1]:,} rows): " + " ".join(v["findings"]), "",
                  "| more frequent in target | z | more frequent in source | z |", "|---|---:|---|---:|"]
        for a, b in zip(v["freq_target"], v["freq_source"], strict=False):
            lines.append(f"| `{a['feature']}` ({a['source_count']} → {a['target_count']}) | {a['score']:.1f} "
                         f"| `{b['feature']}` ({b['source_count']} → {b['target_count']}) | {b['score']:.1f} |")
        lines += ["", "| context-biased word | labels in source | labels in target | q | n source / target |",
                  "|---|---|---|---:|---:|"]
        for c in v["context"]:
            lines.append(f"| `{c['feature']}` | {_dist(c['source_dist'])} | {_dist(c['target_dist'])} | "
                         f"{c['q_value']:.1e} | {c['n_source']} / {c['n_target']} |")
    lines += ["", "Sentiment labels: 0 negative, 1 positive.", "", provenance_line(r["provenance"], r["seeds"])]
    return "\n".join(lines)


# --------------------------------------------------------------------------- correlation with loss
DIAGS = [("js_divergence", "unigram JS divergence"), ("oov_token_rate", "target OOV token rate"),
         ("biased_token_share", "target tokens in frequency-biased features"), ("pad", "proxy A-distance (tf-idf)"),
         ("mmd", "MMD² (tf-idf SVD-100)"), ("pad_emb", "proxy A-distance (MiniLM sentence embeddings)"),
         ("mmd_emb", "MMD² (MiniLM sentence embeddings)"),
         ("context_share", "share of tested words context-biased (labeled)")]


@lru_cache(maxsize=1)
def _embedder():
    """MiniLM sentence embeddings, each text embedded once for all the pairs it is in."""
    from nlpta.evaluators import minilm_embedder

    embed, memo = minilm_embedder(), {}

    def cached(texts: list[str]) -> np.ndarray:
        new = list(dict.fromkeys(t for t in texts if t not in memo))
        if new:
            memo.update(zip(new, embed(new), strict=True))
        return np.stack([memo[t] for t in texts])

    return cached


def diagnostics(corpus: str, source: str, target: str, permutations: int, seed: int) -> dict:
    """The model-free diagnostics of one pair (frequency, context, distance with tf-idf and MiniLM)."""
    from nlpta.evaluators import diagnose

    t0 = time.perf_counter()
    rep = diagnose(rows(corpus, source), rows(corpus, target), n_permutations=permutations,
                   detectors=("frequency", "context", "distance"), embed=_embedder(), seed=seed)
    sm = rep.summary
    row = {k: sm.get(k) for k, _ in DIAGS if k in sm}
    row["pad_emb"] = rep.domain_distance["embedding"]["pad"]
    row["mmd_emb"] = rep.domain_distance["embedding"]["mmd"]
    row["context_share"] = sm["n_context_biased"] / max(sm["n_context_tested"], 1)
    row["seconds"] = time.perf_counter() - t0
    return row


LOSS_SEEDS = [1, 2, 3, 4, 5]  # the baselines' Blitzer seeds; EWT: the deterministic genre matrix (seed 1)
DIAG_SEED = 0  # the diagnostics' permutations and samples


def compute_corr(bench, seeds) -> dict:
    from bench import blitzer_accuracies, ewt_matrix

    from nlpta.bench.stats import ci

    bl = blitzer_accuracies(bench, seeds)
    res: dict = {"blitzer": {}, "ewt": {}}
    for s, t in BLITZER_PAIRS:
        row = bench.measure(diagnostics, corpus="blitzer", source=s, target=t, permutations=50, seed=DIAG_SEED)
        loss = ci(bl["in_domain"][t])["mean"] - ci(bl["pairs"][f"{s}->{t}"])["mean"]
        res["blitzer"][f"{s}->{t}"] = {**row, "loss": loss}
    mat = ewt_matrix(bench, 1)
    for s in EWT_GENRES:
        for t in EWT_GENRES:
            if s != t:
                row = bench.measure(diagnostics, corpus="ewt", source=s, target=t, permutations=50, seed=DIAG_SEED)
                res["ewt"][f"{s}->{t}"] = {**row, "loss": mat[t][t] - mat[s][t]}
    return res


def render_corr(r: dict) -> str:
    res = r["results"]
    lines = ["### Do the diagnostics predict the transfer loss?", "",
             f"Transfer loss = in-domain accuracy on the target minus source → target accuracy, as measured in the "
             f"tables above (Blitzer: mean over seeds {','.join(map(str, r['seeds']))}; EWT: the genre matrix). "
             "Diagnostics need no trained model (the embedding rows use frozen all-MiniLM-L6-v2, mean-pooled, 128 "
             "wordpieces): computed on the two domains' rows (Blitzer: all 2,000 labeled reviews per domain; EWT: "
             "train sentences per genre; MMD with 50 permutations, seed 0). Spearman rank correlation over the pairs "
             "(p-value in brackets); a positive ρ means a larger value goes with a larger loss.", "",
             f"| diagnostic | Blitzer, {len(res['blitzer'])} pairs: ρ | EWT genres, {len(res['ewt'])} pairs: ρ |",
             "|---|---:|---:|"]
    for key, name in DIAGS:
        cells = []
        for corpus in ("blitzer", "ewt"):
            rs = list(res[corpus].values())
            rho, p = stats.spearmanr([x[key] for x in rs], [x["loss"] for x in rs])
            cells.append(f"{rho:+.2f} ({p:.2g})")
        lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
    for corpus, title in (("blitzer", "Blitzer"), ("ewt", "EWT")):
        lines += ["", f"<details><summary>{title} pairs: loss and diagnostics</summary>", "",
                  "| pair | loss | JS | OOV tok | biased tok | PAD | MMD² | PAD emb | MMD² emb | ctx share | s |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for k, x in sorted(res[corpus].items(), key=lambda kv: -kv[1]["loss"]):
            lines.append(f"| {k} | {100 * x['loss']:.1f} | {x['js_divergence']:.3f} | {100 * x['oov_token_rate']:.1f} "
                         f"| {100 * x['biased_token_share']:.0f} | {x['pad']:.2f} | {x['mmd']:.4f} | "
                         f"{x['pad_emb']:.2f} | {x['mmd_emb']:.4f} | {x['context_share']:.3f} | {x['seconds']:.1f} |")
        lines += ["", "</details>"]
    lines += ["", provenance_line(r["provenance"], r["seeds"])]
    return "\n".join(lines)


# --------------------------------------------------------------------------- unlabeled recovers labeled
RECOVERY_PAIRS = (
    ("ewt", "email", "reviews"), ("ewt", "reviews", "email"), ("ewt", "answers", "weblog"),
    ("ewt", "newsgroup", "reviews"), ("gum", "news", "conversation"), ("gum", "academic", "fiction"),
    ("gum", "vlog", "news"), ("blitzer", "books", "kitchen"), ("blitzer", "dvd", "electronics"),
)


def recovery_row(corpus: str, source: str, target: str, top: int, seed: int) -> dict:
    """Labeled-mode context bias as the truth; unlabeled mode (``classes`` and ``words`` contexts)
    scored against it by :func:`nlpta.evaluators.recovery`."""
    from nlpta.data import strip_labels
    from nlpta.evaluators import context_bias, recovery

    a, b = rows(corpus, source), rows(corpus, target)
    lab = context_bias(a, b, mode="labeled", seed=seed)
    row = {"n_labeled_flagged": int(lab["biased"].sum()), "n_tested": len(lab)}
    for ctx in ("classes", "words"):
        t0 = time.perf_counter()
        un = context_bias(a, strip_labels(b), mode="unlabeled", contexts=ctx, seed=seed)
        row[ctx] = {**recovery(lab, un), "seconds": time.perf_counter() - t0, "top": un["feature"].head(top).tolist()}
    return row


def compute_recovery(bench, seeds) -> dict:
    return {f"{c} {s} -> {t}": bench.measure(recovery_row, corpus=c, source=s, target=t, top=8, seed=seeds[0])
            for c, s, t in RECOVERY_PAIRS}


def render_recovery(r: dict) -> str:
    res = r["results"]
    lines = ["### Context bias without target labels: how much of labeled mode does it recover?", "",
             "Truth: the words labeled mode flags (tag or label distribution differs, G-test, BH 5%, ≥ 5 occurrences "
             "per side); candidates: the words both modes test. Unlabeled mode ranks them by the change of their "
             "neighbours (POS: immediate left/right neighbour; sentiment: ±3 words), neighbours as 50 distributional "
             "word classes (`classes`, the default: k-means over neighbour profiles of both domains, two passes) or "
             "as the 150/2,000 most frequent words (`words`). AUC 0.5 = chance; P@k against the base rate (share of "
             "candidates that are truly biased).", "",
             "| pair | flagged / tested (labeled) | base rate | AUC classes | P@10 | P@20 | AUC words | P@10 | s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def pk(x: dict, n: int) -> str:
        return f"{x['precision_at_k'].get(str(n), float('nan')):.2f}"

    for k, v in res.items():
        c, w = v["classes"], v["words"]
        lines.append(f"| {k} | {v['n_labeled_flagged']} / {v['n_tested']} | {c['base_rate']:.3f} | {c['auc']:.2f} | "
                     f"{pk(c, 10)} | {pk(c, 20)} | {w['auc']:.2f} | {pk(w, 10)} | {c['seconds']:.1f} |")
    aucs = [v["classes"]["auc"] for v in res.values() if v["classes"]["auc"] == v["classes"]["auc"]]
    lines += ["", f"Mean AUC (classes) over the pairs: {np.mean(aucs):.2f}. Top unlabeled words per pair:", ""]
    lines += [f"- {k}: {', '.join(v['classes']['top'])}" for k, v in res.items()]
    lines += ["", provenance_line(r["provenance"], r["seeds"])]
    return "\n".join(lines)


# --------------------------------------------------------------------------- speed
SPEED_PAIRS = (("blitzer", "books", "kitchen", "reviews"), ("ewt", "email", "reviews", "sentences"))


def diagnosis_speed(corpus: str, source: str, target: str, permutations: int, seed: int) -> dict:
    """Seconds of a full diagnosis in labeled and unlabeled mode, and of fitting the `none`
    baseline on the source (the peer in the same process)."""
    from nlpta.data import strip_labels
    from nlpta.evaluators import diagnose
    from nlpta.methods import get_method
    from nlpta.tasks import DataSpec, TaskSpec, TransferTask

    if corpus == "blitzer":
        kind, src, tgt = "sentiment", DataSpec(f"mdsd:{source}"), DataSpec(f"mdsd:{target}")
    else:
        kind, src, tgt = "pos", *(DataSpec("ud:en_ewt", split="train", domain=g) for g in (source, target))
    tt = TransferTask(TaskSpec(name=f"{source}->{target}", task=kind, source=src, target=tgt), seed=seed)
    s, t = tt.source, tt.target
    row = {"rows": [len(s), len(t)]}
    for mode, tgt_rows in (("labeled", t), ("unlabeled", strip_labels(t))):
        t0 = time.perf_counter()
        diagnose(s, tgt_rows, mode=mode, n_permutations=permutations)
        row[mode] = time.perf_counter() - t0
    m = get_method("none", kind, seed=seed)
    t0 = time.perf_counter()
    m.fit(tt)
    row["peer_fit"] = time.perf_counter() - t0
    return row


def compute_speed(bench, seeds) -> dict:
    return {f"{c} {s} -> {t} ({unit})": bench.measure(diagnosis_speed, corpus=c, source=s, target=t,
                                                     permutations=200, seed=seeds[0])
            for c, s, t, unit in SPEED_PAIRS}


def render_speed(r: dict) -> str:
    lines = ["### Speed of a full diagnosis", "",
             "All detectors (frequency, context, label shift, PAD, MMD with 200 permutations), one process. Peer in "
             "the same process: fitting the `none` baseline on the source (sentiment: tf-idf LR with its 4 × 5-fold "
             "C search; POS: the feature tagger).", "",
             "| pair (source + target rows) | labeled mode s | unlabeled mode s | baseline fit s | diagnosis / fit |",
             "|---|---:|---:|---:|---:|"]
    for k, v in r["results"].items():
        lines.append(f"| {k}: {v['rows'][0]:,} + {v['rows'][1]:,} | {v['labeled']:.1f} | {v['unlabeled']:.1f} | "
                     f"{v['peer_fit']:.1f} | {v['labeled'] / v['peer_fit']:.2f}× |")
    lines += ["", provenance_line(r["provenance"], r["seeds"])]
    return "\n".join(lines)


SECTIONS = [
    Section("evaluators-top", "### What the detectors find on real pairs", compute_top, render_top, seeds=[0],
            script=SCRIPT),
    Section("evaluators-corr", "### Do the diagnostics predict the transfer loss?", compute_corr, render_corr,
            seeds=LOSS_SEEDS, script=SCRIPT),
    Section("evaluators-recovery", "### Context bias without target labels: how much of labeled mode does it recover?",
            compute_recovery, render_recovery, seeds=[0], script=SCRIPT),
    Section("evaluators-speed", "### Speed of a full diagnosis", compute_speed, render_speed, seeds=[0], script=SCRIPT),
]
PAGE = ["## Shift detectors (nlpta.evaluators)\n\nWhat the detectors of `nlpta.evaluators` find, whether they "
        f"predict the transfer loss, and what they cost; configured in `{SCRIPT}`.", *SECTIONS]

if __name__ == "__main__":
    from bench import page

    sys.exit(main(SECTIONS, page, prefix=PREFIX, description=__doc__.splitlines()[0]))
