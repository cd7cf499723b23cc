"""``nlpta adapt``: diagnose -> run candidates -> validate without target labels -> choose (or fall
back to ``none``) -> run the chosen method and save its model.

The rule (:func:`choose`), in full:

1. Every candidate is fitted on the labeled source and the unlabeled target rows only and scored
   by the validators of :data:`DECISION_VALIDATORS` -- source CV, IWCV (Sugiyama et al. 2007),
   DEV (You et al. 2019), reverse validation (Zhong et al. 2010) and information maximisation
   (Shi & Sha 2012) -- exactly as :func:`nlpta.validation.validate` does (one fit per candidate,
   one set of out-of-fold predictions shared by the three source-CV validators, one set of
   importance weights for the task). No target label is read: the candidates see
   :func:`nlpta.validation.candidate_task`.
2. A candidate the prediction guard flags (a collapse of its target predictions onto one label,
   :func:`nlpta.validation.prediction_guard`) is excluded.
3. On each validator, the remaining candidates with a score are ranked (1 = best, ties share the
   mean rank); a candidate's *mean rank* is the mean over the validators that score it. The
   lowest mean rank wins (ties: the higher IWCV score, then the name).
4. The winner is kept only if it beats ``none`` (source only, always among the candidates) by a
   margin: it scores higher than ``none`` on at least :data:`MIN_WINS` of the validators that
   score both (all of them where fewer score both), **and** its IWCV-predicted gain over ``none``
   exceeds one standard error of the paired per-fold gains. Otherwise the choice falls back to
   ``none``: validators are weak evidence (Musgrave, Belongie & Lim 2021, *A reality check*), and
   adapting on weak evidence is how negative transfer happens.
5. **The label-mix guard** (classification tasks): where the diagnosis estimates the unlabeled
   target rows' label mix (BBSE, Lipton et al. 2018) at a total variation of at least
   :data:`LABEL_MIX_GUARD` from the source's, the choice falls back to ``none`` too. Whether the rows
   the model will predict share that mix cannot be told from unlabeled rows, and every adapting
   candidate moves the model toward it. Measured: FDU-MTL's ``unlabel`` files are mostly positive
   while its test splits are balanced; the rule without this guard chose ``self-train`` on
   magazines → music and lost 6.3 points (BENCHMARKS.md). Where the rows to predict do share the
   unlabeled rows' mix, pass ``label_mix_guard=False`` (``--no-label-mix-guard``) to adapt anyway.

**The ``gain`` rule** (``rule="gain"``, ``--rule gain``; the rule above is ``safe``, the default):

1. Candidates the prediction guard flags are excluded, and so is every candidate whose IWCV score
   is below ``none``'s by more than :data:`GAIN_TOLERANCE` (2 points): evident harm on the
   source rows weighted toward the target.
2. The rest are ranked by DoC (Guillory et al. 2021: the held-out source accuracy minus the drop
   in mean confidence from the held-out source rows to the target rows; an estimate of the target
   accuracy); the highest wins (ties: the higher IWCV, then the name).
3. The winner is kept if its DoC is above ``none``'s, else ``none``; the label-mix guard (step 5)
   applies as in ``safe``.

Why two rules: the source-side validators (source CV, IWCV, DEV) cannot see the gain of a method
that learns its representation from the target's text (``sfa``: its target-only features are
absent from every source row), so ``safe``'s margin test keeps ``none`` where ``sfa`` gains;
the confidence-based estimates (DoC, ATC, IM) do see it but over-estimate every method that is
more confident on the target than on the source, so ``gain`` cannot tell a pair where ``sfa`` hurts.
Measured with the ``auto`` candidates (BENCHMARKS.md, "Choosing without target labels: the gain
rule", 3 seeds): ``gain`` captures 91% of the oracle's gain on Blitzer and is below ``none`` on no
pair, but on FDU-MTL with balanced target rows it chooses ``sfa`` where ``sfa`` loses (2.4 points on
software -> electronics); ``safe`` rarely adapts and rarely loses (its tables, measured with
``scl-mi`` in ``sfa``'s place). Choose ``gain`` where a loss of a point or two on some pairs is
acceptable, ``safe`` where it is not. For POS, ``gain`` reads DoC from the tagger's token
confidences; on the EWT genre pairs it gains +0.16 over ``none`` (oracle +0.19), never below it.

``predicted_gain_over_none`` of each candidate is the IWCV accuracy difference against ``none``
with a 95% Student-t interval over the paired cross-validation folds (the folds are the same for
every candidate: same rows, same seed). Where the target test rows carry labels (a benchmark;
``oracle=None`` finds out, ``True`` requires them, ``False`` skips), ``choice.json`` adds, *after*
the choice, each candidate's target test accuracy (the candidate models already fitted for the
validators, predicting the test rows), the best one (the oracle) and the regret of the choice --
never an input of the choice.

``auto`` candidates depend on the budget: ``cpu`` lists the classical methods of
:data:`AUTO_CANDIDATES`; ``gpu`` adds the LoRA candidates of :data:`GPU_CANDIDATES` (each is fitted
``folds + 2`` times, which is practical on a GPU only); ``auto`` is ``gpu`` where
``torch.cuda.is_available()`` and ``cpu`` otherwise. Any method can also be named explicitly.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .errors import Errors
from .io import RunFolder, atomic_write_json, atomic_write_text
from .methods import METHODS, Method
from .pipeline import run_task
from .tasks import TaskSpec, TransferTask, load_task
from .validation import (
    candidate_task,
    dev,
    diagnosis,
    im,
    importance_weights,
    iwcv,
    out_of_fold,
    reverse,
    source_cv,
)
from .validation.validators import (
    LABEL_MIX_NOTE,
    _check_candidate,
    _fitted,
    _need_unlabeled,
    _target_sample,
)

__all__ = ["AUTO_CANDIDATES", "BUDGETS", "DECISION_VALIDATORS", "EXTRA_VALIDATORS", "GAIN_TOLERANCE", "GAIN_VALIDATORS",
           "GPU_CANDIDATES", "LABEL_MIX_GUARD", "MIN_WINS", "RULES", "AdaptResult", "adapt", "auto_candidates", "choose",
           "choose_gain", "gain_over", "resolve_budget", "rule_validators", "score_candidates"]

AUTO_CANDIDATES: dict[str, tuple[str, ...]] = {
    # sfa, not scl-mi: sfa gains +3.6 over none on Blitzer and beats scl-mi on 11 of 12 pairs (BENCHMARKS.md,
    # pivot methods), and scl-mi's over-confidence on the target fools every confidence-based validator
    # (choice-estimate: ATC +7.5 / +9.2 points on scl-mi against +0.2 / -0.4 on none)
    "sentiment": ("none", "reweight-clf", "sfa", "self-train", "label-shift"),
    "pos": ("none", "reweight-clf", "self-train"),
}
# lora-self-train for sentiment: +4.8 and +3.1 over lora on the two Blitzer pairs measured (BENCHMARKS.md,
# UDALM and self-training with MiniLM); for POS it is not measured, and the classical self-train gains ~0 there
GPU_CANDIDATES: dict[str, tuple[str, ...]] = {"sentiment": ("lora", "lora-dapt", "lora-self-train"), "pos": ("lora",)}
BUDGETS = ("auto", "cpu", "gpu")
DECISION_VALIDATORS: tuple[str, ...] = ("source_cv", "iwcv", "dev", "reverse", "im")
MIN_WINS = 3  # validators on which the winner must beat `none`
LABEL_MIX_GUARD = LABEL_MIX_NOTE  # total variation of the estimated target label mix from the source's
RULE = ("exclude candidates the prediction guard flags (collapse); rank the rest on each of "
        f"{', '.join(DECISION_VALIDATORS)} (1 = best, ties share the mean rank); choose the lowest mean rank "
        "(ties: higher iwcv, then name); keep it only if it scores higher than none on at least "
        f"{MIN_WINS} of those validators (all of them where fewer score both) and its IWCV-predicted gain over "
        "none exceeds one standard error of the paired per-fold gains; otherwise fall back to none; "
        f"classification: also fall back to none where the unlabeled target rows' estimated label mix is at least "
        f"{LABEL_MIX_GUARD:.2f} (total variation) from the source's")


RULES = ("safe", "gain")
GAIN_VALIDATORS: tuple[str, str] = ("doc", "iwcv")  # the gain rule: DoC ranks, IWCV vetoes
GAIN_TOLERANCE = 0.02  # the gain rule excludes a candidate whose IWCV is below none's by more than this
GAIN_RULE = ("exclude candidates the prediction guard flags (collapse) and those whose iwcv is below none's by more "
             f"than {100 * GAIN_TOLERANCE:.0f} points; choose the highest doc among the rest (ties: higher iwcv, then "
             "name); keep it if its doc is above none's, else fall back to none; classification: also fall back to "
             f"none where the unlabeled target rows' estimated label mix is at least {LABEL_MIX_GUARD:.2f} (total "
             "variation) from the source's")
RULE_TEXT = {"safe": RULE, "gain": GAIN_RULE}


def rule_validators(rule: str) -> tuple[str, ...]:
    """The validators a rule reads (``safe``: :data:`DECISION_VALIDATORS`; ``gain``:
    :data:`GAIN_VALIDATORS`)."""
    if rule not in RULES:
        raise Errors.E322(what="the adapt rule", expected=" or ".join(repr(r) for r in RULES), got=repr(rule))
    return DECISION_VALIDATORS if rule == "safe" else GAIN_VALIDATORS


@dataclass
class AdaptResult:
    """What :func:`adapt` returns: the ``choice.json`` dict and the output folder."""

    choice: dict[str, Any]
    out_dir: Path

    @property
    def chosen(self) -> str:
        return self.choice["chosen"]

    @property
    def model_dir(self) -> Path:
        """The chosen method's saved model (load it with :func:`nlpta.load_model`)."""
        return self.out_dir / "run" / f"model-seed{self.choice['seed']}"


