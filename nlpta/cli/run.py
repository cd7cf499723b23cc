"""``nlpta run``, ``nlpta task validate`` and ``nlpta methods``."""

from __future__ import annotations

import argparse
import sys

from ..errors import Errors, NlptaError


def parse_params(given: list[str] | None) -> dict:
    """``--param KEY=VALUE`` options as a dict, each value read as YAML (:func:`_parse_value`).

    Raises:
        NlptaError: E910 (no ``=`` or an empty key), E914 (a value that is not valid YAML).
    """
    params = {}
    for kv in given or []:
        k, sep, v = kv.partition("=")
        if not sep or not k.strip():
            raise Errors.E910(given=kv)
        params[k] = _parse_value(kv, v)
    return params


def _parse_value(given: str, v: str):
    """A ``--param`` value read as YAML (bounded alias expansion, like task files).

    Raises:
        NlptaError: E914 when the value is not valid YAML.
    """
    import yaml

    from ..tasks.yaml import safe_load

    try:
        return safe_load(v)
    except yaml.YAMLError as e:
        raise Errors.E914(given=given, detail=str(getattr(e, "problem", None) or e).strip()) from None


def parse_seeds(seeds: str | None, seed: int | None) -> list[int] | None:
    """The run seeds given by ``--seeds 1,2,3`` or ``--seed N`` (``None``: the task file's).

    Raises:
        NlptaError: E912 for a value that is not a list of distinct integers in ``0..2**32-1``
            (empty, non-integer, negative, repeated); E913 when both options are given.
    """
    from ..tasks.spec import MAX_SEED, seeds_problem

    if seeds is not None and seed is not None:
        raise Errors.E913(options="--seed and --seeds", hint="use --seeds N for one seed")
    expected = f"comma-separated distinct integers in 0..{MAX_SEED}, e.g. --seeds 1,2,3"
    if seed is not None:
        if not 0 <= seed <= MAX_SEED:
            raise Errors.E912(option="--seed", given=str(seed), expected=f"an integer in 0..{MAX_SEED}")
        return [seed]
    if seeds is None:
        return None
    out: list[int] = []
    for part in seeds.split(","):
        p = part.strip()
        if not p or not (p.isascii() and p.lstrip("+-").isdigit()):
            raise Errors.E912(option="--seeds", given=seeds, expected=expected)
        out.append(int(p))
    problem = seeds_problem(out)
    if problem:
        raise Errors.E912(option="--seeds", given=seeds, expected=f"{expected} ({problem})")
    return out


def cmd_run(a: argparse.Namespace) -> int:
    seeds = parse_seeds(a.seeds, a.seed)  # checked before anything is loaded
    params = parse_params(a.param)
    from ..pipeline import run_task

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
