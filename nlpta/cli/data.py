"""``nlpta data list|show|fetch``."""

from __future__ import annotations

import argparse
import json


def cmd_data_list(a: argparse.Namespace) -> int:
    from ..data import REGISTRY, data_root, list_corpora

    root = data_root()
    names = list_corpora(task=a.task, available_only=not a.all)
    print(f"data root: {root}")
    for n in names:
        c = REGISTRY[n]
        mark = "" if c.available(root) else "  (missing)"
        if a.sizes and c.available(root):
            from ..data import load

            sizes = " ".join(f"{s}={len(load(n, split=s))}" for s in c.splits)
        else:
            sizes = " ".join(f"{s}={c.expected[s]}" if s in c.expected else s for s in c.splits)
        print(f"{n:24s} {c.task:9s} {c.lang:3s} {sizes:40s} {c.description}{mark}")
    if not names:
        print("no corpora found; set NLPTA_DATA (see README)")
    return 0


def cmd_data_show(a: argparse.Namespace) -> int:
    from ..data import describe

    opts = {"task": a.task} if a.task else {}
    info = describe(a.name, **opts) if not a.split else None
    if a.split:
        from collections import Counter

        from ..data import load, pool_stats

        ds = load(a.name, split=a.split, **opts)
        info = {"name": a.name, "split": a.split, "rows": len(ds), "domains": dict(Counter(ds["domain"]))}
        pool = pool_stats(ds)  # the counts travel with the pool's rows
        if pool is not None:
            info["pool"] = pool
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
    from ..data.fetch import fetch

    for line in fetch(a.name, root=a.root, dry_run=a.dry_run):
        print(line)
    return 0


def add_commands(sub) -> None:
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
    ds.add_argument("--task", choices=["pos", "sentiment"],
                    help="for a file whose form does not tell (raw text with pos is tokenized)")
    ds.add_argument("--json", action="store_true")
    ds.set_defaults(fn=cmd_data_show)
    df = dsub.add_parser("fetch", help="download a corpus from its public source (needs internet)")
    df.add_argument("name")
    df.add_argument("--root", help="data root to write into (default: the data root)")
    df.add_argument("--dry-run", action="store_true", help="print what would be downloaded")
    df.set_defaults(fn=cmd_data_fetch)
