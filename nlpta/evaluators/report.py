"""The bias report: every shift detector on one source/target pair, as tables, ``bias.json``,
a readable ``report.md`` and PNG plots.

``bias.json`` schema (``schema_version`` 1; lists sorted most-biased first, cut at ``top``):

* ``frequency_bias``: [{feature, source_count, target_count, source_docs, target_docs, score,
  p_value, q_value, biased}] -- score = z of the log-odds ratio, positive = more frequent in target
* ``context_bias``: [{feature, source_dist, target_dist, divergence, p_value, q_value, n_source,
  n_target, source_top, target_top, flipped, biased, mode}] -- mode ``labeled`` or ``unlabeled``
* ``label_shift``: {mode, method, labels, source, target, difference, tv_distance, p_value, ...}
* ``domain_distance``: {pad, mmd, mmd_p_value, ...}
* ``summary``: {js_divergence, oov_type_rate, oov_token_rate, biased_token_share,
  n_frequency_biased, n_context_biased, context_mode, pad, mmd, mmd_p_value, label_tv_distance,
  findings: [sentences]}
* ``after`` (optional, written by ``nlpta run`` after fitting): accuracy on target items grouped by
  the findings above, and the negative-transfer verdict when a baseline was run.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pandas as pd

from .. import __version__
from .._sampling import sample_indices
from ..io import atomic_write_json, atomic_write_text
from ._common import check_pair, docs_tokens, has_labels
from .context import CONTEXT_COLUMNS, context_bias
from .distance import domain_distance
from .frequency import FREQUENCY_COLUMNS, frequency_bias, frequency_summary
from .label import label_shift

SCHEMA_VERSION = 1


def _clean(x: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN/inf to None."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


@dataclass
class BiasReport:
    """What :func:`diagnose` found. Tables are pandas DataFrames; ``save`` writes the folder."""

    task: str
    source: str
    target: str
    frequency_bias: pd.DataFrame
    context_bias: pd.DataFrame
    label_shift: dict | None
    domain_distance: dict | None
    summary: dict
    meta: dict = field(default_factory=dict)
    after: dict | None = None

    def to_dict(self, top: int = 200) -> dict:
        fb = self.frequency_bias.head(top)[[c for c in FREQUENCY_COLUMNS if c in self.frequency_bias]]
        cb = self.context_bias.head(top)[[c for c in CONTEXT_COLUMNS if c in self.context_bias]]
        return _clean({
            "schema_version": SCHEMA_VERSION, "nlpta": __version__, "task": self.task,
            "source": self.source, "target": self.target,
            "frequency_bias": fb.to_dict(orient="records"), "context_bias": cb.to_dict(orient="records"),
            "label_shift": self.label_shift, "domain_distance": self.domain_distance,
            "summary": self.summary, "meta": self.meta, **({"after": self.after} if self.after else {}),
        })

    def save(self, out_dir: str | Path, top: int = 200, plots: bool = True) -> Path:
        """Write ``bias.json``, ``report.md`` and (``plots``) ``frequency_bias.png`` and
        ``context_bias.png`` into ``out_dir``; return it."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(out / "bias.json", self.to_dict(top))
        if plots:
            plot_frequency(self, out / "frequency_bias.png")
            plot_context(self, out / "context_bias.png")
        atomic_write_text(out / "report.md", self.to_markdown(plots=plots))
        return out

    @classmethod
    def load(cls, path: str | Path) -> BiasReport:
        """Read a saved ``bias.json`` (or its folder) back (tables hold the saved top rows)."""
        p = Path(path)
        p = p / "bias.json" if p.is_dir() else p
        d = json.loads(p.read_text(encoding="utf-8"))
        return cls(task=d["task"], source=d["source"], target=d["target"],
                   frequency_bias=pd.DataFrame(d["frequency_bias"], columns=FREQUENCY_COLUMNS),
                   context_bias=pd.DataFrame(d["context_bias"], columns=CONTEXT_COLUMNS),
                   label_shift=d.get("label_shift"), domain_distance=d.get("domain_distance"),
                   summary=d["summary"], meta=d.get("meta", {}), after=d.get("after"))

    def to_markdown(self, top: int = 15, plots: bool = False) -> str:
        s = self.summary
        lines = [f"# Why might a {self.task} model trained on `{self.source}` degrade on `{self.target}`?", ""]
        lines += [f"- {f}" for f in s.get("findings", [])]
        lines += ["", "## Frequency feature bias (P(X) differs)", "",
                  "Log-odds ratio with an informative Dirichlet prior (Monroe et al. 2008), as a z-score: "
                  "positive = more frequent in the target. q = Benjamini-Hochberg adjusted p.", ""]
        if plots:
            lines += ["![source vs target frequency](frequency_bias.png)", ""]
        for title, part in (("more frequent in the target", self.frequency_bias[self.frequency_bias["score"] > 0]),
                            ("more frequent in the source", self.frequency_bias[self.frequency_bias["score"] < 0])):
            lines += [f"### {title}", "", "| feature | source count | target count | z | q |", "|---|---:|---:|---:|---:|"]
            for r in part.head(top).itertuples():
                lines.append(f"| `{r.feature}` | {r.source_count} | {r.target_count} | {r.score:.1f} | {r.q_value:.1e} |")
            lines.append("")
        cb = self.context_bias
        mode = cb["mode"].iloc[0] if len(cb) else s.get("context_mode", "")
        lines += [f"## Context feature bias (P(Y|X) differs; {mode} mode)", ""]
        if mode == "labeled":
            lines += ["The label distribution seen with each word in each domain; G-test, BH-adjusted.", ""]
        elif mode == "unlabeled-scorer":
            lines += ["No target labels: words ranked by the injected scorer (the divergence column holds its "
                      "shift score; there is no test).", ""]
        else:
            lines += ["No target labels: words whose neighbours differ between the domains (G-test on the "
                      "neighbour distributions); a change of usage, which often is a change of label.", ""]
        if plots and len(cb):
            lines += ["![per-word label distributions](context_bias.png)", ""]
        lines += ["| word | source | target | JS divergence | q | n source | n target |", "|---|---|---|---:|---:|---:|---:|"]
        for r in cb.head(top).itertuples():
            fmt = lambda d: ", ".join(f"{k} {v:.2f}" for k, v in list(d.items())[:3])  # noqa: E731
            q = "" if r.q_value is None or pd.isna(r.q_value) else f"{r.q_value:.1e}"
            lines.append(f"| `{r.feature}` | {fmt(r.source_dist)} | {fmt(r.target_dist)} | {r.divergence:.3f} | {q} "
                         f"| {r.n_source} | {r.n_target} |")
        if self.label_shift:
            ls = self.label_shift
            lines += ["", f"## Label shift (P(Y) differs; {ls['mode']}, {ls['method']})", "",
                      "| label | source | target | difference |", "|---|---:|---:|---:|"]
            for lab in ls["labels"]:
                lines.append(f"| {lab} | {ls['source'][lab]:.3f} | {ls['target'][lab]:.3f} | {ls['difference'][lab]:+.3f} |")
            p = ls.get("p_value")
            lines += ["", f"Total variation distance {ls['tv_distance']:.3f}" + (f", G-test p = {p:.2g}." if p is not None else ".")]
        if self.domain_distance:
            d = self.domain_distance
            lines += ["", "## Domain distance", "",
                      f"- Proxy A-distance (bag of words): {d['pad']:.2f} (0 = indistinguishable, 2 = separable)",
                      f"- MMD² (tf-idf, SVD 100, Gaussian kernel): {d['mmd']:.4f}, permutation p = {d['mmd_p_value']:.3g}"]
            if "embedding" in d:
                e = d["embedding"]
                lines.append(f"- Over sentence embeddings: PAD {e['pad']:.2f}, MMD² {e['mmd']:.4f} (p = {e['mmd_p_value']:.3g})")
        if self.after:
            lines += ["", "## After fitting", ""]
            for g in self.after.get("accuracy_by_group", []):
                lines.append(f"- {g['group']}: accuracy {100 * g['accuracy']:.1f} on {g['n']} target {g['unit']}s")
            nt = self.after.get("negative_transfer")
            if nt:
                c = nt["vs_source_only"]
                lines.append(f"- Against `{self.after.get('baseline', 'none')}`: {100 * c['diff']:+.2f} points "
                             f"(95% CI {100 * c['low']:+.2f} to {100 * c['high']:+.2f}, {c['n']} seeds): {nt['verdict']}")
        t = self.meta.get("seconds")
        if t is not None:
            lines += ["", f"Diagnosed in {t:.1f} s by nlpta {__version__}."]
        return "\n".join(lines) + "\n"


