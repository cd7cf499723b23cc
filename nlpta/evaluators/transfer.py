"""Negative transfer: did adapting hurt?

Compares per-seed accuracies of an adapted method with the source-only baseline (``none``) and,
if given, a target-only model. Seeds that appear in both runs are paired (the same seeded split),
which removes the split-to-split variance from the comparison; otherwise Welch's interval is used.
"Negative transfer" in the sense of Wang et al. (2019, "Characterizing and avoiding negative
transfer") is worse than target-only; "adaptation hurt" is worse than source-only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from ..errors import Errors


def _runs(x: Any, what: str) -> dict[int, float]:
    """Per-seed accuracies from a run folder, a metrics dict, a RunResult, or a list / dict of numbers."""
    if isinstance(x, str | Path):
        p = Path(x)
        p = p / "metrics.json" if p.is_dir() else p
        if not p.exists():
            raise Errors.E101(path=p, detail=f"run metrics for {what!r} (expected a run folder holding "
                                             "metrics.json, or a metrics.json file)")
        x = json.loads(p.read_text(encoding="utf-8"))
    if hasattr(x, "metrics"):
        x = x.metrics
    if isinstance(x, Mapping) and "runs" in x:
        return {int(r["seed"]): float(r["accuracy"]) for r in x["runs"]}
    if isinstance(x, Mapping):
        return {int(k): float(v) for k, v in x.items()}
    if isinstance(x, Sequence) and not isinstance(x, str):
        return {i: float(v) for i, v in enumerate(x)}
    raise Errors.E304(detail=f"{what}: expected a run folder, metrics dict, RunResult or accuracies, "
                             f"got {type(x).__name__}")


def compare_runs(a: Any, b: Any, confidence: float = 0.95, what: tuple[str, str] = ("a", "b")) -> dict:
    """Difference a - b of mean accuracy with a confidence interval: paired over shared seeds when
    there are at least two, else Welch. Returns ``{diff, low, high, p_value, n, paired}``."""
    ra, rb = _runs(a, what[0]), _runs(b, what[1])
    shared = sorted(set(ra) & set(rb))
    if len(shared) >= 2:
        d = np.array([ra[s] - rb[s] for s in shared])
        n = len(d)
        m, se = float(d.mean()), float(d.std(ddof=1) / np.sqrt(n))
        if se == 0:
            return {"diff": m, "low": m, "high": m, "p_value": 0.0 if m else 1.0, "n": n, "paired": True}
        t = stats.t.ppf(0.5 + confidence / 2, n - 1)
        p = float(2 * stats.t.sf(abs(m / se), n - 1))
        return {"diff": m, "low": m - t * se, "high": m + t * se, "p_value": p, "n": n, "paired": True}
    xa, xb = np.array(list(ra.values())), np.array(list(rb.values()))
    m = float(xa.mean() - xb.mean())
    if len(xa) < 2 or len(xb) < 2:
        return {"diff": m, "low": float("nan"), "high": float("nan"), "p_value": float("nan"),
                "n": min(len(xa), len(xb)), "paired": False}
    va, vb = xa.var(ddof=1) / len(xa), xb.var(ddof=1) / len(xb)
    se = float(np.sqrt(va + vb))
    dof = (va + vb) ** 2 / (va**2 / (len(xa) - 1) + vb**2 / (len(xb) - 1)) if se > 0 else 1.0
    t = stats.t.ppf(0.5 + confidence / 2, dof)
    p = float(2 * stats.t.sf(abs(m / se), dof)) if se > 0 else (0.0 if m else 1.0)
    return {"diff": m, "low": m - t * se, "high": m + t * se, "p_value": p, "n": min(len(xa), len(xb)),
            "paired": False}


def _verdict(c: dict, worse: str, better: str) -> str:
    if np.isnan(c["low"]):
        return "inconclusive (needs two or more seeds)"
    if c["high"] < 0:
        return worse
    if c["low"] > 0:
        return better
    return "inconclusive (the interval contains 0)"


def negative_transfer(adapted: Any, baseline: Any, target_only: Any | None = None,
                      confidence: float = 0.95) -> dict:
    """Did adapting help? ``adapted``, ``baseline`` (source-only) and ``target_only`` are run folders,
    metrics dicts, RunResults, ``{seed: accuracy}`` dicts or lists of accuracies.

    Returns ``{vs_source_only: {diff, low, high, p_value, n, paired, verdict}, vs_target_only: ...,
    gap_closed, verdict}``: ``gap_closed`` is the share of the source-to-target-only gap the adapted
    method closes (1 = as good as target-only).
    """
    out: dict[str, Any] = {}
    c = compare_runs(adapted, baseline, confidence, ("adapted", "baseline"))
    c["verdict"] = _verdict(c, "adaptation hurt (worse than source-only)", "adaptation helped")
    out["vs_source_only"] = c
    out["verdict"] = c["verdict"]
    if target_only is not None:
        c2 = compare_runs(adapted, target_only, confidence, ("adapted", "target_only"))
        c2["verdict"] = _verdict(c2, "below target-only", "above target-only (positive transfer)")
        out["vs_target_only"] = c2
        ra, rb, rt = (_runs(x, w) for x, w in ((adapted, "adapted"), (baseline, "baseline"), (target_only, "target")))
        gap = np.mean(list(rt.values())) - np.mean(list(rb.values()))
        out["gap_closed"] = float((np.mean(list(ra.values())) - np.mean(list(rb.values()))) / gap) if gap else None
    return out
