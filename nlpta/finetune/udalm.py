"""UDALM: Karouzos, Paraskevopoulos & Potamianos 2021, "UDALM: Unsupervised Domain Adaptation
through Language Modeling" (NAACL).

One training run whose loss mixes the task loss on a labeled source batch with the masked-LM loss
on a batch of unlabeled target rows, both through ONE encoder::

    L = lambda * L_task(source batch) + (1 - lambda) * L_mlm(target batch)

(the paper's mixed loss, lambda weighting the classification loss). The task head (classifier,
and the pooler for sentiment) sees only the source batch; the masked-LM head only the target
batch; the encoder -- with its LoRA adapter, when LoRA -- gets the gradients of both. The paper
first continues masked-LM pretraining on the target (its "domain pretraining" stage) and then
trains with the mixed loss; in nlpta that first stage is ``dapt: true`` on the ``udalm`` method
(the ``lora-dapt`` stage: a masked-LM LoRA adapter merged into the encoder).

The paper reports 91.74% mean accuracy over the twelve Amazon-review domain pairs of Blitzer et al.
(2007) with BERT-base, 1.11 points above the previous best. lambda (``task_weight``) is 0.5 by
default: the two objectives weighted equally, the MLM batch as large as the source batch -- nlpta's
choice, not a value taken from the paper (set ``task_weight`` to reproduce another weighting).
``task_weight_end`` makes it change linearly over the run, from ``task_weight`` at the first step
to ``task_weight_end`` at the last (a function of the step alone, so a resumed run follows the
same schedule).

* :class:`UDALMModule` -- the task model (peft or plain transformers) plus a masked-LM head on
  its encoder; the forward pass takes a source batch (``input_ids``, ``attention_mask``,
  ``labels``) and a target MLM batch (``mlm_input_ids``, ``mlm_attention_mask``, ``mlm_labels``)
  and returns the mixed loss. The MLM head scores only the masked positions (a 250k-word
  vocabulary over every position of a batch would not fit in memory).
* :class:`UDALMAdapterModel` -- an :class:`~nlpta.finetune.model.AdapterModel` trained that way on
  :func:`nlpta.finetune.trainer.train` (accelerate, checkpoints with the MLM head, exact resume).
  It saves the task model only (the MLM head is training-only and dropped), so the folder loads
  with :meth:`AdapterModel.from_pretrained`, :func:`nlpta.load_model` or plain peft, like ``lora``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from ..errors import Errors
from . import encode
from .dann import _MixedCollator
from .model import (
    AdapterModel,
    _set_threads,
    check_head_warmup,
    head_warmup_steps,
    new_head_weights,
    quiet_loading,
    trainable_share,
)

if TYPE_CHECKING:
    import datasets


@functools.lru_cache(maxsize=1)
def _model_output_cls():
    from transformers.utils import ModelOutput

    @dataclass
    class UDALMOutput(ModelOutput):
        loss: torch.Tensor | None = None
        task_loss: torch.Tensor | None = None
        mlm_loss: torch.Tensor | None = None
        logits: torch.Tensor | None = None

    return UDALMOutput


def task_weight_at(step: int, total: int, start: float, end: float | None = None) -> float:
    """lambda at 0-based ``step`` of ``total``: ``start`` throughout when ``end`` is ``None``,
    else linear from ``start`` (first step) to ``end`` (last step)."""
    if end is None or total <= 1:
        return float(start)
    return float(start) + (float(end) - float(start)) * step / (total - 1)


def encoder_of(model) -> nn.Module:
    """The encoder (e.g. ``BertModel``) inside a task model, peft-wrapped or not: for LoRA it holds
    the adapter layers, so whatever runs through it trains the adapter."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return getattr(base, base.base_model_prefix)


