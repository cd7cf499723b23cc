"""Malformed YAML task files (issue 18), read with
``nlpta.tasks.load_task(path, known_methods=nlpta.methods.METHODS)``.

A valid variant must give exactly the :meth:`TaskSpec.to_dict` its keys define (built here from
the task-file format, not from the parser); an invalid one an ``NlptaError`` naming the file and,
where there is one, the line of the mistake. YAML rules: UTF-8 text, unique keys in a mapping,
spaces (not tabs) for indentation, aliases expanded within a small budget.
"""

from __future__ import annotations

import copy
import random
from pathlib import Path

from . import ERROR, Case

FORMAT = "task-yaml"
FILE = "t.yaml"

LINES = [
    "name: senti-books-to-kitchen",
    "description: books to kitchen",
    "source: {corpus: mdsd:books, split: train}",
    "target: {corpus: mdsd:kitchen, split: test}",
    "task: sentiment",
    "unlabeled: {corpus: mdsd:kitchen, split: unlabeled}",
    "method: none",
    "params: {C: 0.5}",
    "seeds: [1, 2, 3]",
]
REQUIRED = ("name", "task", "source", "target")


def _data(corpus: str, split: str | None = None, labeled: bool = True, **kw) -> dict:
    d = {"corpus": corpus, "split": split, "domain": None, "lang": None, "labeled": labeled, "limit": None,
         "options": {}}
    d.update(kw)
    return d


VALUES = {
    "name": "senti-books-to-kitchen",
    "description": "books to kitchen",
    "source": _data("mdsd:books", "train"),
    "target": _data("mdsd:kitchen", "test"),
    "task": "sentiment",
    "unlabeled": _data("mdsd:kitchen", "unlabeled", labeled=False),
    "method": "none",
    "params": {"C": 0.5},
    "seeds": [1, 2, 3],
}
ORDER = ["name", "task", "source", "target", "unlabeled", "target_labeled", "method", "params", "seeds",
         "diagnose", "description"]


def expected(**keys) -> dict:
    """The ``to_dict()`` of a task with these top-level values (defaults for the rest)."""
    d = {"method": "none", "params": {}, "seeds": [1]}
    d.update(copy.deepcopy(keys))
    return {k: d[k] for k in ORDER if k in d}


FULL = expected(**VALUES)


def _load(folder: Path):
    from ...methods import METHODS
    from ...tasks import load_task

    return load_task(folder / FILE, known_methods=METHODS)


def _norm(spec) -> dict:
    return spec.to_dict()


def _text(lines: list[str]) -> str:
    return "".join(x + "\n" for x in lines)


def _replace(key: str, line: str) -> str:
    return _text([line if x.split(":")[0] == key else x for x in LINES])


def _line_of(key: str) -> int:
    return next(i for i, x in enumerate(LINES, 1) if x.split(":")[0] == key)


