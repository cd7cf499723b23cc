"""Run a task file with a transformer method under ``accelerate launch`` (data-parallel).

On this CPU-only machine, two processes::

    accelerate launch --multi_gpu --num_processes 2 --num_machines 1 --mixed_precision no \\
        --dynamo_backend no scripts/train_lora.py tasks/senti-books-to-kitchen.yaml \\
        --method lora --max-steps 50 --max-length 128 --out runs/bk-lora-ddp

On GPUs the same command (without forcing CPU) scales to several GPUs or machines
(``--num_machines``, ``--machine_rank``, ``--main_process_ip``). A single process
(``python scripts/train_lora.py ...``) works too. Every process loads the task and takes its share
of each global batch (``batch_size`` per process); gradients are averaged, so the processes train
one model. The main process writes the run folder (metrics.json, predictions.jsonl, report.md,
task.yaml, model-seed<S>/ with the model: peft adapter + head, loadable with ``nlpta.load_model``
or plain peft + transformers); ``--report-dir`` makes every process write its
weight digest and first data shard (used by the tests).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("task", help="task YAML file")
    ap.add_argument("--method", default=None, help="lora, lora-dapt, full-ft, lora-dann, udalm or lora-self-train (default: the task file's)")
    ap.add_argument("--seeds", default=None, help="comma-separated seeds (default: the task file's)")
    ap.add_argument("--out", default=None, help="run folder (default runs/<task>-<method>)")
    ap.add_argument("--model", default=None, help="zoo name, local folder or Hub id")
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--max-length", type=int, default=None)
    ap.add_argument("--max-examples", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=None, help="per process")
    ap.add_argument("--checkpoint-every", type=int, default=None, help="steps between checkpoints (resumes)")
    ap.add_argument("--report-dir", default=None, help="every process writes its weight digest here")
    ap.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="other method parameters")
    a = ap.parse_args(argv)

    import yaml

    from nlpta.finetune.trainer import accelerator
    from nlpta.pipeline import run_task
    from nlpta.tasks import load_task

    acc = accelerator()
    logging.basicConfig(level=logging.INFO if acc.is_main_process else logging.WARNING,
                        format=f"%(asctime)s [rank {acc.process_index}] %(levelname)s %(name)s: %(message)s")
    spec = load_task(a.task)
    method = a.method or spec.method
    out = Path(a.out) if a.out else Path("runs") / f"{spec.name}-{method}"
    params: dict = {}
    for kv in a.param:
        k, sep, v = kv.partition("=")
        if not sep:
            ap.error(f"--param {kv!r}: expected KEY=VALUE")
        params[k] = yaml.safe_load(v)
    for key, val in (("model", a.model), ("max_steps", a.max_steps), ("max_length", a.max_length),
                     ("max_examples", a.max_examples), ("batch_size", a.batch_size),
                     ("checkpoint_every", a.checkpoint_every), ("report_dir", a.report_dir)):
        if val is not None:
            params[key] = val
    if params.get("checkpoint_every"):
        params.setdefault("checkpoint_dir", str(out / "checkpoints"))
    seeds = [int(s) for s in a.seeds.split(",")] if a.seeds else None
    logging.getLogger("nlpta").info("%s: %d process(es), %s", spec.name, acc.num_processes, acc.distributed_type)
    res = run_task(spec, method=method, seeds=seeds, out_dir=out, params=params, save_model=True,
                   write=acc.is_main_process)
    acc.wait_for_everyone()
    if acc.is_main_process:
        s = res.metrics["summary"]["accuracy"]
        print(f"{spec.name} [{method}] on {acc.num_processes} process(es): accuracy {100 * s['mean']:.2f}")
        print(f"run folder: {out}")
    acc.end_training() if hasattr(acc, "end_training") else None
    return 0


if __name__ == "__main__":
    sys.exit(main())
