"""``nlpta push`` and ``nlpta finetune``.

    nlpta push RUN_DIR --repo-id NAME [--private] [--seed S]       # token from $HF_TOKEN
        (RUN_DIR: a run folder with model-seed<S>/, or a folder from AdapterModel.save_pretrained)
    nlpta finetune tasks/pos-ewt-email-to-reviews.yaml --method lora [--max-steps N]
        [--max-length N] [--max-examples N] [--model NAME] [--out DIR] [--param K=V]
        [--checkpoint-every N --checkpoint-dir DIR]

``--checkpoint-every N`` needs ``--checkpoint-dir DIR`` (refused with ``E313`` otherwise): seed S
checkpoints into ``DIR/seed<S>/`` and a rerun with the same settings resumes from there; a folder
with checkpoints of another configuration is refused (``E311``). The checkpoints live outside the
run folder on purpose: the run folder is written as one unit at the end of the run, so a folder
inside it would not survive the kill that a checkpoint is for.
"""

from __future__ import annotations

import argparse


def cmd_push(a: argparse.Namespace) -> int:
    from ..finetune.hub import push

    url = push(a.run_dir, a.repo_id, private=a.private, seed=a.seed)
    print(f"pushed {a.run_dir} to {a.repo_id}: {url}")
    return 0


def cmd_finetune(a: argparse.Namespace) -> int:
    from ..pipeline import run_task
    from .run import parse_params, parse_seeds  # the same --param / --seeds rules as nlpta run

    params = parse_params(a.param)
    for key in ("model", "max_steps", "max_length", "max_examples", "checkpoint_every", "checkpoint_dir"):
        if getattr(a, key) is not None:
            params[key] = getattr(a, key)
    seeds = parse_seeds(a.seeds, None)
    res = run_task(a.task, method=a.method, seeds=seeds, out_dir=a.out, params=params, save_model=True)
    s = res.metrics["summary"]["accuracy"]
    print(f"{res.metrics['task']} [{res.metrics['method']}]: accuracy {100 * s['mean']:.2f}")
    print(f"run folder: {res.out_dir} (model in model-seed<S>/; push with `nlpta push {res.out_dir} --repo-id NAME`)")
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("push", help="push a fine-tuned run's model (peft adapter + head or full weights, config, "
                                    "tokenizer) and a model card to the Hub")
    p.add_argument("run_dir", help="run folder with model-seed<S>/ (or a folder written by save_pretrained)")
    p.add_argument("--repo-id", required=True, help="NAMESPACE/NAME on the Hub")
    p.add_argument("--private", action="store_true")
    p.add_argument("--seed", type=int, default=None, help="which model-seed<S> to push (default: the first)")
    p.set_defaults(fn=cmd_push)
    f = sub.add_parser("finetune", help="run a task with a transformer method and keep the model")
    f.add_argument("task")
    f.add_argument("--method", default="lora", help="lora, lora-dapt, full-ft, lora-dann, udalm or lora-self-train")
    f.add_argument("--model", default=None, help="zoo name (minilm-l6, multilingual-e5-small, mpnet-base), folder or Hub id")
    f.add_argument("--seeds", default=None)
    f.add_argument("--out", default=None)
    f.add_argument("--max-steps", type=int, default=None)
    f.add_argument("--max-length", type=int, default=None)
    f.add_argument("--max-examples", type=int, default=None)
    f.add_argument("--checkpoint-every", type=int, default=None,
                   help="write a checkpoint every N steps into --checkpoint-dir (needed with it)")
    f.add_argument("--checkpoint-dir", default=None,
                   help="checkpoint folder (seed S in DIR/seed<S>/); a rerun resumes from it")
    f.add_argument("--param", action="append", metavar="KEY=VALUE")
    f.set_defaults(fn=cmd_finetune)
