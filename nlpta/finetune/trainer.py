"""A plain training loop on :mod:`accelerate`, with atomic checkpoints and exact resumption.

One loop serves token classification, sequence classification and masked-LM training. It runs
in one process or under ``accelerate launch`` (data-parallel: each process takes its share of
every global batch; DDP averages the gradients, so N processes train one model).

Determinism. The order of the examples in epoch ``e`` is a permutation seeded by ``(seed, e)``
and a step's batch is found from the step number alone; any randomness inside a batch (MLM
masking) is seeded by the step too; dropout draws from torch's RNG, whose state is saved. A
checkpoint holds the trainable weights (safetensors), the optimizer state (``torch.save`` of
tensors, read back with ``weights_only=True``), the LR-schedule state and the step (JSON) and the
RNG state of every process; it is written to a temporary folder and renamed, so a run killed at
any moment leaves the previous checkpoint intact. A resumed run ends with the same weights as an
uninterrupted one.

Fingerprints. Every checkpoint's ``state.json`` carries the fingerprint of the run that wrote it
(:func:`run_fingerprint`): the optimisation settings that shape the trajectory (learning rate,
epochs / steps, batch size, warm-up, weight decay, clipping, seed), a digest of the training
examples, the names and shapes of the trainable tensors, and whatever the caller knows
(``TrainConfig.fingerprint``: the method adapter passes the task kind, method, parameters, seed and
model). A checkpoint folder holding a checkpoint of another fingerprint is refused (``E311``)
rather than resumed from: a run never silently continues another run's weights. The method
adapters give each seed its own folder (``<checkpoint_dir>/seed<S>/``).
``checkpoint_every > 0`` without a ``checkpoint_dir`` is refused (``E313``): it would write nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .encode import to_device

log = logging.getLogger(__name__)


class TrainingInterrupted(RuntimeError):
    """Raised by ``stop_after`` (a simulated kill, for tests and for splitting a long run)."""


@dataclass
class TrainConfig:
    """Optimisation settings. ``max_steps`` overrides ``epochs``; ``checkpoint_every`` (steps, 0 =
    never) writes into ``checkpoint_dir``; ``resume`` continues from its latest checkpoint.

    ``seed`` seeds the head's initialisation, the example order of every epoch, MLM masking and
    dropout. It keeps the Hugging Face name (``transformers.TrainingArguments.seed``) rather than
    the ``random_state`` of nlpta's scikit-learn estimators, since this is the Hugging Face side.

    ``fingerprint`` (JSON-able) identifies the run beyond what the trainer sees (task, method,
    parameters, model); it goes into every checkpoint's fingerprint (:func:`run_fingerprint`)."""

    lr: float = 1e-3
    epochs: float = 1.0
    batch_size: int = 16
    max_steps: int | None = None
    warmup_ratio: float = 0.06
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    seed: int = 0
    checkpoint_dir: str | None = None
    checkpoint_every: int = 0
    keep_checkpoints: int = 1
    resume: bool = True
    stop_after: int | None = None
    log_every: int = 20
    desc: str = "train"
    report_dir: str | None = None
    fingerprint: dict[str, Any] | None = None


# the TrainConfig fields that shape the training trajectory (checkpoint bookkeeping is not one)
TRAJECTORY_FIELDS = ("lr", "epochs", "batch_size", "max_steps", "warmup_ratio", "weight_decay", "grad_clip", "seed")


def _json_default(o):
    if hasattr(o, "tolist"):  # numpy arrays and scalars, torch tensors
        return o.tolist()
    return str(o)


def examples_digest(examples: list[dict]) -> dict[str, Any]:
    """``{"n", "sha256"}`` of encoded examples (JSON of each, keys sorted, one per line): equal
    digests = the same examples in the same order."""
    h = hashlib.sha256()
    for ex in examples:
        h.update(json.dumps(ex, sort_keys=True, default=_json_default).encode())
        h.update(b"\n")
    return {"n": len(examples), "sha256": h.hexdigest()}


