"""Benchmarks of the corrections the field expects: CORAL, label-shift correction (BBSE, EM) and
self-training, against ``none`` on the Blitzer reviews and the EWT genres.

    python scripts/bench_correction.py                      # these sections, then BENCHMARKS.md
    python scripts/bench_correction.py --only blitzer       # names: --list (blitzer, pos, blitzer-one)
    python scripts/bench_correction.py --only blitzer-one --seeds 1   # one pair: a quick check

Every run is cached (bench_out/cache/), so an interrupted section resumes. Verdicts come from
:func:`nlpta.evaluators.negative_transfer` (paired over seeds, 95% t interval) via
:func:`nlpta.bench.stats.verdict`. ``blitzer-one`` (books -> kitchen) is a check that the
configuration runs; it is not on the page.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from nlpta.bench import Section, main, provenance_line  # noqa: E402
from nlpta.bench.specs import BLITZER_PAIRS, EWT_GENRES, blitzer, ewt  # noqa: E402
from nlpta.bench.stats import fmt_ci, mean_over, per_seed, verdict  # noqa: E402

SCRIPT = "scripts/bench_correction.py"
PREFIX = "correction-"
POS_LIMIT, POS_MAX_ITER = 2000, 100
# column -> (method, parameters)
# label-shift and self-train on the 12 pairs are measured by scripts/bench_choice.py (every `auto`
# candidate, 3 seeds, the same splits); this table adds CORAL, which is not an `auto` candidate
BLITZER_COLS = {
    "coral": ("coral", {}),
}
POS_COLS = {
    "label-shift": ("label-shift", {"max_iter": POS_MAX_ITER}),
    "self-train": ("self-train", {"max_iter": POS_MAX_ITER}),
    "self-train (top 20%)": ("self-train", {"max_iter": POS_MAX_ITER, "threshold": None, "top_share": 0.2}),
}


def _runs(bench, task, method, seeds, params=None) -> dict:
    """``{accuracy: {seed: acc}, fit_seconds: [...], fit_report: {seed: {...}}}``."""
    rs = bench.runs(task, method, seeds, params)
    return {"accuracy": {s: r["accuracy"] for s, r in rs.items()}, "fit_seconds": [r["fit_seconds"] for r in rs.values()],
            "fit_report": {s: r.get("fit_report") or {} for s, r in rs.items()}}


def _facts(col: str, row: dict) -> str:
    """One cell of facts from the fit reports (first seed): the estimated positive share, the
    pseudo-labeled rows, or the CORAL distance before -> after."""
    reps = [row[col]["fit_report"][s] for s in sorted(row[col]["fit_report"], key=int)]
    if not reps:
        return "—"
    r = reps[0]
    if "target_prior" in r:
        return f"q(pos) {r['target_prior'].get('1', float('nan')):.2f}" if "1" in r["target_prior"] else "—"
    if "rounds" in r:
        return f"{np.mean([x['pseudo_labeled'] for x in reps]):.0f} pseudo"
    if "coral_distance_before" in r:
        return f"{r['coral_distance_before']:.1e} → {r['coral_distance_after']:.1e}"
    return "—"


# ------------------------------------------------------------------------------ Blitzer
def _blitzer(bench, seeds, pairs) -> dict:
    out = {}
    for s, t in pairs:
        row = {"none": _runs(bench, blitzer(s, t), "none", seeds),
               "in-domain": {"accuracy": bench.accuracy(blitzer(t, t), "in-domain", seeds)}}
        for col, (m, params) in BLITZER_COLS.items():
            row[col] = _runs(bench, blitzer(s, t, unlabeled=True), m, seeds, params)
        out[f"{s}->{t}"] = row
    return out


def compute_blitzer(bench, seeds) -> dict:
    return _blitzer(bench, seeds, BLITZER_PAIRS)


def compute_blitzer_one(bench, seeds) -> dict:
    return _blitzer(bench, seeds, [("books", "kitchen")])


def render_blitzer(r: dict) -> str:
    res, seeds = r["results"], r["seeds"]
    adapt = tuple(BLITZER_COLS)
    cols = ("none", *adapt, "in-domain")
    acc = {k: {m: per_seed(v[m]["accuracy"]) for m in cols} for k, v in res.items()}
    lines = [
        f"## CORAL: Blitzer Amazon reviews, {len(res)} pair{'s' if len(res) != 1 else ''}",
        "",
        "The baselines' protocol (per domain and seed, 800 + 800 train / 200 + 200 test; `none` and `in-domain` are "
        "the baselines' runs). Target side: a seeded sample of 2,000 reviews of the target's unlabeled pool (never "
        "the test reviews). `coral`: tf-idf uni+bigrams (min_df 2) on source + target rows → 300-d truncated SVD, "
        "standardised, source re-coloured with the target covariance (C + I, Sun et al. 2016), then LR with C by "
        "5-fold CV. `label-shift` (BBSE, Lipton et al. 2018) and `self-train` on the same 12 pairs and seeds are in "
        "the table of each candidate's accuracy under \"Choosing without target labels: Blitzer\" below "
        "(`scripts/bench_choice.py`). Mean ± 95% CI over seeds.",
        "",
        "| source → target | " + " | ".join(f"`{m}`" for m in cols) + " |",
        "|---|" + "---:|" * len(cols),
    ]
    for k, row in acc.items():
        s, t = k.split("->")
        lines.append(f"| {s} → {t} | " + " | ".join(fmt_ci(row[m]) for m in cols) + " |")
    if len(acc) > 1:
        avg = {m: mean_over([row[m] for row in acc.values()]) for m in cols}
        lines.append(f"| **average ({len(acc)} pairs)** | " + " | ".join(f"**{fmt_ci(avg[m])}**" for m in cols) + " |")
    fits = [f"`{m}` {np.mean([f for v in res.values() for f in v[m]['fit_seconds']]):.1f} s" for m in ("none", *adapt)]
    lines += ["", "Mean fit time per run: " + "; ".join(fits) + ".", "",
              "Facts from the fit reports (first seed): the CORAL distance before → after alignment.", "",
              "| source → target | " + " | ".join(f"`{m}`" for m in adapt) + " |", "|---|" + "---:|" * len(adapt)]
    for k, row in res.items():
        s, t = k.split("->")
        lines.append(f"| {s} → {t} | " + " | ".join(_facts(m, row) for m in adapt) + " |")
    lines += ["", provenance_line(r["provenance"], seeds), "",
              "### Did correcting help? The negative-transfer verdict, per method and pair", "",
              "`nlpta.evaluators.negative_transfer(adapted, none)`: the accuracy difference to `none` in points, paired "
              "over seeds, with its 95% t interval; *helped* / **hurt** when the interval excludes 0.", "",
              "| source → target | " + " | ".join(f"`{m}`" for m in adapt) + " |", "|---|" + "---:|" * len(adapt)]
    for k, row in acc.items():
        s, t = k.split("->")
        lines.append(f"| {s} → {t} | " + " | ".join(verdict(row[m], row["none"], row["in-domain"]) for m in adapt) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------- POS
POS_PAIRS = [("email", t) for t in EWT_GENRES if t != "email"] + [("answers", "reviews")]


def compute_pos(bench, seeds) -> dict:
    out = {}
    for s, t in POS_PAIRS:
        task = ewt(s, t, source_limit=POS_LIMIT, unlabeled=True)
        row = {"none": _runs(bench, task, "none", seeds, {"max_iter": POS_MAX_ITER})}
        for col, (m, params) in POS_COLS.items():
            row[col] = _runs(bench, task, m, seeds, params)
        out[f"{s}->{t}"] = row
    return out


def render_pos(r: dict) -> str:
    cols = ("none", *POS_COLS)
    lines = ["### POS tagging: label shift and self-training on EWT genres", "",
             f"Source: a seeded sample of {POS_LIMIT:,} training sentences of the source genre (a different sample per "
             f"seed); target: the genre's test split; target side: up to 2,000 of the target genre's train sentences, "
             f"tags unread; the feature tagger (C = 5, max_iter {POS_MAX_ITER}) for every column. `label-shift`: tag "
             "priors per token by BBSE (3-fold held-out source predictions, BCTS-calibrated). `self-train`: 3 rounds, "
             "whole sentences whose least confident token has probability ≥ 0.9 (`top 20%`: the 20% most confident "
             "sentences).", "",
             "| source → target | " + " | ".join(f"`{m}`" for m in cols) + " | " +
             " | ".join(f"verdict `{m}`" for m in POS_COLS) + " |", "|---|" + "---:|" * (len(cols) + len(POS_COLS))]
    for k, row in r["results"].items():
        s, t = k.split("->")
        a = {m: per_seed(row[m]["accuracy"]) for m in cols}
        lines.append(f"| {s} → {t} | " + " | ".join(fmt_ci(a[m]) for m in cols) + " | " +
                     " | ".join(verdict(a[m], a["none"]) for m in POS_COLS) + " |")
    lines += ["", provenance_line(r["provenance"], r["seeds"])]
    return "\n".join(lines)


SECTIONS = [
    Section("correction-blitzer", "## CORAL: Blitzer Amazon reviews, 12 pairs",
            compute_blitzer, render_blitzer, seeds=[1, 2, 3], script=SCRIPT),
    Section("correction-pos", "### POS tagging: label shift and self-training on EWT genres", compute_pos, render_pos,
            seeds=[1, 2], script=SCRIPT),
    Section("correction-blitzer-one", "## CORAL: Blitzer Amazon reviews, 1 pair",
            compute_blitzer_one, render_blitzer, seeds=[1], script=SCRIPT),
]
PAGE = SECTIONS[:2]


def _page() -> list:
    """The whole BENCHMARKS.md page, with these sections appended where ``scripts/bench.py`` does
    not list them yet."""
    from bench import page

    p = page()
    return p if any(s in p for s in PAGE) else [*p, *PAGE]


if __name__ == "__main__":
    sys.exit(main(SECTIONS, _page, prefix=PREFIX, description=__doc__.splitlines()[0]))
