"""Registered transformer methods: ``lora``, ``lora-dapt``, ``full-ft`` and ``lora-dann`` (for POS
and sentiment), and the shallow ``dann`` (sentiment).

* ``lora`` -- a LoRA adapter (Hu et al. 2022) + classification head trained on the labeled
  source, applied to the target (zero-shot across domains or, with a multilingual encoder such as
  ``multilingual-e5-small``, across languages).
* ``lora-dapt`` -- first a LoRA masked-LM adapter on the target's unlabeled rows (Gururangan et al.
  2020), optionally masking pivot words preferentially (``pivots``: a list, or ``auto`` for
  sentiment: words frequent in both domains ranked by mutual information with the source label,
  as in PERL, Ben-David et al. 2020); merged; then ``lora``.
* ``full-ft`` -- every weight trained (the comparison).
The adversarial methods (``lora-dann``, ``dann``) are in :mod:`nlpta.methods.adversarial`.

* (moved) ``lora-dann`` -- ``lora`` trained domain-adversarially (DANN, Ganin et al. 2016): a domain
  classifier behind a gradient reversal layer beside the task head, on the [CLS] (or mean-pooled)
  representation for sentiment and on every word's representation for POS, fed labeled source
  batches and as many unlabeled target rows (``max_unlabeled``, a seeded sample of the task's
  ``unlabeled`` rows); the reversal coefficient rises as ``lambda_max * (2 / (1 + exp(-gamma p)) - 1)``.
* ``dann`` -- the shallow DANN of Ganin et al. 2016's Amazon experiment over the 5,000 most
  frequent uni+bigrams (tf-idf or binary), 50 sigmoid hidden units
  (:class:`nlpta.finetune.dann.ShallowDANN`); ``adversarial: false`` is the plain network.

``few_shot: true`` adds the task's ``target_labeled`` rows to the training rows. ``max_examples``
caps the labeled source rows (a seeded sample), ``max_steps`` the optimiser steps,
``max_length`` the subwords per input: the knobs for quick runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import datasets

from ..data import sample_rows
from ..errors import NlptaError
from ..tasks import TransferTask
from .registry import Method, register

_COMMON: dict[str, Any] = {
    "model": "minilm-l6", "r": 8, "alpha": 16, "dropout": 0.1, "targets": ["query", "value"],
    "lr": 1e-3, "batch_size": 16, "max_steps": None, "max_examples": None, "warmup_ratio": 0.06,
    "weight_decay": 0.01, "eval_batch_size": 64, "checkpoint_dir": None, "checkpoint_every": 0,
    "few_shot": False, "report_dir": None,
}
_TASK = {"sentiment": {"epochs": 1, "max_length": 256}, "pos": {"epochs": 3, "max_length": 128}}
_DANN = {"lambda_max": 1.0, "gamma": 10.0, "max_unlabeled": 2000, "pooling": "cls", "domain_hidden": 256}
_DAPT = {"dapt_lr": 1e-3, "dapt_epochs": 1, "dapt_steps": None, "dapt_examples": 2000, "pivots": None,
         "n_pivots": 100, "pivot_mask_prob": 0.5, "mask_prob": 0.15}


def _defaults(extra: dict | None = None, **over) -> dict[str, dict[str, Any]]:
    return {k: {**_COMMON, **v, **over, **(extra or {})} for k, v in _TASK.items()}




class _Transformer(Method):
    """Shared fit/predict/save for the transformer methods."""

    full_ft: ClassVar[bool] = False
    dapt: ClassVar[bool] = False

    def _model(self):
        from ..finetune.model import AdapterModel
        from ..finetune.trainer import TrainConfig

        p = self.params
        cfg = TrainConfig(lr=p["lr"], epochs=p["epochs"], batch_size=p["batch_size"], max_steps=p["max_steps"],
                          warmup_ratio=p["warmup_ratio"], weight_decay=p["weight_decay"], seed=self.seed,
                          checkpoint_dir=p["checkpoint_dir"], checkpoint_every=p["checkpoint_every"],
                          desc=f"{self.name} {self.task}", report_dir=p["report_dir"])
        return AdapterModel(self.task, model=p["model"], method="full-ft" if self.full_ft else "lora", r=p["r"],
                            alpha=p["alpha"], dropout=p["dropout"], targets=p["targets"],
                            max_length=p["max_length"], train=cfg, eval_batch_size=p["eval_batch_size"])

    def _train_rows(self, task: TransferTask) -> datasets.Dataset:
        """The labeled training rows: a ``max_examples`` sample of the source (+ ``target_labeled``
        with ``few_shot``)."""
        p = self.params
        train_ds = sample_rows(task.source, p["max_examples"], self.seed)
        if p["few_shot"]:
            if task.target_labeled is None:
                raise NlptaError(f"method {self.name!r}: few_shot needs a target_labeled entry in the task",
                                 code="E305")
            train_ds = datasets.concatenate_datasets([train_ds, task.target_labeled.cast(train_ds.features)])
        return train_ds

    def fit(self, task: TransferTask) -> _Transformer:
        train_ds = self._train_rows(task)
        self.model_ = self._model()
        if self.dapt:
            self._dapt(task, train_ds)
        self.model_.fit(train_ds)
        self.info_ = {"train": self.model_.train_info_, "trainable": self.model_.share_,
                      "dapt": getattr(self.model_, "dapt_info_", None)}
        return self

    def _dapt(self, task: TransferTask, train_ds: datasets.Dataset) -> None:
        from ..finetune.encode import select_pivots, split_words
        from ..finetune.trainer import TrainConfig

        p = self.params
        if task.unlabeled is None:
            raise NlptaError(f"method {self.name!r} needs target unlabeled rows: add an `unlabeled:` entry "
                             "to the task file", code="E305")
        unl = sample_rows(task.unlabeled, p["dapt_examples"], self.seed)
        texts = unl["tokens"] if self.task == "pos" else [split_words(t) for t in unl["text"]]
        pivots = p["pivots"]
        if pivots == "auto":
            if self.task != "sentiment":
                raise NlptaError("pivots: auto ranks words by mutual information with a document label, "
                                 "so it needs a sentiment task; give a list of pivot words for POS", code="E304")
            pivots = select_pivots(train_ds["text"], train_ds["label"], unl["text"], n=p["n_pivots"])
        elif pivots is not None and not (isinstance(pivots, list) and all(isinstance(w, str) for w in pivots)):
            raise NlptaError("pivots must be null, 'auto' or a list of words", code="E304")
        cfg = TrainConfig(lr=p["dapt_lr"], epochs=p["dapt_epochs"], batch_size=p["batch_size"],
                          max_steps=p["dapt_steps"], seed=self.seed, desc=f"dapt {self.task}",
                          checkpoint_dir=str(Path(p["checkpoint_dir"]) / "dapt") if p["checkpoint_dir"] else None,
                          checkpoint_every=p["checkpoint_every"])
        self.model_.dapt(texts, cfg, pivots=pivots, mask_prob=p["mask_prob"], pivot_mask_prob=p["pivot_mask_prob"])
        if p["checkpoint_dir"]:
            self.model_.train_cfg.checkpoint_dir = str(Path(p["checkpoint_dir"]) / "task")

    def predict(self, ds: datasets.Dataset) -> list:
        return self.model_.predict(ds)

    def save(self, directory: str | Path) -> None:
        from ..io import atomic_write_json

        self.model_.save(directory)
        atomic_write_json(Path(directory) / "train_info.json", self.info_)


@register("lora")
class Lora(_Transformer):
    """LoRA adapter + head on the labeled source (MiniLM by default; r 8 on query/value)."""

    defaults: ClassVar[dict[str, dict[str, Any]]] = _defaults()


@register("lora-dapt")
class LoraDapt(_Transformer):
    """Masked-LM LoRA on the target's unlabeled rows (optionally pivot-masked), merged, then ``lora``."""

    dapt = True
    defaults: ClassVar[dict[str, dict[str, Any]]] = _defaults(_DAPT)


@register("full-ft")
class FullFinetune(_Transformer):
    """Every weight of the encoder and head trained (learning rate 5e-5)."""

    full_ft = True
    defaults: ClassVar[dict[str, dict[str, Any]]] = _defaults(lr=5e-5)


def _need_unlabeled(name: str, task: TransferTask) -> None:
    if task.unlabeled is None or len(task.unlabeled) == 0:
        raise NlptaError(f"method {name!r} needs target unlabeled rows (the domain classifier's target side): "
                         "add an `unlabeled:` entry to the task file, e.g. unlabeled: {corpus: mdsd:kitchen, "
                         "split: unlabeled}", code="E305")