# ------------------------------------------------------------------------------ candidates
def resolve_budget(budget: str) -> str:
    """``"cpu"`` or ``"gpu"``: ``auto`` is ``gpu`` where CUDA is available.

    Raises:
        NlptaError: E912 (not one of :data:`BUDGETS`).
    """
    if budget not in BUDGETS:
        raise Errors.E912(option="budget", given=budget, expected=" or ".join(BUDGETS))
    if budget != "auto":
        return budget
    try:
        import torch

        return "gpu" if torch.cuda.is_available() else "cpu"
    except ImportError:  # pragma: no cover - torch is a dependency
        return "cpu"


def auto_candidates(kind: str, budget: str = "auto") -> tuple[str, ...]:
    """The ``auto`` candidates for a task kind (``sentiment`` / ``pos``) and a budget."""
    extra = GPU_CANDIDATES.get(kind, ()) if resolve_budget(budget) == "gpu" else ()
    return (*AUTO_CANDIDATES[kind], *extra)


def _candidates(candidates, spec: TaskSpec, params: Mapping[str, Any] | None,
                budget: str = "auto") -> dict[str, tuple[str, dict]]:
    """``{label: (method, params)}``; the task file's params go to its own method, ``params`` to every
    candidate; ``none`` is always added (the fallback)."""
    if candidates in (None, "auto"):
        candidates = auto_candidates(spec.task, budget)
    elif isinstance(candidates, str):
        candidates = [c.strip() for c in candidates.split(",") if c.strip()]
    items = candidates.items() if isinstance(candidates, Mapping) else (
        (c if isinstance(c, str) else c[0], c) for c in candidates)
    out: dict[str, tuple[str, dict]] = {}
    for label, c in items:
        name, own = (c, {}) if isinstance(c, str) else (c[0], dict(c[1] or {}))
        merged = {**(dict(spec.params) if name == spec.method else {}), **dict(params or {}), **own}
        out[str(label)] = (name, merged)
    if not any(name == "none" for name, _ in out.values()):
        out = {"none": ("none", {**(dict(spec.params) if spec.method == "none" else {}), **dict(params or {})}),
               **out}
    return out


