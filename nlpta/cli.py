"""The ``nlpta`` command. Every subcommand maps to one function of the Python API.

    nlpta run tasks/senti-books-to-kitchen.yaml [--method M] [--seeds 1,2,3] [--out DIR]
    nlpta task validate tasks/*.yaml
    nlpta data list [--task pos|sentiment] [--all]
    nlpta data show NAME [--split S]
    nlpta data fetch NAME [--dry-run]
    nlpta methods

Method and evaluator packages add their own subcommands (see ``COMMAND_MODULES``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from .errors import NlptaError


def _parse_value(v: str):
    import yaml

    return yaml.safe_load(v)


def cmd_run(a: argparse.Namespace) -> int:
    from .pipeline import run_task

    seeds = None
    if a.seeds:
        seeds = [int(s) for s in a.seeds.split(",") if s.strip()]
    if a.seed is not None:
        seeds = [a.seed]
    params = {}
    for kv in a.param or []:
        k, sep, v = kv.partition("=")
        if not sep:
            raise NlptaError(f"--param {kv!r}: expected KEY=VALUE")
        params[k] = _parse_value(v)
    res = run_task(a.task, method=a.method, seeds=seeds, out_dir=a.out, params=params, save_model=a.save_model)
    s = res.metrics["summary"]["accuracy"]
    ci = f" ± {100 * s['half_width']:.2f} (95% CI, {s['n']} seeds)" if s["n"] > 1 else ""
    print(f"{res.metrics['task']} [{res.metrics['method']}]: accuracy {100 * s['mean']:.2f}{ci}")
    print(f"report: {res.out_dir / 'report.md'}")
    return 0


def cmd_validate(a: argparse.Namespace) -> int:
    from .tasks import load_task

    bad = 0
    for f in a.files:
        try:
            spec = load_task(f)
            print(f"ok      {f}  ({spec.name}: {spec.task}, method {spec.method})")
        except NlptaError as e:
            bad += 1
            print(f"invalid {e}", file=sys.stderr)
    return 1 if bad else 0


def cmd_data_list(a: argparse.Namespace) -> int:
    from .data import REGISTRY, data_root, list_corpora

    root = data_root()
    names = list_corpora(task=a.task, available_only=not a.all)
    print(f"data root: {root}")
    for n in names:
        c = REGISTRY[n]
        mark = "" if c.available(root) else "  (missing)"
        if a.sizes and c.available(root):
            from .data import load

            sizes = " ".join(f"{s}={len(load(n, split=s))}" for s in c.splits)
        else:
            sizes = " ".join(f"{s}={c.expected[s]}" if s in c.expected else s for s in c.splits)
        print(f"{n:24s} {c.task:9s} {c.lang:3s} {sizes:40s} {c.description}{mark}")
    if not names:
        print("no corpora found; set NLPTA_DATA (see README)")
    return 0


def cmd_data_show(a: argparse.Namespace) -> int:
    from .data import describe

    info = describe(a.name) if not a.split else None
    if a.split:
        from collections import Counter

        from .data import load

        ds = load(a.name, split=a.split)
        info = {"name": a.name, "split": a.split, "rows": len(ds), "domains": dict(Counter(ds["domain"]))}
    if a.json:
        print(json.dumps(info, indent=2, ensure_ascii=False))
        return 0
    print(f"{info['name']}: {info.get('description', '')}")
    for k in ("task", "lang", "path"):
        if k in info:
            print(f"  {k}: {info[k]}")
    for s, v in info.get("splits", {a.split: info}).items():
        extra = f", {v['tokens']} tokens" if "tokens" in v else ""
        print(f"  split {s}: {v['rows']} rows{extra}")
        print("    domains: " + ", ".join(f"{d} {n}" for d, n in v["domains"].items()))
        if "labels" in v:
            print("    labels: " + ", ".join(f"{t} {n}" for t, n in v["labels"].items()))
        if v.get("pool"):
            p = v["pool"]
            srcs = " + ".join(f"{p[k]} {k}" for k in ("hatn", "fdu") if k in p)
            print(f"    pool: {srcs}; removed {p['removed_labeled']} labeled/test reviews and "
                  f"{p['removed_duplicate']} duplicates; kept {p['kept']}")
    return 0


def cmd_data_fetch(a: argparse.Namespace) -> int:
    from .data.fetch import fetch

    for line in fetch(a.name, root=a.root, dry_run=a.dry_run):
        print(line)
    return 0


def cmd_methods(a: argparse.Namespace) -> int:
    from .methods import METHODS

    for name, cls in sorted(METHODS.items()):
        doc = (cls.__doc__ or "").strip().splitlines()[0]
        print(f"{name:12s} {','.join(cls.tasks):15s} {doc}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nlpta", description="Transfer and domain adaptation for NLP.")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress (INFO)")
    sub = p.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("run", help="run a task file and write a run folder")
    r.add_argument("task", help="a YAML task file (see tasks/)")
    r.add_argument("--method", help="override the task file's method")
    r.add_argument("--seed", type=int, help="run one seed")
    r.add_argument("--seeds", help="comma-separated seeds, e.g. 1,2,3 (mean and 95%% CI)")
    r.add_argument("--out", help="run folder (default runs/<task>-<method>)")
    r.add_argument("--param", action="append", metavar="KEY=VALUE", help="method parameter (YAML value)")
    r.add_argument("--save-model", action="store_true", help="write each seed's fitted model")
    r.set_defaults(fn=cmd_run)

    t = sub.add_parser("task", help="task files")
    tsub = t.add_subparsers(dest="tcmd", required=True)
    tv = tsub.add_parser("validate", help="validate task files")
    tv.add_argument("files", nargs="+")
    tv.set_defaults(fn=cmd_validate)

    d = sub.add_parser("data", help="corpora")
    dsub = d.add_subparsers(dest="dcmd", required=True)
    dl = dsub.add_parser("list", help="list registered corpora")
    dl.add_argument("--task", choices=["pos", "sentiment"])
    dl.add_argument("--all", action="store_true", help="also corpora missing from the data root")
    dl.add_argument("--sizes", action="store_true", help="read every corpus and print its rows per split (slow)")
    dl.set_defaults(fn=cmd_data_list)
    ds = dsub.add_parser("show", help="sizes, domains and labels of a corpus")
    ds.add_argument("name")
    ds.add_argument("--split")
    ds.add_argument("--json", action="store_true")
    ds.set_defaults(fn=cmd_data_show)
    df = dsub.add_parser("fetch", help="download a corpus from its public source (needs internet)")
    df.add_argument("name")
    df.add_argument("--root", help="data root to write into (default: the data root)")
    df.add_argument("--dry-run", action="store_true", help="print what would be downloaded")
    df.set_defaults(fn=cmd_data_fetch)

    m = sub.add_parser("methods", help="list registered methods")
    m.set_defaults(fn=cmd_methods)

    for mod in _plugin_modules(COMMAND_MODULES):
        mod.add_commands(sub)
    return p


# Packages that add subcommands: each module defines ``add_commands(subparsers)`` and imports its
# heavy dependencies inside the command functions, so ``nlpta --help`` stays fast.
COMMAND_MODULES = ("nlpta.evaluators.cli", "nlpta.pivots.cli", "nlpta.embeddings.cli", "nlpta.finetune.cli")


def _plugin_modules(names):
    import importlib

    for name in names:
        try:
            yield importlib.import_module(name)
        except ModuleNotFoundError as e:  # that package is not part of this build; anything else is a bug
            if e.name is None or not name.startswith(e.name):
                raise


def main(argv: list[str] | None = None) -> int:
    p = build_parser()
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO if a.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return a.fn(a)
    except NlptaError as e:
        print(f"nlpta: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
