"""Domain-adversarial training (DANN, domain confusion): Ganin & Lempitsky 2015, "Unsupervised
Domain Adaptation by Backpropagation" (ICML); Ganin et al. 2016, "Domain-Adversarial Training of
Neural Networks" (JMLR 17).

A feature extractor feeds two heads: the task (label) head, trained on labeled source rows, and a
domain head that tells source from target rows. Between the features and the domain head sits a
*gradient reversal layer*: the identity going forward, ``-lambda`` times the gradient going
backward. The domain head learns to separate the domains while the features learn to make that
impossible, so the label head is trained on features the source and target share.

The gradient reversal layer and its schedules (``dann_lambda``) are in
:mod:`nlpta.adversarial.grl`, the shallow DANN in :mod:`nlpta.adversarial.shallow`, the domain
classifier probe in :mod:`nlpta.evaluators.domain`.

* :class:`DANNAdapterModel` -- an :class:`~nlpta.finetune.model.AdapterModel` (LoRA transformer)
  with a domain head beside the task head: sentence representation ([CLS] or mean-pooled last
  hidden state) for sentiment, per-word representations (first subwords) for POS. Trained with
  :func:`nlpta.finetune.trainer.train` (accelerate, checkpoint/resume) on batches of labeled
  source rows plus as many unlabeled target rows. It saves and loads as an ``AdapterModel``
  (``save_pretrained`` / ``from_pretrained``; plain peft loads the task adapter), plus
  ``domain_head.safetensors``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from ..adversarial.grl import GradientReversal, dann_lambda
from ..errors import Errors
from . import encode
from .model import AdapterModel, _set_threads, trainable_share

if TYPE_CHECKING:
    import datasets

DOMAIN_HEAD = "domain_head.safetensors"


# ------------------------------------------------------------------------- DANN head for transformers
class DomainHead(nn.Module):
    """Domain classifier behind a :class:`GradientReversal` layer: ``hidden`` = 0 gives a logistic
    regressor, else one ReLU layer of that width (Ganin et al. 2016 use 1024-1024 for images; a
    small head suffices on top of a pretrained encoder). Returns one logit per row (target = 1)."""

    def __init__(self, dim: int, hidden: int = 256, dropout: float = 0.1, lambda_: float = 0.0) -> None:
        super().__init__()
        self.grl = GradientReversal(lambda_)
        if hidden:
            self.net = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, 1))
        else:
            self.net = nn.Linear(dim, 1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.net(self.grl(h)).squeeze(-1)


@functools.lru_cache(maxsize=1)
def _model_output_cls():
    from transformers.utils import ModelOutput

    @dataclass
    class DANNOutput(ModelOutput):
        loss: torch.Tensor | None = None
        task_loss: torch.Tensor | None = None
        domain_loss: torch.Tensor | None = None
        domain_acc: torch.Tensor | None = None
        logits: torch.Tensor | None = None

    return DANNOutput


class DANNModule(nn.Module):
    """A task model (peft or plain transformers) plus a :class:`DomainHead`; the forward pass takes
    a mixed batch (``domain`` 0 = labeled source row, 1 = unlabeled target row) and returns the task
    loss on the source rows plus the domain loss on all rows (the average of the per-domain
    binary cross-entropies). ``dmask`` marks, for token classification, the positions whose
    representation the domain head sees (first subwords of words)."""

    def __init__(self, model, kind: str, dim: int, pooling: str = "cls", domain_hidden: int = 256,
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.model = model
        self.kind = kind
        self.pooling = pooling
        self.domain_head = DomainHead(dim, domain_hidden, dropout)
        self._out = _model_output_cls()
        self.records: list[tuple[float, float, float, float]] = []  # per training step: task, domain loss, acc, lambda

    def features(self, hidden: torch.Tensor, attention_mask: torch.Tensor, dmask: torch.Tensor | None,
                 domain: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The representations the domain head sees and their domains."""
        if self.kind == "pos":
            return hidden[dmask], domain[:, None].expand_as(dmask)[dmask]
        if self.pooling == "mean":
            m = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * m).sum(1) / m.sum(1).clamp_min(1.0), domain
        return hidden[:, 0], domain

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor,
                domain: torch.Tensor, dmask: torch.Tensor | None = None):
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
        logits = out.logits
        src = domain == 0
        n_cls = logits.shape[-1]
        task_loss = nn.functional.cross_entropy(logits[src].reshape(-1, n_cls), labels[src].reshape(-1),
                                                ignore_index=encode.IGNORE)
        feats, fd = self.features(out.hidden_states[-1], attention_mask, dmask, domain)
        dl = self.domain_head(feats)
        target = fd.to(dl.dtype)
        losses = [nn.functional.binary_cross_entropy_with_logits(dl[fd == k], target[fd == k])
                  for k in (0, 1) if bool((fd == k).any())]
        domain_loss = torch.stack(losses).mean()
        with torch.no_grad():
            dacc = ((dl > 0).to(dl.dtype) == target).to(dl.dtype).mean()
        if self.training:
            self.records.append((float(task_loss.detach()), float(domain_loss.detach()), float(dacc),
                                 float(self.domain_head.grl.lambda_)))
        return self._out(loss=task_loss + domain_loss, task_loss=task_loss.detach(),
                         domain_loss=domain_loss.detach(), domain_acc=dacc, logits=logits)