# ------------------------------------------------------------------------------ the gain interval
def gain_over(oof_c, oof_none, weights) -> dict[str, float | int]:
    """The IWCV-predicted accuracy gain of a candidate over ``none``: the difference of their
    importance-weighted out-of-fold accuracies (Sugiyama et al. 2007), with a 95% Student-t
    interval over the paired folds (both candidates share the folds).

    Returns:
        ``{"estimate", "low", "high", "se", "folds"}`` (accuracy points as fractions).
    """
    from scipy import stats

    def per_fold(oof) -> np.ndarray:
        w = np.asarray(weights.weights, dtype=np.float64)[oof.row]
        return np.array([1.0 - float(np.sum(w[oof.fold == f] * oof.loss[oof.fold == f]) / np.sum(w[oof.fold == f]))
                         for f in range(oof.folds)])

    def overall(oof) -> float:
        w = np.asarray(weights.weights, dtype=np.float64)[oof.row]
        return 1.0 - float(np.sum(w * oof.loss) / np.sum(w))

    d = per_fold(oof_c) - per_fold(oof_none)
    est = overall(oof_c) - overall(oof_none)
    k = len(d)
    se = float(np.std(d, ddof=1) / math.sqrt(k)) if k > 1 else 0.0
    half = float(stats.t.ppf(0.975, k - 1)) * se if k > 1 else 0.0
    return {"estimate": est, "low": est - half, "high": est + half, "se": se, "folds": k}


