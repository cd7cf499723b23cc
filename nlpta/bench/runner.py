"""The cached benchmark runner: every number of BENCHMARKS.md is a :meth:`Bench.run` (a method
fitted and evaluated on a task for one seed) or a :meth:`Bench.measure` (any other computation),
cached under :func:`~nlpta.bench.cache.cache_key`.

A run goes through :func:`nlpta.pipeline.run_task` (``write=False``, one seed). Two things
``run_task`` does not return take the runner's own path, :func:`fit_evaluate` (the same steps:
load the task for the seed, fit, predict, :func:`~nlpta.evaluators.metrics.evaluate_predictions`):
evaluating one fitted model on more ``targets``, and recording attributes of the fitted model
(``record``, e.g. the importance weights' ESS). ``isolate=True`` runs in a fresh process, whose
peak memory is then the run's own.

A run that fails raises :class:`BenchError`; nothing is cached for it.
"""

from __future__ import annotations

import json
import os
import subprocess as sp
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nlpta.errors import BenchError, Errors  # BenchError: also importable from here, as before

from .cache import Cache, code_version, digest, jsonable, key_material
from .provenance import device_name


def _local_methods() -> dict[str, type]:
    """Methods the benchmarks use that are not (yet) in the registry."""
    from .frozen import FrozenEncoder

    return {"frozen-encoder": FrozenEncoder}


def _as_spec(task: Any):
    from nlpta.tasks import TaskSpec, parse_task

    if isinstance(task, TaskSpec):
        return task
    return parse_task(dict(task))


def _as_data_spec(d: Any):
    from nlpta.tasks import DataSpec

    return d if isinstance(d, DataSpec) else DataSpec(**dict(d))


def target_label(d: Any) -> str:
    """The label of an extra target in a run's ``targets``: its :meth:`DataSpec.describe`."""
    return _as_data_spec(d).describe()


def _data_info(spec, tt) -> dict:
    info = {"source": {"spec": spec.describe_source(), "rows": len(tt.source)},
            "target": {"spec": spec.target.describe(), "rows": len(tt.target)}}
    if tt.unlabeled is not None:
        info["unlabeled"] = {"spec": spec.unlabeled.describe(), "rows": len(tt.unlabeled)}
    if tt.target_labeled is not None:
        info["target_labeled"] = {"spec": spec.target_labeled.describe(), "rows": len(tt.target_labeled)}
    return info


def _slim(ev: Mapping[str, Any]) -> dict:
    return {k: ev[k] for k in ("accuracy", "ci95", "n", "n_rows", "per_domain", "per_tag") if k in ev}


def fit_evaluate(task: Any, method: str, seed: int, params: Mapping[str, Any] | None = None,
                 targets: Sequence[Any] = (), record: Sequence[str] = ()) -> dict:
    """Fit ``method`` on ``task`` for ``seed`` and evaluate it on the task's target and on each of
    ``targets`` (:class:`~nlpta.tasks.DataSpec` s, loaded with the seed); ``record`` names fitted
    attributes to keep (missing ones are skipped).

    Returns the per-seed record of :func:`nlpta.pipeline.run_task` (``accuracy``, ``ci95``, ``n``,
    ``per_domain``, ``fit_seconds``, ...) plus ``data``, ``targets`` ``{label: evaluation}`` and
    ``model`` ``{attribute: value}``."""
    from nlpta.evaluators import evaluate_predictions
    from nlpta.methods import get_method
    from nlpta.tasks import TransferTask

    spec = _as_spec(task)
    params = {**(spec.params if spec.method == method else {}), **dict(params or {})}
    t0 = time.perf_counter()
    tt = TransferTask(spec, seed=seed)
    t_load = time.perf_counter() - t0
    rss_loaded = peak_rss_mb()
    local = _local_methods()
    if method in local:
        model = local[method](task=spec.task, seed=seed, **params)
    else:
        model = get_method(method, spec.task, seed=seed, **params)
    t0 = time.perf_counter()
    model.fit(tt)
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    preds = model.predict(tt.target)
    t_pred = time.perf_counter() - t0
    rec = _slim(evaluate_predictions(tt.target, preds, seed=seed))
    rec.update(seed=seed, load_seconds=t_load, fit_seconds=t_fit, predict_seconds=t_pred, data=_data_info(spec, tt),
               rss_after_load_mb=rss_loaded)
    if targets:
        rec["targets"] = {}
        for d in targets:
            ds_spec = _as_data_spec(d)
            ds = ds_spec.load(seed)
            rec["targets"][ds_spec.describe()] = _slim(evaluate_predictions(ds, model.predict(ds), seed=seed))
    if record:
        rec["model"] = {a: jsonable(getattr(model, a)) for a in record if hasattr(model, a)}
    return rec