class DANNAdapterModel(AdapterModel):
    """An :class:`~nlpta.finetune.model.AdapterModel` trained domain-adversarially (Ganin et al.
    2016): a :class:`DomainHead` behind gradient reversal beside the task head, on the last
    hidden layer -- the [CLS] vector (``pooling="cls"``) or the mean over tokens (``"mean"``) for
    sentiment, each word's first subword for POS. Every step takes ``batch_size`` labeled source
    rows and ``batch_size`` unlabeled target rows; the reversal coefficient follows
    ``lambda_max * dann_lambda(step / total, gamma)``. Training runs on
    :func:`nlpta.finetune.trainer.train` (accelerate, checkpoints with the domain head, exact
    resume).

    The domain head (``domain_hidden`` ReLU units, 0 = logistic; dropout ``domain_dropout``) trains
    with the adapter and task head in the same AdamW optimiser and learning-rate schedule.
    Prediction needs only the adapter and the task head; the domain head is training-only but is
    saved beside them as ``domain_head.safetensors`` (for inspection; :meth:`from_pretrained`
    reads it back into ``domain_head_``). A saved folder also loads with
    :meth:`AdapterModel.from_pretrained` or plain peft (the adapter and head only).
    """

    def __init__(self, kind: str, *args, lambda_max: float = 1.0, gamma: float = 10.0, pooling: str = "cls",
                 domain_hidden: int = 256, domain_dropout: float = 0.1, **kwargs) -> None:
        super().__init__(kind, *args, **kwargs)
        if pooling not in ("cls", "mean"):
            raise Errors.E322(what="pooling", expected="cls or mean", got=repr(pooling))
        for name, v in (("lambda_max", lambda_max), ("gamma", gamma)):
            if not v >= 0:
                raise Errors.E322(what=name, expected="a number >= 0", got=repr(v))
        self.lambda_max, self.gamma, self.pooling = float(lambda_max), float(gamma), pooling
        self.domain_hidden, self.domain_dropout = int(domain_hidden), float(domain_dropout)

    def fit(self, ds: datasets.Dataset, unlabeled: datasets.Dataset | None = None,
            accelerate=None) -> DANNAdapterModel:
        """Train on labeled source rows ``ds`` and unlabeled target rows ``unlabeled`` (same
        schema; labels ignored). Returns self; ``train_info_["dann"]`` holds the per-window task
        loss, domain loss, domain accuracy and lambda (of this process; after a resume, from the
        resumed step on)."""
        from .trainer import accelerator, train

        if unlabeled is None or len(unlabeled) == 0:
            raise Errors.E305(detail="no unlabeled target rows, which DANN needs as the domain head's target side "
                                     "(pass unlabeled=, rows of the target domain)")
        _set_threads()
        torch.manual_seed(self.train_cfg.seed)
        self.tokenizer_ = getattr(self, "tokenizer_", None) or self._tokenizer()
        model = self._wrap(self._task_model(getattr(self, "encoder_state_", None)))
        dim = int(model.config.hidden_size)
        wrapper = DANNModule(model, self.kind, dim, self.pooling, self.domain_hidden, self.domain_dropout)
        self.share_ = trainable_share(wrapper)
        src = self._encode(ds, with_labels=True)
        tgt = self._encode(unlabeled, with_labels=False)
        acc = accelerate or accelerator()
        collate = _MixedCollator(self.kind, tgt, self.tokenizer_.pad_token_id, self.train_cfg.batch_size,
                                 self.train_cfg.seed, acc.process_index, acc.num_processes)

        def on_step(step: int, total: int) -> None:
            wrapper.domain_head.grl.lambda_ = self.lambda_max * dann_lambda(step / max(1, total), self.gamma)

        info = train(wrapper, src, collate, self.train_cfg, acc, on_step=on_step)
        rec, every = np.asarray(wrapper.records, dtype=float).reshape(-1, 4), max(1, self.train_cfg.log_every)
        log = [{"steps": len(w), "task_loss": float(w[:, 0].mean()), "domain_loss": float(w[:, 1].mean()),
                "domain_acc": float(w[:, 2].mean()), "lambda": float(w[-1, 3])}
               for w in (rec[s:s + every] for s in range(0, len(rec), every))]
        wrapper.records.clear()
        unwrapped = acc.unwrap_model(wrapper) if hasattr(acc, "unwrap_model") else wrapper
        self.train_info_ = {**info, "dann": log, "unlabeled": len(tgt), "final_lambda":
                            float(unwrapped.domain_head.grl.lambda_)}
        self.model_ = unwrapped.model
        self.model_.eval()
        self.domain_head_ = unwrapped.domain_head.eval()
        self.dann_module_ = unwrapped
        self._set_fallback(ds)
        return self

    def meta(self) -> dict:
        m = super().meta()
        m["dann"] = {"lambda_max": self.lambda_max, "gamma": self.gamma, "pooling": self.pooling,
                     "domain_hidden": self.domain_hidden, "domain_dropout": self.domain_dropout,
                     "domain_head": "domain_head.safetensors (training only)"}
        return m

    def save_pretrained(self, save_directory: str | Path) -> Path:
        """:meth:`AdapterModel.save_pretrained` plus ``domain_head.safetensors`` (not needed for
        prediction). Returns the folder."""
        from safetensors.torch import save_file

        d = super().save_pretrained(save_directory)
        if hasattr(self, "domain_head_"):
            save_file({k: v.detach().cpu().contiguous() for k, v in self.domain_head_.state_dict().items()},
                      str(d / DOMAIN_HEAD))
        return d

    @classmethod
    def _meta_kwargs(cls, meta: dict) -> dict:
        dn = meta.get("dann") or {}
        return {k: dn[k] for k in ("lambda_max", "gamma", "pooling", "domain_hidden", "domain_dropout") if k in dn}

    def _load_extra(self, directory: Path) -> None:
        if (directory / DOMAIN_HEAD).exists():
            from safetensors.torch import load_file

            head = DomainHead(int(self.model_.config.hidden_size), self.domain_hidden, self.domain_dropout)
            head.load_state_dict(load_file(str(directory / DOMAIN_HEAD)))
            self.domain_head_ = head.eval()


