"""Benchmarks of the instance-based and adversarial methods: importance weighting (reweight-clf,
KMM, KLIEP), shallow DANN, multi-source (pooled, ms-weighted, ms-ensemble), on the Blitzer reviews
and EWT genres.

    python scripts/bench_reweighting.py                     # these sections, then BENCHMARKS.md
    python scripts/bench_reweighting.py --only blitzer      # names: --list (blitzer, multi, pos, pos-multi)

Every run is cached (bench_out/cache/), so an interrupted section resumes. Verdicts come from
:func:`nlpta.evaluators.negative_transfer` (paired over seeds, 95% t interval) via
:func:`nlpta.bench.stats.verdict`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from nlpta.bench import Section, main, provenance_line  # noqa: E402
from nlpta.bench.specs import (  # noqa: E402
    BLITZER_DOMAINS,
    BLITZER_PAIRS,
    EWT_GENRES,
    blitzer,
    blitzer_multi,
    ewt,
    ewt_multi,
)
from nlpta.bench.stats import fmt_ci, mean_over, per_seed, verdict  # noqa: E402

SCRIPT = "scripts/bench_reweighting.py"
PREFIX = "reweighting-"
WEIGHTED = ("reweight-clf", "kmm", "kliep")
ADAPT = (*WEIGHTED, "dann")
RECORD = ("weight_info_", "domain_weights_")  # ESS of the importance weights; multi-source domain weights
POS_LIMIT, POS_MAX_ITER, MULTI_POS_LIMIT = 2000, 100, 500


def _runs(bench, task, method, seeds, params=None) -> dict:
    """``{accuracy: {seed: acc}, ess: [...], fit_seconds: [...], domain_weights: {seed: {...}}}``."""
    rs = bench.runs(task, method, seeds, params, record=RECORD) if method != "none" else bench.runs(task, method, seeds, params)
    out = {"accuracy": {s: r["accuracy"] for s, r in rs.items()}, "fit_seconds": [r["fit_seconds"] for r in rs.values()]}
    models = {s: r.get("model", {}) for s, r in rs.items()}
    out["ess"] = [m["weight_info_"]["ess_share"] for m in models.values() if "weight_info_" in m]
    out["domain_weights"] = {s: m["domain_weights_"] for s, m in models.items() if "domain_weights_" in m}
    return out


# ------------------------------------------------------------------------------ Blitzer
def compute_blitzer(bench, seeds) -> dict:
    out = {}
    for s, t in BLITZER_PAIRS:
        row = {"none": _runs(bench, blitzer(s, t), "none", seeds),
               "in-domain": {"accuracy": bench.accuracy(blitzer(t, t), "in-domain", seeds)}}
        for m in ADAPT:
            row[m] = _runs(bench, blitzer(s, t, unlabeled=True), m, seeds)
        out[f"{s}->{t}"] = row
    return out


def render_blitzer(r: dict) -> str:
    res, seeds = r["results"], r["seeds"]
    cols = ("none", *ADAPT, "in-domain")
    acc = {k: {m: per_seed(v[m]["accuracy"]) for m in cols} for k, v in res.items()}
    lines = [
        "## Instance reweighting and DANN: Blitzer Amazon reviews, 12 pairs",
        "",
        "The baselines' protocol (per domain and seed, 800 + 800 train / 200 + 200 test; `none` and `in-domain` are "
        "the baselines' runs). Task model for the weighting methods: the `none` classifier (tf-idf uni+bigram LR, C "
        "by 5-fold CV on the source, with the weights in the fits). Weights against a seeded sample of 2,000 reviews "
        "of the target's unlabeled pool, clipped at 10× the mean, mean 1. `reweight-clf`: out-of-fold odds of a "
        "tf-idf logistic-regression domain classifier; `kmm`: KMM on tf-idf → 100-d truncated SVD (unit rows), "
        "Gaussian kernel of median-heuristic width, B = 10; `kliep`: same features, 100 target centres, width by "
        "likelihood CV. `dann`: the shallow DANN (5,000 most frequent uni+bigrams, 50 sigmoid hidden units, gradient "
        "reversal, λ schedule of Ganin et al.). Mean ± 95% CI over seeds; ESS = effective sample size of the weights "
        "as a share of the 1,600 source reviews.",
        "",
        "| source → target | " + " | ".join(f"`{m}`" for m in cols) + " |",
        "|---|" + "---:|" * len(cols),
    ]
    for k, row in acc.items():
        s, t = k.split("->")
        lines.append(f"| {s} → {t} | " + " | ".join(fmt_ci(row[m]) for m in cols) + " |")
    avg = {m: mean_over([row[m] for row in acc.values()]) for m in cols}
    lines.append("| **average (12 pairs)** | " + " | ".join(f"**{fmt_ci(avg[m])}**" for m in cols) + " |")
    per_run = []
    for m in ADAPT:
        fits = [f for v in res.values() for f in v[m]["fit_seconds"]]
        ess = [e for v in res.values() for e in v[m]["ess"]]
        per_run.append(f"`{m}` fit {np.mean(fits):.1f} s" + (f", ESS {100 * np.mean(ess):.0f}% (min {100 * np.min(ess):.0f}%)"
                                                               if ess else ""))
    lines += ["", "Mean per run: " + "; ".join(per_run) + ".",
              "", "Published (Ganin et al., JMLR 2016, Table 1: 5,000-d uni+bigram inputs from Chen et al. 2012, 2,000 "
              "labeled source and 2,000 unlabeled target reviews): shallow DANN 76.3 average over the 12 pairs (as "
              "quoted in ANCHORS.md; the paper's table was not re-checked here). Their inputs are counts of a fixed "
              "5,000-feature vocabulary; our `none` is tf-idf LR over all uni+bigrams with C by CV.", "",
              provenance_line(r["provenance"], seeds), "",
              "### Did adapting help? The negative-transfer verdict, per method and pair", "",
              "`nlpta.evaluators.negative_transfer(adapted, none)`: the accuracy difference to `none` in points, paired "
              "over seeds, with its 95% t interval; *helped* / **hurt** when the interval excludes 0 (same runs and "
              "seeds as the table above).", "",
              "| source → target | " + " | ".join(f"`{m}`" for m in ADAPT) + " |", "|---|" + "---:|" * len(ADAPT)]
    counts = {m: {"helped": 0, "**hurt**": 0} for m in ADAPT}
    for k, row in acc.items():
        s, t = k.split("->")
        cells = []
        for m in ADAPT:
            v = verdict(row[m], row["none"], row["in-domain"])
            for w in counts[m]:
                counts[m][w] += v.endswith(w)
            cells.append(v)
        lines.append(f"| {s} → {t} | " + " | ".join(cells) + " |")
    lines.append("| **average** | " + " | ".join(verdict(avg[m], avg["none"]) for m in ADAPT) + " |")
    lines += ["", "Pairs where the interval excludes 0: " + "; ".join(
        f"`{m}` helped on {v['helped']}, hurt on {v['**hurt**']}" for m, v in counts.items()) + "."]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ multi-source
MULTI = ("none", "ms-weighted", "ms-ensemble", "reweight-clf")


def compute_multi(bench, seeds) -> dict:
    out = {}
    for t in BLITZER_DOMAINS:
        row = {m: _runs(bench, blitzer_multi(t), m, seeds) for m in MULTI}
        row["singles"] = {s: bench.accuracy(blitzer(s, t), "none", seeds) for s in BLITZER_DOMAINS if s != t}
        out[t] = row
    return out


def _weights(row: dict) -> str:
    dw = row["ms-weighted"]["domain_weights"]
    if not dw:
        return "—"
    first = min(dw, key=int)
    return f"(seed {first}) " + ", ".join(f"{d} {v:.2f}" for d, v in dw[first].items())


def render_multi(r: dict) -> str:
    lines = ["### Multi-source, leave one domain out: Blitzer", "",
             "Source: the 1,600 training reviews of each of the other three domains (4,800), same seeded splits. "
             "`none` = pooled; `ms-weighted` = pooled, each domain's rows weighted by its similarity to the target (1 − "
             "PAD/2, PAD from a domain classifier on 1,000 + 1,000 reviews against the target's unlabeled pool); "
             "`ms-ensemble` = one `none` model per source domain, probabilities averaged with those weights; "
             "`reweight-clf` on the pool. Best / mean single source = the baselines' `none` runs for that target.", "",
             "| target | best single source | mean single source | pooled (`none`) | `ms-weighted` | `ms-ensemble` "
             "| `reweight-clf` (pooled) | domain weights | verdict `ms-weighted` vs pooled | verdict `ms-ensemble` vs "
             "pooled |", "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    for t, row in r["results"].items():
        singles = {s: per_seed(v) for s, v in row["singles"].items()}
        best = max(singles, key=lambda s: np.mean(list(singles[s].values())))
        a = {m: per_seed(row[m]["accuracy"]) for m in MULTI}
        lines.append(f"| {t} | {fmt_ci(singles[best])} ({best}) | {fmt_ci(mean_over(list(singles.values())))} | "
                     f"{fmt_ci(a['none'])} | {fmt_ci(a['ms-weighted'])} | {fmt_ci(a['ms-ensemble'])} | "
                     f"{fmt_ci(a['reweight-clf'])} | {_weights(row)} | {verdict(a['ms-weighted'], a['none'])} | "
                     f"{verdict(a['ms-ensemble'], a['none'])} |")
    lines += ["", provenance_line(r["provenance"], r["seeds"])]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------- POS
POS_PAIRS = [("email", t) for t in EWT_GENRES if t != "email"] + [("answers", "reviews")]
POS_METHODS = ("none", "reweight-clf", "kmm")


def compute_pos(bench, seeds) -> dict:
    return {f"{s}->{t}": {m: _runs(bench, ewt(s, t, source_limit=POS_LIMIT, unlabeled=True), m, seeds,
                                   {"max_iter": POS_MAX_ITER}) for m in POS_METHODS} for s, t in POS_PAIRS}


def render_pos(r: dict) -> str:
    lines = ["### POS tagging: importance weighting on EWT genres (the Plank et al. 2014 question)", "",
             f"Source: a seeded sample of {POS_LIMIT:,} training sentences of the source genre (a different sample per "
             f"seed, which is what the seeds vary); target: the genre's test split; weights per sentence against the "
             f"target genre's train sentences (labels unread), spread over the sentence's tokens; the feature tagger "
             f"(C = 5, max_iter {POS_MAX_ITER}) for every column. Plank, Johannsen & Søgaard (2014) found importance "
             "weighting for POS tagging across domains to give no gain; this is the same test on EWT.", "",
             "| source → target | `none` | `reweight-clf` | `kmm` | ESS `reweight-clf` / `kmm` | verdict `reweight-clf` | "
             "verdict `kmm` |", "|---|---:|---:|---:|---:|---:|---:|"]
    for k, row in r["results"].items():
        s, t = k.split("->")
        a = {m: per_seed(row[m]["accuracy"]) for m in POS_METHODS}
        ess = [f"{100 * np.mean(row[m]['ess']):.0f}%" if row[m]["ess"] else "—" for m in ("reweight-clf", "kmm")]
        lines.append(f"| {s} → {t} | {fmt_ci(a['none'])} | {fmt_ci(a['reweight-clf'])} | {fmt_ci(a['kmm'])} | "
                     f"{ess[0]} / {ess[1]} | {verdict(a['reweight-clf'], a['none'])} | {verdict(a['kmm'], a['none'])} |")
    lines += ["", provenance_line(r["provenance"], r["seeds"])]
    return "\n".join(lines)


POS_MULTI = ("none", "ms-weighted", "ms-ensemble")


def compute_pos_multi(bench, seeds) -> dict:
    return {t: {m: _runs(bench, ewt_multi(t, MULTI_POS_LIMIT), m, seeds, {"max_iter": POS_MAX_ITER}) for m in POS_MULTI}
            for t in EWT_GENRES}


def render_pos_multi(r: dict) -> str:
    lines = ["### Multi-source, leave one genre out: EWT POS tagging", "",
             f"Source: a seeded sample of {MULTI_POS_LIMIT} training sentences of each of the other four genres; target: "
             f"the held-out genre's test split; similarity against its train sentences (labels unread); the feature "
             f"tagger (C = 5, max_iter {POS_MAX_ITER}).", "",
             "| held-out genre | pooled (`none`) | `ms-weighted` | `ms-ensemble` | domain weights | verdict `ms-weighted` "
             "vs pooled | verdict `ms-ensemble` vs pooled |", "|---|---:|---:|---:|---|---:|---:|"]
    for t, row in r["results"].items():
        a = {m: per_seed(row[m]["accuracy"]) for m in POS_MULTI}
        lines.append(f"| {t} | {fmt_ci(a['none'])} | {fmt_ci(a['ms-weighted'])} | {fmt_ci(a['ms-ensemble'])} | "
                     f"{_weights(row)} | {verdict(a['ms-weighted'], a['none'])} | {verdict(a['ms-ensemble'], a['none'])} |")
    lines += ["", provenance_line(r["provenance"], r["seeds"])]
    return "\n".join(lines)


SECTIONS = [
    Section("reweighting-blitzer", "## Instance reweighting and DANN: Blitzer Amazon reviews, 12 pairs",
            compute_blitzer, render_blitzer, seeds=[1, 2, 3], script=SCRIPT),
    Section("reweighting-multi", "### Multi-source, leave one domain out: Blitzer", compute_multi, render_multi,
            seeds=[1, 2, 3], script=SCRIPT),
    Section("reweighting-pos", "### POS tagging: importance weighting on EWT genres (the Plank et al. 2014 question)",
            compute_pos, render_pos, seeds=[1, 2], script=SCRIPT),
    Section("reweighting-pos-multi", "### Multi-source, leave one genre out: EWT POS tagging", compute_pos_multi,
            render_pos_multi, seeds=[1, 2], script=SCRIPT),
]
PAGE = SECTIONS

if __name__ == "__main__":
    from bench import page

    sys.exit(main(SECTIONS, page, prefix=PREFIX, description=__doc__.splitlines()[0]))
