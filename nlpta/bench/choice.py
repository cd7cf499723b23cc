"""Does choosing without target labels work? One measurement per (pair, seed) scores every
candidate with every validator -- the way :func:`nlpta.adapt` does, on the same folds and
importance weights -- and, *after* that, reads the target test labels to get each candidate's
accuracy. The choices (each validator alone, and the ``adapt`` rule) are made from the stored
scores when the table is rendered, so changing the rule does not recompute a fit.

The candidates are fitted on :func:`nlpta.validation.candidate_task` (labeled source, unlabeled
target rows; never a target label); the accuracy of a candidate is that same fitted model's on the
target test rows (:func:`nlpta.evaluators.evaluate_predictions`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .stats import mean_over, paired

RULE = "adapt"
RULE_UNGUARDED = "adapt-unguarded"  # the rule without its label-mix guard (what stop 24 measured)
RULE_GAIN = "adapt-gain"  # nlpta adapt --rule gain
RULE_GAIN_UNGUARDED = "adapt-gain-unguarded"  # the gain rule without its label-mix guard
FIXED = "fixed:"  # "fixed:<candidate>": that candidate on every unit


def measure_choice(task: Mapping[str, Any], candidates: Mapping[str, Sequence], seed: int, folds: int = 3,
                   max_rows: int = 2000) -> dict:
    """Score the ``candidates`` (``{label: [method, params]}``, holding ``none``) on ``task`` (a
    :meth:`~nlpta.tasks.TaskSpec.to_dict`) for ``seed`` with every validator of
    :data:`nlpta.adaptation.DECISION_VALIDATORS` and :data:`~nlpta.adaptation.EXTRA_VALIDATORS`,
    then measure each fitted candidate on the labeled target test rows.

    Returns:
        ``{"candidates": {label: {"scores": {validator: float | None}, "collapsed": bool,
        "flags": [...], "gain": gain_over(...) | None, "accuracy": float, "n": int}}, "weights":
        summary, "seconds": float}``.
    """
    from nlpta.adaptation import (
        DECISION_VALIDATORS,
        EXTRA_VALIDATORS,
        _flags,
        gain_over,
        score_candidates,
    )
    from nlpta.evaluators import evaluate_predictions
    from nlpta.tasks import TransferTask, parse_task

    t0 = time.perf_counter()
    spec = parse_task(dict(task))
    tt = TransferTask(spec, seed=seed)
    cands = {str(k): (v[0], dict(v[1] or {})) for k, v in candidates.items()}
    results, oofs, sw, models = score_candidates(cands, tt, folds=folds, max_rows=max_rows,
                                                 extra=EXTRA_VALIDATORS)
    out: dict[str, dict] = {}
    for label, res in results.items():
        collapsed, flags = _flags({v: res[v] for v in DECISION_VALIDATORS})
        ev = evaluate_predictions(tt.target, models[label].predict(tt.target), seed=seed)
        out[label] = {"scores": {v: r.get("score") for v, r in res.items()}, "collapsed": bool(collapsed),
                      "flags": flags, "accuracy": float(ev["accuracy"]), "n": int(ev["n"]),
                      "gain": gain_over(oofs[label], oofs["none"], sw) if label != "none" else None}
    return {"candidates": out, "weights": sw.summary, "seconds": time.perf_counter() - t0}


ESTIMATORS = ("source_cv", "iwcv", "dev", "atc", "doc")  # validators whose score estimates the target accuracy


def measure_estimates(task: Mapping[str, Any], candidates: Mapping[str, Sequence], seed: int, folds: int = 3,
                      max_rows: int = 2000) -> dict:
    """The validators whose score is an estimate of the target accuracy (:data:`ESTIMATORS`: source
    CV, IWCV, DEV, ATC, DoC) for every candidate, from one set of out-of-fold predictions per
    candidate (each fold's model also predicts the target sample, for ATC and DoC), as
    :func:`nlpta.validation.validate` computes them; then each candidate fitted on the whole
    source predicts the labeled target test rows. Lighter than :func:`measure_choice` (no reverse
    fit, no diagnosis).

    Returns:
        ``{"candidates": {label: {"scores": {validator: float | None}, "collapsed": bool,
        "accuracy": float, "n": int}}, "weights": summary, "seconds": float}``.
    """
    from nlpta.evaluators import evaluate_predictions
    from nlpta.tasks import TransferTask, parse_task
    from nlpta.validation import importance_weights, out_of_fold, prediction_guard
    from nlpta.validation.validators import (
        VALIDATORS,
        _fitted,
        _flat,
        _labels,
        _target_sample,
        candidate_task,
    )

    t0 = time.perf_counter()
    tt = TransferTask(parse_task(dict(task)), seed=seed)
    sw = importance_weights(tt)
    tgt = _target_sample(tt, "estimates", max_rows)
    base = candidate_task(tt)
    kind = tt.kind
    out: dict[str, dict] = {}
    for label, (name, params) in candidates.items():
        params = dict(params or {})
        m = _fitted(name, params, base, None, "estimates")
        oof = out_of_fold(name, params, tt, folds=folds, validator="estimates", target=tgt)
        scores = {}
        for v in ESTIMATORS:
            fn = VALIDATORS[v]
            extra = {"weights": sw} if v in ("iwcv", "dev") else {"max_rows": max_rows} if v in ("atc", "doc") else {}
            scores[v] = fn(name, params, tt, folds=folds, oof=oof, **extra).get("score")
        guard = prediction_guard(_flat(_labels(tt.source, kind), kind), _flat(m.predict(tgt), kind))
        ev = evaluate_predictions(tt.target, m.predict(tt.target), seed=seed)
        out[str(label)] = {"scores": scores, "collapsed": bool(guard["collapsed"]), "accuracy": float(ev["accuracy"]),
                           "n": int(ev["n"])}
    return {"candidates": out, "weights": sw.summary, "seconds": time.perf_counter() - t0}


def estimate_errors(units: Mapping[str, Mapping[int, Mapping[str, Any]]], validator: str) -> dict:
    """How far ``validator``'s score is from the target accuracy, over every (pair, seed, candidate):
    ``{"mae", "bias"}`` of score - accuracy, ``"gain_mae"``: of the predicted gain over ``none``
    (score - none's score) against the measured one, over the other candidates, and
    ``"by_candidate": {label: bias}``; accuracy fractions."""
    d, g, by = [], [], {}
    for by_seed in units.values():
        for u in by_seed.values():
            c = u["candidates"]
            base = c["none"]["scores"].get(validator)
            for label, v in c.items():
                sc = v["scores"].get(validator)
                if sc is None:
                    continue
                d.append(sc - v["accuracy"])
                by.setdefault(label, []).append(sc - v["accuracy"])
                if label != "none" and base is not None:
                    g.append(abs((sc - base) - (v["accuracy"] - c["none"]["accuracy"])))
    if not d:
        return {"n": 0}
    return {"n": len(d), "mae": float(np.mean(np.abs(d))), "bias": float(np.mean(d)),
            "gain_mae": float(np.mean(g)) if g else None, "by_candidate": {k: float(np.mean(x)) for k, x in by.items()}}


def measure_diagnosis(task: Mapping[str, Any], seed: int, max_rows: int = 2000) -> dict:
    """The diagnosis :func:`nlpta.adapt` computes before choosing (:func:`nlpta.validation.diagnosis`
    on the labeled source and the unlabeled target rows; no target label read): the domain
    classifier's PAD and, for sentiment, the BBSE estimate of the target rows' label mix and its
    total variation from the source's. POS gets no label-mix estimate here (it needs a fitted tagger).

    Returns:
        ``{"domain_separability": {...}, "label_shift": {...} | None, "notes": [...], "seconds"}``.
    """
    from nlpta.bench.cache import jsonable
    from nlpta.tasks import TransferTask, parse_task
    from nlpta.validation import diagnosis

    t0 = time.perf_counter()
    tt = TransferTask(parse_task(dict(task)), seed=seed)
    facts = jsonable(diagnosis(tt, None, max_rows=max_rows))
    return {**facts, "seconds": time.perf_counter() - t0}


# ------------------------------------------------------------------------------ choices
def choose_by(unit: Mapping[str, Any], how: str) -> str:
    """The candidate a unit's stored scores choose: ``how`` = a validator name (the highest score
    among the candidates the guard does not flag; ties: the first in order; ``none`` where no
    candidate has a score), ``"adapt"`` (:func:`nlpta.adaptation.choose`, the full rule),
    ``"adapt-unguarded"`` (the rule without its label-mix guard), ``"adapt-gain"`` (the ``gain``
    rule, label-mix guard included), ``"adapt-gain-unguarded"`` (without it) or
    ``"fixed:<candidate>"`` (that candidate, flagged or not)."""
    from nlpta.adaptation import GAIN_VALIDATORS, choose

    c = unit["candidates"]
    if how.startswith(FIXED):
        return how[len(FIXED):]
    flagged = [k for k, v in c.items() if v["collapsed"]]
    if how in (RULE_GAIN, RULE_GAIN_UNGUARDED):
        scores = {k: {v: c[k]["scores"].get(v) for v in GAIN_VALIDATORS} for k in c}
        return choose(scores, flagged, label_mix=label_mix(unit) if how == RULE_GAIN else None, rule="gain")["chosen"]
    if how in (RULE, RULE_UNGUARDED):
        from nlpta.adaptation import DECISION_VALIDATORS

        scores = {k: {v: c[k]["scores"].get(v) for v in DECISION_VALIDATORS} for k in c}
        gains = {k: v["gain"] for k, v in c.items() if v.get("gain")}
        return choose(scores, flagged, gains, label_mix=label_mix(unit) if how == RULE else None)["chosen"]
    scored = [(k, v["scores"].get(how)) for k, v in c.items() if k not in flagged and v["scores"].get(how) is not None]
    if not scored:
        return "none"
    best = max(s for _, s in scored)
    return next(k for k, s in scored if s == best)


def label_mix(unit: Mapping[str, Any]) -> float | None:
    """The unit's estimated label-mix shift (the total variation of :func:`measure_diagnosis`'s BBSE
    estimate from the source's), which the ``adapt`` rule's label-mix guard reads; ``None`` where
    the unit has no diagnosis (then no guard) or no estimate (POS)."""
    ls = (unit.get("diagnosis") or {}).get("label_shift") or {}
    tv = ls.get("tv_distance")
    return float(tv) if isinstance(tv, int | float) else None


def spearman(unit: Mapping[str, Any], validator: str) -> float | None:
    """Spearman's rank correlation, across a unit's candidates, of a validator's score with the
    candidate's target accuracy (``None`` with fewer than 3 scored candidates or a constant side)."""
    from scipy.stats import spearmanr

    pts = [(v["scores"].get(validator), v["accuracy"]) for v in unit["candidates"].values()]
    pts = [(s, a) for s, a in pts if s is not None and not (isinstance(s, float) and math.isnan(s))]
    if len(pts) < 3 or len({s for s, _ in pts}) < 2 or len({a for _, a in pts}) < 2:
        return None
    rho = spearmanr([s for s, _ in pts], [a for _, a in pts]).statistic
    return None if rho is None or math.isnan(rho) else float(rho)


def summarize(units: Mapping[str, Mapping[int, Mapping[str, Any]]], how: str) -> dict:
    """The choice ``how`` over ``units`` (``{pair: {seed: measure_choice result}}``).

    Returns:
        ``{"pairs": {pair: {"chosen": {seed: label}, "chosen_acc", "none", "oracle": {seed: acc},
        "diff": paired(none, chosen), "below": bool}}, "chosen_acc", "none", "oracle": {seed:
        mean over pairs}, "regret": mean points, "captured": share of the oracle's gain over none
        (None when the oracle gains nothing), "n_below": pairs where the chosen method is below
        none beyond the 95% interval of the paired seeds, "worst": the lowest pair mean of chosen -
        none, "picked": {label: times chosen}}``.
    """
    pairs: dict[str, dict] = {}
    picked: dict[str, int] = {}
    for pair, by_seed in units.items():
        chosen = {int(s): choose_by(u, how) for s, u in by_seed.items()}
        for lab in chosen.values():
            picked[lab] = picked.get(lab, 0) + 1
        acc = {s: by_seed[s]["candidates"][lab]["accuracy"] for s, lab in chosen.items()}
        none = {int(s): u["candidates"]["none"]["accuracy"] for s, u in by_seed.items()}
        oracle = {int(s): max(v["accuracy"] for v in u["candidates"].values()) for s, u in by_seed.items()}
        d = paired(none, acc)
        pairs[pair] = {"chosen": chosen, "chosen_acc": acc, "none": none, "oracle": oracle, "diff": d,
                       "below": bool(d is not None and d["n"] > 1 and d["high"] < 0),
                       "mean_diff": float(np.mean([acc[s] - none[s] for s in acc]))}
    chosen_acc = mean_over([p["chosen_acc"] for p in pairs.values()])
    none = mean_over([p["none"] for p in pairs.values()])
    oracle = mean_over([p["oracle"] for p in pairs.values()])
    gain_oracle = float(np.mean(list(oracle.values())) - np.mean(list(none.values()))) if none else 0.0
    gain_chosen = float(np.mean(list(chosen_acc.values())) - np.mean(list(none.values()))) if none else 0.0
    return {"pairs": pairs, "chosen_acc": chosen_acc, "none": none, "oracle": oracle,
            "regret": float(np.mean(list(oracle.values())) - np.mean(list(chosen_acc.values()))) if oracle else None,
            "captured": gain_chosen / gain_oracle if gain_oracle > 1e-9 else None,
            "gain": gain_chosen, "oracle_gain": gain_oracle,
            "n_below": sum(p["below"] for p in pairs.values()),
            "worst": min((p["mean_diff"] for p in pairs.values()), default=None), "picked": picked}


def correlations(units: Mapping[str, Mapping[int, Mapping[str, Any]]], validator: str) -> dict:
    """Spearman's ρ of ``validator`` with target accuracy across candidates: ``{"mean", "low",
    "high", "n"}`` over the (pair, seed) units that have one (95% t interval), and ``"positive"``:
    the share of units where ρ > 0."""
    from nlpta.evaluators import mean_ci

    rhos = [r for by_seed in units.values() for u in by_seed.values() if (r := spearman(u, validator)) is not None]
    if not rhos:
        return {"n": 0}
    out = dict(mean_ci(rhos))
    out["positive"] = float(np.mean([r > 0 for r in rhos]))
    return out


def candidate_accuracy(units: Mapping[str, Mapping[int, Mapping[str, Any]]], label: str) -> dict[str, dict[int, float]]:
    """``{pair: {seed: accuracy}}`` of one candidate (the correction methods' table)."""
    return {pair: {int(s): u["candidates"][label]["accuracy"] for s, u in by_seed.items() if label in u["candidates"]}
            for pair, by_seed in units.items()}


def hindsight(units: Mapping[str, Mapping[int, Mapping[str, Any]]]) -> dict:
    """What a choice could gain over ``none`` with hindsight. The oracle of :func:`summarize` picks
    per seed, so part of its gain is the test sample's noise (the max of correlated noisy
    accuracies). Returns ``{"per_pair": mean over pairs of the best candidate's mean gain over the
    seeds -- the ceiling of a choice made once per pair, "fixed": {candidate: mean gain when chosen
    on every pair}, "fixed_worst": {candidate: its worst pair's mean gain}, "best_fixed": the best
    of those}``, gains as accuracy differences."""
    labels = [c for c in next(iter(next(iter(units.values())).values()))["candidates"] if c != "none"]
    gain = {c: {pair: float(np.mean([u["candidates"][c]["accuracy"] - u["candidates"]["none"]["accuracy"]
                                     for u in by_seed.values()]))
                for pair, by_seed in units.items()} for c in labels}
    per_pair = float(np.mean([max(0.0, *(gain[c][pair] for c in labels)) for pair in units]))
    fixed = {c: float(np.mean(list(g.values()))) for c, g in gain.items()}
    return {"per_pair": per_pair, "fixed": fixed, "fixed_worst": {c: min(g.values()) for c, g in gain.items()},
            "best_fixed": max(fixed, key=fixed.get) if fixed else None}
