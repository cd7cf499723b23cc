"""Does choosing without target labels work? Each validator alone, and the ``nlpta adapt`` rule,
against ``none`` and the oracle (the best candidate by target test accuracy), on the 12 Blitzer
pairs, 10 FDU-MTL pairs and EWT genre pairs (POS).

    python scripts/bench_choice.py                       # these sections, then BENCHMARKS.md
    python scripts/bench_choice.py --only choice-blitzer --no-assemble
    python scripts/bench_choice.py --only choice-one --seeds 1   # one pair: a quick check

One cached measurement per (pair, seed) (:func:`nlpta.bench.choice.measure_choice`): every
``auto`` candidate scored by every validator, then its target test accuracy. The choices are made
from the stored scores when the tables are rendered.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from nlpta.adaptation import (  # noqa: E402
    AUTO_CANDIDATES,
    DECISION_VALIDATORS,
    EXTRA_VALIDATORS,
    GAIN_TOLERANCE,
    LABEL_MIX_GUARD,
)
from nlpta.bench import Section, main, provenance_line  # noqa: E402
from nlpta.bench.choice import (  # noqa: E402
    ESTIMATORS,
    FIXED,
    RULE,
    RULE_GAIN,
    RULE_GAIN_UNGUARDED,
    RULE_UNGUARDED,
    candidate_accuracy,
    correlations,
    estimate_errors,
    hindsight,
    label_mix,
    measure_choice,
    measure_diagnosis,
    measure_estimates,
    summarize,
)
from nlpta.bench.specs import BLITZER_PAIRS, FDU_PAIRS, blitzer, ewt, fdu  # noqa: E402
from nlpta.bench.stats import fmt_ci, fmt_paired, mean_over  # noqa: E402

SCRIPT = "scripts/bench_choice.py"
PREFIX = "choice-"
FOLDS, MAX_ROWS = 3, 2000
# POS on a CPU budget (a tagger is fitted 2 + FOLDS times per candidate and seed)
POS_LIMIT, POS_UNLABELED, POS_MAX_ITER, POS_ROUNDS = 600, 500, 50, 1
POS_PAIRS = (("email", "reviews"), ("answers", "reviews"), ("email", "weblog"))
VALIDATORS = (*DECISION_VALIDATORS, *EXTRA_VALIDATORS)


def _cands(kind: str, params: dict | None = None, own: dict | None = None) -> dict:
    """``{candidate: [method, params]}`` for the ``auto`` candidates of ``kind``: ``params`` for every
    one (a copy each), ``own[candidate]`` over them."""
    return {c: [c, {**(params or {}), **(own or {}).get(c, {})}] for c in AUTO_CANDIDATES[kind]}


def _units(bench, seeds, tasks: dict, kind: str, params: dict | None = None, own: dict | None = None) -> dict:
    """``{pair: {seed: measure_choice result}}``. ``NLPTA_BENCH_REVERSE=1`` computes the pairs in
    reverse order (a second process on the same cache meets the first one in the middle); the result
    keeps the pairs' order."""
    order = list(tasks)[::-1] if os.environ.get("NLPTA_BENCH_REVERSE") == "1" else list(tasks)
    cands = _cands(kind, params, own)
    got = {pair: {s: {**bench.measure(measure_choice, seed=s, task=tasks[pair].to_dict(), candidates=cands,
                                      folds=FOLDS, max_rows=MAX_ROWS),
                      "diagnosis": bench.measure(measure_diagnosis, seed=s, task=tasks[pair].to_dict(),
                                                 max_rows=MAX_ROWS)}
                  for s in seeds} for pair in order}
    return {pair: got[pair] for pair in tasks}


def compute_blitzer(bench, seeds) -> dict:
    return {"units": _units(bench, seeds, {f"{s}->{t}": blitzer(s, t, unlabeled=True) for s, t in BLITZER_PAIRS},
                            "sentiment")}


def compute_one(bench, seeds) -> dict:
    return {"units": _units(bench, seeds, {"books->kitchen": blitzer("books", "kitchen", unlabeled=True)}, "sentiment")}


