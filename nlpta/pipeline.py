"""Run a transfer task end to end: load -> fit -> predict -> evaluate -> write the run folder.

The run folder holds ``metrics.json`` (accuracy per seed, per domain, mean and 95% CI over
seeds, timing, versions), ``predictions.jsonl`` (one line per target row and seed),
``report.md`` (for a person) and ``task.yaml`` (the resolved task, to rerun it).
"""

from __future__ import annotations

import logging
import platform
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from tqdm.auto import tqdm

from . import __version__
from .data import pool_stats
from .evaluators.metrics import evaluate_predictions, mean_ci
from .io import atomic_write_json, atomic_write_jsonl, atomic_write_text
from .methods import METHODS, get_method
from .tasks import TaskSpec, TransferTask, load_task

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What :func:`run_task` returns: the metrics dict and the run folder."""

    metrics: dict[str, Any]
    out_dir: Path

    @property
    def accuracy(self) -> float:
        return self.metrics["summary"]["accuracy"]["mean"]


def versions() -> dict[str, str]:
    import datasets
    import numpy
    import sklearn

    return {"nlpta": __version__, "python": platform.python_version(), "numpy": numpy.__version__,
            "scikit-learn": sklearn.__version__, "datasets": datasets.__version__}


def run_task(
    task: TaskSpec | str | Path,
    method: str | None = None,
    seeds: list[int] | None = None,
    out_dir: str | Path | None = None,
    params: dict[str, Any] | None = None,
    save_model: bool = False,
    write: bool = True,
) -> RunResult:
    """Run ``task`` (a :class:`TaskSpec` or a YAML path) with ``method`` over ``seeds``.

    Args:
        method: overrides the task file's method (its params then apply only if the method is the same).
        seeds: override the task file's seeds.
        out_dir: run folder (default ``runs/<task>-<method>``).
        params: method parameters, merged over the task file's.
        save_model: also write the fitted model of each seed (``model-seed<S>/``).
        write: write the run folder (``False`` returns the metrics only).

    Returns:
        a :class:`RunResult`; ``metrics["summary"]["accuracy"]`` has mean, low, high over seeds.
    """
    spec = load_task(task, known_methods=METHODS) if isinstance(task, str | Path) else task
    m_name = method or spec.method
    m_params = dict(spec.params) if m_name == spec.method else {}
    m_params.update(params or {})
    seeds = list(seeds or spec.seeds)
    out = Path(out_dir) if out_dir else Path("runs") / f"{spec.name}-{m_name}"
    per_seed: list[dict] = []
    pred_rows: list[dict] = []
    data_info: dict[str, Any] = {}
    t_all = time.perf_counter()
    diag = None
    for seed in tqdm(seeds, desc=f"{spec.name} [{m_name}]", unit="seed", disable=None, leave=False):
        t0 = time.perf_counter()
        tt = TransferTask(spec, seed=seed)
        t_load = time.perf_counter() - t0
        if spec.diagnose is not None and diag is None:
            diag = _diagnose_before(spec, tt, out if write else None)
        model = get_method(m_name, spec.task, seed=seed, **m_params)
        t0 = time.perf_counter()
        model.fit(tt)
        t_fit = time.perf_counter() - t0
        t0 = time.perf_counter()
        preds = model.predict(tt.target)
        t_pred = time.perf_counter() - t0
        ev = evaluate_predictions(tt.target, preds, seed=seed)
        n_units = ev["n"]
        ev.update(seed=seed, load_seconds=t_load, fit_seconds=t_fit, predict_seconds=t_pred,
                  predict_per_second=n_units / t_pred if t_pred > 0 else None)
        per_seed.append(ev)
        log.info("%s %s seed %d: accuracy %.4f (fit %.1fs)", spec.name, m_name, seed, ev["accuracy"], t_fit)
        data_info = {
            "source": {"spec": spec.describe_source(), "rows": len(tt.source)},
            "target": {"spec": spec.target.describe(), "rows": len(tt.target)},
        }
        if tt.unlabeled is not None:
            data_info["unlabeled"] = {"spec": spec.unlabeled.describe(), "rows": len(tt.unlabeled)}
            pool = pool_stats(tt.unlabeled)  # the counts travel with the pool's rows
            if pool is not None:
                data_info["unlabeled"]["pool"] = pool
        if tt.target_labeled is not None:
            data_info["target_labeled"] = {"spec": spec.target_labeled.describe(), "rows": len(tt.target_labeled)}
        gold_col = "upos" if spec.task == "pos" else "label"
        for rid, dom, gold, p in zip(tt.target["id"], tt.target["domain"], tt.target[gold_col], preds, strict=True):
            pred_rows.append({"seed": seed, "id": rid, "domain": dom, "gold": gold, "pred": p})
        if save_model and write:
            model.save(out / f"model-seed{seed}")
        if diag is not None and diag.after is None:
            from .evaluators.report import error_breakdown

            diag.after = {"seed": seed, "accuracy_by_group": error_breakdown(diag, tt.source, tt.target, preds)}
    summary = {"accuracy": mean_ci([r["accuracy"] for r in per_seed])}
    domains = sorted({d for r in per_seed for d in r["per_domain"]})
    summary["per_domain"] = {
        d: mean_ci([r["per_domain"][d]["accuracy"] for r in per_seed if d in r["per_domain"]]) for d in domains
    }
    metrics = {
        "task": spec.name, "kind": spec.task, "method": m_name, "params": m_params, "seeds": seeds,
        "unit": "token" if spec.task == "pos" else "document",
        "data": data_info, "runs": per_seed, "summary": summary,
        "seconds": time.perf_counter() - t_all, "versions": versions(),
        "command": " ".join(shlex.quote(a) for a in sys.argv) if sys.argv and "nlpta" in sys.argv[0] else None,
    }
    if diag is not None:
        _diagnose_after(spec, diag, metrics, m_name, m_params, seeds, out if write else None)
    if write:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(out / "metrics.json", metrics)
        atomic_write_jsonl(out / "predictions.jsonl", pred_rows)
        atomic_write_text(out / "task.yaml", yaml.safe_dump({**spec.to_dict(), "method": m_name, "params": m_params,
                                                             "seeds": seeds}, sort_keys=False, allow_unicode=True))
        atomic_write_text(out / "report.md", render_report(metrics, spec))
    return RunResult(metrics=metrics, out_dir=out)


DIAGNOSE_OPTIONS = {"mode", "detectors", "baseline", "target_only", "permutations", "top", "contexts"}
CONTEXTS = ("classes", "words", "embeddings")


def _diagnose_before(spec: TaskSpec, tt: TransferTask, out: Path | None):
    """The task file's ``diagnose:`` section: the bias report of source vs target, written to
    ``<run>/diagnose/`` before the method is fitted."""
    from .errors import Errors
    from .evaluators.report import diagnose

    opts = dict(spec.diagnose or {})
    unknown = set(opts) - DIAGNOSE_OPTIONS
    if unknown:
        raise Errors.E202(unknown=", ".join(map(repr, sorted(unknown))), section=f"diagnose of task {spec.name!r}",
                          expected=", ".join(sorted(DIAGNOSE_OPTIONS)), path=spec.path)
    kw = {"mode": opts.get("mode", "auto"), "n_permutations": int(opts.get("permutations", 200)), "seed": tt.seed}
    if "detectors" in opts:
        kw["detectors"] = tuple(opts["detectors"])
    contexts = opts.get("contexts", "classes")
    if contexts not in CONTEXTS:
        raise Errors.E204(key=f"task {spec.name!r}: diagnose.contexts", got=repr(contexts),
                          expected=f"one of {', '.join(CONTEXTS)}", path=spec.path)
    kw["context_options"] = context_options(contexts, tt.seed)
    rep = diagnose(tt.source, tt.target, source_name=spec.describe_source(), target_name=spec.target.describe(), **kw)
    if out is not None:
        rep.save(out / "diagnose", top=int(opts.get("top", 200)))
    return rep


def context_options(contexts: str, seed: int) -> dict:
    """The ``context_options`` of :func:`nlpta.evaluators.diagnose` for ``contexts``: ``classes`` or
    ``words`` (the neighbour test), or ``embeddings`` -- the semantic-shift scorer of
    :func:`nlpta.embeddings.shift.shift_scorer`, injected (the evaluators import no method family);
    it ranks usage without labels, so context bias then runs in unlabeled mode."""
    if contexts == "embeddings":
        from .embeddings.shift import shift_scorer

        return {"scorer": shift_scorer(seed=seed), "mode": "unlabeled"}
    return {"contexts": contexts}


def _diagnose_after(spec, rep, metrics: dict, m_name: str, m_params: dict, seeds: list[int], out: Path | None) -> None:
    """After fitting: accuracy by what the report found and, with ``baseline:`` (and
    ``target_only:``) methods in the ``diagnose:`` section, the negative-transfer verdict."""
    from .evaluators.transfer import negative_transfer

    opts = spec.diagnose or {}
    base = opts.get("baseline")
    if base and base != m_name:
        b = run_task(spec, method=base, seeds=seeds, write=False).metrics
        t_only = opts.get("target_only")
        t = run_task(spec, method=t_only, seeds=seeds, write=False).metrics if t_only else None
        rep.after["baseline"] = base
        rep.after["negative_transfer"] = negative_transfer(metrics, b, t)
    metrics["diagnose"] = {"summary": rep.summary, "after": rep.after}
    if out is not None:
        rep.save(out / "diagnose", top=int(opts.get("top", 200)))


def _pct(x: float) -> str:
    return f"{100 * x:.2f}"


def render_report(metrics: dict, spec: TaskSpec) -> str:
    """A readable Markdown report of one run folder."""
    s = metrics["summary"]["accuracy"]
    lines = [
        f"# {metrics['task']} — method `{metrics['method']}`",
        "",
        spec.description or "",
        "",
        f"**Accuracy ({metrics['unit']}-level): {_pct(s['mean'])}** "
        + (f"± {_pct(s['half_width'])} (95% CI over {s['n']} seeds, Student t)" if s["n"] > 1 else "(one seed)"),
        "",
        "## Data",
        "",
        "| role | selection | rows |",
        "|---|---|---:|",
    ]
    for role, info in metrics["data"].items():
        lines.append(f"| {role} | `{info['spec']}` | {info['rows']} |")
    pool = metrics["data"].get("unlabeled", {}).get("pool")
    if pool:
        srcs = " + ".join(f"{pool[k]} {k}" for k in ("hatn", "fdu") if k in pool)
        lines += ["", f"Unlabeled pool: {srcs} reviews; removed "
                  f"{pool['removed_labeled']} that are labeled (possibly test) reviews and {pool['removed_duplicate']} "
                  f"duplicates; kept {pool['kept']}."]
    lines += ["", "## Runs", "", "| seed | accuracy | bootstrap 95% CI | n | fit s | predict s |",
              "|---:|---:|---|---:|---:|---:|"]
    for r in metrics["runs"]:
        lines.append(f"| {r['seed']} | {_pct(r['accuracy'])} | {_pct(r['ci95'][0])}–{_pct(r['ci95'][1])} | {r['n']} "
                     f"| {r['fit_seconds']:.1f} | {r['predict_seconds']:.2f} |")
    pd = metrics["summary"]["per_domain"]
    if len(pd) > 1:
        lines += ["", "## Per target domain", "", "| domain | accuracy (mean over seeds) |", "|---|---:|"]
        for d, v in pd.items():
            lines.append(f"| {d} | {_pct(v['mean'])} |")
    if metrics["kind"] == "pos" and metrics["runs"]:
        tags = metrics["runs"][0].get("per_tag", {})
        lines += ["", f"## Per gold tag (seed {metrics['runs'][0]['seed']})", "", "| tag | recall | n |", "|---|---:|---:|"]
        for t, v in sorted(tags.items(), key=lambda kv: -kv[1]["n"]):
            lines.append(f"| {t} | {_pct(v['accuracy'])} | {v['n']} |")
    lines += ["", "## Parameters", "", "```yaml", yaml.safe_dump(metrics["params"] or {}, sort_keys=True).strip(), "```",
              "", f"Ran in {metrics['seconds']:.1f} s with " + ", ".join(f"{k} {v}" for k, v in metrics["versions"].items()) + "."]
    if metrics.get("diagnose"):
        lines += ["", "## Why it degrades (diagnose/report.md)", ""]
        lines += [f"- {f}" for f in metrics["diagnose"]["summary"].get("findings", [])]
        nt = (metrics["diagnose"].get("after") or {}).get("negative_transfer")
        if nt:
            lines.append(f"- Against `{metrics['diagnose']['after']['baseline']}`: {nt['verdict']}")
    if metrics.get("command"):
        lines += ["", f"Command: `{metrics['command']}`"]
    return "\n".join(lines) + "\n"
