"""Run a transfer task end to end: load -> fit -> predict -> evaluate -> write the run folder.

The run folder holds ``metrics.json`` (accuracy per seed, per domain, mean and 95% CI over
seeds, timing, versions), ``predictions.jsonl`` (one line per target row and seed),
``report.md`` (for a person), ``task.yaml`` (the resolved task, to rerun it) and the marker
``.nlpta-run`` (the run id, also in ``metrics.json``). The folder is written as one unit
(:class:`nlpta.io.RunFolder`): the run writes into a temporary sibling and renames it into place
at the end, so a killed run leaves the previous run folder whole, and a second run on the same
folder refuses at once (``E922``) while the first holds ``<out>.lock``. ``--out`` must be an
empty folder, a new path or an nlpta run folder (``E920``, ``E921``), checked before the run.
"""

from __future__ import annotations

import contextlib
import logging
import platform
import shlex
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from tqdm.auto import tqdm

from . import __version__
from .data import pool_stats
from .errors import Errors
from .evaluators.metrics import evaluate_predictions, mean_ci
from .io import RunFolder, atomic_write_json, atomic_write_jsonl, atomic_write_text, test_pause
from .methods import METHODS, get_method
from .tasks import TaskSpec, TransferTask, load_task
from .validation import prediction_guard

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
        out_dir: run folder (default ``runs/<task>-<method>``): a new path, an empty folder or a
            previous nlpta run folder, which the finished run replaces as a whole.
        params: method parameters, merged over the task file's.
        save_model: also write the fitted model of each seed (``model-seed<S>/``).
        write: write the run folder (``False`` returns the metrics only).

    Returns:
        a :class:`RunResult`; ``metrics["summary"]["accuracy"]`` has mean, low, high over seeds;
        ``metrics["run_id"]`` is the id also written into the folder's marker.

    Raises:
        NlptaError: ``E920``/``E921`` ``out_dir`` is a file or a foreign non-empty folder;
        ``E922`` another run is writing it; ``E923`` the task name cannot name the default
        folder -- all before anything is fitted.
    """
    spec = load_task(task, known_methods=METHODS) if isinstance(task, str | Path) else task
    m_name = method or spec.method
    m_params = dict(spec.params) if m_name == spec.method else {}
    m_params.update(params or {})
    seeds = list(seeds or spec.seeds)
    out = Path(out_dir) if out_dir else default_out_dir(spec.name, m_name)
    run_id = uuid.uuid4().hex
    with RunFolder(out, run_id) if write else contextlib.nullcontext() as folder:
        work = folder.work if write else None  # every file of the run goes here, then is renamed into place
        metrics, pred_rows = _run(spec, m_name, m_params, seeds, save_model, work, run_id)
        if write:
            _write_run_folder(folder, metrics, pred_rows, spec, m_name, m_params, seeds)
    return RunResult(metrics=metrics, out_dir=out)


def default_out_dir(task_name: str, method: str) -> Path:
    """``runs/<task>-<method>``; refuses (``E923``) a task name that would leave ``runs/``
    (path separators, ``..``, a NUL byte) or is empty."""
    bad = [c for c in ("/", "\\", "\0") if c in task_name]
    if not task_name or bad or ".." in task_name:
        why = ("it is empty" if not task_name else f"it contains {bad[0]!r}" if bad else "it contains '..'")
        raise Errors.E923(name=task_name, detail=f"{why}; rename the task or pass --out")
    return Path("runs") / f"{task_name}-{method}"


def _run(spec: TaskSpec, m_name: str, m_params: dict, seeds: list[int], save_model: bool, out: Path | None,
         run_id: str) -> tuple[dict, list[dict]]:
    """Fit and evaluate every seed; models and ``diagnose/`` go into ``out`` (the work folder, or
    ``None`` to write nothing). Returns ``(metrics, prediction rows)``."""
    write = out is not None
    per_seed: list[dict] = []
    pred_rows: list[dict] = []
    data_info: dict[str, Any] = {}
    t_all = time.perf_counter()
    diag = None
    separability: dict | None = None
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
        # what a user must see beside the score: the fitted model's own report (e.g. the weights'
        # ESS) and the predicted label distribution against the source's (a collapse is flagged)
        ev["fit_report"] = model.fit_report()
        src_labels = tt.source["upos" if spec.task == "pos" else "label"]
        ev["predictions"] = prediction_guard(src_labels, preds)
        per_seed.append(ev)
        if write and separability is None:
            separability = _separability(tt, seed)
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
        "run_id": run_id,
    }
    if separability is not None:
        metrics["domain_separability"] = separability
    metrics["warnings"] = run_warnings(metrics)
    if diag is not None:
        _diagnose_after(spec, diag, metrics, m_name, m_params, seeds, out if write else None)
    return metrics, pred_rows


def _write_run_folder(folder: RunFolder, metrics: dict, pred_rows: list[dict], spec: TaskSpec, m_name: str,
                      m_params: dict, seeds: list[int]) -> None:
    """Write the files of the run into ``folder.work`` and commit it (rename into place).
    ``test_pause`` sleeps between the writes when ``$NLPTA_TEST_SLOW_WRITES`` is set (kill tests)."""
    work = folder.work
    atomic_write_json(work / "metrics.json", metrics)
    test_pause()
    atomic_write_jsonl(work / "predictions.jsonl", pred_rows)
    test_pause()
    atomic_write_text(work / "task.yaml", yaml.safe_dump({**spec.to_dict(), "method": m_name, "params": m_params,
                                                          "seeds": seeds}, sort_keys=False, allow_unicode=True))
    test_pause()
    atomic_write_text(work / "report.md", render_report(metrics, spec))
    test_pause()
    folder.commit({"task": spec.name, "method": m_name, "seeds": seeds, "nlpta": __version__,
                   "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})


def _separability(tt: TransferTask, seed: int) -> dict:
    """:func:`nlpta.evaluators.domain.domain_separability` of the source against the target rows
    the run predicts (a report, not an input of the method), or ``{"error": ...}`` where the rows
    are too few or empty to probe."""
    from .errors import NlptaError
    from .evaluators.domain import domain_separability

    try:
        return domain_separability(tt.source, tt.target, seed=seed)
    except NlptaError as e:
        return {"error": str(e)}


def run_warnings(metrics: dict) -> list[str]:
    """Every reason to distrust the run's numbers, once each: the fitted models' own warnings
    (e.g. a low effective sample size of the importance weights), prediction collapses, and a
    source and target that a domain classifier separates perfectly."""
    out: list[str] = []
    for r in metrics["runs"]:
        for w in [*(r.get("fit_report") or {}).get("warnings", []), *(r.get("predictions") or {}).get("warnings", [])]:
            w = f"seed {r['seed']}: {w}"
            if w not in out:
                out.append(w)
    sep = metrics.get("domain_separability") or {}
    if sep.get("separable"):
        out.append(f"a domain classifier separates source and target almost perfectly (accuracy "
                   f"{100 * sep['accuracy']:.1f}% on {sep['rows_per_domain']} rows a side, proxy A-distance "
                   f"{sep['pad']:.2f}): the target shares little with the source, and no adaptation method has "
                   "much to align")
    return out


DIAGNOSE_OPTIONS = {"mode", "detectors", "baseline", "target_only", "permutations", "top", "contexts"}
CONTEXTS = ("classes", "words", "embeddings")


def _diagnose_before(spec: TaskSpec, tt: TransferTask, out: Path | None):
    """The task file's ``diagnose:`` section: the bias report of source vs target, written to
    ``<run>/diagnose/`` before the method is fitted."""
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
        *_warnings_md(metrics),
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
    sep = metrics.get("domain_separability") or {}
    if "accuracy" in sep:
        lines += ["", f"A domain classifier tells source from target with accuracy {_pct(sep['accuracy'])}% "
                  f"({sep['rows_per_domain']} rows a side; proxy A-distance {sep['pad']:.2f}; "
                  f"{'separable' if sep['separable'] else 'not separable'} at the {_pct(sep['threshold'])}% threshold)."]
    lines += ["", "## Runs", "", "| seed | accuracy | bootstrap 95% CI | n | fit s | predict s |",
              "|---:|---:|---|---:|---:|---:|"]
    for r in metrics["runs"]:
        lines.append(f"| {r['seed']} | {_pct(r['accuracy'])} | {_pct(r['ci95'][0])}–{_pct(r['ci95'][1])} | {r['n']} "
                     f"| {r['fit_seconds']:.1f} | {r['predict_seconds']:.2f} |")
    lines += _predictions_md(metrics)
    lines += _fit_report_md(metrics)
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
    if metrics.get("run_id"):
        lines += ["", f"Run id: `{metrics['run_id']}`"]
    return "\n".join(lines) + "\n"


def _warnings_md(metrics: dict) -> list[str]:
    ws = metrics.get("warnings") or []
    if not ws:
        return []
    return ["## Warnings", "", *[f"- **{w}**" for w in ws], ""]


def _predictions_md(metrics: dict) -> list[str]:
    """The predicted label distribution against the source's, per seed."""
    runs = [r for r in metrics["runs"] if r.get("predictions")]
    if not runs:
        return []
    lines = ["", "## Predicted labels against the source's", ""]
    if metrics["kind"] == "sentiment":
        labels = sorted({k for r in runs for k in (*r["predictions"]["source"], *r["predictions"]["predicted"])})
        lines += ["| seed | " + " | ".join(f"source {k} | predicted {k}" for k in labels) + " | total variation |",
                  "|---:|" + "---:|---:|" * len(labels) + "---:|"]
        for r in runs:
            g = r["predictions"]
            cells = " | ".join(f"{_pct(g['source'].get(k, 0.0))}% | {_pct(g['predicted'].get(k, 0.0))}%" for k in labels)
            lines.append(f"| {r['seed']} | {cells} | {g['total_variation']:.3f} |")
    else:
        lines += ["| seed | most predicted tag | its share | its source share | total variation |",
                  "|---:|---|---:|---:|---:|"]
        for r in runs:
            g = r["predictions"]
            tag, share = g["max_predicted"]
            lines.append(f"| {r['seed']} | {tag} | {_pct(share)}% | {_pct(g['source'].get(tag, 0.0))}% "
                         f"| {g['total_variation']:.3f} |")
    return lines


def _fit_report_md(metrics: dict) -> list[str]:
    """The fitted models' scalar facts (e.g. the importance weights' ESS), per seed."""
    reports = [(r["seed"], r.get("fit_report") or {}) for r in metrics["runs"]]
    keys = sorted({k for _, rep in reports for k, v in rep.items() if k != "warnings" and isinstance(v, int | float | str)})
    if not keys:
        return []
    lines = ["", "## Fitted model", "", "| seed | " + " | ".join(keys) + " |", "|---:|" + "---|" * len(keys)]
    for seed, rep in reports:
        cells = [f"{rep[k]:.4g}" if isinstance(rep.get(k), float) else str(rep.get(k, "")) for k in keys]
        lines.append(f"| {seed} | " + " | ".join(cells) + " |")
    return lines
