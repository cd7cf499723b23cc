"""Benchmark the shift detectors (issue: evaluators): what they find on real pairs, whether they
predict the transfer loss, how well unlabeled mode recovers labeled mode, and how fast they are.

    python scripts/bench_evaluators.py                    # all sections (about 10 min on 2 cores)
    python scripts/bench_evaluators.py --only top,corr,recovery,speed

Reads the measured transfer losses from bench_out/blitzer.json and bench_out/pos.json (written by
scripts/bench.py); writes bench_out/evaluators_*.json and bench_out/sections/10_evaluators.md,
then rebuilds BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench import DOMAINS, EWT_GENRES, OUT, SECTIONS, assemble  # noqa: E402

from nlpta import data  # noqa: E402
from nlpta.data.schema import strip_labels  # noqa: E402
from nlpta.evaluators import context_bias, diagnose, recovery  # noqa: E402

CMD = "python scripts/bench_evaluators.py --only {}"
DIAGS = [("js_divergence", "unigram JS divergence"), ("oov_token_rate", "target OOV token rate"),
         ("biased_token_share", "target tokens in frequency-biased features"), ("pad", "proxy A-distance (tf-idf)"),
         ("mmd", "MMD² (tf-idf SVD-100)"), ("pad_emb", "proxy A-distance (MiniLM sentence embeddings)"),
         ("mmd_emb", "MMD² (MiniLM sentence embeddings)"),
         ("context_share", "share of tested words context-biased (labeled)")]


class CachedEmbedder:
    """MiniLM sentence embeddings, each text embedded once for all the pairs it is in."""

    def __init__(self):
        from nlpta.evaluators import minilm_embedder

        self.embed = minilm_embedder()
        self.cache: dict[str, np.ndarray] = {}

    def __call__(self, texts: list[str]) -> np.ndarray:
        new = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if new:
            for t, v in zip(new, self.embed(new), strict=True):
                self.cache[t] = v
        return np.stack([self.cache[t] for t in texts])


def _save(name: str, obj) -> None:
    OUT.mkdir(exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(obj, indent=1, default=float))


def _load(name: str):
    p = OUT / f"{name}.json"
    return json.loads(p.read_text()) if p.exists() else None


def blitzer(d: str):
    return data.load(f"mdsd:{d}")  # all 2,000 labeled reviews of the domain


def ewt(g: str):
    return data.load("ud:en_ewt", split="train", domain=g)


# --------------------------------------------------------------------------- top features
def bench_top() -> dict:
    out = {}
    for key, (s, t) in {"ewt email -> reviews": (ewt("email"), ewt("reviews")),
                        "blitzer books -> kitchen": (blitzer("books"), blitzer("kitchen"))}.items():
        rep = diagnose(s, t, n_permutations=100)
        fb, cb = rep.frequency_bias, rep.context_bias
        out[key] = {
            "summary": rep.summary,
            "freq_target": fb[fb["score"] > 0].head(12)[["feature", "source_count", "target_count", "score"]].to_dict("records"),
            "freq_source": fb[fb["score"] < 0].head(12)[["feature", "source_count", "target_count", "score"]].to_dict("records"),
            "context": cb.head(12)[["feature", "source_dist", "target_dist", "q_value", "n_source", "n_target"]].to_dict("records"),
            "n_rows": [len(s), len(t)],
        }
        print(f"  top {key}: {rep.summary['n_frequency_biased']} freq, {rep.summary['n_context_biased']} ctx", flush=True)
    return out


def _dist(d: dict) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in list(d.items())[:3])


def table_top(res: dict) -> str:
    lines = ["### What the detectors find on real pairs", "",
             f"Command: `{CMD.format('top')}`. Source and target: EWT train sentences of each genre; all 2,000 labeled "
             "reviews of each Blitzer domain. Labeled mode (the gold labels of both sides)."]
    for key, r in res.items():
        s = r["summary"]
        lines += ["", f"**{key}** ({r['n_rows'][0]:,} / {r['n_rows'][1]:,} rows): "
                  + " ".join(s["findings"]), "",
                  "| more frequent in target | z | more frequent in source | z |", "|---|---:|---|---:|"]
        for a, b in zip(r["freq_target"], r["freq_source"], strict=False):
            lines.append(f"| `{a['feature']}` ({a['source_count']} → {a['target_count']}) | {a['score']:.1f} "
                         f"| `{b['feature']}` ({b['source_count']} → {b['target_count']}) | {b['score']:.1f} |")
        lines += ["", "| context-biased word | labels in source | labels in target | q | n source / target |",
                  "|---|---|---|---:|---:|"]
        for c in r["context"]:
            lines.append(f"| `{c['feature']}` | {_dist(c['source_dist'])} | {_dist(c['target_dist'])} | {c['q_value']:.1e} "
                         f"| {c['n_source']} / {c['n_target']} |")
    lines += ["", "Sentiment labels: 0 negative, 1 positive."]
    return "\n".join(lines)


# --------------------------------------------------------------------------- correlation with loss
def _diag_row(s, t, embed) -> dict:
    t0 = time.perf_counter()
    rep = diagnose(s, t, n_permutations=50, detectors=("frequency", "context", "distance"), embed=embed)
    sm = rep.summary
    row = {k: sm.get(k) for k, _ in DIAGS if k in sm}
    row["pad_emb"] = rep.domain_distance["embedding"]["pad"]
    row["mmd_emb"] = rep.domain_distance["embedding"]["mmd"]
    row["context_share"] = sm["n_context_biased"] / max(sm["n_context_tested"], 1)
    row["seconds"] = time.perf_counter() - t0
    return row


def bench_corr() -> dict:
    bl = _load("blitzer")
    pos = _load("pos")
    if bl is None or pos is None:
        raise SystemExit("run scripts/bench.py --only blitzer,pos first (the transfer losses)")
    res = {"blitzer": {}, "ewt": {}}
    embed = CachedEmbedder()
    cache = {d: blitzer(d) for d in DOMAINS}
    for s in DOMAINS:
        for t in DOMAINS:
            if s == t:
                continue
            row = _diag_row(cache[s], cache[t], embed)
            row["loss"] = bl["in_domain"][f"{t}->{t}"]["ci"]["mean"] - bl["pairs"][f"{s}->{t}"]["ci"]["mean"]
            res["blitzer"][f"{s}->{t}"] = row
            print(f"  corr blitzer {s}->{t}: loss {100 * row['loss']:.1f}", flush=True)
    cache = {g: ewt(g) for g in EWT_GENRES}
    for s in EWT_GENRES:
        for t in EWT_GENRES:
            if s == t:
                continue
            row = _diag_row(cache[s], cache[t], embed)
            row["loss"] = pos["ewt"][t][t] - pos["ewt"][s][t]
            res["ewt"][f"{s}->{t}"] = row
            print(f"  corr ewt {s}->{t}: loss {100 * row['loss']:.1f}", flush=True)
    return res


def table_corr(res: dict) -> str:
    lines = ["### Do the diagnostics predict the transfer loss?", "",
             f"Command: `{CMD.format('corr')}`. Transfer loss = in-domain accuracy on the target minus source → "
             "target accuracy, as measured in the tables above (Blitzer: mean over 5 seeded splits; EWT: the "
             "genre matrix). Diagnostics need no trained model (the embedding rows use frozen all-MiniLM-L6-v2, mean-pooled, "
             "128 wordpieces): computed on the two domains' rows (Blitzer: all 2,000 "
             "labeled reviews per domain; EWT: train sentences per genre). Spearman rank correlation over the "
             "pairs (p-value in brackets); a positive ρ means a larger value goes with a larger loss.", "",
             "| diagnostic | Blitzer, 12 pairs: ρ | EWT genres, 20 pairs: ρ |", "|---|---:|---:|"]
    for key, name in DIAGS:
        cells = []
        for corpus in ("blitzer", "ewt"):
            rows = list(res[corpus].values())
            x, y = [r[key] for r in rows], [r["loss"] for r in rows]
            rho, p = stats.spearmanr(x, y)
            cells.append(f"{rho:+.2f} ({p:.2g})")
        lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
    for corpus, title in (("blitzer", "Blitzer"), ("ewt", "EWT")):
        lines += ["", f"<details><summary>{title} pairs: loss and diagnostics</summary>", "",
                  "| pair | loss | JS | OOV tok | biased tok | PAD | MMD² | PAD emb | MMD² emb | ctx share | s |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for k, r in sorted(res[corpus].items(), key=lambda kv: -kv[1]["loss"]):
            lines.append(f"| {k} | {100 * r['loss']:.1f} | {r['js_divergence']:.3f} | {100 * r['oov_token_rate']:.1f} "
                         f"| {100 * r['biased_token_share']:.0f} | {r['pad']:.2f} | {r['mmd']:.4f} | {r['pad_emb']:.2f} | "
                         f"{r['mmd_emb']:.4f} | "
                         f"{r['context_share']:.3f} | {r['seconds']:.1f} |")
        lines += ["", "</details>"]
    return "\n".join(lines)


# --------------------------------------------------------------------------- unlabeled recovers labeled
RECOVERY_PAIRS = [
    ("ewt", "email", "reviews"), ("ewt", "reviews", "email"), ("ewt", "answers", "weblog"),
    ("ewt", "newsgroup", "reviews"), ("gum", "news", "conversation"), ("gum", "academic", "fiction"),
    ("gum", "vlog", "news"), ("blitzer", "books", "kitchen"), ("blitzer", "dvd", "electronics"),
]


def bench_recovery() -> dict:
    res = {}
    for corpus, s, t in RECOVERY_PAIRS:
        if corpus == "ewt":
            a, b = ewt(s), ewt(t)
        elif corpus == "gum":
            a, b = (data.load("ud:en_gum", split="train", domain=g) for g in (s, t))
        else:
            a, b = blitzer(s), blitzer(t)
        lab = context_bias(a, b, mode="labeled")
        row = {"n_labeled_flagged": int(lab["biased"].sum()), "n_tested": len(lab)}
        for ctx in ("classes", "words"):
            t0 = time.perf_counter()
            un = context_bias(a, strip_labels(b), mode="unlabeled", contexts=ctx)
            row[ctx] = {**recovery(lab, un), "seconds": time.perf_counter() - t0,
                        "top": un["feature"].head(8).tolist()}
        res[f"{corpus} {s} -> {t}"] = row
        print(f"  recovery {corpus} {s}->{t}: AUC {row['classes']['auc']:.2f} / {row['words']['auc']:.2f}", flush=True)
    return res


def table_recovery(res: dict) -> str:
    lines = ["### Context bias without target labels: how much of labeled mode does it recover?", "",
             f"Command: `{CMD.format('recovery')}`. Truth: the words labeled mode flags (tag or label distribution "
             "differs, G-test, BH 5%, ≥ 5 occurrences per side); candidates: the words both modes test. Unlabeled "
             "mode ranks them by the change of their neighbours (POS: immediate left/right neighbour; sentiment: "
             "±3 words), neighbours as 50 distributional word classes (`classes`, the default: k-means over "
             "neighbour profiles of both domains, two passes) or as the 150/2,000 most frequent words (`words`). "
             "AUC 0.5 = chance; P@k against the base rate (share of candidates that are truly biased).", "",
             "| pair | flagged / tested (labeled) | base rate | AUC classes | P@10 | P@20 | AUC words | P@10 | s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for k, r in res.items():
        c, w = r["classes"], r["words"]
        pk = lambda x, n: f"{x['precision_at_k'].get(str(n), x['precision_at_k'].get(n, float('nan'))):.2f}"  # noqa: E731
        lines.append(f"| {k} | {r['n_labeled_flagged']} / {r['n_tested']} | {c['base_rate']:.3f} | {c['auc']:.2f} | "
                     f"{pk(c, 10)} | {pk(c, 20)} | {w['auc']:.2f} | {pk(w, 10)} | {c['seconds']:.1f} |")
    aucs = [r["classes"]["auc"] for r in res.values() if r["classes"]["auc"] == r["classes"]["auc"]]
    lines += ["", f"Mean AUC (classes) over the pairs: {np.mean(aucs):.2f}. Top unlabeled words per pair:", ""]
    for k, r in res.items():
        lines.append(f"- {k}: {', '.join(r['classes']['top'])}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- speed
def bench_speed() -> dict:
    from nlpta.models import BowSentimentClassifier, FeatureTagger

    res = {}
    for key, (s, t) in {"blitzer books -> kitchen (2,000 + 2,000 reviews)": (blitzer("books"), blitzer("kitchen")),
                        "ewt email -> reviews (3,770 + 2,725 sentences)": (ewt("email"), ewt("reviews"))}.items():
        row = {}
        for mode, tt in (("labeled", t), ("unlabeled", strip_labels(t))):
            t0 = time.perf_counter()
            rep = diagnose(s, tt, mode=mode, n_permutations=200)
            row[mode] = time.perf_counter() - t0
            row[f"{mode}_parts"] = rep.meta
        t0 = time.perf_counter()
        if "blitzer" in key:
            BowSentimentClassifier(seed=0).fit(s["text"], s["label"])
        else:
            FeatureTagger(seed=0).fit(s["tokens"], s["upos"])
        row["peer_fit"] = time.perf_counter() - t0
        res[key] = row
        print(f"  speed {key}: {row['labeled']:.1f}s / {row['unlabeled']:.1f}s, peer {row['peer_fit']:.1f}s", flush=True)
    return res


def table_speed(res: dict) -> str:
    lines = ["### Speed of a full diagnosis", "",
             f"Command: `{CMD.format('speed')}`. All detectors (frequency, context, label shift, PAD, MMD with 200 "
             "permutations), one process. Peer in the same process: fitting the `none` baseline on the source "
             "(sentiment: tf-idf LR with its 4 × 5-fold C search; POS: the feature tagger).", "",
             "| pair | labeled mode s | unlabeled mode s | baseline fit s | diagnosis / fit |", "|---|---:|---:|---:|---:|"]
    for k, r in res.items():
        lines.append(f"| {k} | {r['labeled']:.1f} | {r['unlabeled']:.1f} | {r['peer_fit']:.1f} | "
                     f"{r['labeled'] / r['peer_fit']:.2f}× |")
    return "\n".join(lines)


SECTIONS_ORDER = (("top", bench_top, table_top), ("corr", bench_corr, table_corr),
                  ("recovery", bench_recovery, table_recovery), ("speed", bench_speed, table_speed))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default=",".join(s for s, _, _ in SECTIONS_ORDER))
    a = ap.parse_args()
    only = set(a.only.split(","))
    for name, fn, _ in SECTIONS_ORDER:
        if name in only:
            print(f"{name} ...", flush=True)
            _save(f"evaluators_{name}", fn())
    parts = ["## Shift detectors (nlpta.evaluators)", "",
             "Every table below was produced by `scripts/bench_evaluators.py` (the command is beside each)."]
    for name, _, table in SECTIONS_ORDER:
        r = _load(f"evaluators_{name}")
        if r is not None:
            parts += ["", table(r)]
    SECTIONS.mkdir(parents=True, exist_ok=True)
    (SECTIONS / "10_evaluators.md").write_text("\n".join(parts) + "\n", encoding="utf-8")
    assemble()
    return 0


if __name__ == "__main__":
    sys.exit(main())