def _via_run_task(task: Any, method: str, seed: int, params: Mapping[str, Any] | None) -> dict:
    from nlpta.pipeline import run_task

    res = run_task(_as_spec(task), method=method, seeds=[seed], params=dict(params or {}), write=False)
    rec = dict(res.metrics["runs"][0])
    rec["data"] = res.metrics["data"]
    return rec


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB (``ru_maxrss``)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / (1024 * 1024) if sys.platform == "darwin" else r / 1024


def run_isolated(request: Mapping[str, Any], timeout: float | None = None) -> dict:
    """:func:`fit_evaluate` in a fresh Python process (``python -m nlpta.bench._child``); the
    record gains ``peak_rss_mb`` (the child's peak memory: model, data, activations)."""
    p = sp.run([sys.executable, "-m", "nlpta.bench._child"], input=json.dumps(jsonable(request)),
                       capture_output=True, text=True, timeout=timeout, env={**os.environ})
    line = [x for x in p.stdout.splitlines() if x.startswith("RESULT ")]
    if p.returncode != 0 or not line:
        raise Errors.E900(detail=f"isolated run exited with {p.returncode}:\n{p.stderr[-4000:]}")
    return json.loads(line[-1][len("RESULT "):])


@dataclass
class Usage:
    """What a section used: one entry per result (computed now or reused from the cache)."""

    entries: list[dict] = field(default_factory=list)

    def summary(self) -> dict:
        seen: dict[str, dict] = {}
        for e in self.entries:
            seen.setdefault(e["key"], e)
        devs = sorted({e["device"] for e in seen.values() if e.get("device")})
        return {"runs": len(seen), "cached": sum(1 for e in seen.values() if e["cached"]),
                "compute_seconds": round(sum(e["seconds"] for e in seen.values()), 1), "devices": devs}


