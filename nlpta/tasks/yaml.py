"""Parsing and validating task files, with the file and line of every mistake."""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import yaml

from .. import data
from ..errors import Errors, NlptaError, TaskSpecError
from .spec import _DATA_KEYS, _TOP_KEYS, MAX_SEED, TASK_KINDS, DataSpec, TaskSpec, seeds_problem

MAX_ALIASES = 100
"""Aliases (``*name``) a task file may use."""
MAX_NODES = 10_000
"""Nodes a task file may hold once every alias is expanded (a billion-laughs file has 10**9)."""
MAX_DEPTH = 64
"""How deeply collections may nest."""


class _Refused(Exception):
    """Raised inside the loader; ``make(path)`` builds the table's error naming the file."""

    def __init__(self, make: Callable[[Path | None], NlptaError]) -> None:
        super().__init__()
        self.make = make


class _BoundedLoader(yaml.SafeLoader):
    """A ``SafeLoader`` with bounded alias expansion, nesting depth and no duplicate keys."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent, index):
        line = self.peek_event().start_mark.line + 1
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _Refused(lambda p: Errors.E207(path=p, line=line, detail=f"more than {MAX_ALIASES} aliases "
                                                                              "(*name)"))
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(lambda p: Errors.E207(path=p, line=line,
                                                     detail=f"collections nested more than {MAX_DEPTH} deep"))
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None:
            _check_expanded_size(node)
        return node


def _check_expanded_size(root) -> None:
    """Refuse a document whose alias expansion exceeds :data:`MAX_NODES` nodes (memoized on the
    node graph, so the check itself stays linear in the file)."""
    sizes: dict[int, int] = {}

    def size(node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        n = 1
        if isinstance(node, yaml.SequenceNode):
            n += sum(size(c) for c in node.value)
        elif isinstance(node, yaml.MappingNode):
            n += sum(size(k) + size(v) for k, v in node.value)
        if n > MAX_NODES:
            line = node.start_mark.line + 1
            raise _Refused(lambda p: Errors.E207(path=p, line=line, detail=f"more than {MAX_NODES:,} values once the "
                                                                           "aliases are expanded (a YAML bomb?)"))
        sizes[id(node)] = n
        return n

    size(root)


def _check_keys(node, internal: bool = True) -> None:
    """Refuse a duplicate key (merge keys aside) and, in task files (``internal``), the keys the
    line-tracking loader reserves."""
    seen: dict[tuple[str, str], int] = {}
    for k, _ in node.value:
        if not isinstance(k, yaml.ScalarNode) or k.tag == "tag:yaml.org,2002:merge":
            continue
        line = k.start_mark.line + 1
        if internal and k.value in ("__lines__", "__line__"):
            key = k.value
            raise _Refused(lambda p, line=line, key=key: Errors.E202(
                path=p, line=line, unknown=repr(key), section="the task file",
                expected="the keys of a task (see nlpta.tasks)"))
        if (k.tag, k.value) in seen:
            key, first, at = k.value, seen[(k.tag, k.value)], node.start_mark.line + 1
            raise _Refused(lambda p, line=line, key=key, at=at, first=first: Errors.E209(
                path=p, line=line, key=key, section=f"the mapping on line {at}", first=first))
        seen[(k.tag, k.value)] = line


def _construct_plain_mapping(loader, node, deep=False):
    _check_keys(node, internal=False)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_BoundedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_plain_mapping)


class _LineLoader(_BoundedLoader):
    pass


def _construct_mapping(loader, node, deep=False):
    _check_keys(node)
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=deep)
    mapping["__lines__"] = {k.value: k.start_mark.line + 1 for k, _ in node.value if hasattr(k, "value")}
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _yaml_error_line(e: yaml.YAMLError, text: str) -> int | None:
    """The 1-based line a PyYAML error is about: where an unclosed flow collection or a key
    without ``:`` starts (PyYAML marks where it noticed, often the next line), else the mark."""
    if isinstance(e, yaml.reader.ReaderError):
        return text[: e.position].count("\n") + 1
    context = getattr(e, "context", None) or ""
    cmark = getattr(e, "context_mark", None)
    if cmark is not None and (context.startswith("while scanning a simple key") or
                              context.startswith("while parsing a flow")):
        return cmark.line + 1
    mark = getattr(e, "problem_mark", None) or cmark
    return mark.line + 1 if mark is not None else None


def _problem(e: yaml.YAMLError) -> str:
    if isinstance(e, yaml.reader.ReaderError):
        return f"character #x{e.character:04x} is not allowed in YAML" if isinstance(e.character, int) else str(e)
    return str(getattr(e, "problem", None) or e).strip()


def safe_load(text: str) -> Any:
    """Parse YAML ``text`` like ``yaml.safe_load``, with alias expansion, nesting depth and
    duplicate keys checked (:data:`MAX_ALIASES`, :data:`MAX_NODES`, :data:`MAX_DEPTH`).

    Raises:
        yaml.YAMLError: not valid YAML. TaskSpecError: over a limit [E207], a duplicate key [E209].
    """
    try:
        return yaml.load(text, Loader=_BoundedLoader)  # noqa: S506 -- a SafeLoader subclass
    except _Refused as r:
        raise r.make(None) from None


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

    The YAML is read with bounded alias expansion and nesting (:data:`MAX_ALIASES`,
    :data:`MAX_NODES`, :data:`MAX_DEPTH`), so a "billion laughs" file fails at once; keys must be
    unique in each mapping; the file must be UTF-8 (a byte-order mark is dropped).

    Raises:
        TaskSpecError: naming the file, the line and what was expected (E201-E209).
    """
    path = Path(path)
    if not path.is_file():
        raise Errors.E201(detail="no such task file; expected a YAML file (see tasks/ for examples)", path=path)
    data_bytes = path.read_bytes()
    try:
        text = data_bytes.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        raise Errors.E208(detail=f"byte {data_bytes[e.start]:#04x} cannot be decoded ({e.reason}); save the file "
                          "as UTF-8", path=path, line=data_bytes[: e.start].count(b"\n") + 1) from None
    try:
        raw = yaml.load(text, Loader=_LineLoader)  # noqa: S506 -- a SafeLoader subclass
    except _Refused as r:
        raise r.make(path) from None
    except yaml.YAMLError as e:
        raise Errors.E201(detail=f"not valid YAML: {_problem(e)}", path=path, line=_yaml_error_line(e, text)) from None
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
        if not isinstance(v["corpus"], str) or not v["corpus"].strip():
            raise Errors.E204(key=f"{key}.corpus", got=_show(v["corpus"]), expected="a corpus name or a path",
                              path=path, line=at("corpus", v))
        corpus = v["corpus"]
        for opt in ("split", "lang"):
            if v.get(opt) is not None and not isinstance(v[opt], str):
                raise Errors.E204(key=f"{key}.{opt}", got=_show(v[opt]), expected="a string", path=path,
                                  line=at(opt, v))
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
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit <= 0):
            raise Errors.E204(key=f"{key}.limit", got=_show(limit), expected="a positive integer", path=path,
                              line=at("limit", v))
        opts = v.get("options")
        opts = {} if opts is None else opts
        if not isinstance(opts, dict):
            raise Errors.E204(key=f"{key}.options", got=_show(opts), expected="a mapping of reader options",
                              path=path, line=at("options", v))
        dom = v.get("domain")
        if dom is not None and not (isinstance(dom, str) or (isinstance(dom, list) and dom
                                                            and all(isinstance(d, str) for d in dom))):
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
    params = raw.get("params")
    params = {} if params is None else params
    if not isinstance(params, dict):
        raise Errors.E204(key="params", got=_show(params), expected="a mapping of method parameters", path=path,
                          line=at("params"))
    seeds = raw.get("seeds", [1])
    if isinstance(seeds, int):
        seeds = [seeds]
    problem = seeds_problem(seeds)
    if problem:
        raise Errors.E204(key="seeds", got=f"{_show(seeds)} ({problem})",
                          expected=f"an integer or a non-empty list of distinct integers in 0..{MAX_SEED}",
                          path=path, line=at("seeds"))
    description = raw.get("description")
    if description is not None and not isinstance(description, str | int | float):
        raise Errors.E204(key="description", got=_show(description), expected="a text", path=path,
                          line=at("description"))
    diagnose = raw.get("diagnose")
    if diagnose is not None and not isinstance(diagnose, dict | bool):
        raise Errors.E204(key="diagnose", got=_show(diagnose), expected="a mapping (or true/false)", path=path,
                          line=at("diagnose"))
    return TaskSpec(
        name=name.strip(), task=kind, source=source, target=target, unlabeled=unlabeled,
        target_labeled=target_labeled, method=method, params=_strip(params), seeds=seeds,
        diagnose=_strip(diagnose) if isinstance(diagnose, dict) else ({} if diagnose else None),
        description="" if description is None else str(description), path=str(path) if path else None,
    )
