"""The benchmark cache: one JSON file per computed result, keyed by what produced it.

A key is the SHA-256 of the task (its :meth:`~nlpta.tasks.TaskSpec.to_dict`, without the fields
that do not change a result: name, description, seeds, method, params), the method, its
effective parameters, the seed and the code version. Any change to one of them is a new key, so a
stale result is never reused; nothing is ever invalidated by hand.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

PACKAGE_DIR = Path(__file__).resolve().parents[1]
# the parts of the package that do not change a result: this runner and the command line
EXCLUDED = ("bench", "cli")
# files under nlpta/bench/ that compute results (a method that lives here until it moves) and so
# belong to the code version
INCLUDED_BENCH = ("frozen.py",)
# TaskSpec fields that do not change what a run computes (seeds and method come separately)
SPEC_IGNORED = ("name", "description", "seeds", "method", "params", "path")


def package_files(package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """The ``*.py`` files whose contents make the code version: every module of the package except
    ``nlpta/bench/`` (save :data:`INCLUDED_BENCH`) and ``nlpta/cli/`` (or ``cli.py``), sorted."""
    out = []
    for p in sorted(package_dir.rglob("*.py")):
        rel = p.relative_to(package_dir)
        top = rel.parts[0].removesuffix(".py")
        if top in EXCLUDED and not (top == "bench" and rel.name in INCLUDED_BENCH and len(rel.parts) == 2):
            continue
        if "__pycache__" in rel.parts:
            continue
        out.append(p)
    return out


def hash_code(files: Iterable[Path], version: str, root: Path = PACKAGE_DIR) -> str:
    """SHA-256 over ``version`` and each file's path (relative to ``root``) and bytes."""
    h = hashlib.sha256()
    h.update(f"nlpta {version}\n".encode())
    for p in files:
        h.update(str(Path(p).relative_to(root)).encode() + b"\0")
        h.update(Path(p).read_bytes())
        h.update(b"\0")
    return h.hexdigest()


@lru_cache(maxsize=1)
def code_version() -> str:
    """The code version of this checkout: a hash of ``nlpta.__version__`` and the contents of every
    ``nlpta/**/*.py`` file but the benchmark runner and the command line (16 hex digits)."""
    from nlpta import __version__

    return hash_code(package_files(), __version__)[:16]


def jsonable(obj: Any) -> Any:
    """``obj`` with numpy scalars and arrays, tuples, sets and paths turned into JSON types; dict
    keys become strings."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, set | frozenset):
        return [jsonable(v) for v in sorted(obj, key=str)]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, Path):
        return str(obj)
    if obj is None or isinstance(obj, str | int | float | bool):
        return obj
    if hasattr(obj, "to_dict"):
        return jsonable(obj.to_dict())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return jsonable(dataclasses.asdict(obj))
    raise TypeError(f"cannot store a {type(obj).__name__} in the benchmark cache")


def task_dict(task: Any) -> dict:
    """The part of a task that decides a run's result: a :class:`~nlpta.tasks.TaskSpec` (or its
    dict) without :data:`SPEC_IGNORED`."""
    d = task.to_dict() if hasattr(task, "to_dict") else dict(task)
    return {k: v for k, v in jsonable(d).items() if k not in SPEC_IGNORED}


def effective_params(task: Any, method: str, params: Mapping[str, Any] | None) -> dict:
    """The parameters a run uses, as :func:`nlpta.pipeline.run_task` merges them: the task's own
    ``params`` when its ``method`` is ``method``, then ``params`` over them."""
    d = task.to_dict() if hasattr(task, "to_dict") else dict(task)
    base = dict(d.get("params") or {}) if d.get("method", "none") == method else {}
    base.update(params or {})
    return jsonable(base)


def key_material(task: Any, method: str, params: Mapping[str, Any] | None, seed: int | None, version: str,
                 extra: Mapping[str, Any] | None = None) -> dict:
    """What a key is the hash of: the task dict (:func:`task_dict`), the method, the effective
    parameters, the seed, the code version and, if given, ``extra`` (e.g. more targets to
    evaluate, model attributes to record)."""
    m = {"task": task_dict(task), "method": method, "params": effective_params(task, method, params),
         "seed": seed, "code": version}
    if extra:
        m["extra"] = jsonable(extra)
    return m


def cache_key(task: Any, method: str, params: Mapping[str, Any] | None, seed: int | None, version: str,
              extra: Mapping[str, Any] | None = None) -> str:
    """The cache key of one result: SHA-256 of :func:`key_material` as canonical JSON."""
    return digest(key_material(task, method, params, seed, version, extra))


def digest(material: Mapping[str, Any]) -> str:
    """SHA-256 of ``material`` as canonical JSON (sorted keys)."""
    return hashlib.sha256(json.dumps(jsonable(material), sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class Cache:
    """Results on disk, one file per key: ``<root>/<key[:2]>/<key>.json`` holding the key's
    material (to read what produced it) and the result. Writes are atomic, so parallel workers
    and interrupted runs never leave a half-written entry."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        """The stored entry (``{key, material, result, seconds, created}``) or ``None``."""
        p = self.path(key)
        if not p.exists():
            return None
        try:
            return json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError:  # a foreign or damaged file: recompute
            return None

    def put(self, key: str, material: Mapping[str, Any], result: Mapping[str, Any], seconds: float) -> dict:
        entry = {"key": key, "material": jsonable(material), "result": jsonable(result),
                 "seconds": float(seconds), "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
        _atomic_write(self.path(key), json.dumps(entry, indent=1, ensure_ascii=False) + "\n")
        return entry

    def __len__(self) -> int:
        return sum(1 for _ in self.root.glob("*/*.json")) if self.root.is_dir() else 0