class Bench:
    """Cached runs and measurements for the benchmark sections.

    Args:
        cache_dir: the cache folder (``bench_out/cache``).
        version: the code version in every key (default :func:`~nlpta.bench.cache.code_version`).
        log: called with one line per result (default: print to stderr).
        isolate: run every :meth:`run` in a fresh process (peak memory per run).
        jobs: runs :meth:`prefetch` computes at a time (a GPU machine: several).
    """

    def __init__(self, cache_dir: str | Path = "bench_out/cache", version: str | None = None,
                 log: Callable[[str], None] | None = None, isolate: bool = False, jobs: int = 1) -> None:
        self.cache = Cache(cache_dir)
        self.version = version or code_version()
        self.log = log or (lambda s: print(s, file=sys.stderr, flush=True))
        self.isolate = isolate
        self.jobs = jobs
        self.usage = Usage()
        self._lock = threading.Lock()

    # ---------------------------------------------------------------------------------- core
    def _cached(self, material: dict, compute: Callable[[], dict], what: str) -> dict:
        key = digest(material)
        hit = self.cache.get(key)
        if hit is not None:
            with self._lock:
                self.usage.entries.append({"key": key, "seconds": hit["seconds"], "cached": True,
                                           "device": hit["result"].get("device")})
            return hit["result"]
        t0 = time.perf_counter()
        try:
            result = compute()
        except BenchError:
            raise
        except Exception as e:  # noqa: BLE001 - every failure becomes one error that names the run
            tb = traceback.format_exc(limit=6)
            raise Errors.E900(detail=f"{what} failed: {type(e).__name__}: {e}\n{tb}") from e
        seconds = time.perf_counter() - t0
        result = dict(jsonable(result))
        result.setdefault("device", device_name())
        self.cache.put(key, material, result, seconds)
        with self._lock:
            self.usage.entries.append({"key": key, "seconds": seconds, "cached": False, "device": result["device"]})
        self.log(f"  {what}: {self._brief(result)} ({seconds:.1f} s)")
        return result

    @staticmethod
    def _brief(result: Mapping[str, Any]) -> str:
        a = result.get("accuracy")
        return f"accuracy {100 * a:.2f}" if isinstance(a, float) else "done"

    def key(self, task: Any, method: str, seed: int | None, params: Mapping[str, Any] | None = None,
            targets: Sequence[Any] = (), record: Sequence[str] = (), isolate: bool | None = None) -> str:
        """The cache key :meth:`run` uses for these arguments."""
        isolate = self.isolate if isolate is None else isolate
        return digest(self._material(task, method, seed, params, targets, record, isolate))

    def _material(self, task, method, seed, params, targets, record, isolate) -> dict:
        extra = {}
        if targets:
            extra["targets"] = [_as_data_spec(t) for t in targets]
        if record:
            extra["record"] = sorted(record)
        if isolate:
            extra["isolated"] = True
        return key_material(task, method, params, seed, self.version, extra)

    # ---------------------------------------------------------------------------------- runs
    def run(self, task: Any, method: str, seed: int, params: Mapping[str, Any] | None = None, *,
            targets: Sequence[Any] = (), record: Sequence[str] = (), isolate: bool | None = None,
            subprocess: bool = False) -> dict:
        """One seed of ``method`` on ``task`` (a :class:`~nlpta.tasks.TaskSpec`), from the cache
        or computed: through :func:`nlpta.pipeline.run_task`, or :func:`fit_evaluate` when
        ``targets`` / ``record`` ask for it; ``isolate``: in a fresh process, with its peak memory
        (part of the key). ``subprocess``: compute in a fresh process without changing the key
        (how :meth:`prefetch` runs several at once). Returns the per-seed record (``accuracy``,
        ``n``, ``per_domain``, ``fit_seconds``, ``data``, ``device``, ...).

        Raises:
            BenchError: the run failed.
        """
        isolate = self.isolate if isolate is None else isolate
        material = self._material(task, method, seed, params, targets, record, isolate)
        spec = _as_spec(task)
        what = f"{spec.name} [{method}] seed {seed}"
        if isolate or subprocess:
            req = {"task": spec.to_dict(), "method": method, "seed": seed, "params": dict(params or {}),
                   "targets": [_as_data_spec(t) for t in targets], "record": list(record)}
            return self._cached(material, lambda: run_isolated(req), what)
        if targets or record or method in _local_methods():
            return self._cached(material, lambda: fit_evaluate(spec, method, seed, params, targets, record), what)
        return self._cached(material, lambda: _via_run_task(spec, method, seed, params), what)

    def runs(self, task: Any, method: str, seeds: Iterable[int], params: Mapping[str, Any] | None = None,
             **kw) -> dict[int, dict]:
        """``{seed: record}`` of :meth:`run` for each seed."""
        return {s: self.run(task, method, s, params, **kw) for s in seeds}

    def accuracy(self, task: Any, method: str, seeds: Iterable[int], params: Mapping[str, Any] | None = None,
                 target: str | None = None, domain: str | None = None, **kw) -> dict[int, float]:
        """``{seed: accuracy}``: on the task's target, on the extra target labelled ``target``
        (see :func:`target_label`), and/or on one ``domain`` of it (``per_domain``)."""
        out = {}
        for s, r in self.runs(task, method, seeds, params, **kw).items():
            ev = r["targets"][target] if target else r
            out[s] = ev["per_domain"][domain]["accuracy"] if domain else ev["accuracy"]
        return out

    def prefetch(self, requests: Sequence[Mapping[str, Any]], jobs: int | None = None) -> None:
        """Compute the uncached ones of ``requests`` (each the keyword arguments of :meth:`run`)
        ``jobs`` (default :attr:`jobs`) at a time, each in its own process, under the key the
        request names (a GPU machine runs several configurations at once; a later :meth:`run`
        with the same arguments reads the cache). Raises :class:`BenchError` after all have
        finished if any failed."""
        todo = [dict(r) for r in requests]
        todo = [r for r in todo if self.cache.get(self.key(**{k: v for k, v in r.items() if k != "subprocess"})) is None]
        errors: list[str] = []

        def one(r: dict) -> None:
            try:
                self.run(**r, subprocess=True)
            except BenchError as e:
                with self._lock:
                    errors.append(e.message)

        with ThreadPoolExecutor(max(1, jobs or self.jobs)) as ex:
            list(ex.map(one, todo))
        if errors:
            raise Errors.E900(detail=f"{len(errors)} of {len(todo)} runs failed; the first:\n{errors[0]}")

    # --------------------------------------------------------------------------- measurements
    def measure(self, fn: Callable[..., Mapping[str, Any]], seed: int | None = None, **config: Any) -> dict:
        """``fn(**config)`` (plus ``seed=seed`` when given), from the cache or computed. The key
        holds ``fn``'s qualified name and source text, ``config``, the seed and the code version,
        so editing the measuring function recomputes it. ``fn`` returns a JSON-able dict."""
        import inspect

        try:
            src = inspect.getsource(fn)
        except (OSError, TypeError):
            src = ""
        name = f"{fn.__module__}.{fn.__qualname__}"
        task = {"measure": name, "source": digest({"source": src})}
        material = key_material(task, f"measure:{fn.__qualname__}", config, seed, self.version)
        kw = dict(config)
        if seed is not None:
            kw["seed"] = seed
        return self._cached(material, lambda: dict(fn(**kw)), f"{fn.__qualname__}({_short(config)})")

    # ------------------------------------------------------------------------------ sections
    def reset_usage(self) -> Usage:
        """Start counting a new section's results; returns the previous section's."""
        with self._lock:
            u, self.usage = self.usage, Usage()
        return u


def _short(config: Mapping[str, Any]) -> str:
    s = ", ".join(f"{k}={v}" for k, v in config.items())
    return s if len(s) < 80 else s[:77] + "..."