def compute_fdu(bench, seeds) -> dict:
    return {"units": _units(bench, seeds, {f"{s}->{t}": fdu(s, t) for s, t in FDU_PAIRS}, "sentiment")}


def compute_fdu_train(bench, seeds) -> dict:
    return {"units": _units(bench, seeds, {f"{s}->{t}": fdu(s, t, pool="train") for s, t in FDU_PAIRS}, "sentiment")}


POS_PARAMS, POS_OWN = {"max_iter": POS_MAX_ITER}, {"self-train": {"rounds": POS_ROUNDS}}


def _pos_tasks() -> dict:
    tasks = {}
    for s, t in POS_PAIRS:
        spec = ewt(s, t, source_limit=POS_LIMIT, unlabeled=True)
        spec.unlabeled.limit = POS_UNLABELED
        tasks[f"{s}->{t}"] = spec
    return tasks


def compute_pos(bench, seeds) -> dict:
    return {"units": _units(bench, seeds, _pos_tasks(), "pos", POS_PARAMS, own=POS_OWN)}


# ------------------------------------------------------------------------------ estimates of the target accuracy
ESTIMATE_SETS = {"Blitzer (12 pairs)": "blitzer", "FDU-MTL, target rows with the test's label mix (10 pairs)": "fdu-train"}


def _estimate_tasks(which: str) -> dict:
    if which == "blitzer":
        return {f"{s}->{t}": blitzer(s, t, unlabeled=True) for s, t in BLITZER_PAIRS}
    return {f"{s}->{t}": fdu(s, t, pool="train") for s, t in FDU_PAIRS}


# the `auto` candidates when this section was measured (sfa has since replaced scl-mi: choice-rules)
ESTIMATE_CANDIDATES = ("none", "reweight-clf", "scl-mi", "self-train", "label-shift")


def _estimate_units(bench, seeds, sets, tasks, cands: dict, diagnosis: bool) -> dict:
    """``{"units": {benchmark: {pair: {seed: measure_estimates result [+ "diagnosis"]}}}}`` over the
    benchmarks ``sets.values()`` (``tasks(benchmark)``: their pairs' specs); ``NLPTA_BENCH_REVERSE=1``:
    the units in reverse order, for a second process on the same cache."""
    todo = [(b, pair, spec) for b in sets.values() for pair, spec in tasks(b).items()]
    if os.environ.get("NLPTA_BENCH_REVERSE") == "1":
        todo = todo[::-1]

    def unit(spec, s):
        u = bench.measure(measure_estimates, seed=s, task=spec.to_dict(), candidates=cands, folds=FOLDS,
                          max_rows=MAX_ROWS)
        if not diagnosis:
            return u
        return {**u, "diagnosis": bench.measure(measure_diagnosis, seed=s, task=spec.to_dict(), max_rows=MAX_ROWS)}

    got = {(b, pair): {s: unit(spec, s) for s in seeds} for b, pair, spec in todo}
    return {"units": {b: {pair: got[(b, pair)] for pair in tasks(b)} for b in sets.values()}}


def compute_estimates(bench, seeds) -> dict:
    """``{benchmark: {pair: {seed: measure_estimates result}}}`` for the candidates it was measured with."""
    return _estimate_units(bench, seeds, ESTIMATE_SETS, _estimate_tasks, {c: [c, {}] for c in ESTIMATE_CANDIDATES},
                           diagnosis=False)


# ------------------------------------------------------------------------------ the rules, on the estimates
RULE_SETS = {"Blitzer (12 pairs)": "blitzer", "FDU-MTL, the `unlabel` file as target rows (10 pairs)": "fdu",
             "FDU-MTL, target rows with the test's label mix (10 pairs)": "fdu-train"}

POS_RULE_SETS = {"EWT POS (3 genre pairs)": "pos"}
RULE_SHORT = {"blitzer": "Blitzer", "fdu": "FDU-MTL, `unlabel`", "fdu-train": "FDU-MTL, train split", "pos": "EWT POS"}