def _findings(task: str, fs: dict, fb: pd.DataFrame, cb: pd.DataFrame, ls: dict | None, dd: dict | None) -> list[str]:
    unit = "word types"
    out = [f"{100 * fs['oov_type_rate']:.1f}% of target {unit} ({100 * fs['oov_token_rate']:.1f}% of target tokens) "
           "never occur in the source.",
           f"Unigram Jensen-Shannon divergence {fs['js_divergence']:.3f} (0 = same distribution, 1 = disjoint)."]
    nb = int(fb["biased"].sum())
    if nb:
        up = fb[(fb["score"] > 0) & fb["biased"]]["feature"].head(5).tolist()
        down = fb[(fb["score"] < 0) & fb["biased"]]["feature"].head(5).tolist()
        out.append(f"{nb} features differ in frequency (FDR 5%), covering {100 * fs.get('biased_token_share', 0):.0f}% of "
                   f"target tokens; most over-represented in the target: {', '.join(up) or '-'}; "
                   f"most under-represented: {', '.join(down) or '-'}.")
    nc = int(cb["biased"].sum()) if len(cb) else 0
    if len(cb):
        if cb["mode"].iloc[0] == "labeled":
            ex = [f"{r.feature} ({r.source_top} → {r.target_top})" if r.flipped else r.feature
                  for r in cb[cb["biased"]].head(5).itertuples()]
            out.append(f"{nc} of {len(cb)} words tested take other labels in the target (FDR 5%)"
                       + (f": {', '.join(ex)}." if ex else "."))
        elif cb["mode"].iloc[0] == "unlabeled-scorer":
            out.append(f"{len(cb)} words ranked by the injected scorer (no test, so none is flagged); most shifted: "
                       f"{', '.join(cb['feature'].head(5))}.")
        else:
            out.append(f"{nc} of {len(cb)} words tested are used in other contexts in the target (FDR 5%; no target "
                       f"labels, so this is usage, not label): {', '.join(cb[cb['biased']]['feature'].head(5))}.")
    if ls:
        big = max(ls["difference"].items(), key=lambda kv: abs(kv[1]))
        p = ls.get("p_value")
        out.append(f"Label distribution: total variation {ls['tv_distance']:.3f} ({ls['method']}"
                   + (f", p = {p:.2g}" if p is not None else "") + f"); largest change {big[0]} {big[1]:+.3f}.")
    if dd:
        out.append(f"A domain classifier separates the two with proxy A-distance {dd['pad']:.2f} of 2; "
                   f"MMD² {dd['mmd']:.4f} (p = {dd['mmd_p_value']:.3g}).")
    return out


