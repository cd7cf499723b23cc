"""Transformer taggers and classifiers with LoRA adapters (Hu et al. 2022, "LoRA: Low-Rank
Adaptation of Large Language Models") or full fine-tuning, on Hugging Face transformers + peft.

* POS: ``AutoModelForTokenClassification`` over UD's 17 UPOS tags; the first subword of each word
  carries the word's label, the others -100; prediction reads the first subword of every word,
  so accuracy is per word (gold tokenization).
* Sentiment: ``AutoModelForSequenceClassification`` (negative / positive).
* The classification head (and the pooler, for sequence classification) are trained and saved
  with the adapter (``modules_to_save``).
* Optional domain-adaptive pretraining first (DAPT, Gururangan et al. 2020, "Don't Stop
  Pretraining"): a LoRA masked-LM adapter trained on target unlabeled text, merged into the
  encoder, then the task adapter on top; pivot words may be masked preferentially (PERL,
  Ben-David et al. 2020).

A saved model folder holds ``nlpta_model.json`` (what to rebuild), the tokenizer files, and
``adapter/`` (peft ``save_pretrained``: adapter + head weights, safetensors) or ``model/`` (full
fine-tuning), plus ``dapt/`` (the masked-LM adapter) after DAPT. :meth:`AdapterModel.load` needs
only that folder and the base model (through :func:`nlpta.models.resolve`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..data.schema import UPOS_TAGS
from ..errors import NlptaError, NotFittedError
from ..io import atomic_write_json
from . import encode
from .trainer import TrainConfig, accelerator, train

log = logging.getLogger(__name__)

SENTIMENT_LABELS = ("negative", "positive")
META = "nlpta_model.json"


def _set_threads() -> None:
    import torch

    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(min(2, os.cpu_count() or 1))


@contextlib.contextmanager
def quiet_loading():
    """Silence transformers' per-load weight reports (the MLM head and classifier are new by design)."""
    from transformers.utils import logging as tlog

    before = tlog.get_verbosity()
    tlog.set_verbosity_error()
    try:
        yield
    finally:
        tlog.set_verbosity(before)


def lora_config(kind: str | None, r: int, alpha: float, dropout: float, targets: list[str],
                modules_to_save: list[str] | None = None):
    """A peft ``LoraConfig`` (task type from ``kind``: pos -> TOKEN_CLS, sentiment -> SEQ_CLS,
    ``None`` -> no task type, for masked-LM)."""
    from peft import LoraConfig, TaskType

    tt = {"pos": TaskType.TOKEN_CLS, "sentiment": TaskType.SEQ_CLS}.get(kind) if kind else None
    return LoraConfig(task_type=tt, r=int(r), lora_alpha=float(alpha), lora_dropout=float(dropout),
                      target_modules=list(targets), modules_to_save=modules_to_save)


def trainable_share(model) -> dict[str, int | float]:
    """Trainable and total parameter counts and their ratio."""
    tr = sum(p.numel() for p in model.parameters() if p.requires_grad)
    tot = sum(p.numel() for p in model.parameters())
    return {"trainable": int(tr), "total": int(tot), "share": tr / tot}