def _rule_tasks(which: str) -> dict:
    if which == "pos":
        return _pos_tasks()
    if which == "fdu":
        return {f"{s}->{t}": fdu(s, t) for s, t in FDU_PAIRS}
    return _estimate_tasks(which)


def compute_rules(bench, seeds, rule_sets: dict | None = None, kind: str = "sentiment") -> dict:
    """``{benchmark: {pair: {seed: measure_estimates result + "diagnosis"}}}`` for today's ``auto``
    candidates of ``kind`` (``NLPTA_BENCH_REVERSE=1``: the units in reverse order). POS gets no
    diagnosis: the label-mix guard is for classification only."""
    cands = _cands(kind, POS_PARAMS, POS_OWN) if kind == "pos" else _cands(kind)
    return _estimate_units(bench, seeds, RULE_SETS if rule_sets is None else rule_sets, _rule_tasks, cands,
                           diagnosis=kind != "pos")


def compute_rules_pos(bench, seeds) -> dict:
    return compute_rules(bench, seeds, POS_RULE_SETS, "pos")


RULES_TITLE = "### Choosing without target labels: the `gain` rule, with `sfa` among the candidates"
RULES_POS_TITLE = "### Choosing without target labels: the `gain` rule on POS tagging (EWT genres)"
GOAL_CAPTURE, GOAL_WORST = 0.80, -0.01  # issue 20: >= 80% of the oracle's gain, never > 1 point below none


def _candidates_of(sets: dict) -> list:
    """The candidates of the first unit of ``{benchmark: {pair: {seed: unit}}}``."""
    return list(next(iter(next(iter(next(iter(sets.values())).values())).values()))["candidates"])