def diagnose(
    source: datasets.Dataset,
    target: datasets.Dataset,
    *,
    task: str | None = None,
    mode: str = "auto",
    source_name: str = "source",
    target_name: str = "target",
    embed: Callable | None = None,
    label_model: Any = None,
    detectors: tuple[str, ...] = ("frequency", "context", "label", "distance"),
    n_permutations: int = 200,
    seed: int = 0,
    context_options: dict | None = None,
    frequency_options: dict | None = None,
) -> BiasReport:
    """Run the shift detectors on a source/target pair and collect them in a :class:`BiasReport`.

    Args:
        mode: context bias and label shift: ``labeled``, ``unlabeled`` or ``auto`` (labeled when the
            target has gold labels).
        embed: a sentence embedder for the domain distances over embeddings (see
            :func:`nlpta.models.encoders.minilm_embedder`); bag-of-words only when omitted.
        label_model: a source-fitted model for label-shift estimation without target labels (POS).
        detectors: which of frequency, context, label, distance to run.
        context_options: keyword arguments of :func:`context_bias` (they may override ``mode``),
            e.g. ``{"scorer": nlpta.embeddings.shift.shift_scorer(seed=0), "mode": "unlabeled"}``.
    """
    import time

    t0 = time.perf_counter()
    task = check_pair(source, target, task)
    if mode == "labeled" and not has_labels(target, task):
        from ._common import require_labels

        require_labels(target, task, "target", "labeled mode")
    fb = (frequency_bias(source, target, task=task, **(frequency_options or {})) if "frequency" in detectors
          else pd.DataFrame(columns=FREQUENCY_COLUMNS))
    fs = frequency_summary(source, target, fb if len(fb) else None, task=task)
    cb = (context_bias(source, target, task=task, **{"mode": mode, **(context_options or {})}) if "context" in detectors
          else pd.DataFrame(columns=CONTEXT_COLUMNS))
    ls = None
    if "label" in detectors and has_labels(source, task):
        lmode = "labeled" if (mode != "unlabeled" and has_labels(target, task)) else "unlabeled"
        if lmode == "labeled" or task == "sentiment" or label_model is not None:
            ls = label_shift(source, target, task=task, mode=lmode, model=label_model, seed=seed)
    dd = (domain_distance(source, target, task=task, embed=embed, seed=seed, n_permutations=n_permutations)
          if "distance" in detectors else None)
    summary = {
        **fs,
        "n_frequency_biased": int(fb["biased"].sum()) if len(fb) else 0,
        "n_context_biased": int(cb["biased"].sum()) if len(cb) else 0,
        "n_context_tested": len(cb),
        "context_mode": cb["mode"].iloc[0] if len(cb) else None,
        "pad": dd["pad"] if dd else None, "mmd": dd["mmd"] if dd else None,
        "mmd_p_value": dd["mmd_p_value"] if dd else None,
        "label_tv_distance": ls["tv_distance"] if ls else None,
    }
    summary["findings"] = _findings(task, fs, fb, cb, ls, dd)
    meta = {"seconds": time.perf_counter() - t0, "n_source_rows": len(source), "n_target_rows": len(target),
            "seed": seed}
    return BiasReport(task=task, source=source_name, target=target_name, frequency_bias=fb, context_bias=cb,
                      label_shift=ls, domain_distance=dd, summary=summary, meta=meta)


