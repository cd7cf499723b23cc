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

import copy
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import datasets
import yaml

from . import data
from .errors import NlptaError, TaskSpecError

TASK_KINDS = ("pos", "sentiment")
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

    def load(self, seed: int = 0) -> datasets.Dataset:
        """Load the rows; ``seed`` is the split seed of corpora without a canonical split and the
        seed of the ``limit`` sample."""
        opts = dict(self.options)
        if _seeded(self.corpus) and "split_seed" not in opts:
            opts["split_seed"] = seed
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
            raise TaskSpecError(
                f"task {self.name!r}: the target is a single file ({spec.corpus}), which has no train split "
                "for in-domain training; add a `target_labeled:` entry", path=self.path,
            )
        if c is not None and "train" not in c.splits:
            raise TaskSpecError(
                f"task {self.name!r}: target corpus {spec.corpus} has no train split for in-domain "
                "training; add a `target_labeled:` entry", path=self.path,
            )
        return spec


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
        self.target = spec.target.load(seed)
        self.unlabeled = spec.unlabeled.load(seed) if spec.unlabeled else None
        if self.unlabeled is not None and self.kind == "sentiment":
            self.unlabeled = data.strip_labels(self.unlabeled) if any(x != -1 for x in self.unlabeled["label"][:50]) else self.unlabeled
        self.target_labeled = spec.target_labeled.load(seed) if spec.target_labeled else None
        for what, ds in (("source", self.source), ("target", self.target), ("target_labeled", self.target_labeled)):
            if ds is None:
                continue
            got = data.task_of(ds)
            if got != self.kind:
                raise TaskSpecError(f"task {spec.name!r} is {self.kind} but its {what} corpus holds {got} rows",
                                    path=spec.path)
            if not _is_labeled(ds):
                raise TaskSpecError(f"task {spec.name!r}: the {what} rows carry no labels", path=spec.path)

    def target_train(self) -> datasets.Dataset:
        """Labeled target training rows (for the ``in-domain`` reference)."""
        return self.target_labeled if self.target_labeled is not None else self.spec.target_train().load(self.seed)

    @classmethod
    def from_yaml(cls, path: str | Path, seed: int = 1) -> TransferTask:
        return cls(load_task(path), seed=seed)


def _load_sources(spec: TaskSpec, seed: int) -> datasets.Dataset:
    """The source rows; the entries of a multi-source task concatenated (same schema)."""
    parts = [s.load(seed) for s in spec.sources]
    if len(parts) == 1:
        return parts[0]
    kinds = {data.task_of(p) for p in parts}
    if len(kinds) > 1:
        raise TaskSpecError(f"task {spec.name!r}: the source entries mix {' and '.join(sorted(kinds))} rows",
                            path=spec.path)
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