def cases(seed: int) -> list[Case]:
    """Every task-file case, generated from ``seed``."""
    rng = random.Random(seed)
    out: list[tuple[str, bytes, object, int | None]] = []

    def add(name: str, text: str | bytes, expect: object = ERROR, line: int | None = None) -> None:
        out.append((name, text.encode("utf-8") if isinstance(text, str) else text, expect, line))

    good = _text(LINES)
    add("valid", good, FULL)
    add("bom", "\ufeff" + good, FULL)
    add("crlf", good.replace("\n", "\r\n"), FULL)
    add("no-final-newline", good.rstrip("\n"), FULL)
    add("comments", "# a task\n" + good.replace("\n", "  # note\n", 3), FULL)
    block = good.replace("source: {corpus: mdsd:books, split: train}", "source:\n  corpus: mdsd:books\n  split: train")
    add("block-style", block, FULL)
    add("tab-in-quoted-value", _replace("description", 'description: "books\tto kitchen"'),
        expected(**{**VALUES, "description": "books\tto kitchen"}))
    add("seeds-scalar", _replace("seeds", "seeds: 7"), expected(**{**VALUES, "seeds": [7]}))
    add("seeds-zero", _replace("seeds", "seeds: [0, 4294967295]"), expected(**{**VALUES, "seeds": [0, 4294967295]}))
    add("source-string", _replace("source", "source: mdsd:books"), expected(**{**VALUES, "source": _data("mdsd:books")}))
    add("labeled-yes", _replace("source", "source: {corpus: mdsd:books, split: train, labeled: yes}"), FULL)
    add("alias-once", _replace("source", "source: &s {corpus: mdsd:books, split: train}") + "target_labeled: *s\n",
        expected(**VALUES, target_labeled=_data("mdsd:books", "train")))
    add("merge-key", _replace("target", "target: {<<: *s, corpus: mdsd:kitchen, split: test}").replace(
        "source: {", "source: &s {"), FULL)
    add("multi-source", _replace("source", "source: [mdsd:books, {corpus: mdsd:dvd, split: train}]"),
        expected(**{**VALUES, "source": [_data("mdsd:books"), _data("mdsd:dvd", "train")]}))
    add("empty-params", _replace("params", "params: {}"), expected(**{**VALUES, "params": {}}))
    # truncation at line boundaries: valid once the required keys are in
    for k in range(len(LINES)):
        keys = [x.split(":")[0] for x in LINES[:k]]
        ok = all(r in keys for r in REQUIRED)
        add(f"truncate-lines@{k}", _text(LINES[:k]), expected(**{x: VALUES[x] for x in keys}) if ok else ERROR)
    # truncation inside a line whose every prefix is wrong (inside a flow collection, or the value of
    # task/method); names and descriptions cannot tell
    for i, line in enumerate(LINES):
        key = line.split(":")[0]
        if key in ("name", "description"):
            continue
        start = line.index("{") + 1 if "{" in line else line.index("[") + 1 if "[" in line else len(key) + 3
        for cut in sorted({rng.randrange(start, len(line)) for _ in range(2)}):
            add(f"truncate-mid@{i + 1}:{cut}", _text(LINES[:i]) + line[:cut], line=i + 1)
    # structural byte flips
    for key, old, new in [("task", ": ", "; "), ("method", ": ", ":"), ("source", "{", "("),
                          ("target", "}", ")"), ("seeds", "[", "("), ("seeds", ", ", "; "),
                          ("unlabeled", ": ", " ")]:
        i = _line_of(key)
        line = LINES[i - 1]
        add(f"flip-{key}-{old.strip() or 'space'}", _replace(key, line.replace(old, new, 1)), line=i)
    i = rng.randrange(3, len(LINES))
    lines = list(LINES)
    lines[i - 1] += " " + lines.pop(i)
    add(f"flip-newline@{i}", _text(lines), line=i)
    add("indented-key", _replace("method", "  method: none"), line=_line_of("method"))
    # tabs as indentation
    add("tab-indent", _replace("method", "\tmethod: none"), line=_line_of("method"))
    add("tab-in-block", block.replace("  split: train", "\tsplit: train"), line=5)
    # duplicate keys
    add("duplicate-top-key", good + "method: scl\n", line=len(LINES) + 1)
    add("duplicate-flow-key", _replace("source", "source: {corpus: mdsd:books, corpus: mdsd:dvd}"),
        line=_line_of("source"))
    add("internal-key", good + "__line__: 3\n", line=len(LINES) + 1)
    # wrong types per key
    wrong = {
        "name": ["name: [a, b]", "name: 12", "name: ''"],
        "task": ["task: 3", "task: [sentiment]", "task: sentimental"],
        "source": ["source: 5", "source: []", "source: {corpus: mdsd:books, split: 3}",
                   "source: {corpus: mdsd:books, limit: 0}", "source: {corpus: mdsd:books, limit: true}",
                   "source: {corpus: mdsd:books, limit: 1.5}", "source: {corpus: mdsd:books, labeled: 'yes'}",
                   "source: {corpus: mdsd:books, lang: [en]}", "source: {corpus: mdsd:books, domain: [1, 2]}",
                   "source: {corpus: mdsd:books, options: []}", "source: {corpus: [mdsd:books]}",
                   "source: {corpus: mdsd:books, split: train, extra: 1}"],
        "method": ["method: 3", "method: [none]", "method: nonee"],
        "params": ["params: [1]", "params: []", "params: 0", "params: x"],
        "seeds": ["seeds: [-1]", "seeds: [1.5]", "seeds: '1,2'", "seeds: []", "seeds: [true]", "seeds: [1, 1]",
                  "seeds: [4294967296]", "seeds: 2024-01-01", "seeds: -3", "seeds: [1, x]"],
        "description": ["description: [a, b]", "description: {a: 1}"],
    }
    for key, variants in wrong.items():
        for v in variants:
            add(f"type-{v}", _replace(key, v), line=_line_of(key))
    add("task-kind-mismatch", _replace("task", "task: pos"), line=_line_of("source"))
    add("diagnose-3", good + "diagnose: 3\n", line=len(LINES) + 1)
    # bombs and deep nesting
    laughs = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    laughs += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    add("billion-laughs", "params:\n" + "".join("  " + x + "\n" for x in laughs) + _text(LINES[:-2]))
    add("billion-laughs-seeds", _text(LINES[:-1]) + "x: &x [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"x{i}: &x{i} [{', '.join(['*x' if i == 0 else f'*x{i - 1}'] * 10)}]\n" for i in range(8)) + "seeds: *x7\n")
    many = "params: {" + ", ".join(f"k{i}: *l" for i in range(5000)) + "}\n"
    add("many-aliases", _text(LINES[:-2]).replace("method: none", "method: &l none") + many)
    add("deep-nesting", _text(LINES[:-1]) + "seeds: " + "[" * 20000 + "1" + "]" * 20000 + "\n")
    add("deep-nesting-mapping", _text(LINES[:-2]) + "params: " + "{a: " * 20000 + "1" + "}" * 20000 + "\n")
    # encodings and characters
    add("latin1-description", _replace("description", "description: caf\xe9").encode("latin-1"),
        line=_line_of("description"))
    add("utf16", good.encode("utf-16"), line=None)
    add("control-char", _replace("description", "description: a\x01b"), line=_line_of("description"))
    add("nul-byte", good.replace("task: sentiment", "task: senti\x00ment"), line=_line_of("task"))
    add("invalid-utf8-key", good.encode() + b"\xff\xfe: 1\n", line=len(LINES) + 1)
    # not one mapping
    add("empty-file", "")
    add("list", "- a\n- b\n", line=1)
    add("two-documents", good + "---\n" + good, line=len(LINES) + 1)
    add("python-tag", good + "params: !!python/object/apply:os.system [echo]\n", line=len(LINES) + 1)
    add("undefined-alias", _replace("params", "params: *nothing"), line=_line_of("params"))

    return [Case(FORMAT, name, {FILE: data}, _load, expect, line=line, normalize=_norm)
            for name, data, expect, line in out]
