"""``nlpta diagnose`` (why would a model degrade?) and ``nlpta verdict`` (did adapting hurt?)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def cmd_diagnose(a: argparse.Namespace) -> int:
    from .. import data
    from ..data.schema import task_of
    from ..errors import Errors
    from ..evaluators.report import diagnose
    from ..pipeline import context_options

    if a.out and Path(a.out).exists() and not Path(a.out).is_dir():  # before the work, not after it
        raise Errors.E920(path=a.out, what="an existing file" if Path(a.out).is_file() else "not a folder")
    ds = {}
    for role in ("source", "target"):
        ds[role] = data.load(getattr(a, role), split=getattr(a, f"{role}_split"), domain=getattr(a, f"{role}_domain"),
                             lang=getattr(a, f"{role}_lang"), task=a.task)
        ds[role] = data.sample_rows(ds[role], a.limit or None, a.seed)
    if a.task and task_of(ds["source"]) != a.task:
        raise Errors.E111(detail=f"--task {a.task} given, but {a.source} is a {task_of(ds['source'])} corpus")
    embed = None
    if a.embed:
        from ..models.encoders import minilm_embedder

        embed = minilm_embedder(a.embed)

    def name(role: str) -> str:
        parts = [getattr(a, role)]
        for k in ("split", "domain", "lang"):
            v = getattr(a, f"{role}_{k}")
            if v:
                parts.append(f"{k}={v}")
        return " ".join(parts)

    rep = diagnose(ds["source"], ds["target"], task=a.task, mode=a.mode, source_name=name("source"),
                   target_name=name("target"), embed=embed, seed=a.seed, n_permutations=a.permutations,
                   context_options=context_options(a.contexts, a.seed))
    if a.out:
        out = rep.save(a.out, top=a.top, plots=not a.no_plots)
        print(f"wrote {out}/bias.json, report.md" + ("" if a.no_plots else ", frequency_bias.png, context_bias.png"))
    if a.json:
        print(json.dumps(rep.to_dict(a.top)["summary"], indent=1))
    else:
        print("\n".join(f"- {f}" for f in rep.summary["findings"]))
    return 0


def cmd_verdict(a: argparse.Namespace) -> int:
    from ..evaluators.transfer import negative_transfer

    res = negative_transfer(Path(a.adapted), Path(a.baseline), Path(a.target_only) if a.target_only else None)
    if a.json:
        print(json.dumps(res, indent=1))
        return 0
    c = res["vs_source_only"]
    print(f"adapted - source-only: {100 * c['diff']:+.2f} points, 95% CI {100 * c['low']:+.2f} to {100 * c['high']:+.2f} "
          f"({'paired over' if c['paired'] else 'Welch,'} {c['n']} seeds): {c['verdict']}")
    if "vs_target_only" in res:
        c = res["vs_target_only"]
        print(f"adapted - target-only: {100 * c['diff']:+.2f} points, 95% CI {100 * c['low']:+.2f} to "
              f"{100 * c['high']:+.2f}: {c['verdict']}; gap closed: "
              + (f"{100 * res['gap_closed']:.0f}%" if res.get("gap_closed") is not None else "n/a"))
    return 0


def add_commands(sub) -> None:
    d = sub.add_parser("diagnose", help="why might a model degrade from source to target? (bias report)")
    for role in ("source", "target"):
        d.add_argument(f"--{role}", required=True, help=f"{role} corpus name, path (any form nlpta.data.load reads: CoNLL-U, "
                       "JSONL/CSV/TSV rows, token<TAB>tag or word/TAG text, raw text with --task pos, a "
                       "save_to_disk folder) or hf:owner/name")
        d.add_argument(f"--{role}-split", help=f"{role} split (default: all labeled splits)")
        d.add_argument(f"--{role}-domain", help=f"keep only this {role} domain / genre")
        d.add_argument(f"--{role}-lang", help=f"keep only this {role} language")
    d.add_argument("--task", choices=["pos", "sentiment"], help="check the corpora are of this task; with pos, raw text is tokenized (unlabeled)")
    d.add_argument("--mode", choices=["auto", "labeled", "unlabeled"], default="auto",
                   help="context bias / label shift with or without target labels (auto: labeled if the target has labels)")
    d.add_argument("--out", help="write bias.json, report.md and plots into this folder")
    d.add_argument("--limit", type=int, help="sample at most this many rows per side")
    d.add_argument("--embed", nargs="?", const="minilm-l6",
                   help="also measure domain distance over sentence embeddings (default model: minilm-l6, or a local folder)")
    d.add_argument("--contexts", choices=["classes", "words", "embeddings"], default="classes",
                   help="context bias without target labels: neighbours as word classes or words, or rank words by "
                        "the semantic shift of word2vec embeddings trained on each side (embeddings)")
    d.add_argument("--top", type=int, default=200, help="rows per table in bias.json")
    d.add_argument("--permutations", type=int, default=200, help="MMD permutation count")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--no-plots", action="store_true")
    d.add_argument("--json", action="store_true", help="print the summary as JSON")
    d.set_defaults(fn=cmd_diagnose)

    v = sub.add_parser("verdict", help="did adapting help or hurt? (negative transfer, CI over seeds)")
    v.add_argument("adapted", help="run folder (or metrics.json) of the adapted method")
    v.add_argument("baseline", help="run folder of the source-only baseline (method none)")
    v.add_argument("--target-only", help="run folder of a target-only model (method in-domain)")
    v.add_argument("--json", action="store_true")
    v.set_defaults(fn=cmd_verdict)
