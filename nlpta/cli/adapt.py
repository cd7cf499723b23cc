"""``nlpta adapt``: choose an adaptation method without target labels, run it, save its model."""

from __future__ import annotations

import argparse

from ..errors import Errors


def cmd_adapt(a: argparse.Namespace) -> int:
    from .run import _parse_value

    params = {}
    for kv in a.param or []:
        k, sep, v = kv.partition("=")
        if not sep or not k.strip():
            raise Errors.E910(given=kv)
        params[k] = _parse_value(kv, v)
    cands = a.candidates.strip()
    if not cands or (cands != "auto" and not [c for c in cands.split(",") if c.strip()]):
        raise Errors.E912(option="--candidates", given=a.candidates, expected="auto or comma-separated method names")
    from ..adaptation import adapt

    res = adapt(a.task, candidates=cands, seed=a.seed, out_dir=a.out, params=params, folds=a.folds,
                oracle=a.oracle)
    c = res.choice
    print(f"{c['task']}: chose {c['chosen']}" + (" (fallback)" if c["fallback"] else "") + f" -- {c['reason']}")
    if "regret" in c:
        print(f"oracle: {c['oracle']['best']}, regret {100 * c['regret']:.2f} points")
    print(f"report: {res.out_dir / 'report.md'}; model: {res.model_dir}")
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("adapt", help="choose an adaptation method without target labels (or fall back to none), "
                                     "run it and save its model")
    p.add_argument("task", help="a YAML task file with an unlabeled: entry")
    p.add_argument("--candidates", default="auto",
                   help="comma-separated methods, or auto (sentiment: none, reweight-clf, scl-mi, self-train, "
                        "label-shift; POS: none, reweight-clf, self-train; CPU only)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True, help="output folder: choice.json, report.md, run/")
    p.add_argument("--param", action="append", metavar="KEY=VALUE",
                   help="parameter given to every candidate (YAML value)")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds of the validators")
    p.add_argument("--oracle", action="store_true",
                   help="after choosing, score every candidate on the labeled target test rows and report the regret")
    p.set_defaults(fn=cmd_adapt)
