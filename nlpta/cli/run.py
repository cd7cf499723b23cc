"""``nlpta run``, ``nlpta task validate`` and ``nlpta methods``."""

from __future__ import annotations

import argparse
import sys

from ..errors import Errors, NlptaError


def _parse_value(v: str):
    import yaml

    return yaml.safe_load(v)


def cmd_run(a: argparse.Namespace) -> int:
    from ..pipeline import run_task

    seeds = None
    if a.seeds:
        seeds = [int(s) for s in a.seeds.split(",") if s.strip()]
    if a.seed is not None:
        seeds = [a.seed]
    params = {}
    for kv in a.param or []:
        k, sep, v = kv.partition("=")
        if not sep:
            raise Errors.E910(given=kv)
        params[k] = _parse_value(v)
    res = run_task(a.task, method=a.method, seeds=seeds, out_dir=a.out, params=params, save_model=a.save_model)
    s = res.metrics["summary"]["accuracy"]
    ci = f" ± {100 * s['half_width']:.2f} (95% CI, {s['n']} seeds)" if s["n"] > 1 else ""
    print(f"{res.metrics['task']} [{res.metrics['method']}]: accuracy {100 * s['mean']:.2f}{ci}")
    print(f"report: {res.out_dir / 'report.md'}")
    return 0


def cmd_validate(a: argparse.Namespace) -> int:
    from ..methods import METHODS
    from ..tasks import load_task

    bad = 0
    for f in a.files:
        try:
            spec = load_task(f, known_methods=METHODS)
            print(f"ok      {f}  ({spec.name}: {spec.task}, method {spec.method})")
        except NlptaError as e:
            bad += 1
            print(f"invalid {e}", file=sys.stderr)
    return 1 if bad else 0


def cmd_methods(a: argparse.Namespace) -> int:
    from ..methods import METHODS

    for name, cls in sorted(METHODS.items()):
        doc = (cls.__doc__ or "").strip().splitlines()[0]
        print(f"{name:12s} {','.join(cls.tasks):15s} {doc}")
    return 0


def add_commands(sub) -> None:
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

    m = sub.add_parser("methods", help="list registered methods")
    m.set_defaults(fn=cmd_methods)