def error_breakdown(report: BiasReport, source: datasets.Dataset, target: datasets.Dataset,
                    predictions: list) -> list[dict]:
    """Accuracy on target items grouped by what the report found: POS tokens that are unseen in the
    source, context-biased words, frequency-biased words, and the rest; sentiment documents with
    and without a context-biased word. Says where the errors are."""
    task = report.task
    src_vocab = {t for s in docs_tokens(source, task) for t in s}
    ctx = set(report.context_bias.loc[report.context_bias["biased"], "feature"]) if len(report.context_bias) else set()
    fb = report.frequency_bias
    freq = set(fb.loc[fb["biased"] & (fb["score"] > 0), "feature"]) if len(fb) else set()
    groups: dict[str, list[bool]] = {}
    if task == "pos":
        for toks, gold, pred in zip(docs_tokens(target, task), target["upos"], predictions, strict=True):
            for t, g, p in zip(toks, gold, pred, strict=True):
                key = ("unseen in source" if t not in src_vocab else "context-biased word" if t in ctx
                       else "more frequent in target" if t in freq else "other")
                groups.setdefault(key, []).append(g == p)
        unit = "token"
    else:
        for toks, g, p in zip(docs_tokens(target, task), target["label"], predictions, strict=True):
            key = "with a context-biased word" if ctx & set(toks) else "without"
            groups.setdefault(key, []).append(g == p)
        unit = "document"
    return [{"group": k, "accuracy": float(np.mean(v)), "n": len(v), "unit": unit} for k, v in groups.items()]