class AdapterModel:
    """A POS tagger or sentiment classifier on a pretrained encoder.

    Args:
        kind: ``pos`` or ``sentiment``.
        model: a zoo name, local folder or Hub id (see :func:`nlpta.models.resolve`).
        method: ``lora`` or ``full-ft``.
        r, alpha, dropout, targets: LoRA rank, scaling, dropout and target module names.
        max_length: subword length limit (longer inputs are truncated; POS words past the limit
            get the most frequent training tag).
        train: a :class:`TrainConfig` (learning rate, epochs, batch size, checkpoints...).
        eval_batch_size: batch size for prediction.
    """

    def __init__(self, kind: str, model: str = "minilm-l6", method: str = "lora", r: int = 8,
                 alpha: float = 16, dropout: float = 0.1, targets: list[str] | tuple[str, ...] = ("query", "value"),
                 max_length: int = 128, train: TrainConfig | None = None, eval_batch_size: int = 64) -> None:
        if kind not in ("pos", "sentiment"):
            raise NlptaError(f"kind {kind!r}; expected pos or sentiment", code="E303")
        if method not in ("lora", "full-ft"):
            raise NlptaError(f"method {method!r}; expected lora or full-ft", code="E303")
        self.kind, self.model_name, self.method = kind, str(model), method
        self.r, self.alpha, self.dropout, self.targets = r, alpha, dropout, list(targets)
        self.max_length, self.train_cfg, self.eval_batch_size = max_length, train or TrainConfig(), eval_batch_size
        self.labels = list(UPOS_TAGS) if kind == "pos" else list(SENTIMENT_LABELS)

    # ------------------------------------------------------------------ building
    def _base_path(self) -> Path:
        from ..models import resolve

        return resolve(self.model_name)

    def _tokenizer(self):
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(self._base_path())

    def _task_model(self, encoder_state: dict | None = None):
        from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification

        cls = AutoModelForTokenClassification if self.kind == "pos" else AutoModelForSequenceClassification
        id2label = dict(enumerate(self.labels))
        with quiet_loading():
            m = cls.from_pretrained(self._base_path(), num_labels=len(self.labels), id2label=id2label,
                                    label2id={v: k for k, v in id2label.items()})
        if encoder_state is not None:
            getattr(m, m.base_model_prefix).load_state_dict(encoder_state, strict=False)
        return m

    def _heads(self, model) -> list[str]:
        names = ["classifier"]
        if self.kind == "sentiment" and getattr(getattr(model, model.base_model_prefix), "pooler", None) is not None:
            names.append("pooler")
        return names

    def _wrap(self, model):
        if self.method == "full-ft":
            return model
        from peft import get_peft_model

        return get_peft_model(model, lora_config(self.kind, self.r, self.alpha, self.dropout, self.targets,
                                                 self._heads(model)))

    # ------------------------------------------------------------------ encoding
    def _encode(self, ds, with_labels: bool) -> list[dict]:
        if self.kind == "pos":
            l2i = {t: i for i, t in enumerate(self.labels)}
            return encode.encode_pos(self.tokenizer_, list(ds["tokens"]), list(ds["upos"]) if with_labels else None,
                                     l2i, self.max_length)
        return encode.encode_text(self.tokenizer_, list(ds["text"]), list(ds["label"]) if with_labels else None,
                                  self.max_length)

    # ------------------------------------------------------------------ fitting
    def dapt(self, texts: list[list[str]], cfg: TrainConfig, pivots: list[str] | None = None,
             mask_prob: float = 0.15, pivot_mask_prob: float = 0.5) -> dict:
        """Domain-adaptive masked-LM training with a LoRA adapter on ``texts`` (pre-split words);
        the adapter is merged into the encoder that :meth:`fit` then adapts to the task.

        The base checkpoints of the zoo carry no MLM head; its transform layer is initialised
        randomly and trained with the adapter (the decoder is tied to the word embeddings)."""
        from peft import get_peft_model
        from transformers import AutoModelForMaskedLM

        _set_threads()
        self.tokenizer_ = getattr(self, "tokenizer_", None) or self._tokenizer()
        with quiet_loading():
            mlm = AutoModelForMaskedLM.from_pretrained(self._base_path())
        cfg_l = lora_config(None, self.r, self.alpha, self.dropout, self.targets)
        peft_mlm = get_peft_model(mlm, cfg_l)
        for n, p in peft_mlm.named_parameters():  # train the (new) MLM transform with the adapter
            if ".predictions.transform." in n:
                p.requires_grad = True
        exs = encode.encode_mlm(self.tokenizer_, texts, self.max_length, pivots or ())
        acc = accelerator()
        coll = encode.MLMCollator(self.tokenizer_, mask_prob, pivot_mask_prob, seed=cfg.seed, rank=acc.process_index)
        info = train(peft_mlm, exs, coll, cfg, acc)
        self.dapt_dir_ = Path(tempfile.mkdtemp(prefix="nlpta-dapt-"))
        peft_mlm.save_pretrained(self.dapt_dir_)  # before merging: merge_and_unload drops the LoRA layers
        merged = peft_mlm.merge_and_unload()
        self.encoder_state_ = {k: v.detach().clone()
                               for k, v in getattr(merged, merged.base_model_prefix).state_dict().items()}
        self.pivots_ = list(pivots or [])
        self.dapt_info_ = {**info, "examples": len(exs), "pivots": len(self.pivots_)}
        return self.dapt_info_

    def fit(self, ds, accelerate=None) -> AdapterModel:
        """Train on labeled rows ``ds`` (POS rows with ``tokens``/``upos``, or sentiment rows)."""
        _set_threads()
        import torch

        torch.manual_seed(self.train_cfg.seed)
        self.tokenizer_ = getattr(self, "tokenizer_", None) or self._tokenizer()
        model = self._wrap(self._task_model(getattr(self, "encoder_state_", None)))
        self.share_ = trainable_share(model)
        exs = self._encode(ds, with_labels=True)
        pad = self.tokenizer_.pad_token_id

        def collate(items, step):
            return encode.pad_batch(items, pad)

        acc = accelerate or accelerator()
        self.train_info_ = train(model, exs, collate, self.train_cfg, acc)
        self.model_ = acc.unwrap_model(model) if hasattr(acc, "unwrap_model") else model
        self.model_.eval()
        if self.kind == "pos":
            from collections import Counter

            self.fallback_ = Counter(t for row in ds["upos"] for t in row).most_common(1)[0][0]
        return self

    def _check(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("AdapterModel is not fitted; call fit() or load() first")

    # ------------------------------------------------------------------ prediction
    def logits(self, ds) -> list:
        """Raw logits per row (POS: one array per subword sequence)."""
        import torch

        self._check()
        exs = self._encode(ds, with_labels=False)
        order = np.argsort([len(x["input_ids"]) for x in exs], kind="stable")
        out: list[Any] = [None] * len(exs)
        self.model_.eval()
        device = next(self.model_.parameters()).device
        with torch.no_grad():
            for s in range(0, len(order), self.eval_batch_size):
                idx = order[s:s + self.eval_batch_size]
                batch = encode.to_device(encode.pad_batch([exs[i] for i in idx], self.tokenizer_.pad_token_id), device)
                lg = self.model_(**batch).logits.float().cpu().numpy()
                for j, i in enumerate(idx):
                    out[i] = lg[j, : len(exs[i]["input_ids"])] if self.kind == "pos" else lg[j]
        self._last_encoded = exs
        return out

    def predict(self, ds) -> list:
        """Sentiment: one int label per row. POS: one UPOS tag per word of each row."""
        lg = self.logits(ds)
        if self.kind == "sentiment":
            return [int(np.argmax(x)) for x in lg]
        preds = []
        for ex, x, toks in zip(self._last_encoded, lg, ds["tokens"], strict=True):
            tags = [self.fallback_] * len(toks)
            prev = None
            for t, w in enumerate(ex["word_ids"]):
                if w is not None and w != prev:
                    tags[w] = self.labels[int(np.argmax(x[t]))]
                prev = w
            preds.append(tags)
        return preds

    # ------------------------------------------------------------------ adapters
    def merge(self) -> AdapterModel:
        """Fold the LoRA weights into the base weights (faster inference; no adapter left)."""
        self._check()
        if self.method == "lora" and hasattr(self.model_, "merge_and_unload"):
            self.model_ = self.model_.merge_and_unload()
        return self

    # ------------------------------------------------------------------ save / load
    def meta(self) -> dict:
        return {"kind": self.kind, "base_model": self.model_name, "method": self.method, "r": self.r,
                "alpha": self.alpha, "dropout": self.dropout, "targets": self.targets,
                "max_length": self.max_length, "labels": self.labels,
                "fallback": getattr(self, "fallback_", None), "dapt": hasattr(self, "dapt_dir_"),
                "pivots": getattr(self, "pivots_", []), "trainable": getattr(self, "share_", None)}

    def save(self, directory: str | Path) -> Path:
        """Write the adapter (or the full model), the tokenizer and ``nlpta_model.json``."""
        self._check()
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        if self.method == "lora" and hasattr(self.model_, "peft_config"):
            self.model_.save_pretrained(d / "adapter")
        else:
            self.model_.save_pretrained(d / "model")
        if hasattr(self, "dapt_dir_"):
            shutil.copytree(self.dapt_dir_, d / "dapt", dirs_exist_ok=True)
        self.tokenizer_.save_pretrained(d)
        atomic_write_json(d / META, self.meta())
        return d

    @classmethod
    def load(cls, directory: str | Path, base_model: str | None = None) -> AdapterModel:
        """Rebuild a saved model: base encoder (+ merged DAPT adapter) + task adapter and head."""
        from peft import PeftModel
        from transformers import (
            AutoModelForMaskedLM,
            AutoModelForSequenceClassification,
            AutoModelForTokenClassification,
            AutoTokenizer,
        )

        d = Path(directory)
        if not (d / META).exists():
            raise NlptaError(f"not an nlpta model folder (no {META})", path=d, code="E312")
        m = json.loads((d / META).read_text())
        self = cls(m["kind"], model=base_model or m["base_model"], method=m["method"], r=m["r"], alpha=m["alpha"],
                   dropout=m["dropout"], targets=m["targets"], max_length=m["max_length"])
        self.labels, self.fallback_ = m["labels"], m.get("fallback")
        self.tokenizer_ = AutoTokenizer.from_pretrained(d)
        if m["method"] == "full-ft":
            klass = AutoModelForTokenClassification if self.kind == "pos" else AutoModelForSequenceClassification
            self.model_ = klass.from_pretrained(d / "model" if (d / "model").is_dir() else d)
        else:
            enc = None
            if m.get("dapt"):
                with quiet_loading():
                    mlm = AutoModelForMaskedLM.from_pretrained(self._base_path())
                mlm = PeftModel.from_pretrained(mlm, d / "dapt")
                merged = mlm.merge_and_unload()
                enc = getattr(merged, merged.base_model_prefix).state_dict()
            # a run's model folder keeps the adapter in adapter/; a Hub repository at its top
            self.model_ = PeftModel.from_pretrained(self._task_model(enc), d / "adapter" if (d / "adapter").is_dir() else d)
        self.model_.eval()
        return self


def load_adapters(base_model: str, adapters: dict[str, str | Path], kind: str):
    """Several task adapters on one base model: a peft model holding each adapter of
    ``adapters`` (name -> saved :class:`AdapterModel` folder) under its name; switch with
    ``model.set_adapter(name)``. Heads are per adapter (``modules_to_save``)."""
    from peft import PeftModel

    names = list(adapters)
    first = AdapterModel.load(adapters[names[0]], base_model=base_model)
    if first.method != "lora" or first.kind != kind:
        raise NlptaError(f"{adapters[names[0]]}: a {first.kind} {first.method} model, expected a {kind} LoRA adapter")
    base = first._task_model()
    pm = PeftModel.from_pretrained(base, Path(adapters[names[0]]) / "adapter", adapter_name=names[0])
    for n in names[1:]:
        pm.load_adapter(str(Path(adapters[n]) / "adapter"), adapter_name=n)
    pm.eval()
    return pm