def mlm_head(base_path, model) -> tuple[nn.Module, list[str]]:
    """A masked-LM head for the encoder of ``model``: the head of
    ``AutoModelForMaskedLM.from_pretrained(base_path)`` (its pretrained weights where the
    checkpoint has them, else a fresh initialisation), with the output projection tied to the
    encoder's input word embeddings (BERT's tying: frozen with LoRA, trained with full
    fine-tuning). Every other head weight is trainable. Returns ``(head, new)``: ``new`` lists the
    head weights the checkpoint lacked (empty for a checkpoint with its pretraining head).

    Raises:
        ParameterError: E303 when the masked-LM model's head is not one module (BERT's ``cls``,
            RoBERTa's / XLM-R's ``lm_head``).
    """
    from transformers import AutoModelForMaskedLM

    with quiet_loading():
        mlm, loading = AutoModelForMaskedLM.from_pretrained(base_path, output_loading_info=True)
    heads = [m for n, m in mlm.named_children() if n != mlm.base_model_prefix]
    if len(heads) != 1:
        raise Errors.E303(what="udalm", kind=type(mlm).__name__,
                          detail="its masked-LM head is not one module (BERT's cls, RoBERTa's lm_head); use a "
                                 "BERT- or RoBERTa-style encoder")
    head = heads[0]
    out = mlm.get_output_embeddings()
    for p in head.parameters():
        p.requires_grad = True
    out.weight = encoder_of(model).get_input_embeddings().weight  # tied: the task model's own embeddings
    return head, new_head_weights(mlm, loading)  # the one head: every weight outside the encoder