def _mpl():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_frequency(report: BiasReport, path: str | Path, label_top: int = 20, max_points: int = 5000) -> None:
    """Scatter of log frequency per million in source vs target; biased features in colour; the
    most biased labelled."""
    fb = report.frequency_bias
    if not len(fb):
        return
    plt = _mpl()
    pts = fb.iloc[sample_indices(len(fb), max_points, 0)]
    x, y = np.log10(pts["source_per_million"] + 1), np.log10(pts["target_per_million"] + 1)
    fig, ax = plt.subplots(figsize=(8, 7), dpi=110)
    col = np.where(pts["biased"], np.where(pts["score"] > 0, "tab:red", "tab:blue"), "lightgray")
    ax.scatter(x, y, s=6, c=col, alpha=0.6, linewidths=0)
    lim = max(x.max(), y.max()) + 0.2
    ax.plot([0, lim], [0, lim], color="black", lw=0.6, ls="--")
    for r in fb.head(label_top).itertuples():
        ax.annotate(r.feature, (np.log10(r.source_per_million + 1), np.log10(r.target_per_million + 1)), fontsize=7)
    ax.set_xlabel(f"log10(1 + per million) in source: {report.source}")
    ax.set_ylabel(f"log10(1 + per million) in target: {report.target}")
    ax.set_title("Frequency feature bias (red: more frequent in target, blue: in source)")
    fig.tight_layout()
    _save_fig(fig, path)


def plot_context(report: BiasReport, path: str | Path, n_words: int = 10) -> None:
    """For the most context-biased words, the label (or top-neighbour) distribution in source and
    target as stacked bars."""
    cb = report.context_bias
    cb = cb[cb["source_dist"].map(bool)].head(n_words) if len(cb) else cb
    if not len(cb):
        return
    plt = _mpl()
    labels = sorted({k for d in list(cb["source_dist"]) + list(cb["target_dist"]) for k in d})
    cmap = plt.get_cmap("tab20")
    colors = {lab: cmap(i % 20) for i, lab in enumerate(labels)}
    fig, ax = plt.subplots(figsize=(9, 0.6 * 2 * len(cb) + 1.5), dpi=110)
    yt, yl = [], []
    for i, r in enumerate(cb.itertuples()):
        for j, (side, d) in enumerate((("source", r.source_dist), ("target", r.target_dist))):
            ypos = -(i * 2.6 + j)
            left = 0.0
            for lab in labels:
                v = d.get(lab, 0.0)
                if v:
                    ax.barh(ypos, v, left=left, color=colors[lab], edgecolor="white", height=0.9)
                    if v > 0.08:
                        ax.text(left + v / 2, ypos, lab, ha="center", va="center", fontsize=6)
                    left += v
            yt.append(ypos)
            yl.append(f"{r.feature} ({side}, n={r.n_source if side == 'source' else r.n_target})")
    ax.set_yticks(yt, yl, fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_xlabel("share")
    mode = cb["mode"].iloc[0]
    ax.set_title("Context feature bias: " + ("label distribution per word" if mode == "labeled"
                                             else "top neighbours per word (no target labels)"))
    fig.tight_layout()
    _save_fig(fig, path)


def _save_fig(fig, path: str | Path) -> None:
    """Save ``fig`` as PNG through a temporary ``.<name>.*.png`` beside ``path``, renamed into
    place (mode as for a new file, not mkstemp's 0600); the temporary file is removed on any
    exception and the figure is closed either way."""
    import matplotlib.pyplot as plt

    from ..io import atomic_output

    try:
        with atomic_output(path, suffix=".png") as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)
