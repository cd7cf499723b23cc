"""Mean ± 95% CI over seeds, paired differences, and the cells that print them.

Per-seed results travel as ``{seed: value}`` dicts, so that two methods are paired on the seeds
(the same seeded splits) they share. Intervals are Student-t over seeds
(:func:`nlpta.evaluators.metrics.mean_ci`); a difference between two methods is the interval of
the per-seed differences (paired), which removes the split-to-split variance both share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from nlpta.evaluators import mean_ci, negative_transfer

PerSeed = Mapping[int, float]


def _values(x: PerSeed | Sequence[float]) -> list[float]:
    return [float(v) for v in (x.values() if isinstance(x, Mapping) else x)]


def per_seed(x: Mapping) -> dict[int, float]:
    """``{seed: value}`` with integer seeds (JSON stores them as strings)."""
    return {int(k): float(v) for k, v in x.items()}


def ci(x: PerSeed | Sequence[float]) -> dict[str, float]:
    """:func:`~nlpta.evaluators.metrics.mean_ci` of the values: ``{mean, std, low, high, half_width, n}``."""
    return mean_ci(_values(x))


def paired(a: PerSeed, b: PerSeed) -> dict[str, float] | None:
    """``b − a`` over the seeds both have: :func:`ci` of the per-seed differences plus ``seeds``;
    ``None`` when they share no seed."""
    seeds = sorted(set(a) & set(b))
    if not seeds:
        return None
    out = dict(mean_ci([float(b[s]) - float(a[s]) for s in seeds]))
    out["seeds"] = seeds
    return out


def mean_over(rows: Sequence[PerSeed]) -> dict[int, float]:
    """``{seed: mean over rows}`` on the seeds every row has (e.g. a method's 12-pair average per
    seed, whose interval over seeds is the average's CI); empty if a row is empty."""
    if not rows or not all(rows):
        return {}
    seeds = set.intersection(*(set(r) for r in rows))
    return {s: float(np.mean([r[s] for r in rows])) for s in sorted(seeds)}


def restrict(x: PerSeed, seeds: Sequence[int]) -> dict[int, float]:
    """``x`` on ``seeds`` only."""
    return {s: v for s, v in x.items() if s in set(seeds)}


def fmt_ci(x: PerSeed | Sequence[float] | Mapping[str, float], scale: float = 100.0, digits: int = 1,
           signed: bool = False, empty: str = "—") -> str:
    """``mean ± half-width`` (scaled, e.g. accuracy in points); the mean alone for one value;
    ``empty`` for none. ``x`` may be values, ``{seed: value}`` or a :func:`ci` dict."""
    if isinstance(x, Mapping) and "half_width" in x:
        c = x
    else:
        vals = _values(x)
        if not vals:
            return empty
        c = mean_ci(vals)
    sign = "+" if signed else ""
    m = f"{scale * c['mean']:{sign}.{digits}f}"
    return m if c["n"] == 1 else f"{m} ± {scale * c['half_width']:.{digits}f}"


def fmt_paired(a: PerSeed, b: PerSeed, scale: float = 100.0, digits: int = 1) -> str:
    """``b − a`` paired over shared seeds, signed (``+1.2 ± 0.8``); ``—`` when no seed is shared."""
    d = paired(a, b)
    return "—" if d is None else fmt_ci(d, scale, digits, signed=True)


def below(a: PerSeed, base: PerSeed) -> str:
    """``▼`` when the mean of ``a`` is below ``base``'s by more than the two CI half-widths
    combined, ``▽`` when below within that, ``""`` when not below."""
    ca, cb = ci(a), ci(restrict(base, list(a)) or base)
    if ca["mean"] >= cb["mean"]:
        return ""
    return "▼" if cb["mean"] - ca["mean"] > ca["half_width"] + cb["half_width"] else "▽"


VERDICT_WORDS = {"adaptation helped": "helped", "adaptation hurt (worse than source-only)": "**hurt**"}


def verdict(adapted: PerSeed, base: PerSeed, target_only: PerSeed | None = None, scale: float = 100.0) -> str:
    """:func:`nlpta.evaluators.negative_transfer` of ``adapted`` against ``base`` as a cell:
    ``+0.3 [-0.6, +1.3] inconclusive`` (helped / **hurt** when the interval excludes 0); ``—``
    with fewer than two shared seeds."""
    if len(set(adapted) & set(base)) < 2:
        return "—"
    v = negative_transfer(dict(adapted), dict(base), dict(target_only) if target_only else None)["vs_source_only"]
    word = VERDICT_WORDS.get(v["verdict"], "inconclusive")
    return f"{scale * v['diff']:+.1f} [{scale * v['low']:+.1f}, {scale * v['high']:+.1f}] {word}"