# ------------------------------------------------------------------------------- parsing
class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader, node, deep=False):
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=deep)
    mapping["__lines__"] = {k.value: k.start_mark.line + 1 for k, _ in node.value if hasattr(k, "value")}
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _strip(obj):
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k not in ("__lines__", "__line__")}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def load_task(path: str | Path) -> TaskSpec:
    """Parse and validate a YAML task file.

    Raises:
        TaskSpecError: naming the file, the line and what was expected.
    """
    path = Path(path)
    if not path.exists():
        raise TaskSpecError("task file not found", path=path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise TaskSpecError(f"not valid YAML: {getattr(e, 'problem', e)}", path=path,
                            line=mark.line + 1 if mark else None) from None
    return parse_task(raw, path=path)


def parse_task(raw: Any, path: str | Path | None = None) -> TaskSpec:
    """Validate a task given as a dict (as from YAML) and return a :class:`TaskSpec`."""
    base = Path(path).parent if path else Path.cwd()
    if not isinstance(raw, dict):
        raise TaskSpecError("expected a mapping with name, task, source, target, ...", path=path, line=1)
    lines = raw.get("__lines__", {})

    def err(msg: str, key: str | None = None, sub: dict | None = None) -> TaskSpecError:
        line = None
        if sub is not None:
            line = sub.get("__lines__", {}).get(key) if key else sub.get("__line__")
        elif key is not None:
            line = lines.get(key)
        return TaskSpecError(msg, path=path, line=line)

    unknown = set(raw) - _TOP_KEYS - {"__lines__", "__line__"}
    if unknown:
        k = sorted(unknown)[0]
        raise err(f"unknown key {k!r}; expected keys are {', '.join(sorted(_TOP_KEYS))}", k)
    for req in ("name", "task", "source", "target"):
        if req not in raw:
            raise TaskSpecError(f"missing required key {req!r}", path=path, line=raw.get("__line__"))
    name = raw["name"]
    if not isinstance(name, str) or not name.strip():
        raise err("name must be a non-empty string", "name")
    kind = raw["task"]
    if kind not in TASK_KINDS:
        raise err(f"task {kind!r}; expected one of {', '.join(TASK_KINDS)}", "task")

    def data_spec(key: str, required: bool) -> DataSpec | None:
        v = raw.get(key)
        if v is None:
            if required:
                raise err(f"missing {key!r}", key)
            return None
        if isinstance(v, str):
            v = {"corpus": v}
        if not isinstance(v, dict):
            raise err(f"{key} must be a mapping like {{corpus: NAME, split: train}}", key)
        bad = set(v) - _DATA_KEYS - {"__lines__", "__line__"}
        if bad:
            b = sorted(bad)[0]
            raise err(f"{key}: unknown key {b!r}; expected {', '.join(sorted(_DATA_KEYS))}", b, v)
        if "corpus" not in v:
            raise err(f"{key}: missing 'corpus'", None, v)
        corpus = str(v["corpus"])
        if corpus not in data.REGISTRY:
            p = Path(corpus)
            cand = p if p.is_absolute() else base / p
            if cand.exists() or Path(str(cand) + ".gz").exists():
                corpus = str(cand)
            elif p.exists():
                corpus = str(p.resolve())
            else:
                try:
                    data.get_corpus(corpus)
                except NlptaError as e:
                    raise err(f"{key}: {e.message}", "corpus", v) from None
        c = data.REGISTRY.get(corpus)
        split = v.get("split")
        if c is not None:
            if c.task != kind:
                raise err(f"{key}: corpus {corpus} is a {c.task} corpus but the task is {kind}", "corpus", v)
            if split is not None and split not in c.splits:
                raise err(f"{key}: corpus {corpus} has no split {split!r}; its splits are {', '.join(c.splits)}",
                          "split", v)
        labeled = v.get("labeled", key != "unlabeled")
        if not isinstance(labeled, bool):
            raise err(f"{key}: labeled must be true or false", "labeled", v)
        limit = v.get("limit")
        if limit is not None and (not isinstance(limit, int) or limit <= 0):
            raise err(f"{key}: limit must be a positive integer", "limit", v)
        opts = v.get("options") or {}
        if not isinstance(opts, dict):
            raise err(f"{key}: options must be a mapping", "options", v)
        dom = v.get("domain")
        if dom is not None and not isinstance(dom, str | list):
            raise err(f"{key}: domain must be a string or a list of strings", "domain", v)
        return DataSpec(corpus=corpus, split=split, domain=_strip(dom), lang=v.get("lang"), labeled=labeled,
                        limit=limit, options=_strip(opts))

    if isinstance(raw.get("source"), list):
        entries = raw["source"]
        if not entries:
            raise err("source: an empty list; give one entry or several (multi-source)", "source")
        source: DataSpec | list[DataSpec] = []
        for i, entry in enumerate(entries):
            raw[f"source[{i}]"] = entry
            lines[f"source[{i}]"] = lines.get("source")
            source.append(data_spec(f"source[{i}]", True))
            del raw[f"source[{i}]"]
        if len(source) == 1:
            source = source[0]
    else:
        source = data_spec("source", True)
    target = data_spec("target", True)
    unlabeled = data_spec("unlabeled", False)
    target_labeled = data_spec("target_labeled", False)
    method = raw.get("method", "none")
    from .methods import METHODS  # late import: methods sit above tasks

    if method not in METHODS:
        raise err(f"unknown method {method!r}; registered methods are {', '.join(sorted(METHODS))}", "method")
    params = raw.get("params") or {}
    if not isinstance(params, dict):
        raise err("params must be a mapping", "params")
    seeds = raw.get("seeds", [1])
    if isinstance(seeds, int):
        seeds = [seeds]
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise err("seeds must be a non-empty list of integers", "seeds")
    diagnose = raw.get("diagnose")
    if diagnose is not None and not isinstance(diagnose, dict | bool):
        raise err("diagnose must be a mapping (or true/false)", "diagnose")
    return TaskSpec(
        name=name.strip(), task=kind, source=source, target=target, unlabeled=unlabeled,
        target_labeled=target_labeled, method=method, params=_strip(params), seeds=seeds,
        diagnose=_strip(diagnose) if isinstance(diagnose, dict) else ({} if diagnose else None),
        description=str(raw.get("description", "")), path=str(path) if path else None,
    )