def render_rules(r: dict, title: str = RULES_TITLE, rule_sets: dict | None = None, lead: str | None = None) -> str:
    rule_sets = RULE_SETS if rule_sets is None else rule_sets
    sets = r["results"]["units"]
    cands = _candidates_of(sets)
    lead = lead or (f"Today's `auto` candidates ({', '.join(f'`{c}`' for c in cands)}: `sfa` has replaced `scl-mi`), "
                    "each fitted on the labeled source and the unlabeled target rows only, scored from one set of "
                    f"out-of-fold predictions per candidate ({FOLDS} source folds; each fold's model also predicts up "
                    f"to {MAX_ROWS:,} target rows), beside the diagnosis `nlpta adapt` computes (the label-mix "
                    "estimate), per pair and seed. ")
    lines = [title, "", lead +
             f"The **`gain` rule** (`nlpta adapt --rule gain`): exclude the candidates the prediction guard flags and "
             f"those whose IWCV is more than {100 * GAIN_TOLERANCE:.0f} points below `none`'s; choose the highest DoC "
             "among the rest if it is above `none`'s; `none` where the label-mix guard "
             f"(estimate ≥ {LABEL_MIX_GUARD:.2f}) applies. Beside it: each estimate alone as a chooser (no guard "
             "but the prediction guard), and one candidate on every unit. *captured* = the chosen's gain over `none` "
             "as a share of the per-seed oracle's (n/a where the oracle gains less than half a point); *below none* "
             "= pairs where the chosen is below `none` beyond the 95% interval of the paired seeds; *worst* = the "
             f"lowest pair mean of chosen − `none`. Goal (issue 20): captured ≥ {100 * GOAL_CAPTURE:.0f}% and worst ≥ "
             f"{100 * GOAL_WORST:+.0f} point on every benchmark.", "",
             "| benchmark | chooser | accuracy | gain over none | captured | below none | worst | chosen (times) |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    has_mix = any(label_mix(u) is not None for by_set in sets.values() for by in by_set.values() for u in by.values())
    hows = [RULE_GAIN, *([RULE_GAIN_UNGUARDED] if has_mix else []), *ESTIMATORS,
            *(f"{FIXED}{c}" for c in cands if c != "none")]
    verdicts, gains, by_set = [], {}, {}
    for name_set, which in rule_sets.items():
        if which not in sets:
            continue
        units = by_set[which] = {p: {int(s): u for s, u in by.items()} for p, by in sets[which].items()}
        n_pairs = len(units)
        for how in hows:
            s = summarize(units, how)
            name = ("**`gain` rule**" if how == RULE_GAIN else "`gain` rule without its label-mix guard"
                    if how == RULE_GAIN_UNGUARDED else f"always `{how[len(FIXED):]}`" if how.startswith(FIXED)
                    else f"`{how}`")
            picks = ", ".join(f"{k} {v}" for k, v in sorted(s["picked"].items(), key=lambda x: -x[1]))
            lines.append(f"| {name_set} | {name} | {fmt_ci(s['chosen_acc'])} | {100 * s['gain']:+.2f} | {_captured(s)} | "
                         f"{s['n_below']} of {n_pairs} | {100 * s['worst']:+.1f} | {picks} |")
            if how == RULE_GAIN:
                g = gains[which] = s
        lines.append(f"| {name_set} | `none` | {fmt_ci(g['none'])} | +0.00 | 0% | — | — | — |")
        lines.append(f"| {name_set} | oracle | {fmt_ci(g['oracle'])} | {100 * g['oracle_gain']:+.2f} | "
                     f"{'100%' if g['oracle_gain'] >= MIN_ORACLE_GAIN else 'n/a'} | — | — | — |")
        cap_ok = g["oracle_gain"] < MIN_ORACLE_GAIN or (g["captured"] or 0) >= GOAL_CAPTURE
        worst_ok = g["worst"] >= GOAL_WORST
        bad = [p.replace("->", " → ") + f" ({100 * x['mean_diff']:+.1f})" for p, x in g["pairs"].items()
               if x["mean_diff"] < GOAL_WORST]
        verdicts.append(f"- {name_set}: captured {_captured(g)} ({'met' if cap_ok else 'missed'}); worst pair "
                        f"{100 * g['worst']:+.1f} ({'met' if worst_ok else 'missed: ' + ', '.join(bad)}).")
    lines += ["", "The `gain` rule against the goal:", "", *verdicts]
    beside = "sfa" if "sfa" in cands else next(c for c in cands if c != "none")
    lines += ["", f"Per pair, the `gain` rule (chosen per seed, in seed order) beside `none` and `{beside}`:", "",
              f"| benchmark | pair | label mix (TV) | `none` | `{beside}` | chosen | chosen − none |",
              "|---|---|---:|---:|---:|---|---:|"]
    for which, units in by_set.items():
        g = gains[which]
        sfa = candidate_accuracy(units, beside)
        for pair, p in g["pairs"].items():
            tvs = [t for u in units[pair].values() if (t := label_mix(u)) is not None]
            lines.append(f"| {RULE_SHORT.get(which, which)} | {pair.replace('->', ' → ')} | "
                         f"{f'{np.mean(tvs):.2f}' if tvs else '—'} | {fmt_ci(p['none'])} | {fmt_ci(sfa.get(pair, {}))} | "
                         f"{', '.join(p['chosen'][k] for k in sorted(p['chosen']))} | "
                         f"{fmt_paired(p['none'], p['chosen_acc'])}{' **below**' if p['below'] else ''} |")
    secs = [u["seconds"] for by_set in sets.values() for by in by_set.values() for u in by.values()]
    lines += ["", f"One (pair, seed) measurement: {np.mean(secs):.0f} s on average ({len(cands)} candidates, each "
                  f"fitted {FOLDS + 1} times).", "", provenance_line(r["provenance"], r["seeds"])]
    return "\n".join(lines)


def render_rules_pos(r: dict) -> str:
    cands = _candidates_of(r["results"]["units"])
    lead = (f"The `auto` POS candidates ({', '.join(f'`{c}`' for c in cands)}) in the CPU protocol of the POS choice "
            f"table above ({POS_LIMIT:,} source sentences per seed, {POS_UNLABELED:,} untagged target sentences, the "
            f"feature tagger with max_iter {POS_MAX_ITER}, `self-train` with {POS_ROUNDS} round), scored from one set "
            f"of out-of-fold predictions per candidate ({FOLDS} source folds; DoC from the tagger's per-token "
            "confidences); no label-mix guard (POS). ")
    return render_rules(r, RULES_POS_TITLE, POS_RULE_SETS, lead)


def render_estimates(r: dict) -> str:
    all_units = {b: {p: {int(s): u for s, u in by.items()} for p, by in units.items()}
                 for b, units in r["results"]["units"].items()}
    cands = _candidates_of(all_units)
    lines = ["### Choosing without target labels: how close is each estimate of the target accuracy?", "",
             "Five validators' scores are estimates of a candidate's target accuracy: source CV, IWCV, DEV, and two "
             "that read the candidate's confidence on the target rows: ATC (Garg et al. 2022: the share of target "
             "rows above the confidence threshold under which the held-out source rows fall as often as the model "
             "errs) and DoC (Guillory et al. 2021: the held-out accuracy minus the drop in mean confidence from the "
             "held-out rows to the target). Each from the same out-of-fold predictions "
             f"({FOLDS} source folds; each fold's model also predicts up to {MAX_ROWS:,} target rows), for the "
             f"`auto` candidates ({', '.join(f'`{c}`' for c in cands)}), per pair and seed (1,600 source reviews per "
             "seed), beside each candidate's accuracy on the target test rows. *error* = mean |estimate − "
             "accuracy| over every (pair, seed, candidate), *bias* its signed mean (points); *gain error* = mean "
             "|predicted − measured gain over `none`|; ρ = Spearman's rank correlation across the candidates, mean "
             "over (pair, seed) units; then the estimate as a chooser (the best-scoring candidate the prediction "
             "guard does not flag, no margin): its gain over `none`, the share of the per-seed oracle's gain it "
             "captures and the worst pair mean.", "",
             "| benchmark | estimate | error | bias | gain error | ρ with target accuracy | chooser: gain over none | "
             "captured | worst pair | chosen (times) |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for title, b in ESTIMATE_SETS.items():
        units = all_units.get(b)
        if not units:
            continue
        for v in ESTIMATORS:
            e = estimate_errors(units, v)
            if not e.get("n"):
                continue
            rho = correlations(units, v)
            s = summarize(units, v)
            picks = ", ".join(f"{k} {n}" for k, n in sorted(s["picked"].items(), key=lambda x: -x[1]))
            rho_txt = f"{rho['mean']:+.2f} ({rho['low']:+.2f} to {rho['high']:+.2f})" if rho.get("n", 0) > 1 else "—"
            lines.append(f"| {title} | `{v}` | {100 * e['mae']:.1f} | {100 * e['bias']:+.1f} | "
                         f"{100 * e['gain_mae']:.1f} | {rho_txt} | {100 * s['gain']:+.2f} | {_captured(s)} | "
                         f"{100 * s['worst']:+.1f} | {picks} |")
    lines += ["", "Bias per candidate (mean estimate − accuracy, points): a validator that reads confidence is fooled "
              "where a candidate is more confident on the target than on the source.", "",
              "| benchmark | candidate | " + " | ".join(f"`{v}`" for v in ESTIMATORS) + " |",
              "|---|---|" + "---:|" * len(ESTIMATORS)]
    for title, b in ESTIMATE_SETS.items():
        units = all_units.get(b)
        if not units:
            continue
        errs = {v: estimate_errors(units, v).get("by_candidate", {}) for v in ESTIMATORS}
        for c in cands:
            lines.append(f"| {title} | `{c}` | " + " | ".join(
                f"{100 * errs[v][c]:+.1f}" if c in errs[v] else "—" for v in ESTIMATORS) + " |")
    secs = [u["seconds"] for units in all_units.values() for by in units.values() for u in by.values()]
    lines += ["", f"One (pair, seed) measurement: {np.mean(secs):.0f} s on average ({len(cands)} candidates, each "
                  f"fitted {FOLDS + 1} times).", "", provenance_line(r["provenance"], r["seeds"])]
    return "\n".join(lines)


MIN_ORACLE_GAIN = 0.005  # below half a point, a share of the oracle's gain means nothing


def _pct(x) -> str:
    return "—" if x is None else f"{100 * x:.0f}%"


def _captured(s: dict) -> str:
    return _pct(s["captured"]) if s["oracle_gain"] >= MIN_ORACLE_GAIN else "n/a"


def _hindsight(units: dict, rule: dict) -> str:
    h = hindsight(units)
    share = (f" ({100 * h['per_pair'] / rule['oracle_gain']:.0f}% of the per-seed oracle's)"
             if rule["oracle_gain"] >= MIN_ORACLE_GAIN else "")
    captured = (f"; the `{RULE}` rule's gain is {100 * rule['gain'] / h['per_pair']:.0f}% of it"
                if h["per_pair"] >= MIN_ORACLE_GAIN else "")
    best = h["best_fixed"]
    return (f"With hindsight: the best candidate per pair by its mean over the seeds gains {100 * h['per_pair']:+.2f} "
            f"over `none`{share}: the ceiling of a choice made once per pair, without the seeds' test noise"
            f"{captured}. The best single candidate on every pair, `{best}`, gains {100 * h['fixed'][best]:+.2f} "
            f"(worst pair {100 * h['fixed_worst'][best]:+.1f}); " + ", ".join(
                f"`{c}` {100 * v:+.2f}" for c, v in sorted(h["fixed"].items(), key=lambda x: -x[1]) if c != best) + ".")


def render(title: str, what: str):
    def _render(r: dict) -> str:
        units = {p: {int(s): u for s, u in by.items()} for p, by in r["results"]["units"].items()}
        kind_cands = list(next(iter(next(iter(units.values())).values()))["candidates"])
        n_pairs = len(units)
        lines = [title, "", what + f" Candidates: {', '.join(f'`{c}`' for c in kind_cands)} (`auto` on a CPU budget), "
                 f"each fitted on the labeled source and the unlabeled target rows only; validators on {FOLDS} "
                 f"source folds and up to {MAX_ROWS:,} target rows. A validator alone chooses the candidate with "
                 "its best score among those the prediction guard does not flag; `adapt` is the rule of "
                 "`nlpta adapt` (mean rank over source_cv, iwcv, dev, reverse and im, kept only with a margin over "
                 f"`none`, else `none`; for sentiment, also `none` where the BBSE estimate of the target rows' label "
                 f"mix is at least {LABEL_MIX_GUARD:.2f} in total variation from the source's: the label-mix guard, "
                 "shown apart too). The oracle is the best candidate by target test accuracy, per seed. "
                 "Accuracies are 100 × the average over the pairs, mean ± 95% CI over seeds; *regret* = oracle − "
                 "chosen; *captured* = the chosen's gain over `none` as a share of the oracle's (n/a where the oracle "
                 "gains less than half a point); *below none* = "
                 "pairs where the chosen method is below `none` beyond the 95% interval of the paired seeds; "
                 "*worst* = the lowest pair mean of chosen − `none` (points); ρ = Spearman's rank correlation of "
                 "the validator's score with the candidates' target accuracy, mean ± 95% CI over (pair, seed) "
                 "units, and the share of units where it is positive.", "",
                 "| chooser | accuracy | regret | gain over none | captured | below none | worst | ρ with target "
                 "accuracy | ρ > 0 | chosen (times) |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        summ = {}
        for how in (*VALIDATORS, RULE_UNGUARDED, RULE):
            s = summ[how] = summarize(units, how)
            rho = correlations(units, how) if how not in (RULE, RULE_UNGUARDED) else {"n": 0}
            rho_txt = (f"{rho['mean']:+.2f} ({rho['low']:+.2f} to {rho['high']:+.2f})" if rho.get("n", 0) > 1 else "—")
            picks = ", ".join(f"{k} {v}" for k, v in sorted(s["picked"].items(), key=lambda x: -x[1]))
            name = {RULE: f"**`{how}` rule**", RULE_UNGUARDED: "`adapt` rule without its label-mix guard"}.get(
                how, f"`{how}`")
            lines.append(f"| {name} | {fmt_ci(s['chosen_acc'])} | {100 * s['regret']:.2f} | {100 * s['gain']:+.2f} | "
                         f"{_captured(s)} | {s['n_below']} of {n_pairs} | {100 * s['worst']:+.1f} | {rho_txt} | "
                         f"{_pct(rho.get('positive'))} | {picks} |")
        s = summ[RULE]
        lines.append(f"| `none` | {fmt_ci(s['none'])} | {100 * (np.mean(list(s['oracle'].values())) - np.mean(list(s['none'].values()))):.2f} "
                     "| +0.00 | 0% | — | — | — | — | — |")
        lines.append(f"| oracle | {fmt_ci(s['oracle'])} | 0.00 | {100 * s['oracle_gain']:+.2f} | "
                     f"{'100%' if s['oracle_gain'] >= MIN_ORACLE_GAIN else 'n/a'} | — | — | — | — | — |")
        lines += ["", _hindsight(units, s)]
        lines += ["", f"Per pair, the `{RULE}` rule (chosen per seed, in seed order):", "",
                  "| pair | label mix (TV) | `none` | oracle | chosen | accuracy | chosen − none | regret |",
                  "|---|---:|---:|---:|---|---:|---:|---:|"]
        for pair, p in s["pairs"].items():
            reg = float(np.mean([p["oracle"][k] - p["chosen_acc"][k] for k in p["oracle"]]))
            tvs = [t for u in units[pair].values() if (t := label_mix(u)) is not None]
            tv = f"{np.mean(tvs):.2f}" if tvs else "—"
            lines.append(f"| {pair.replace('->', ' → ')} | {tv} | {fmt_ci(p['none'])} | {fmt_ci(p['oracle'])} | "
                         f"{', '.join(p['chosen'][k] for k in sorted(p['chosen']))} | {fmt_ci(p['chosen_acc'])} | "
                         f"{fmt_paired(p['none'], p['chosen_acc'])}{' **below**' if p['below'] else ''} | "
                         f"{100 * reg:.2f} |")
        guarded = [(pair, sd) for pair, by in units.items() for sd, u in by.items()
                   if (tv := label_mix(u)) is not None and tv >= LABEL_MIX_GUARD]
        changed = [(pair, sd) for pair, sd in guarded
                   if summ[RULE]["pairs"][pair]["chosen"][sd] != summ[RULE_UNGUARDED]["pairs"][pair]["chosen"][sd]]
        if any(label_mix(u) is not None for by in units.values() for u in by.values()):
            lines += ["", f"The label-mix guard (estimate ≥ {LABEL_MIX_GUARD:.2f}) applies to {len(guarded)} of "
                          f"{sum(len(by) for by in units.values())} (pair, seed) units and changes the rule's choice on "
                          f"{len(changed)} of them" + (": " + ", ".join(f"{p.replace('->', ' → ')} (seed {sd}: "
                          f"{summ[RULE_UNGUARDED]['pairs'][p]['chosen'][sd]} → none)" for p, sd in changed)
                          if changed else "") + ". The estimate is the diagnosis `nlpta adapt` computes "
                          "(`measure_diagnosis`, cached beside the candidates' scores)."]
        lines += ["", "Each candidate's target accuracy in this protocol (the same fits; mean ± 95% CI over seeds):", "",
                  "| pair | " + " | ".join(f"`{c}`" for c in kind_cands) + " |", "|---|" + "---:|" * len(kind_cands)]
        accs = {c: candidate_accuracy(units, c) for c in kind_cands}
        for pair in units:
            lines.append(f"| {pair.replace('->', ' → ')} | " + " | ".join(fmt_ci(accs[c][pair]) for c in kind_cands) + " |")
        if n_pairs > 1:
            lines.append(f"| **average ({n_pairs} pairs)** | " + " | ".join(
                f"**{fmt_ci(mean_over(list(accs[c].values())))}**" for c in kind_cands) + " |")
        flagged = [(pair, c, v["accuracy"] - u["candidates"]["none"]["accuracy"]) for pair, by in units.items()
                   for u in by.values() for c, v in u["candidates"].items() if v["collapsed"]]
        n_fits = sum(len(u["candidates"]) for by in units.values() for u in by.values())
        if flagged:
            which = sorted({c for _, c, _ in flagged})
            lines += ["", f"The prediction guard flagged {len(flagged)} of {n_fits} candidate fits as collapsed "
                          f"({', '.join(f'`{c}`' for c in which)}); their target accuracy was "
                          f"{100 * float(np.mean([d for *_, d in flagged])):+.1f} points from `none`'s on average "
                          f"(from {100 * min(d for *_, d in flagged):+.1f} to {100 * max(d for *_, d in flagged):+.1f})."]
        else:
            lines += ["", f"The prediction guard flagged none of the {n_fits} candidate fits."]
        secs = [u["seconds"] for by in units.values() for u in by.values()]
        lines += ["", f"One (pair, seed) measurement: {np.mean(secs):.0f} s on average ({len(kind_cands)} candidates, "
                      f"each fitted {FOLDS + 2} times).", "", provenance_line(r["provenance"], r["seeds"])]
        return "\n".join(lines)
    return _render


BLITZER_TITLE = "## Choosing without target labels: Blitzer Amazon reviews, 12 pairs"
SECTIONS = [
    Section("choice-blitzer", BLITZER_TITLE, compute_blitzer,
            render(BLITZER_TITLE, "The baselines' protocol (per domain and seed, 1,600 train / 400 test; the target's "
                   "unlabeled pool as target rows)."), seeds=[1, 2, 3], script=SCRIPT),
    Section("choice-fdu", "### Choosing without target labels: FDU-MTL, 10 pairs", compute_fdu,
            render("### Choosing without target labels: FDU-MTL, 10 pairs",
                   "FDU-MTL (Liu et al. 2017): source train → target test, the target's `unlabel` file as target rows; "
                   "pairs of domains outside Blitzer's four."), seeds=[1, 2, 3], script=SCRIPT),
    Section("choice-fdu-train", "### Choosing without target labels: FDU-MTL, 10 pairs, target rows with the test's label mix",
            compute_fdu_train,
            render("### Choosing without target labels: FDU-MTL, 10 pairs, target rows with the test's label mix",
                   "The same 10 FDU-MTL pairs, but the target rows are the target's *train* split with its labels "
                   "stripped (balanced like the test split; no test row), in place of the `unlabel` file, whose "
                   "label mix is Amazon's natural one (a source-only model predicts 70-87% of it positive)."),
            seeds=[1, 2, 3], script=SCRIPT),
    Section("choice-pos", "### Choosing without target labels: POS tagging on EWT genres", compute_pos,
            render("### Choosing without target labels: POS tagging on EWT genres",
                   f"A CPU budget: a seeded sample of {POS_LIMIT:,} source-genre training "
                   f"sentences (per seed) → the target genre's test split; {POS_UNLABELED:,} of its train sentences, "
                   f"untagged, as target rows; the feature tagger (max_iter {POS_MAX_ITER}) in every candidate, "
                   f"`self-train` with {POS_ROUNDS} round; token accuracy."), seeds=[1, 2, 3], script=SCRIPT),
    Section("choice-estimate", "### Choosing without target labels: how close is each estimate of the target accuracy?",
            compute_estimates, render_estimates, seeds=[1, 2, 3], script=SCRIPT),
    Section("choice-rules", RULES_TITLE, compute_rules, render_rules, seeds=[1, 2, 3], script=SCRIPT),
    Section("choice-rules-pos", RULES_POS_TITLE, compute_rules_pos, render_rules_pos, seeds=[1, 2, 3], script=SCRIPT),
    Section("choice-one", "## Choosing without target labels: 1 pair", compute_one,
            render("## Choosing without target labels: 1 pair", "Blitzer books → kitchen (a check)."), seeds=[1],
            script=SCRIPT),
]
PAGE = SECTIONS[:7]


def _page() -> list:
    from bench import page

    p = page()
    return p if any(s in p for s in PAGE) else [*p, *PAGE]


if __name__ == "__main__":
    sys.exit(main(SECTIONS, _page, prefix=PREFIX, description=__doc__.splitlines()[0]))