def run_fingerprint(cfg: TrainConfig, examples: list[dict], model) -> dict[str, Any]:
    """The fingerprint of a training run, stored in its checkpoints: ``{"train": the trajectory
    settings of cfg, "examples": {"n", "sha256"}, "trainable": {"n", "sha256"} (names, shapes and
    dtypes of the trainable tensors), "run": cfg.fingerprint}``. Two runs with equal
    fingerprints take the same steps; a checkpoint of another fingerprint is not resumed from."""
    t = hashlib.sha256()
    tr = _trainable(model)
    for k, v in sorted(tr.items()):
        t.update(f"{k}:{tuple(v.shape)}:{v.dtype}\n".encode())
    run = json.loads(json.dumps(cfg.fingerprint, sort_keys=True, default=_json_default))
    return {"train": {k: getattr(cfg, k) for k in TRAJECTORY_FIELDS},
            "examples": examples_digest(examples),
            "trainable": {"n": len(tr), "sha256": t.hexdigest()}, "run": run}


def _differences(a: Any, b: Any, where: str = "") -> list[str]:
    """Leaf paths where the fingerprints ``a`` (checkpoint) and ``b`` (this run) differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            out += _differences(a.get(k), b.get(k), f"{where}.{k}" if where else str(k))
        return out
    return [] if a == b else [f"{where or 'fingerprint'}: {_short(a)} (checkpoint) vs {_short(b)} (this run)"]


def _short(x: Any, n: int = 60) -> str:
    s = json.dumps(x, default=str)
    return s if len(s) <= n else s[: n - 3] + "..."


def check_checkpoints(root: str | Path, fingerprint: dict[str, Any]) -> None:
    """Refuse (``E311``) a checkpoint folder holding a checkpoint of another run: one without a
    fingerprint, or whose fingerprint differs from ``fingerprint`` (the message names the
    settings that differ). Returns ``None`` when every checkpoint there is of this run."""
    from ..errors import Errors

    if not Path(root).is_dir():
        return
    for ck in _ckpt_dirs(Path(root)):
        try:
            state = json.loads((ck / "state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise Errors.E311(path=ck / "state.json", detail=f"its state cannot be read ({e}); delete this "
                                                              "checkpoint or choose another checkpoint_dir") from None
        theirs = state.get("fingerprint") if isinstance(state, dict) else None
        if theirs is None:
            raise Errors.E311(path=ck, detail="it carries no run fingerprint (written by an older nlpta?), so it "
                                              "cannot be matched to this run; delete it or choose another "
                                              "checkpoint_dir")
        if theirs != fingerprint:
            diff = _differences(theirs, fingerprint)
            shown = "; ".join(diff[:4]) + (f"; and {len(diff) - 4} more" if len(diff) > 4 else "")
            raise Errors.E311(path=ck, detail=f"it was written by another configuration ({shown}); delete it or "
                                              "choose another checkpoint_dir")


def accelerator():
    """The process's :class:`accelerate.Accelerator` (on the CPU when no CUDA device is visible):
    plain in one process, data-parallel under ``accelerate launch --multi_gpu --num_processes N``."""
    import torch
    from accelerate import Accelerator

    acc = Accelerator(cpu=not torch.cuda.is_available())
    return acc


def _ckpt_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("checkpoint-*") if p.is_dir() and (p / "state.json").exists())


def latest_checkpoint(root: str | Path | None) -> Path | None:
    """The newest complete checkpoint folder under ``root`` (or ``None``)."""
    if not root or not Path(root).is_dir():
        return None
    d = _ckpt_dirs(Path(root))
    return d[-1] if d else None


def _trainable(model) -> dict[str, Any]:
    return {n: p for n, p in model.named_parameters() if p.requires_grad}


def train(model, examples: list[dict], collate: Callable[[list[dict], int], dict], cfg: TrainConfig,
          acc=None, on_step: Callable[[int, int], None] | None = None,
          after_step: Callable[[int, int], None] | None = None) -> dict:
    """Train ``model`` (its trainable parameters) on ``examples``.

    Args:
        collate: ``collate(items, step) -> batch dict`` (tensors the model's forward takes, with
            ``labels``).
        acc: an Accelerator (default: :func:`accelerator`).
        on_step: optional ``on_step(step, total)`` called before each optimiser step (0-based
            ``step``, also after a resume), e.g. to follow a schedule such as DANN's lambda.
        after_step: optional ``after_step(step, total)`` called after each optimiser step and before
            that step's checkpoint is written (0-based ``step``), e.g. to update an exponential
            moving average of the weights (a mean teacher) from the new weights.

    Returns:
        ``{"steps", "epochs", "losses" (mean loss per log window), "seconds", "resumed_from",
        "world_size", "shard_ids" (first batch's example indices on this process)}``.

    Raises:
        TrainingInterrupted: after ``cfg.stop_after`` steps (the checkpoint of that step is written
        first when it falls on ``checkpoint_every``).
    """
    import torch
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    ck_root = Path(cfg.checkpoint_dir) if cfg.checkpoint_dir else None
    if cfg.checkpoint_every and ck_root is None:
        from ..errors import Errors

        raise Errors.E313(every=cfg.checkpoint_every, detail="no checkpoint_dir is set, so nothing would be written; "
                                                             "set checkpoint_dir (nlpta finetune --checkpoint-dir)")
    fingerprint = None
    if ck_root is not None:  # before prepare(): the names of the bare model
        fingerprint = run_fingerprint(cfg, examples, model)
        check_checkpoints(ck_root, fingerprint)
    acc = acc or accelerator()
    world, rank = acc.num_processes, acc.process_index
    n = len(examples)
    gbs = cfg.batch_size * world
    steps_per_epoch = max(1, math.ceil(n / gbs))
    if world > 1 and n - (steps_per_epoch - 1) * gbs < world:  # every process needs an example
        steps_per_epoch = max(1, steps_per_epoch - 1)
    total = cfg.max_steps or max(1, math.ceil(cfg.epochs * steps_per_epoch))
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim > 1]
    no_decay = [p for p in params if p.ndim <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr)
    sched = get_linear_schedule_with_warmup(opt, int(cfg.warmup_ratio * total), total)
    model, opt = acc.prepare(model, opt)
    torch.manual_seed(cfg.seed * 7919 + rank)
    start, history, window, resumed = 0, [], [], None
    if ck_root is not None and cfg.resume and (ck := latest_checkpoint(ck_root)) is not None:
        start, history, window = _load_checkpoint(ck, acc.unwrap_model(model), opt, sched, rank)
        resumed = ck.name
        log.info("resumed from %s (step %d of %d)", ck, start, total)
    t0 = time.perf_counter()
    first_ids: list[int] = []
    bar = tqdm(total=total, initial=start, desc=cfg.desc, unit="step", disable=None if acc.is_main_process else True,
               leave=False)
    for step in range(start, total):
        epoch, pos = divmod(step, steps_per_epoch)
        perm = np.random.default_rng([cfg.seed, epoch]).permutation(n)
        mine = perm[pos * gbs:(pos + 1) * gbs][rank::world]
        if not first_ids:
            first_ids = [int(i) for i in mine]
        batch = to_device(collate([examples[i] for i in mine], step), acc.device)
        if on_step is not None:
            on_step(step, total)
        model.train()
        loss = model(**batch).loss
        acc.backward(loss)
        if cfg.grad_clip:
            acc.clip_grad_norm_(params, cfg.grad_clip)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        if after_step is not None:
            after_step(step, total)
        window.append(float(loss.detach()))
        bar.update(1)
        if len(window) >= cfg.log_every or step + 1 == total:
            history.append({"step": step + 1, "loss": float(np.mean(window))})
            bar.set_postfix(loss=f"{history[-1]['loss']:.4f}")
            log.info("%s step %d/%d loss %.4f", cfg.desc, step + 1, total, history[-1]["loss"])
            window = []
        if ck_root is not None and cfg.checkpoint_every and (step + 1) % cfg.checkpoint_every == 0:
            _save_checkpoint(ck_root, step + 1, acc, acc.unwrap_model(model), opt, sched, history, window, cfg,
                             fingerprint)
        if cfg.stop_after is not None and step + 1 >= cfg.stop_after and step + 1 < total:
            bar.close()
            raise TrainingInterrupted(f"stopped after step {step + 1} of {total} (stop_after)")
    bar.close()
    acc.wait_for_everyone()
    if cfg.report_dir:
        _write_report(Path(cfg.report_dir), acc, acc.unwrap_model(model), first_ids, history, cfg)
    return {"steps": total, "epochs": total / steps_per_epoch, "losses": history,
            "seconds": time.perf_counter() - t0, "resumed_from": resumed, "world_size": world,
            "shard_ids": first_ids, "steps_per_epoch": steps_per_epoch}


def weights_digest(model) -> str:
    """SHA-256 of the trainable weights (names and bytes): equal digests = the same model."""
    import hashlib

    h = hashlib.sha256()
    for k, v in sorted(_trainable(model).items()):
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def _write_report(root: Path, acc, model, first_ids, history, cfg: TrainConfig) -> None:
    """Per-process record of a run (world size, this process's first shard, weight digest)."""
    from ..io import atomic_write_json

    name = cfg.desc.replace(" ", "_")
    atomic_write_json(root / f"{name}-rank{acc.process_index}.json", {
        "rank": acc.process_index, "world_size": acc.num_processes, "first_shard": first_ids,
        "weights_sha256": weights_digest(model), "losses": history,
        "distributed_type": str(acc.distributed_type)})


def _save_checkpoint(root: Path, step: int, acc, model, opt, sched, history, window, cfg: TrainConfig,
                     fingerprint: dict | None = None) -> Path:
    import torch
    from safetensors.torch import save_file

    from ..io import atomic_write_json

    final = root / f"checkpoint-{step:08d}"
    tmp = root / f".tmp-checkpoint-{step:08d}"
    if acc.is_main_process:
        root.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
    acc.wait_for_everyone()
    rng = {"torch": torch.get_rng_state()}
    if acc.device.type == "cuda":  # dropout on a GPU draws from the device's generator
        rng["cuda"] = torch.cuda.get_rng_state(acc.device)
    save_file(rng, str(tmp / f"rng-{acc.process_index}.safetensors"))
    acc.wait_for_everyone()
    if acc.is_main_process:
        save_file({k: v.detach().cpu().contiguous() for k, v in _trainable(model).items()},
                  str(tmp / "trainable.safetensors"))
        torch.save(opt.state_dict(), tmp / "optimizer.pt")
        sd = sched.state_dict()
        atomic_write_json(tmp / "scheduler.json", {k: v for k, v in sd.items() if k != "lr_lambdas"})
        atomic_write_json(tmp / "state.json", {"step": step, "history": history, "window": window, "config": asdict(cfg),
                                               "world_size": acc.num_processes, "fingerprint": fingerprint})
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        for old in _ckpt_dirs(root)[: -max(1, cfg.keep_checkpoints)]:
            shutil.rmtree(old, ignore_errors=True)
        log.info("checkpoint %s", final)
    acc.wait_for_everyone()
    return final


def _load_checkpoint(ck: Path, model, opt, sched, rank: int) -> tuple[int, list, list]:
    import torch
    from safetensors.torch import load_file

    state = json.loads((ck / "state.json").read_text())
    weights = load_file(str(ck / "trainable.safetensors"))
    params = _trainable(model)
    missing = set(params) - set(weights)
    if missing:
        from ..errors import Errors

        raise Errors.E311(path=ck, detail=f"it lacks {len(missing)} trainable tensors (e.g. {sorted(missing)[0]}); "
                                          "was it written by a different model?")
    with torch.no_grad():
        for k, p in params.items():
            p.copy_(weights[k])
    opt.load_state_dict(torch.load(ck / "optimizer.pt", weights_only=True))
    sd = sched.state_dict()
    sd.update(json.loads((ck / "scheduler.json").read_text()))
    sched.load_state_dict(sd)
    rng = ck / f"rng-{rank}.safetensors"
    if rng.exists():
        states = load_file(str(rng))
        torch.set_rng_state(states["torch"])
        if "cuda" in states and torch.cuda.is_available():
            torch.cuda.set_rng_state(states["cuda"], next(model.parameters()).device)
    return int(state["step"]), list(state["history"]), list(state.get("window", []))
