"""Benchmarks as code: a cached runner, paired statistics, provenance and BENCHMARKS.md assembly.

The configuration files ``scripts/bench*.py`` list :class:`Section` s (tasks, methods, seeds,
table layouts); this package runs them:

* :class:`Bench` -- :meth:`Bench.run` one seed of a method on a task through
  :func:`nlpta.pipeline.run_task` (or :func:`fit_evaluate` for more targets or fitted attributes),
  :meth:`Bench.measure` any other computation; both cached in ``bench_out/cache/`` under
  :func:`cache_key` (task, method, parameters, seed, :func:`code_version`). A failure raises
  :class:`BenchError`.
* :mod:`~nlpta.bench.stats` -- mean ± 95% CI over seeds, paired differences, verdicts, cells.
* :mod:`~nlpta.bench.provenance` -- device, versions, commit, seeds and command under each table.
* :func:`compute_section`, :func:`render_page`, :func:`main` -- results on disk, the page, the
  command line of the scripts.
"""

from __future__ import annotations

from .cache import Cache, cache_key, code_version, jsonable, key_material, package_files
from .provenance import collect, device_name, git_commit, library_versions, provenance_line
from .runner import Bench, BenchError, fit_evaluate, run_isolated, target_label
from .sections import (
    HEADER,
    Section,
    assemble_markdown,
    compute_section,
    load_result,
    main,
    missing_text,
    render_page,
    write_page,
)
from .stats import below, ci, fmt_ci, fmt_paired, mean_over, paired, restrict, verdict

__all__ = [
    "HEADER", "Bench", "BenchError", "Cache", "Section", "assemble_markdown", "below", "cache_key", "ci",
    "code_version", "collect", "compute_section", "device_name", "fit_evaluate", "fmt_ci", "fmt_paired",
    "git_commit", "jsonable", "key_material", "library_versions", "load_result", "main", "mean_over",
    "missing_text", "package_files", "paired", "provenance_line", "render_page", "restrict", "run_isolated",
    "target_label", "verdict", "write_page",
]
