"""Self-training for transformer taggers and classifiers: a model trained on the labeled source
pseudo-labels the target's unlabeled rows, keeps the confident ones and trains on, for a few rounds
(Yarowsky 1995; McClosky, Charniak & Johnson 2006 across domains; class-balanced selection as in
Zou et al. 2018). Optionally the pseudo-labels come from a *mean teacher* (Tarvainen & Valpola
2017): a copy of the student whose weights follow an exponential moving average of the student's.

:func:`self_train`:

1. round 0: :meth:`AdapterModel.fit` on the source rows;
2. each round ``r = 1..rounds``: the teacher (the student itself, or its EMA) gives class
   probabilities on the target rows (:meth:`AdapterModel.proba`); ``select`` picks the rows to
   pseudo-label and their labels; the student -- the same adapter and head, not a fresh one --
   trains on the source rows plus the pseudo-labeled rows (:meth:`AdapterModel.continue_fit`, a
   fresh optimiser and schedule per round). Pseudo-labels are chosen anew every round.

The selection itself is passed in (``select``): the method adapter in :mod:`nlpta.methods.finetune`
builds it from the classical self-training's selection functions
(:func:`nlpta.correction.self_training.select_pseudo_labels` and friends), so both self-trainings
choose pseudo-labels by one rule.

EMA teacher (``ema`` = the decay ``a``): created as a copy of the student after round 0; after
every optimiser step of rounds 1.. each weight the student trains moves as
``teacher = a * teacher + (1 - a) * student`` (:func:`ema_update`). The final model is the student.
With checkpoints, the teacher's weights are written beside each round's checkpoints
(``teacher-<step>.safetensors``) and read back on resume, so a resumed run equals an uninterrupted one.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import Errors
from .trainer import TrainConfig, latest_checkpoint

if TYPE_CHECKING:
    import datasets

    from .model import AdapterModel

# select(proba) -> (rows, labels, confidence): sorted row indices, each selected row's label (a class
# column; POS: an array of class columns, one per word with a subword) and every row's confidence
Selector = Callable[[list[np.ndarray]], tuple[np.ndarray, list[Any], np.ndarray]]
TEACHER = "teacher-{:08d}.safetensors"


def ema_update(teacher, student, decay: float) -> None:
    """One mean-teacher step (Tarvainen & Valpola 2017): every parameter the student trains
    (``requires_grad``) becomes ``decay * teacher + (1 - decay) * student`` in the teacher (matched
    by name; the frozen ones are equal in both and stay untouched); floating-point buffers are
    copied from the student. Returns ``None``."""
    import torch

    with torch.no_grad():
        t_params = dict(teacher.named_parameters())
        for name, p in student.named_parameters():
            if p.requires_grad:
                t_params[name].mul_(decay).add_(p.detach().to(t_params[name].device), alpha=1.0 - decay)
        t_bufs = dict(teacher.named_buffers())
        for name, b in student.named_buffers():
            if name in t_bufs and b.is_floating_point():
                t_bufs[name].copy_(b)


def _teacher_state(teacher, student) -> dict:
    return {n: p.detach().cpu().contiguous() for n, p in teacher.named_parameters()
            if n in {k for k, q in student.named_parameters() if q.requires_grad}}


def _save_teacher(root: Path, step: int, teacher, student, every: int) -> None:
    """The teacher's trained weights at ``step`` (atomically), keeping the two newest files."""
    from safetensors.torch import save_file

    root.mkdir(parents=True, exist_ok=True)
    tmp = root / (".tmp-" + TEACHER.format(step))
    save_file(_teacher_state(teacher, student), str(tmp))
    os.replace(tmp, root / TEACHER.format(step))
    for f in root.glob("teacher-*.safetensors"):
        if int(f.stem.split("-")[1]) < step - every:
            f.unlink(missing_ok=True)


def _load_teacher(root: Path, teacher) -> None:
    """Restore the teacher of the checkpoint the trainer will resume ``root`` from (if any).

    Raises:
        ModelFolderError: E311 the checkpoint has no teacher file beside it."""
    import torch
    from safetensors.torch import load_file

    ck = latest_checkpoint(root)
    if ck is None:
        return
    step = int(ck.name.split("-")[1])
    f = root / TEACHER.format(step)
    if not f.is_file():
        raise Errors.E311(path=ck, detail=f"it has no EMA teacher ({f.name}) beside it, so the run cannot resume "
                                          "exactly; delete the checkpoint folder or choose another checkpoint_dir")
    state = load_file(str(f))
    params = dict(teacher.named_parameters())
    with torch.no_grad():
        for k, v in state.items():
            params[k].copy_(v)


def _as_judge(model: AdapterModel, module) -> AdapterModel:
    """``model`` predicting with ``module`` (the teacher) instead of its own weights."""
    judge = copy.copy(model)
    judge.model_ = module
    return judge