# ------------------------------------------------------------------------------ the rule
def choose(scores: Mapping[str, Mapping[str, float | None]], flagged: Sequence[str] = (),
           gains: Mapping[str, Mapping[str, float]] | None = None,
           validators: Sequence[str] = DECISION_VALIDATORS, min_wins: int = MIN_WINS,
           label_mix: float | None = None, label_mix_guard: float | None = LABEL_MIX_GUARD,
           rule: str = "safe") -> dict[str, Any]:
    """Apply the documented rule (module docstring) to validator scores.

    Args:
        scores: ``{label: {validator: score or None}}``, higher is better; must hold ``none``.
        flagged: labels the prediction guard flags (excluded).
        gains: ``{label: gain_over(...)}`` (``estimate`` and ``se``); a candidate without one fails
            the margin test.
        label_mix: the total variation of the estimated target label mix from the source's
            (the diagnosis's ``label_shift.tv_distance``; ``None``: not estimated, no guard).
        label_mix_guard: the label-mix guard's threshold (``None``: no guard).
        rule: ``"safe"`` (the default: ``validators``, ``gains`` and ``min_wins`` as above) or
            ``"gain"`` (:func:`choose_gain`; reads ``doc`` and ``iwcv`` from ``scores``).

    Returns:
        ``{"chosen", "best", "fallback", "ranks": {label: {validator: rank}}, "mean_rank": {label:
        float | None}, "wins_over_none": {label: [validators]}, "reason"}``; ``best`` is the
        winner before the margin test.
    """
    from scipy.stats import rankdata

    rule_validators(rule)  # E322 for an unknown rule
    if rule == "gain":
        return choose_gain(scores, flagged, label_mix=label_mix, label_mix_guard=label_mix_guard)
    gains = gains or {}
    eligible = [c for c in scores if c not in set(flagged)]
    ranks: dict[str, dict[str, float]] = {c: {} for c in scores}
    for v in validators:
        scored = [c for c in eligible if scores[c].get(v) is not None]
        if not scored:
            continue
        r = rankdata([-float(scores[c][v]) for c in scored], method="average")
        for c, x in zip(scored, r, strict=True):
            ranks[c][v] = float(x)
    mean_rank = {c: (float(np.mean(list(ranks[c].values()))) if ranks[c] else None) for c in scores}
    wins: dict[str, list[str]] = {}
    for c in scores:
        if c == "none":
            continue
        wins[c] = [v for v in validators if scores[c].get(v) is not None and scores["none"].get(v) is not None
                   and float(scores[c][v]) > float(scores["none"][v])]
    ranked = sorted((c for c in eligible if mean_rank[c] is not None),
                    key=lambda c: (mean_rank[c], -(scores[c].get("iwcv") or -math.inf), c))
    out: dict[str, Any] = {"ranks": ranks, "mean_rank": mean_rank, "wins_over_none": wins}
    if not ranked:
        return {**out, "chosen": "none", "best": None, "fallback": True,
                "reason": "every candidate is flagged or unscored; falling back to none"}
    best = ranked[0]
    if best == "none":
        return {**out, "chosen": "none", "best": best, "fallback": False, "reason": "none has the best mean rank"}
    if label_mix is not None and label_mix_guard is not None and float(label_mix) >= label_mix_guard:
        return {**out, "chosen": "none", "best": best, "fallback": True,
                "reason": _label_mix_reason(best, label_mix, label_mix_guard, "has the best mean rank")}
    if "none" in flagged:
        return {**out, "chosen": best, "best": best, "fallback": False,
                "reason": f"{best} has the best mean rank and none itself is flagged (collapse), so no margin is asked"}
    both = [v for v in validators if scores[best].get(v) is not None and scores["none"].get(v) is not None]
    need = min(min_wins, len(both))
    g = gains.get(best) or {}
    n_wins = len(wins[best])
    gain_ok = g.get("estimate") is not None and float(g["estimate"]) > float(g.get("se") or 0.0)
    if need > 0 and n_wins >= need and gain_ok:
        return {**out, "chosen": best, "best": best, "fallback": False,
                "reason": f"{best} has the best mean rank, beats none on {n_wins} of {len(both)} validators and its "
                          f"IWCV-predicted gain ({100 * g['estimate']:+.2f} points) exceeds one fold standard error "
                          f"({100 * float(g.get('se') or 0.0):.2f})"}
    why = []
    if not (need > 0 and n_wins >= need):
        why.append(f"it beats none on {n_wins} of {len(both)} validators (needs {need})")
    if not gain_ok:
        why.append("its IWCV-predicted gain " + (f"({100 * g['estimate']:+.2f} points) does not exceed one fold "
                                                  f"standard error ({100 * float(g.get('se') or 0.0):.2f})"
                                                  if g.get("estimate") is not None else "is unknown"))
    return {**out, "chosen": "none", "best": best, "fallback": True,
            "reason": f"{best} has the best mean rank but " + " and ".join(why) + "; falling back to none"}


def _label_mix_reason(best: str, label_mix: float, guard: float, what: str) -> str:
    return (f"{best} {what}, but the unlabeled target rows' label mix is estimated at a total variation of "
            f"{float(label_mix):.2f} from the source's (guard: {guard:.2f}): adapting would follow that mix, and "
            "whether the rows to predict share it cannot be told without their labels; falling back to none (where "
            "they do share it, --no-label-mix-guard / label_mix_guard=False adapts anyway)")


