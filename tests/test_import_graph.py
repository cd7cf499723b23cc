"""The import graph of ``nlpta/`` (module-level and function-level imports, read with ``ast``):
no cycle between modules, and no arrow that DESIGN.md forbids.

Arrows point one way: ``errors``/``io``/``_sampling`` <- ``data`` <- ``tasks`` <- ``methods`` <-
``pipeline`` <- ``cli``/``bench``. The method families (``pivots``, ``embeddings``,
``reweighting``, ``correction``, ``adversarial``, ``finetune``) import ``data``, ``models`` and the shared
utilities, never ``tasks``, ``methods``, ``evaluators`` or each other sideways -- except
``finetune`` -> ``adversarial`` (the transformer DANN is built on the gradient reversal layer).
The evaluators import no method family (a scorer built from embeddings is passed in).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "nlpta"

BASE = {"errors", "io", "_sampling", "_domains", "_version"}
FAMILIES = {"pivots", "embeddings", "reweighting", "correction", "adversarial", "finetune"}
# unit -> the units it may import (besides itself and the root package's __version__)
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "_version": set(),
    "io": {"errors"},
    "_sampling": {"errors"},
    "_domains": {"errors"},
    "data": BASE,
    "models": BASE | {"data"},
    "tasks": BASE | {"data"},
    "pivots": BASE | {"data", "models"},
    "embeddings": BASE | {"data", "models"},
    "reweighting": BASE | {"data", "models"},
    "correction": BASE | {"data", "models"},
    "adversarial": BASE | {"data", "models"},
    "finetune": BASE | {"data", "models", "adversarial"},
    "evaluators": BASE | {"data", "models"},
    "methods": BASE | {"data", "models", "tasks", "evaluators"} | FAMILIES,
    "validation": BASE | {"data", "models", "tasks", "evaluators", "methods"} | FAMILIES,
    "pipeline": BASE | {"data", "models", "tasks", "evaluators", "methods", "validation"} | FAMILIES,
    "spacy": BASE | {"data", "models", "tasks", "methods"},
    "adaptation": BASE | {"data", "models", "tasks", "evaluators", "methods", "validation", "pipeline"} | FAMILIES,
    "bench": BASE | {"data", "models", "tasks", "evaluators", "methods", "validation", "pipeline", "adaptation"}
             | FAMILIES,
    "cli": BASE | {"data", "models", "tasks", "evaluators", "methods", "validation", "pipeline", "adaptation", "bench",
                   "spacy"} | FAMILIES,
    "__main__": {"cli"},
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _resolve(mod: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph() -> dict[str, set[str]]:
    """``module -> {imported nlpta modules}`` (a ``from pkg import name`` counts as ``pkg.name``
    when that is a module)."""
    mods = _modules()
    graph: dict[str, set[str]] = {}
    for mod, path in mods.items():
        is_pkg = path.name == "__init__.py"
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.split(".")[0] == "nlpta":
                        edges.add(a.name)
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(mod, is_pkg, node)
                if target.split(".")[0] != "nlpta":
                    continue
                for a in node.names:
                    sub = f"{target}.{a.name}"
                    edges.add(sub if sub in mods else target)
        graph[mod] = {e for e in edges if e in mods and e != mod}
    return graph


def _unit(mod: str) -> str:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 else "<root>"


def test_graph_reads_every_module():
    g = import_graph()
    assert "nlpta.methods.registry" in g and "nlpta.tasks" in g["nlpta.methods.registry"]
    assert "nlpta.errors" in g["nlpta.data.conllu"]
    assert len(g) > 60


def test_no_forbidden_arrow():
    bad = []
    for mod, edges in import_graph().items():
        u = _unit(mod)
        if u == "<root>":
            continue
        assert u in ALLOWED, f"{mod}: unit {u!r} has no rule in this test (add it as DESIGN.md says)"
        for e in edges:
            v = _unit(e)
            if v in (u, "<root>"):
                continue
            if v not in ALLOWED[u]:
                bad.append(f"{mod} -> {e}")
    assert not bad, "imports that DESIGN.md forbids:\n" + "\n".join(sorted(bad))


def test_root_package_imports_lazily():
    """``import nlpta`` pulls in nothing heavy: the root imports its API on first attribute use."""
    tree = ast.parse((PKG / "__init__.py").read_text(encoding="utf-8"))
    top = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.level > 0]
    assert all(all(a.name == "__version__" for a in n.names) or n.module == "_version" for n in top), \
        "nlpta/__init__.py imports submodules at module level"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _package_edges_dropped(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """A package's ``__init__`` re-exports its submodules; a submodule importing a sibling through
    the package (``from . import x``) is resolved to the sibling, so the edge submodule -> own
    package ``__init__`` is the only one dropped (it is how Python finds the sibling)."""
    out = {}
    for mod, edges in graph.items():
        out[mod] = {e for e in edges if not mod.startswith(e + ".")}
    return out


def test_no_import_cycle():
    cyc = _cycles(_package_edges_dropped(import_graph()))
    assert not cyc, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cyc)


@pytest.mark.parametrize("bad_edge", [("nlpta.tasks.spec", "nlpta.methods.registry"),
                                      ("nlpta.pivots.scl", "nlpta.tasks")])
def test_checker_catches_a_planted_arrow(bad_edge):
    """The checks can fail: a planted upward arrow is reported as forbidden and as a cycle."""
    g = import_graph()
    src, dst = bad_edge
    g[src] = set(g[src]) | {dst}
    assert _unit(dst) not in ALLOWED[_unit(src)]
    g["nlpta.tasks"] = set(g["nlpta.tasks"]) | {"nlpta.tasks.spec"}
    if src == "nlpta.tasks.spec":
        assert _cycles(_package_edges_dropped(g)), "a methods <-> tasks loop must be seen as a cycle"