class _MixedCollator:
    """``collate(source_items, step)``: the source items plus this process's share of the step's
    target rows (chosen from the step number alone -- seeded permutations of the target rows, one
    per pass -- so a resumed run sees the same batches), padded together, with ``domain`` and, for
    POS, ``dmask`` (first subword of each word)."""

    def __init__(self, kind: str, target: list[dict], pad_id: int, per_process: int, seed: int, rank: int,
                 world: int) -> None:
        self.kind, self.target, self.pad_id = kind, target, pad_id
        self.per_process, self.seed, self.rank, self.world = per_process, seed, rank, world
        self.gbs = per_process * world
        self.steps_per_pass = max(1, len(target) // self.gbs)

    def target_indices(self, step: int) -> list[int]:
        n = len(self.target)
        epoch, pos = divmod(step, self.steps_per_pass)
        perm = np.random.default_rng([self.seed, 104729, epoch]).permutation(n)
        if n < self.gbs:
            perm = np.resize(perm, self.gbs)
        return [int(i) for i in perm[pos * self.gbs:(pos + 1) * self.gbs][self.rank::self.world]]

    def __call__(self, items: list[dict], step: int) -> dict:
        tgt = [self.target[i] for i in self.target_indices(step)]
        if self.kind == "pos":
            rows = [{"input_ids": x["input_ids"], "labels": x["labels"]} for x in items]
            rows += [{"input_ids": x["input_ids"], "labels": [encode.IGNORE] * len(x["input_ids"])} for x in tgt]
        else:
            rows = [{"input_ids": x["input_ids"], "labels": x["labels"]} for x in items]
            rows += [{"input_ids": x["input_ids"], "labels": encode.IGNORE} for x in tgt]
        batch = encode.pad_batch(rows, self.pad_id)
        batch["domain"] = torch.tensor([0] * len(items) + [1] * len(tgt), dtype=torch.long)
        if self.kind == "pos":
            dmask = torch.zeros_like(batch["input_ids"], dtype=torch.bool)
            for i, x in enumerate(list(items) + tgt):
                first = encode.first_subword_labels(x["word_ids"], [0] * (1 + max((w for w in x["word_ids"]
                                                                                  if w is not None), default=-1)))
                dmask[i, : len(first)] = torch.tensor([v != encode.IGNORE for v in first], dtype=torch.bool)
            batch["dmask"] = dmask
        return batch