def choose_gain(scores: Mapping[str, Mapping[str, float | None]], flagged: Sequence[str] = (),
                label_mix: float | None = None, label_mix_guard: float | None = LABEL_MIX_GUARD,
                tolerance: float = GAIN_TOLERANCE) -> dict[str, Any]:
    """The ``gain`` rule (module docstring): DoC ranks the candidates that are not flagged and whose
    IWCV is within ``tolerance`` of ``none``'s; the winner is kept if its DoC is above ``none``'s.

    Args:
        scores: ``{label: {"doc": ..., "iwcv": ...}}`` (higher is better); must hold ``none``. A
            candidate without a DoC (a method without class probabilities) cannot win.
        flagged, label_mix, label_mix_guard: as in :func:`choose`.

    Returns:
        :func:`choose`'s dict (``ranks`` and ``mean_rank`` by DoC alone; ``wins_over_none``: the
        validators of :data:`GAIN_VALIDATORS` on which a candidate beats ``none``), plus
        ``"vetoed"``: the candidates IWCV excluded.
    """
    from scipy.stats import rankdata

    by, veto = GAIN_VALIDATORS
    flagged = set(flagged)

    def val(c: str, v: str) -> float | None:
        x = scores[c].get(v)
        return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)

    base_veto = val("none", veto)
    vetoed = [c for c in scores if c != "none" and c not in flagged and base_veto is not None
              and val(c, veto) is not None and val(c, veto) < base_veto - tolerance]
    eligible = [c for c in scores if c not in flagged and c not in vetoed and val(c, by) is not None]
    ranks: dict[str, dict[str, float]] = {c: {} for c in scores}
    if eligible:
        for c, r in zip(eligible, rankdata([-val(c, by) for c in eligible], method="average"), strict=True):
            ranks[c][by] = float(r)
    mean_rank = {c: ranks[c].get(by) for c in scores}
    wins = {c: [v for v in GAIN_VALIDATORS if val(c, v) is not None and val("none", v) is not None
                and val(c, v) > val("none", v)] for c in scores if c != "none"}
    out: dict[str, Any] = {"ranks": ranks, "mean_rank": mean_rank, "wins_over_none": wins, "vetoed": vetoed}
    if not eligible:
        return {**out, "chosen": "none", "best": None, "fallback": True,
                "reason": f"no candidate has a {by} score (or every one is flagged or vetoed); falling back to none"}
    best = sorted(eligible, key=lambda c: (-val(c, by), -(val(c, veto) or -math.inf), c))[0]
    if best == "none":
        return {**out, "chosen": "none", "best": best, "fallback": False, "reason": f"none has the highest {by}"}
    if label_mix is not None and label_mix_guard is not None and float(label_mix) >= label_mix_guard:
        return {**out, "chosen": "none", "best": best, "fallback": True,
                "reason": _label_mix_reason(best, label_mix, label_mix_guard, f"has the highest {by}")}
    if "none" in flagged or val("none", by) is None or val(best, by) > val("none", by):
        what = ("none itself is flagged (collapse)" if "none" in flagged else
                f"none has no {by}" if val("none", by) is None else
                f"its {by} ({val(best, by):.4f}) is above none's ({val('none', by):.4f})")
        vet = f"; vetoed by {veto} (more than {100 * tolerance:.0f} points below none): {', '.join(vetoed)}" if vetoed else ""
        return {**out, "chosen": best, "best": best, "fallback": False,
                "reason": f"{best} has the highest {by} among the candidates not flagged or vetoed, and {what}{vet}"}
    return {**out, "chosen": "none", "best": best, "fallback": True,
            "reason": f"{best} has the highest {by} among the others, but not above none's; falling back to none"}


# ------------------------------------------------------------------------------ scoring
EXTRA_VALIDATORS: tuple[str, ...] = ("atc", "doc", "entropy", "snd", "agreement")  # scored on request, not in the rule


def score_candidates(cands: Mapping[str, tuple[str, Mapping[str, Any]]], tt: TransferTask, *, folds: int = 5,
                     max_rows: int | None = 2000, extra: Sequence[str] = ()):
    """Fit and score every candidate as :func:`nlpta.validation.validate` does, keeping the
    out-of-fold losses (for the gain intervals) and the fitted models.

    Args:
        cands: ``{label: (method, params)}``.
        extra: validators of :data:`EXTRA_VALIDATORS` to score too (benchmarks of the validators).

    Returns:
        ``(results, oofs, weights, models)``: ``results[label][validator]`` is the validator's
        result dict, ``oofs[label]`` its :class:`~nlpta.validation.OutOfFold`, ``weights`` the
        task's :class:`~nlpta.validation.SourceWeights`, ``models[label]`` the method fitted on
        :func:`~nlpta.validation.candidate_task` (never on a target label).
    """
    from tqdm.auto import tqdm

    from .validation import agreement, atc, doc, entropy, snd

    _need_unlabeled(tt, "adapt")
    for name, params in cands.values():
        _check_candidate(name, params, "adapt")
    sw = importance_weights(tt)
    base = candidate_task(tt)
    tgt = _target_sample(tt, "adapt", max_rows) if {"atc", "doc"} & set(extra) else None
    results: dict[str, dict[str, dict]] = {}
    oofs = {}
    models: dict[str, Method] = {}
    for label, (name, params) in tqdm(cands.items(), desc="adapt: candidates", unit="candidate", disable=None,
                                      leave=False):
        models[label] = m = _fitted(name, params, base, None, "adapt")
        oofs[label] = oof = out_of_fold(name, params, tt, folds=folds, validator="adapt", target=tgt)
        results[label] = {
            "source_cv": source_cv(name, params, tt, folds=folds, oof=oof),
            "iwcv": iwcv(name, params, tt, folds=folds, oof=oof, weights=sw),
            "dev": dev(name, params, tt, folds=folds, oof=oof, weights=sw),
            "reverse": reverse(name, params, tt, m, max_rows=max_rows),
            "im": im(name, params, tt, m, max_rows=max_rows),
        }
        for v, fn in (("atc", atc), ("doc", doc)):
            if v in extra:
                results[label][v] = fn(name, params, tt, folds=folds, oof=oof, max_rows=max_rows)
        if "entropy" in extra:
            results[label]["entropy"] = entropy(name, params, tt, m, max_rows=max_rows)
        if "snd" in extra:
            results[label]["snd"] = snd(name, params, tt, m, max_rows=max_rows)
    if "agreement" in extra:
        tgt = _target_sample(tt, "adapt", max_rows)
        preds = {label: m.predict(tgt) for label, m in models.items()}
        for label, (name, params) in cands.items():
            others = {k: p for k, p in preds.items() if k != label}
            results[label]["agreement"] = (
                agreement(name, params, tt, models[label], others=others, max_rows=max_rows) if others
                else {"validator": "agreement", "score": None, "applicable": False, "reason": "a single candidate"})
    return results, oofs, sw, models


