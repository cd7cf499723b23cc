"""Parsing and validating task files, with the file and line of every mistake."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

import yaml

from .. import data
from ..errors import Errors, NlptaError, TaskSpecError
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


def _show(value: Any) -> str:
    """A short repr of a value from a task file, for messages."""
    r = repr(_strip(value))
    return r if len(r) <= 60 else r[:57] + "..."


def load_task(path: str | Path, known_methods: Collection[str] | None = None) -> TaskSpec:
    """Parse and validate a YAML task file.

    Raises:
        TaskSpecError: naming the file, the line and what was expected.
    """
    path = Path(path)
    if not path.exists():
        raise Errors.E201(detail="no such task file; expected a YAML file (see tasks/ for examples)", path=path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise Errors.E201(detail=f"not valid YAML: {getattr(e, 'problem', e)}", path=path,
                          line=mark.line + 1 if mark else None) from None
    return parse_task(raw, path=path, known_methods=known_methods)


def parse_task(raw: Any, path: str | Path | None = None, known_methods: Collection[str] | None = None) -> TaskSpec:
    """Validate a task given as a dict (as from YAML) and return a :class:`TaskSpec`. With
    ``known_methods`` (the registry's names; the pipeline and ``nlpta task validate`` pass them) the
    method name is checked too, with its line."""
    base = Path(path).parent if path else Path.cwd()
    if not isinstance(raw, dict):
        raise Errors.E201(detail=f"expected a mapping with name, task, source, target, ...; got {_show(raw)}",
                          path=path, line=1)
    lines = raw.get("__lines__", {})

    def at(key: str | None = None, sub: dict | None = None) -> int | None:
        """The line of ``key`` at the top level, or in the data entry ``sub`` (its first line
        when ``key`` is None)."""
        if sub is not None:
            return sub.get("__lines__", {}).get(key) if key else sub.get("__line__")
        return lines.get(key) if key is not None else None

    unknown = sorted(set(raw) - _TOP_KEYS - {"__lines__", "__line__"})
    if unknown:
        raise Errors.E202(unknown=", ".join(map(repr, unknown)), section="the task",
                          expected=", ".join(sorted(_TOP_KEYS)), path=path, line=at(unknown[0]))
    for req in ("name", "task", "source", "target"):
        if req not in raw:
            raise Errors.E203(key=req, section="the task", path=path, line=raw.get("__line__"))
    name = raw["name"]
    if not isinstance(name, str) or not name.strip():
        raise Errors.E204(key="name", got=_show(name), expected="a non-empty string", path=path, line=at("name"))
    kind = raw["task"]
    if kind not in TASK_KINDS:
        raise Errors.E204(key="task", got=_show(kind), expected=f"one of {', '.join(TASK_KINDS)}", path=path,
                          line=at("task"))

    def data_spec(key: str, required: bool) -> DataSpec | None:
        v = raw.get(key)
        if v is None:
            if required:
                raise Errors.E203(key=key, section="the task", path=path, line=at(key))
            return None
        if isinstance(v, str):
            v = {"corpus": v}
        if not isinstance(v, dict):
            raise Errors.E204(key=key, got=_show(v), expected="a corpus name or a mapping like {corpus: NAME, "
                              "split: train}", path=path, line=at(key))
        bad = sorted(set(v) - _DATA_KEYS - {"__lines__", "__line__"})
        if bad:
            raise Errors.E202(unknown=", ".join(map(repr, bad)), section=key, expected=", ".join(sorted(_DATA_KEYS)),
                              path=path, line=at(bad[0], v))
        if "corpus" not in v:
            raise Errors.E203(key="corpus", section=key, path=path, line=at(None, v))
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
                    raise Errors.E201(detail=f"{key}: {e.message}", path=path, line=at("corpus", v)) from None
        c = data.REGISTRY.get(corpus)
        split = v.get("split")
        if c is not None:
            if c.task != kind:
                raise Errors.E205(task=name.strip(), what=key, corpus=corpus, got=c.task, kind=kind, path=path,
                                  line=at("corpus", v))
            if split is not None and split not in c.splits:
                raise Errors.E106(split=split, detail=f"{key}: corpus {corpus} has splits {', '.join(c.splits)}",
                                  cls=TaskSpecError, path=path, line=at("split", v))
        labeled = v.get("labeled", key != "unlabeled")
        if not isinstance(labeled, bool):
            raise Errors.E204(key=f"{key}.labeled", got=_show(labeled), expected="true or false", path=path,
                              line=at("labeled", v))
        limit = v.get("limit")
        if limit is not None and (not isinstance(limit, int) or limit <= 0):
            raise Errors.E204(key=f"{key}.limit", got=_show(limit), expected="a positive integer", path=path,
                              line=at("limit", v))
        opts = v.get("options") or {}
        if not isinstance(opts, dict):
            raise Errors.E204(key=f"{key}.options", got=_show(opts), expected="a mapping of reader options",
                              path=path, line=at("options", v))
        dom = v.get("domain")
        if dom is not None and not isinstance(dom, str | list):
            raise Errors.E204(key=f"{key}.domain", got=_show(dom), expected="a string or a list of strings",
                              path=path, line=at("domain", v))
        return DataSpec(corpus=corpus, split=split, domain=_strip(dom), lang=v.get("lang"), labeled=labeled,
                        limit=limit, options=_strip(opts))

    if isinstance(raw.get("source"), list):
        entries = raw["source"]
        if not entries:
            raise Errors.E204(key="source", got="[]", expected="one entry or a non-empty list of entries "
                              "(multi-source)", path=path, line=at("source"))
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
        raise Errors.E204(key="method", got=_show(method), expected="a method name (see `nlpta methods`)",
                          path=path, line=at("method"))
    if known_methods is not None and method not in known_methods:
        raise Errors.E201(detail=f"unknown method {method!r}; registered methods are "
                          f"{', '.join(sorted(known_methods))}", path=path, line=at("method"))
    params = raw.get("params") or {}
    if not isinstance(params, dict):
        raise Errors.E204(key="params", got=_show(params), expected="a mapping of method parameters", path=path,
                          line=at("params"))
    seeds = raw.get("seeds", [1])
    if isinstance(seeds, int):
        seeds = [seeds]
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise Errors.E204(key="seeds", got=_show(seeds), expected="an integer or a non-empty list of integers",
                          path=path, line=at("seeds"))
    diagnose = raw.get("diagnose")
    if diagnose is not None and not isinstance(diagnose, dict | bool):
        raise Errors.E204(key="diagnose", got=_show(diagnose), expected="a mapping (or true/false)", path=path,
                          line=at("diagnose"))
    return TaskSpec(
        name=name.strip(), task=kind, source=source, target=target, unlabeled=unlabeled,
        target_labeled=target_labeled, method=method, params=_strip(params), seeds=seeds,
        diagnose=_strip(diagnose) if isinstance(diagnose, dict) else ({} if diagnose else None),
        description=str(raw.get("description", "")), path=str(path) if path else None,
    )
