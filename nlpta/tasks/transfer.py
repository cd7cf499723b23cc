"""A task with its data loaded for one seed."""

from __future__ import annotations

from pathlib import Path

import datasets

from .. import data
from ..errors import Errors
from .spec import TaskSpec


class TransferTask:
    """A task with its data loaded for one seed.

    Attributes:
        source: labeled source rows.
        target: target test rows (labeled, for evaluation).
        unlabeled: target rows without labels (from ``unlabeled:``), or ``None``.
        target_labeled: a small labeled target set (few-shot), or ``None``.
    """

    def __init__(self, spec: TaskSpec, seed: int = 1) -> None:
        self.spec = spec
        self.seed = seed
        self.kind = spec.task
        self.source = _load_sources(spec, seed)
        self.target = spec.target.load(seed, task=spec.task)
        self.unlabeled = spec.unlabeled.load(seed, task=spec.task) if spec.unlabeled else None
        if self.unlabeled is not None and self.kind == "sentiment":
            self.unlabeled = data.strip_labels(self.unlabeled) if any(x != -1 for x in self.unlabeled["label"][:50]) else self.unlabeled
        self.target_labeled = spec.target_labeled.load(seed, task=spec.task) if spec.target_labeled else None
        entries = (("source", self.source, spec.describe_source()), ("target", self.target, spec.target.describe()),
                   ("target_labeled", self.target_labeled,
                    spec.target_labeled.describe() if spec.target_labeled else ""))
        for what, ds, where in entries:
            if ds is None:
                continue
            got = data.task_of(ds)
            if got != self.kind:
                raise Errors.E205(task=spec.name, what=what, corpus=where, got=got, kind=self.kind, path=spec.path)
            if not _is_labeled(ds):
                raise Errors.E201(detail=f"task {spec.name!r}: the {what} rows ({where}) carry no labels; "
                                  f"expected labeled {what} data", path=spec.path)

    def target_train(self) -> datasets.Dataset:
        """Labeled target training rows (for the ``in-domain`` reference)."""
        return self.target_labeled if self.target_labeled is not None else self.spec.target_train().load(self.seed, task=self.kind)

    @classmethod
    def from_yaml(cls, path: str | Path, seed: int = 1) -> TransferTask:
        from .yaml import load_task

        return cls(load_task(path), seed=seed)


def _load_sources(spec: TaskSpec, seed: int) -> datasets.Dataset:
    """The source rows; the entries of a multi-source task concatenated (same schema)."""
    parts = [s.load(seed, task=spec.task) for s in spec.sources]
    if len(parts) == 1:
        return parts[0]
    kinds = {data.task_of(p) for p in parts}
    if len(kinds) > 1:
        raise Errors.E201(detail=f"task {spec.name!r}: the source entries mix {' and '.join(sorted(kinds))} rows "
                          f"({spec.describe_source()}); expected one task", path=spec.path)
    first = parts[0]
    cols = set(first.column_names)
    for p in parts[1:]:
        cols &= set(p.column_names)
    keep = [c for c in first.column_names if c in cols]
    parts = [p.select_columns(keep) for p in parts]
    return datasets.concatenate_datasets(
        [parts[0]] + [p if p.features == parts[0].features else p.cast(parts[0].features) for p in parts[1:]])


def _is_labeled(ds: datasets.Dataset) -> bool:
    if "upos" in ds.column_names:
        return all(len(u) == len(t) and len(u) > 0 for u, t in zip(ds["upos"][:20], ds["tokens"][:20], strict=True))
    return all(x in (0, 1) for x in ds["label"][:200])