class UDALMModule(nn.Module):
    """A task model plus a masked-LM head on its encoder (see the module docstring).

    ``task_weight`` is lambda, set per step by the trainer's ``on_step`` when it follows a
    schedule. ``mlm_to_encoder`` False (the head warm-up) runs the target batch through the
    encoder without a graph, so the MLM loss trains the head alone. ``records`` holds, per
    training step, (task loss, MLM loss, lambda)."""

    def __init__(self, model, head: nn.Module, task_weight: float = 0.5) -> None:
        super().__init__()
        self.model = model
        self.mlm_head = head
        self.task_weight = float(task_weight)
        # False during the head warm-up: the MLM loss trains the head only, the encoder gets no MLM gradient
        self.mlm_to_encoder = True
        self._out = _model_output_cls()
        self.records: list[tuple[float, float, float]] = []

    def losses(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor,
               mlm_input_ids: torch.Tensor, mlm_attention_mask: torch.Tensor,
               mlm_labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(task loss, MLM loss, task logits)``, each still attached to the graph: the task
        model's own loss on the source batch (cross-entropy; POS: per first subword), and the
        cross-entropy of the masked target subwords (mean over the masked positions)."""
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, labels=labels)
        with torch.set_grad_enabled(torch.is_grad_enabled() and self.mlm_to_encoder):
            hidden = encoder_of(self.model)(input_ids=mlm_input_ids,
                                            attention_mask=mlm_attention_mask).last_hidden_state
        sel = mlm_labels != encode.IGNORE
        if bool(sel.any()):
            scores = self.mlm_head(hidden[sel])
            mlm_loss = nn.functional.cross_entropy(scores.float(), mlm_labels[sel])
        else:  # nothing masked (a batch of empty texts): no MLM signal, but a graph all the same
            mlm_loss = hidden.sum() * 0.0
        return out.loss, mlm_loss, out.logits

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor,
                mlm_input_ids: torch.Tensor, mlm_attention_mask: torch.Tensor, mlm_labels: torch.Tensor):
        task_loss, mlm_loss, logits = self.losses(input_ids, attention_mask, labels, mlm_input_ids,
                                                  mlm_attention_mask, mlm_labels)
        lam = self.task_weight
        if self.training:
            self.records.append((float(task_loss.detach()), float(mlm_loss.detach()), lam))
        return self._out(loss=lam * task_loss + (1.0 - lam) * mlm_loss, task_loss=task_loss.detach(),
                         mlm_loss=mlm_loss.detach(), logits=logits)


class _UDALMCollator(_MixedCollator):
    """``collate(source_items, step)``: the padded source batch plus this process's share of the
    step's target rows (chosen from the step number alone, as DANN's), masked by
    :class:`~nlpta.finetune.encode.MLMCollator` (seeded by the step), under ``mlm_*`` keys."""

    def __init__(self, kind: str, target: list[dict], tokenizer, per_process: int, seed: int, rank: int,
                 world: int, mask_prob: float) -> None:
        super().__init__(kind, target, tokenizer.pad_token_id, per_process, seed, rank, world)
        self.masker = encode.MLMCollator(tokenizer, mask_prob, mask_prob, seed=seed, rank=rank)

    def __call__(self, items: list[dict], step: int) -> dict:
        batch = encode.pad_batch(items, self.pad_id)
        mlm = self.masker([self.target[i] for i in self.target_indices(step)], step)
        batch.update({"mlm_input_ids": mlm["input_ids"], "mlm_attention_mask": mlm["attention_mask"],
                      "mlm_labels": mlm["labels"]})
        return batch


def _check_weight(name: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
        raise Errors.E322(what=name, expected="a number in [0, 1] (the task loss's share of the mixed loss)",
                          got=repr(v))
    return float(v)


class UDALMAdapterModel(AdapterModel):
    """An :class:`~nlpta.finetune.model.AdapterModel` trained with UDALM's mixed loss (Karouzos et
    al. 2021): every step takes ``batch_size`` labeled source rows for the task loss and
    ``mlm_batch_size`` (default ``batch_size``) unlabeled target rows, masked (``mask_prob`` of the
    words, whole words, BERT's 80/10/10), for the masked-LM loss; the loss is
    ``task_weight * task + (1 - task_weight) * mlm``, ``task_weight`` moving linearly to
    ``task_weight_end`` when that is set. The masked-LM head trains with the adapter (or the whole
    model) and the task head in one AdamW optimiser and schedule; it is dropped when saving.

    ``mlm_warmup`` steps first: in them the target batch runs through the encoder without
    gradient, so the MLM loss trains the head alone while the adapter learns the task -- for an
    encoder whose checkpoint has no masked-LM head (the zoo's sentence-embedding models), whose
    fresh head would otherwise send the adapter gradients that carry no language yet (on MiniLM,
    books -> kitchen: 68.8 without a warm-up, 83.9 with half the steps, ``lora`` 84.3).
    ``"auto"`` (default): half of the run's steps when the checkpoint lacks the head, none when it
    has one. A function of the step, so a resumed run follows it exactly.
    """

    def __init__(self, kind: str, *args, task_weight: float = 0.5, task_weight_end: float | None = None,
                 mlm_batch_size: int | None = None, mask_prob: float = 0.15, mlm_warmup: int | str = "auto",
                 **kwargs) -> None:
        super().__init__(kind, *args, **kwargs)
        self.mlm_warmup = check_head_warmup("mlm_warmup", mlm_warmup)
        self.task_weight = _check_weight("task_weight", task_weight)
        self.task_weight_end = None if task_weight_end is None else _check_weight("task_weight_end", task_weight_end)
        if mlm_batch_size is not None and (isinstance(mlm_batch_size, bool) or not isinstance(mlm_batch_size, int)
                                           or mlm_batch_size < 1):
            raise Errors.E322(what="mlm_batch_size", expected="an integer >= 1 or null (= batch_size)",
                              got=repr(mlm_batch_size))
        if isinstance(mask_prob, bool) or not isinstance(mask_prob, int | float) or not 0 < mask_prob <= 1:
            raise Errors.E322(what="mask_prob", expected="a number in (0, 1]", got=repr(mask_prob))
        self.mlm_batch_size, self.mask_prob = mlm_batch_size, float(mask_prob)

    def _mlm_examples(self, unlabeled) -> list[dict]:
        words = list(unlabeled["tokens"]) if self.kind == "pos" else \
            [encode.split_words(t or "") for t in unlabeled["text"]]
        words = [w for w in words if len(w)]
        if not words:
            raise Errors.E305(detail="every unlabeled target row is empty, so there is no text for the masked-LM "
                                     "loss (pass unlabeled=, rows of the target domain with words)")
        return encode.encode_mlm(self.tokenizer_, words, self.max_length)

    def build(self) -> UDALMModule:
        """The task model (adapter and head, or the full model) and a masked-LM head on its
        encoder, in a :class:`UDALMModule`; initialised from ``train_cfg.seed`` (head weights).
        After a DAPT stage (``dapt_head_state_``) the head starts from the one DAPT trained, so it
        is not new (``mlm_warmup: auto`` gives no warm-up); ``mlm_head_from_`` says which.

        Raises:
            ParameterError: E303 when DAPT's head does not fit (another architecture).
        """
        _set_threads()
        torch.manual_seed(self.train_cfg.seed)
        self.tokenizer_ = getattr(self, "tokenizer_", None) or self._tokenizer()
        model = self._wrap(self._task_model(getattr(self, "encoder_state_", None)))
        head, self.mlm_head_new_ = mlm_head(self._base_path(), model)
        self.mlm_head_from_ = "checkpoint"
        dapt_head = getattr(self, "dapt_head_state_", None)
        if dapt_head:  # a DAPT stage ran first (dapt: true): its trained head, not the checkpoint's (or a fresh one)
            missing, unexpected = head.load_state_dict(dapt_head, strict=False)
            if unexpected or any(not k.endswith("decoder.weight") for k in missing):
                raise Errors.E303(what="udalm", kind=type(head).__name__,
                                  detail=f"the DAPT stage's masked-LM head does not fit this one (missing {missing}, "
                                         f"unexpected {unexpected})")
            self.mlm_head_new_, self.mlm_head_from_ = [], "dapt"
        return UDALMModule(model, head, self.task_weight)

    def fit(self, ds: datasets.Dataset, unlabeled: datasets.Dataset | None = None,
            accelerate=None) -> UDALMAdapterModel:
        """Train on labeled source rows ``ds`` and unlabeled target rows ``unlabeled`` (same schema;
        labels ignored). Returns self; ``train_info_["udalm"]`` holds the per-window task loss,
        MLM loss and lambda (of this process; after a resume, from the resumed step on).

        Raises:
            ParameterError: E305 no unlabeled target rows (or only empty ones).
        """
        from .trainer import accelerator, examples_digest, train

        if unlabeled is None or len(unlabeled) == 0:
            raise Errors.E305(detail="no unlabeled target rows, which UDALM's masked-LM loss is computed on (pass "
                                     "unlabeled=, rows of the target domain)")
        wrapper = self.build()
        self.share_ = trainable_share(wrapper)
        src = self._encode(ds, with_labels=True)
        tgt = self._mlm_examples(unlabeled)
        acc = accelerate or accelerator()
        cfg = self.train_cfg
        mlm_bs = self.mlm_batch_size or cfg.batch_size
        # the target rows and the mixing are part of what a checkpoint must match
        cfg = replace(cfg, fingerprint={**(cfg.fingerprint or {}), "udalm": {
            "task_weight": self.task_weight, "task_weight_end": self.task_weight_end, "mlm_batch_size": mlm_bs,
            "mask_prob": self.mask_prob, "mlm_warmup": self.mlm_warmup, "target": examples_digest(tgt)}})
        collate = _UDALMCollator(self.kind, tgt, self.tokenizer_, mlm_bs, cfg.seed, acc.process_index,
                                 acc.num_processes, self.mask_prob)

        warm: dict[str, int] = {}

        def on_step(step: int, total: int) -> None:
            wrapper.task_weight = task_weight_at(step, total, self.task_weight, self.task_weight_end)
            warm.setdefault("steps", self.warmup_steps(total))
            wrapper.mlm_to_encoder = step >= warm["steps"]

        info = train(wrapper, src, collate, cfg, acc, on_step=on_step)
        rec, every = np.asarray(wrapper.records, dtype=float).reshape(-1, 3), max(1, cfg.log_every)
        log = [{"steps": len(w), "task_loss": float(w[:, 0].mean()), "mlm_loss": float(w[:, 1].mean()),
                "task_weight": float(w[-1, 2])} for w in (rec[s:s + every] for s in range(0, len(rec), every))]
        wrapper.records.clear()
        unwrapped = acc.unwrap_model(wrapper) if hasattr(acc, "unwrap_model") else wrapper
        self.train_info_ = {**info, "udalm": log, "unlabeled": len(tgt), "mlm_batch_size": mlm_bs,
                            "task_weight": self.task_weight, "task_weight_end": self.task_weight_end,
                            "mlm_warmup": self.mlm_warmup, "mlm_warmup_steps": warm.get("steps", 0),
                            "mlm_head_new": self.mlm_head_new_, "mlm_head_from": self.mlm_head_from_}
        self.model_ = unwrapped.model
        self.model_.eval()
        self._set_fallback(ds)
        return self

    def warmup_steps(self, total: int) -> int:
        """The steps of the head warm-up in a run of ``total`` steps: ``mlm_warmup``, or for
        ``"auto"`` half of them when the checkpoint lacked the masked-LM head (else 0)."""
        return head_warmup_steps(self.mlm_warmup, total, getattr(self, "mlm_head_new_", None))

    def meta(self) -> dict:
        m = super().meta()
        m["udalm"] = {"task_weight": self.task_weight, "task_weight_end": self.task_weight_end,
                      "mlm_batch_size": self.mlm_batch_size, "mask_prob": self.mask_prob,
                      "mlm_warmup": self.mlm_warmup}
        return m

    @classmethod
    def _meta_kwargs(cls, meta: dict) -> dict:
        u = meta.get("udalm") or {}
        return {k: u[k] for k in ("task_weight", "task_weight_end", "mlm_batch_size", "mask_prob", "mlm_warmup")
                if k in u}
