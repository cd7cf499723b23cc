"""``nlpta adapt``: choose an adaptation method without target labels, run it, save its model."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import Errors

ROLES = ("source", "target", "unlabeled")


def _entry(a: argparse.Namespace, role: str) -> dict:
    e: dict = {"corpus": getattr(a, role)}
    for k in ("split", "domain", "lang"):
        v = getattr(a, f"{role}_{k}")
        if v:
            e[k] = v
    if role == "unlabeled":
        e["labeled"] = False
    return e


def task_from_args(a: argparse.Namespace):
    """The :class:`~nlpta.tasks.TaskSpec` of ``--source S --target T --unlabeled U`` (with their
    ``--*-split/--*-domain/--*-lang``, as ``nlpta diagnose`` takes them); the task kind is
    ``--task`` or the source corpus's."""
    from .. import data
    from ..data.schema import task_of
    from ..tasks import parse_task

    missing = [f"--{r}" for r in ROLES if not getattr(a, r)]
    if missing:
        raise Errors.E912(option=" ".join(missing), given=None,
                          expected="a task file, or --source, --target and --unlabeled (the target's unlabeled text)")
    entries = {r: _entry(a, r) for r in ROLES}
    kind = a.task
    if kind is None:
        s = entries["source"]
        kind = task_of(data.load(s["corpus"], split=s.get("split"), domain=s.get("domain"), lang=s.get("lang")))
    name = f"{Path(a.source).name or a.source}->{Path(a.target).name or a.target}"
    return parse_task({"name": name, "task": kind, **entries})


def cmd_adapt(a: argparse.Namespace) -> int:
    from .run import parse_params

    params = parse_params(a.param)
    cands = a.candidates.strip()
    if not cands or (cands != "auto" and not [c for c in cands.split(",") if c.strip()]):
        raise Errors.E912(option="--candidates", given=a.candidates, expected="auto or comma-separated method names")
    given = [f"--{r}" for r in ROLES if getattr(a, r)]
    if a.task_file and given:
        raise Errors.E912(option=" ".join(given), given=a.task_file,
                          expected="either a task file or --source/--target/--unlabeled, not both")
    from ..adaptation import adapt

    task = a.task_file if a.task_file else task_from_args(a)
    res = adapt(task, candidates=cands, seed=a.seed, out_dir=a.out, params=params, folds=a.folds,
                oracle=a.oracle, budget=a.budget, max_rows=a.max_rows, label_mix_guard=a.label_mix_guard, rule=a.rule)
    c = res.choice
    print(f"{c['task']}: chose {c['chosen']}" + (" (fallback)" if c["fallback"] else "") + f" -- {c['reason']}")
    if "regret" in c:
        print(f"oracle: {c['oracle']['best']}, regret {100 * c['regret']:.2f} points")
    print(f"report: {res.out_dir / 'report.md'}; model: {res.model_dir}")
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("adapt", help="choose an adaptation method without target labels (or fall back to none), "
                                     "run it and save its model")
    p.add_argument("task_file", nargs="?", metavar="TASK.yaml",
                   help="a YAML task file with an unlabeled: entry (or give --source/--target/--unlabeled)")
    for role in ROLES:
        p.add_argument(f"--{role}", help=f"{role} corpus name or path (any form nlpta.data.load reads)"
                       + ("; its labels, if any, are not read" if role == "unlabeled" else ""))
        p.add_argument(f"--{role}-split", help=f"{role} split")
        p.add_argument(f"--{role}-domain", help=f"keep only this {role} domain / genre")
        p.add_argument(f"--{role}-lang", help=f"keep only this {role} language")
    p.add_argument("--task", choices=["pos", "sentiment"], help="the task kind (default: the source corpus's)")
    p.add_argument("--candidates", default="auto",
                   help="comma-separated methods, or auto (sentiment: none, reweight-clf, sfa, self-train, "
                        "label-shift; POS: none, reweight-clf, self-train; on a gpu budget also lora / lora-dapt)")
    p.add_argument("--budget", choices=["auto", "cpu", "gpu"], default="auto",
                   help="which methods auto lists: cpu (classical), gpu (adds LoRA); auto: gpu where CUDA is available")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True, help="output folder: choice.json, report.md, run/")
    p.add_argument("--param", action="append", metavar="KEY=VALUE",
                   help="parameter given to every candidate (YAML value)")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds of the validators")
    p.add_argument("--max-rows", type=int, default=2000,
                   help="target rows the reverse and information-maximisation validators read (a seeded sample)")
    p.add_argument("--oracle", action=argparse.BooleanOptionalAction, default=None,
                   help="after choosing, score every candidate on the labeled target test rows and report the "
                        "oracle and the regret (default: wherever the target rows carry labels)")
    p.add_argument("--label-mix-guard", action=argparse.BooleanOptionalAction, default=True,
                   help="sentiment: fall back to none where the unlabeled rows' estimated label mix is far from the "
                        "source's (default: on; --no-label-mix-guard when the rows you will predict share that mix)")
    p.add_argument("--rule", choices=["safe", "gain"], default="safe",
                   help="safe (default): mean rank over five validators, kept only with a margin over none; gain: "
                        "the highest DoC among the candidates IWCV does not veto -- adapts far more often and gains "
                        "more, and loses on some pairs (BENCHMARKS.md)")
    p.set_defaults(fn=cmd_adapt)