def _flags(res: Mapping[str, dict]) -> tuple[bool, list[str]]:
    collapsed = any(r.get("collapsed") or (r.get("guard") or {}).get("collapsed") for r in res.values())
    flags: list[str] = []
    for r in res.values():
        for w in [*(r.get("warnings") or []), *((r.get("guard") or {}).get("warnings") or [])]:
            if w not in flags:
                flags.append(w)
    return collapsed, flags


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    return x


# ------------------------------------------------------------------------------ the entry point
def adapt(task: TaskSpec | str | Path, candidates: str | Sequence | Mapping = "auto", seed: int = 1,
          out_dir: str | Path | None = None, *, params: Mapping[str, Any] | None = None, folds: int = 5,
          max_rows: int | None = 2000, oracle: bool | None = None, budget: str = "auto",
          label_mix_guard: bool = True, rule: str = "safe") -> AdaptResult:
    """Choose an adaptation method for ``task`` without target labels and run it.

    Loads the task (``seed``), scores the candidates (``"auto"``: :data:`AUTO_CANDIDATES` for the
    task's kind; a comma-separated string, a list of names or ``(name, params)`` pairs, or
    ``{label: name | (name, params)}``; ``none`` is always added), applies the rule of the module
    docstring (:func:`choose`; validators after Musgrave et al. 2021's reality check) and writes
    ``out_dir`` as one unit (:class:`nlpta.io.RunFolder`): ``choice.json``, ``report.md`` and
    ``run/`` -- the chosen method's run folder from :func:`nlpta.pipeline.run_task` with its saved
    model ``run/model-seed<seed>/``.

    Args:
        params: method parameters given to every candidate (over the task file's, which go to the
            task file's own method only).
        oracle: after the choice, measure every candidate on the target test rows and add ``oracle``
            (best candidate, accuracies) and ``regret`` to ``choice.json``: ``None`` where those rows
            carry labels, ``True`` always (E605 without labels), ``False`` never.
        budget: ``cpu``, ``gpu`` or ``auto`` (``gpu`` where CUDA is available): which methods
            ``candidates="auto"`` lists (:func:`auto_candidates`).
        label_mix_guard: apply the rule's label-mix guard (step 5 of the module docstring;
            classification tasks only).
        rule: ``"safe"`` (the default) or ``"gain"`` (module docstring: which to use when).

    Returns:
        an :class:`AdaptResult`.

    Raises:
        NlptaError: E920/E921/E922/E924 (``out_dir``, checked before any fit), E606 (the task has no
            unlabeled target rows), E605 (``oracle=True`` on unlabeled target rows), E607 (a
            candidate that trains on target labels), E301/E3xx (an
            unknown method or parameter), the task file's E2xx.
    """
    spec = load_task(task, known_methods=METHODS) if isinstance(task, str | Path) else task
    out = Path(out_dir) if out_dir is not None else Path("runs") / f"{spec.name}-adapt"
    cands = _candidates(candidates, spec, params, budget)
    vals = rule_validators(rule)
    run_id = uuid.uuid4().hex
    t0 = time.perf_counter()
    with RunFolder(out, run_id) as folder:
        tt = TransferTask(spec, seed=seed)
        results, oofs, sw, models = score_candidates(cands, tt, folds=folds, max_rows=max_rows, extra=("atc", "doc"))
        flagged = []
        cand_out: dict[str, dict] = {}
        for label, res in results.items():
            collapsed, flags = _flags(res)
            if collapsed:
                flagged.append(label)
            cand_out[label] = {"method": cands[label][0], "params": cands[label][1],
                               "scores": {v: res[v].get("score") for v in dict.fromkeys((*DECISION_VALIDATORS, *GAIN_VALIDATORS))},
                               "predicted_target_accuracy": res["atc"].get("score"),
                               "flags": flags, "excluded": collapsed}
        gains = {label: gain_over(oofs[label], oofs["none"], sw) for label in results if label != "none"}
        scores = {label: c["scores"] for label, c in cand_out.items()}
        diag = diagnosis(tt, models.get("none") if spec.task == "pos" else None, max_rows=max_rows or 1000)
        decision = choose(scores, flagged, gains, label_mix=_label_mix(diag, spec.task),
                          label_mix_guard=LABEL_MIX_GUARD if label_mix_guard else None, rule=rule)
        for label, c in cand_out.items():
            c["ranks"] = decision["ranks"][label]
            c["mean_rank"] = decision["mean_rank"][label]
            c["predicted_gain_over_none"] = (gains[label] if label != "none" else
                                             {"estimate": 0.0, "low": 0.0, "high": 0.0, "se": 0.0,
                                              "folds": oofs["none"].folds})
            if label != "none":
                c["wins_over_none"] = decision["wins_over_none"][label]
        chosen = decision["chosen"]
        choice: dict[str, Any] = {
            "task": spec.name, "kind": spec.task, "seed": seed, "chosen": chosen,
            "chosen_method": cands[chosen][0], "chosen_params": cands[chosen][1],
            "best_by_rank": decision["best"], "fallback": decision["fallback"], "reason": decision["reason"],
            "budget": resolve_budget(budget), "rule": RULE_TEXT[rule], "rule_name": rule,
            "validators": list(vals), "vetoed": decision.get("vetoed", []),
            "label_mix_guard": {"applied": bool(label_mix_guard) and spec.task != "pos",
                                "threshold": LABEL_MIX_GUARD, "estimate": _label_mix(diag, "sentiment")},
            "excluded": sorted(flagged),
            "candidates": cand_out, "weights": sw.summary, "diagnosis": diag, "nlpta": __version__,
        }
        name, cparams = cands[chosen]
        res = run_task(spec, method=name, seeds=[seed], out_dir=folder.work / "run", params=cparams, save_model=True)
        choice["run"] = {"dir": "run", "model": f"run/model-seed{seed}", "run_id": res.metrics["run_id"],
                         "warnings": res.metrics.get("warnings", [])}
        labeled = _has_labels(tt.target)
        if oracle and not labeled:
            raise Errors.E605(what="adapt with oracle=True", role="target test rows", found="they carry none",
                              hint="leave the oracle out (it is measured wherever the target rows are labeled)")
        if labeled and oracle is not False:
            choice.update(_oracle(tt, models, chosen, seed))
            choice["oracle"]["run_accuracy"] = res.accuracy
        choice["seconds"] = time.perf_counter() - t0
        choice = _jsonable(choice)
        atomic_write_json(folder.work / "choice.json", choice)
        atomic_write_text(folder.work / "report.md", render_report(choice))
        folder.commit({"task": spec.name, "method": f"adapt:{chosen}", "seeds": [seed], "nlpta": __version__,
                       "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    return AdaptResult(choice=choice, out_dir=out)


def _label_mix(diag: Mapping[str, Any] | None, kind: str) -> float | None:
    """The diagnosis's total variation of the estimated target label mix from the source's, for the
    label-mix guard: classification only (``None`` for POS, whose tag mix differs between genres
    without making a sentence-level pseudo-label or prior wrong, or where no estimate was made)."""
    if kind == "pos" or not diag:
        return None
    tv = (diag.get("label_shift") or {}).get("tv_distance")
    return float(tv) if isinstance(tv, int | float) else None


def _has_labels(ds) -> bool:
    from .data.schema import task_of
    from .evaluators._common import has_labels

    return len(ds) > 0 and has_labels(ds, task_of(ds))


def _oracle(tt: TransferTask, models: Mapping[str, Method], chosen: str, seed: int) -> dict:
    """After the choice: every candidate's target test accuracy (the models fitted for the
    validators; labels read here only), the best one and the regret of the choice (best accuracy -
    chosen accuracy)."""
    from .evaluators import evaluate_predictions

    acc = {label: float(evaluate_predictions(tt.target, m.predict(tt.target), seed=seed)["accuracy"])
           for label, m in models.items()}
    best = max(sorted(acc), key=lambda k: acc[k])
    return {"oracle": {"best": best, "accuracy": acc, "note": "computed after the choice from the target test "
                       "labels, with the candidates fitted for the validators; never an input of the choice"},
            "regret": acc[best] - acc[chosen]}


def _fmt(x) -> str:
    return "n/a" if x is None else f"{x:.4f}"


def diagnosis_lines(choice: Mapping[str, Any], top: int = 3) -> list[str]:
    """The diagnosis of an adapt folder in plain words (markdown bullets): the domain distance, the
    importance weights' effective sample size and the estimated label shift."""
    diag = choice.get("diagnosis") or {}
    out = []
    sep = diag.get("domain_separability") or {}
    if "pad" in sep:
        out.append(f"- Domain distance: proxy A-distance {sep['pad']:.2f} (a domain classifier tells source from "
                   f"target rows {100 * sep.get('accuracy', float('nan')):.1f}% of the time; 0 = same domain, 2 = "
                   "fully separable).")
    w = choice.get("weights") or {}
    if "ess_share" in w:
        out.append(f"- Importance weights toward the target: effective sample size {w['ess']:.0f} of {w['n']} source "
                   f"rows ({100 * w['ess_share']:.0f}%).")
    ls = diag.get("label_shift") or {}
    if ls.get("source") and ls.get("target"):
        src, est = ls["source"], ls["target"]  # in unlabeled mode, ``target`` is the BBSE estimate
        moves = sorted(src, key=lambda k: -abs(float(est.get(k, 0.0)) - float(src[k])))[:top]
        tv = ls.get("tv_distance")
        name = {"0": "negative", "1": "positive"} if choice.get("kind") == "sentiment" else {}
        out.append("- Label shift (BBSE estimate of the target's label distribution, source → target): "
                   + (f"total variation {tv:.3f}; " if isinstance(tv, int | float) else "")
                   + ", ".join(f"{name.get(str(k), k)} {100 * float(src[k]):.1f}% → {100 * float(est.get(k, 0.0)):.1f}%"
                               for k in moves) + ".")
    out += [f"- {n}" for n in diag.get("notes") or []]
    return out or ["- (no diagnosis)"]


def render_report(choice: Mapping[str, Any]) -> str:
    """``report.md`` of an adapt folder: the choice and why, in plain words, then the table."""
    vals = choice["validators"]
    lines = [f"# nlpta adapt — {choice['task']} (seed {choice['seed']})", "",
             f"**Chosen: `{choice['chosen']}`**" + (" (fallback to source only)" if choice["fallback"] else ""), "",
             choice["reason"] + ".", "",
             "How the choice is made: " + choice["rule"] + ". No target label was read to make it.", ""]
    if choice["excluded"]:
        lines += [f"Excluded by the prediction guard: {', '.join(choice['excluded'])}.", ""]
    gain_rule = choice.get("rule_name") == "gain"
    lines += ["| candidate | " + " | ".join(vals) + f" | {'rank by doc' if gain_rule else 'mean rank'} | "
              "predicted gain over none (95% CI) | "
              "predicted target accuracy (ATC) | flags |", "|---" * (len(vals) + 5) + "|"]
    for label, c in choice["candidates"].items():
        g = c["predicted_gain_over_none"]
        gain = "—" if label == "none" else (f"{100 * g['estimate']:+.2f} ({100 * g['low']:+.2f} to "
                                            f"{100 * g['high']:+.2f})")
        mr = "excluded" if c["excluded"] else _fmt(c["mean_rank"])
        lines.append(f"| {label} | " + " | ".join(_fmt(c["scores"].get(v)) for v in vals)
                     + f" | {mr} | {gain} | {_fmt(c.get('predicted_target_accuracy'))} | {len(c['flags'])} |")
    lines += ["", "Scores are higher-is-better estimates of target accuracy (im: information maximisation); "
              "they are evidence, not a target accuracy (Musgrave et al. 2021). The predicted target accuracy is "
              "ATC (Garg et al. 2022: the share of target rows above the confidence threshold that matches the "
              "source folds' error); it is not in the rule, and it over-estimates a method that is more confident "
              "on the target than on the source.", ""]
    for label, c in choice["candidates"].items():
        for f in c["flags"]:
            lines.append(f"- {label}: {f}")
    lines += ["", "## Diagnosis (no target label read)", "", *diagnosis_lines(choice)]
    g = choice["candidates"][choice["chosen"]]["predicted_gain_over_none"]
    lines += ["", "## Gain over none", "",
              f"Predicted (IWCV, 95% CI over the folds): {100 * g['estimate']:+.2f} points "
              f"({100 * g['low']:+.2f} to {100 * g['high']:+.2f})" + (" — the chosen method is none" if
                                                                     choice["chosen"] == "none" else "") + "."]
    doc_c, doc_n = (choice["candidates"][k]["scores"].get("doc") for k in (choice["chosen"], "none"))
    if gain_rule and doc_c is not None and doc_n is not None:
        lines += [f"Predicted by DoC, the rule's estimate: {100 * (doc_c - doc_n):+.2f} points (it over-estimates "
                  "a method that is more confident on the target than on the source, as `sfa` is).", ""]
    if "oracle" in choice:
        o = choice["oracle"]
        acc = o["accuracy"]
        lines += [f"Measured (target test labels, after the choice): `{choice['chosen']}` "
                  f"{100 * acc[choice['chosen']]:.2f} against `none` {100 * acc['none']:.2f}, "
                  f"{100 * (acc[choice['chosen']] - acc['none']):+.2f} points.", "",
                  f"Oracle (target test labels, after the choice): best `{o['best']}` ({100 * acc[o['best']]:.2f}); "
                  f"regret of the choice {100 * choice['regret']:.2f} points."]
    lines += ["", f"The chosen method's run folder and saved model: `{choice['run']['model']}` "
                  "(`nlpta.load_model`)."]
    return "\n".join(lines) + "\n"
