"""The ``nlpta`` command. Every subcommand maps to one function of the Python API.

    nlpta run tasks/senti-books-to-kitchen.yaml [--method M] [--seeds 1,2,3] [--out DIR]
    nlpta task validate tasks/*.yaml
    nlpta data list [--task pos|sentiment] [--all]
    nlpta data show NAME [--split S]
    nlpta data fetch NAME [--dry-run]
    nlpta methods
    nlpta predict MODEL_DIR --input FILE|- --out FILE|- [--format jsonl|conllu|csv] [--lang xx]
    nlpta adapt TASK.yaml | --source S --target T --unlabeled U [--candidates auto|m1,m2] [--budget cpu|gpu] [--rule safe|gain]
                [--seed S] --out DIR [--oracle]

Command groups live one per module: ``run``, ``task``, ``data``, ``methods`` here; ``diagnose``/``verdict``
in :mod:`.diagnose`, ``embed``/``align`` in :mod:`.embed`, ``finetune``/``push`` in :mod:`.finetune`,
``predict`` in :mod:`.predict`, ``adapt`` in :mod:`.adapt`. Each
module's ``add_commands(subparsers)`` imports heavy dependencies inside the command functions.
"""

from __future__ import annotations

import argparse
import logging
import sys

from ..errors import NlptaError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nlpta", description="Transfer and domain adaptation for NLP.")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress (INFO)")
    sub = p.add_subparsers(dest="cmd", required=True)

    from . import adapt, data, diagnose, embed, finetune, predict, run

    for mod in (run, data, diagnose, embed, finetune, predict, adapt):
        mod.add_commands(sub)
    return p


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
