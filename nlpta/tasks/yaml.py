"""Parsing and validating task files, with the file and line of every mistake."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

import yaml

from .. import data
from ..errors import NlptaError, TaskSpecError
from .spec import _DATA_KEYS, _TOP_KEYS, TASK_KINDS, DataSpec, TaskSpec


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


def load_task(path: str | Path, known_methods: Collection[str] | None = None) -> TaskSpec:
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
    return parse_task(raw, path=path, known_methods=known_methods)


def parse_task(raw: Any, path: str | Path | None = None, known_methods: Collection[str] | None = None) -> TaskSpec:
    """Validate a task given as a dict (as from YAML) and return a :class:`TaskSpec`. With
    ``known_methods`` (the registry's names; the pipeline and ``nlpta task validate`` pass them) the
    method name is checked too, with its line."""
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
    if not isinstance(method, str) or not method:
        raise err("method must be a method name (see `nlpta methods`)", "method")
    if known_methods is not None and method not in known_methods:
        raise err(f"unknown method {method!r}; registered methods are {', '.join(sorted(known_methods))}", "method")
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
