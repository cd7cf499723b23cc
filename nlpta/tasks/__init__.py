"""Transfer tasks: source labeled data, target test data, optional target unlabeled and target
labeled (few-shot) data, built from a YAML task file or in code.

A task file (``tasks/*.yaml``) is a public interface::

    name: senti-books-to-kitchen
    task: sentiment            # or pos
    source: {corpus: mdsd:books, split: train}
    target: {corpus: mdsd:kitchen, split: test}
    unlabeled: {corpus: mdsd:kitchen, split: unlabeled}   # optional
    target_labeled: {corpus: mdsd:kitchen, split: train, limit: 100}   # optional (few-shot)
    method: none
    params: {}
    seeds: [1, 2, 3]

``source`` may be a list of such entries (multi-source: e.g. three Blitzer domains); their rows
are concatenated and keep their ``domain`` column, which the multi-source methods group by.

Each data entry takes ``corpus`` (any name or path :func:`nlpta.data.load` takes), ``split``,
``domain`` (one or a list), ``lang``, ``labeled``, ``limit`` (a seeded sample of that many rows)
and ``options`` (reader options). Relative paths are resolved against the task file's folder.
For corpora without a canonical split (the Blitzer reviews) the run's seed is the split seed.
"""

from __future__ import annotations

from .spec import TASK_KINDS, DataSpec, TaskSpec
from .transfer import TransferTask
from .yaml import load_task, parse_task

__all__ = ["TASK_KINDS", "DataSpec", "TaskSpec", "TransferTask", "load_task", "parse_task"]
