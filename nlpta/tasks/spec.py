"""Task specifications: :class:`DataSpec` (which rows of which corpus) and :class:`TaskSpec` (a
parsed, validated task file). Parsing is in :mod:`nlpta.tasks.yaml`, loaded data in
:mod:`nlpta.tasks.transfer`."""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import datasets

from .. import data
from ..errors import Errors

TASK_KINDS = ("pos", "sentiment")
MAX_SEED = 2**32 - 1
"""The largest seed (NumPy's ``RandomState`` takes ``0 <= seed < 2**32``)."""
_TOP_KEYS = {"name", "task", "source", "target", "unlabeled", "target_labeled", "method", "params", "seeds",
             "diagnose", "description"}
_DATA_KEYS = {"corpus", "split", "domain", "lang", "labeled", "limit", "options"}


@dataclass
class DataSpec:
    """Which rows of which corpus: ``nlpta.data.load(corpus, split, domain, lang, labeled, **options)``,
    then an optional seeded sample of ``limit`` rows."""

    corpus: str
    split: str | None = None
    domain: str | list[str] | None = None
    lang: str | None = None
    labeled: bool = True
    limit: int | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def load(self, seed: int = 0, task: str | None = None) -> datasets.Dataset:
        """Load the rows; ``seed`` is the split seed of corpora without a canonical split and the
        seed of the ``limit`` sample; ``task`` (the task's kind) tells how to read a file whose form
        does not say (raw text lines are POS target text in a ``pos`` task)."""
        opts = dict(self.options)
        if _seeded(self.corpus) and "split_seed" not in opts:
            opts["split_seed"] = seed
        if task is not None:
            opts.setdefault("task", task)
        ds = data.load(self.corpus, split=self.split, domain=self.domain, lang=self.lang,
                       labeled=self.labeled, **opts)
        return data.sample_rows(ds, self.limit, seed)

    def describe(self) -> str:
        parts = [self.corpus]
        if self.split:
            parts.append(f"split={self.split}")
        if self.domain:
            parts.append(f"domain={self.domain}")
        if self.lang:
            parts.append(f"lang={self.lang}")
        if self.limit:
            parts.append(f"limit={self.limit}")
        return " ".join(parts)


def _seeded(corpus: str) -> bool:
    c = data.REGISTRY.get(corpus)
    if c is not None:
        return c.seeded_split
    p = Path(corpus)
    return p.is_dir() and any(x.name.startswith("positive.review") for x in p.iterdir())


@dataclass
class TaskSpec:
    """A parsed, validated task file."""

    name: str
    task: str
    source: DataSpec | list[DataSpec]
    target: DataSpec
    unlabeled: DataSpec | None = None
    target_labeled: DataSpec | None = None
    method: str = "none"
    params: dict[str, Any] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=lambda: [1])
    diagnose: dict[str, Any] | None = None
    description: str = ""
    path: str | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("path")
        return {k: v for k, v in d.items() if v not in (None, "", {}) or k in ("params",)}

    @property
    def sources(self) -> list[DataSpec]:
        """The source entries as a list (one entry unless the task is multi-source)."""
        return list(self.source) if isinstance(self.source, list) else [self.source]

    def describe_source(self) -> str:
        return " + ".join(s.describe() for s in self.sources)

    def target_train(self) -> DataSpec:
        """The target labeled training data: ``target_labeled`` if given, else the target's
        corpus/domain with ``split: train`` (for the ``in-domain`` ceiling)."""
        if self.target_labeled is not None:
            return self.target_labeled
        spec = copy.deepcopy(self.target)
        spec.split = "train"
        spec.labeled = True
        spec.limit = None
        c = data.REGISTRY.get(spec.corpus)
        if c is None and not Path(spec.corpus).is_dir():
            raise Errors.E206(task=self.name, target=f"{spec.corpus} is a single file, which", path=self.path)
        if c is not None and "train" not in c.splits:
            raise Errors.E206(task=self.name, target=f"corpus {spec.corpus} (splits {', '.join(c.splits)})",
                              path=self.path)
        return spec


def seeds_problem(seeds: Any) -> str | None:
    """What is wrong with a list of run seeds, or ``None`` when it is a non-empty list of distinct
    integers in ``[0, MAX_SEED]`` (the task file's ``seeds:`` and ``nlpta run --seeds`` both
    require that)."""
    if not isinstance(seeds, list) or not seeds:
        return "not a non-empty list"
    for s in seeds:
        if not isinstance(s, int) or isinstance(s, bool):
            return f"{s!r} is not an integer"
        if not 0 <= s <= MAX_SEED:
            return f"{s} is outside 0..{MAX_SEED}"
    dup = sorted({s for s in seeds if seeds.count(s) > 1})
    if dup:
        return f"{', '.join(map(str, dup))} repeated (each seed is one run)"
    return None