def _pseudo_rows(model: AdapterModel, target: datasets.Dataset, rows: np.ndarray, labels: Sequence) -> dict:
    """The selected target rows with their pseudo-labels, as columns (``text``/``label`` or
    ``tokens``/``upos``). POS words past ``max_length`` (no prediction) get the fallback tag; they
    are truncated away again when training."""
    if model.kind == "sentiment":
        texts = target.select([int(i) for i in rows])["text"] if len(rows) else []
        return {"text": list(texts), "label": [int(c) for c in labels]}
    toks = target.select([int(i) for i in rows])["tokens"] if len(rows) else []
    tags = []
    for words, cols in zip(toks, labels, strict=True):
        t = [model.labels[int(c)] for c in cols]
        tags.append(t + [model.fallback_] * (len(words) - len(t)))
    return {"tokens": [list(w) for w in toks], "upos": tags}


def _per_class(model: AdapterModel, labels: Sequence) -> dict[str, int]:
    """Pseudo-labels per class: sentiment rows per class (``"0"``, ``"1"``); POS word tags."""
    if model.kind == "sentiment":
        counts = np.bincount(np.asarray([int(c) for c in labels], dtype=int), minlength=len(model.labels))
        return {str(c): int(n) for c, n in enumerate(counts)}
    flat = np.concatenate([np.asarray(c, dtype=int) for c in labels]) if len(labels) else np.zeros(0, dtype=int)
    counts = np.bincount(flat, minlength=len(model.labels))
    return {model.labels[c]: int(n) for c, n in enumerate(counts) if n}


def self_train(model: AdapterModel, source: datasets.Dataset, target: datasets.Dataset, select: Selector,
               rounds: int = 2, ema: float | None = None, threshold: float | None = None,
               round_config: Callable[[int], TrainConfig] | None = None, accelerate=None) -> list[dict]:
    """Self-train ``model`` (an unfitted :class:`~nlpta.finetune.model.AdapterModel`; its
    ``train_cfg`` trains round 0) on labeled ``source`` rows and unlabeled ``target`` rows (see
    the module docstring). ``round_config(r)`` gives round ``r``'s :class:`TrainConfig` (default:
    the model's own). ``threshold`` is only recorded (``select`` applies it).

    Returns:
        One dict per round: ``round``, ``threshold``, ``teacher`` (``"student"`` or ``"ema"``),
        ``selected``, ``per_class`` (sentiment: rows per class; POS: word tags of the selected
        sentences), ``mean_confidence`` of the selected rows, ``changed`` (the share of rows
        selected in this and the previous round whose pseudo-label changed; ``None`` in round 1),
        ``train_steps``. The fitted student is ``model``.

    Raises:
        ParameterError: E322 ``rounds`` not an integer >= 0, ``ema`` not in [0, 1).
    """
    import datasets as hf

    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 0:
        raise Errors.E322(what="rounds", expected="an integer >= 0", got=repr(rounds))
    if ema is not None and (isinstance(ema, bool) or not isinstance(ema, int | float) or not 0 <= ema < 1):
        raise Errors.E322(what="ema", expected="null or a decay in [0, 1), e.g. 0.999", got=repr(ema))
    model.fit(source)
    cols = ("text", "label") if model.kind == "sentiment" else ("tokens", "upos")
    base = {c: list(source[c]) for c in cols}
    teacher, history, prev = None, [], {}
    for r in range(1, rounds + 1):
        judge = model if teacher is None else _as_judge(model, teacher)
        rows, labels, conf = select(judge.proba(target))
        now = {int(i): tuple(np.atleast_1d(np.asarray(y)).tolist()) for i, y in zip(rows, labels, strict=True)}
        both = [i for i in now if i in prev]
        pseudo = _pseudo_rows(model, target, rows, labels)
        cfg = round_config(r) if round_config is not None else model.train_cfg
        after = None
        if ema is not None:
            if teacher is None:
                teacher = copy.deepcopy(model.model_).eval()
                for p in teacher.parameters():
                    p.requires_grad_(False)
            ck = Path(cfg.checkpoint_dir) if cfg.checkpoint_dir and cfg.checkpoint_every else None
            if ck is not None and cfg.resume:
                _load_teacher(ck, teacher)
            after = _ema_step(model, teacher, float(ema), ck, cfg.checkpoint_every)
        train_ds = hf.Dataset.from_dict({c: base[c] + pseudo[c] for c in cols})
        model.continue_fit(train_ds, cfg, accelerate=accelerate, after_step=after)
        history.append({"round": r, "threshold": threshold, "teacher": "student" if ema is None else "ema",
                        "selected": len(rows), "per_class": _per_class(model, labels),
                        "mean_confidence": float(np.mean(conf[rows])) if len(rows) else None,
                        "changed": float(np.mean([now[i] != prev[i] for i in both])) if both else None,
                        "train_steps": model.train_info_["steps"]})
        prev = now
    return history


def _ema_step(model: AdapterModel, teacher, decay: float, ck: Path | None, every: int) -> Callable[[int, int], None]:
    def after(step: int, total: int) -> None:
        ema_update(teacher, model.model_, decay)
        if ck is not None and (step + 1) % every == 0:
            _save_teacher(ck, step + 1, teacher, model.model_, every)

    return after
