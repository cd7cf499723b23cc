"""One table of errors: every code is defined once in :class:`nlpta.errors.Errors` with its class
and message template, every user-facing raise in ``nlpta/`` goes through it, and the README lists
the codes."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import nlpta
from nlpta.errors import Errors, NlptaError, ParameterError, markdown_table, table

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "nlpta"


def _error_class_names() -> set[str]:
    for m in pkgutil.walk_packages(nlpta.__path__, "nlpta."):
        if m.name.endswith("__main__") or ".bench._child" in m.name:
            continue
        importlib.import_module(m.name)
    seen, todo = set(), [NlptaError]
    while todo:
        c = todo.pop()
        for s in c.__subclasses__():
            if s.__name__ not in seen:
                seen.add(s.__name__)
                todo.append(s)
    return seen | {"NlptaError"}


def _sources():
    for p in sorted(PKG.rglob("*.py")):
        yield p, ast.parse(p.read_text(encoding="utf-8"))


def _called_name(call: ast.Call) -> str | None:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def test_no_code_literal_outside_the_table():
    bad = []
    for p, tree in _sources():
        if p.name == "errors.py" and p.parent == PKG:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "code" and isinstance(node.value, ast.Constant) \
                    and str(node.value.value).startswith("E"):
                bad.append(f"{p.relative_to(ROOT)}:{node.value.lineno} code={node.value.value!r}")
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "code" for t in node.targets) \
                    and isinstance(node.value, ast.Constant) and str(node.value.value).startswith("E"):
                bad.append(f"{p.relative_to(ROOT)}:{node.lineno} code = {node.value.value!r}")
    assert not bad, "error codes written outside nlpta/errors.py:\n" + "\n".join(bad)


def test_every_raise_goes_through_the_table():
    classes = _error_class_names()
    bad = []
    for p, tree in _sources():
        if p.name == "errors.py" and p.parent == PKG:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                name = _called_name(node.exc)
                if name in classes:
                    bad.append(f"{p.relative_to(ROOT)}:{node.lineno} raise {name}(...)")
                if name in ("ValueError", "KeyError", "FileNotFoundError"):  # TypeError: a bug, not a user mistake
                    bad.append(f"{p.relative_to(ROOT)}:{node.lineno} raise {name}(...) (a user mistake is an NlptaError)")
    assert not bad, "raises that bypass nlpta.errors.Errors:\n" + "\n".join(bad)


def test_every_code_is_used_with_its_fields():
    used: dict[str, int] = {}
    bad = []
    for p, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "Errors":
                code = node.func.attr
                assert code in table(), f"{p.relative_to(ROOT)}:{node.lineno}: Errors.{code} is not in the table"
                used[code] = used.get(code, 0) + 1
                given = {k.arg for k in node.keywords}
                if None in given:  # **kwargs: checked at run time
                    continue
                missing = set(table()[code].fields) - given
                if missing:
                    bad.append(f"{p.relative_to(ROOT)}:{node.lineno} Errors.{code} lacks {sorted(missing)}")
    assert not bad, "\n".join(bad)
    unused = sorted(set(table()) - set(used))
    assert not unused, f"codes defined but never raised: {unused}"


def test_spec_builds_its_class_with_code_file_and_line():
    e = Errors.E102(path="x.conllu", line=3, detail="expected 10 columns, got 9")
    assert type(e).__name__ == "FormatError" and e.code == "E102"
    assert str(e) == "[E102] x.conllu:3: malformed: expected 10 columns, got 9"
    e = Errors.E304(detail="C must be positive")
    assert isinstance(e, ParameterError) and isinstance(e, ValueError)
    with pytest.raises(TypeError, match="detail"):
        Errors.E304()


def test_codes_are_unique_and_well_formed():
    codes = list(table())
    assert len(codes) == len(set(codes)) > 20
    assert all(len(c) == 4 and c[0] == "E" and c[1:].isdigit() for c in codes)


def test_readme_lists_the_codes():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme, "README's error table is stale: paste `python -m nlpta.errors`"
