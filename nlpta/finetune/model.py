"""Transformer taggers and classifiers with LoRA adapters (Hu et al. 2022, "LoRA: Low-Rank
Adaptation of Large Language Models") or full fine-tuning, on Hugging Face transformers + peft.

* POS: ``AutoModelForTokenClassification`` over UD's 17 UPOS tags; the first subword of each word
  carries the word's label, the others -100; prediction reads the first subword of every word,
  so accuracy is per word (gold tokenization).
* Sentiment: ``AutoModelForSequenceClassification`` (negative / positive).
* LoRA settings are a peft ``LoraConfig`` (``task_type`` TOKEN_CLS or SEQ_CLS is filled in); the
  classification head (and the pooler, for sequence classification) are trained and saved with
  the adapter as peft's ``modules_to_save``; ``id2label`` / ``label2id`` are in the model config.
* Optional domain-adaptive pretraining first (DAPT, Gururangan et al. 2020, "Don't Stop
  Pretraining"): a LoRA masked-LM adapter trained on target unlabeled text, merged into the
  encoder, then the task adapter on top; pivot words may be masked preferentially (PERL,
  Ben-David et al. 2020).

:meth:`AdapterModel.save_pretrained` writes one folder, safetensors only:

* LoRA: ``adapter_config.json`` + ``adapter_model.safetensors`` (peft's own files: LoRA weights and
  the head), ``config.json`` (the task model's config: ``id2label``, ``label2id``,
  ``architectures``); full fine-tuning: ``config.json`` + ``model.safetensors``;
* the tokenizer files, ``README.md`` (model card), ``nlpta_model.json`` (what nlpta needs beyond
  that: task kind, base model name, ``max_length``, the POS fallback tag, pivots);
* ``dapt/`` after DAPT: the masked-LM LoRA adapter (peft files) to merge into the encoder first.

Loading it without nlpta, with plain peft + transformers: ``adapter_config.json`` names the base
model (``base_model_name_or_path``: the absolute path of the local base folder, e.g. the zoo's, for
a local save; its Hub id once pushed, see :mod:`nlpta.finetune.hub`), ``config.json`` the label
maps, and the folder holds the tokenizer. The base model's own config has no label maps, so they
are passed on (peft builds the head from the base config before restoring its saved weights)::

    from peft import AutoPeftModelForTokenClassification
    from transformers import AutoConfig, AutoTokenizer, pipeline

    labels = AutoConfig.from_pretrained(folder)               # id2label / label2id of the head
    model = AutoPeftModelForTokenClassification.from_pretrained(
        folder, id2label=labels.id2label, label2id=labels.label2id).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tagger = pipeline("token-classification", model=model, tokenizer=tokenizer, aggregation_strategy="first")
    tagger([["The", "dog", "barks", "."]], is_split_into_words=True)   # word-level tags (first subword)

(``AutoPeftModelForSequenceClassification`` and ``pipeline("text-classification")`` for sentiment.)
After DAPT (a ``dapt/`` subfolder) the masked-LM adapter is merged into the base first, which
AutoPeftModel does not do::

    from peft import PeftModel
    from transformers import AutoModelForTokenClassification

    model = AutoModelForTokenClassification.from_pretrained(BASE, config=labels)
    model = PeftModel.from_pretrained(model, f"{folder}/dapt").merge_and_unload()
    model = PeftModel.from_pretrained(model, folder).eval()

A full fine-tuning folder is ``AutoModelFor...from_pretrained(folder)``.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..data.schema import UPOS_TAGS
from ..errors import Errors
from ..io import atomic_write_json
from . import encode
from .trainer import TrainConfig, accelerator, train

if TYPE_CHECKING:
    from peft import LoraConfig

log = logging.getLogger(__name__)

SENTIMENT_LABELS = ("negative", "positive")
META = "nlpta_model.json"
TASK_TYPES = {"pos": "TOKEN_CLS", "sentiment": "SEQ_CLS"}
_PEFT_FILES = ("adapter_config.json", "adapter_model.safetensors")
_FULL_FILES = ("model.safetensors",)


def _set_threads() -> None:
    import torch

    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(min(2, os.cpu_count() or 1))


@contextlib.contextmanager
def quiet_loading():
    """Silence transformers' per-load weight reports (the MLM head and classifier are new by design)
    and its per-file loading / writing progress bars."""
    from transformers.utils import logging as tlog

    before, bars = tlog.get_verbosity(), tlog.is_progress_bar_enabled()
    tlog.set_verbosity_error()
    tlog.disable_progress_bar()
    try:
        yield
    finally:
        tlog.set_verbosity(before)
        if bars:
            tlog.enable_progress_bar()


def default_lora_config() -> LoraConfig:
    """nlpta's default LoRA settings: rank 8, alpha 16, dropout 0.1 on the attention ``query`` and
    ``value`` projections (Hu et al. 2022's choice)."""
    from peft import LoraConfig

    return LoraConfig(r=8, lora_alpha=16, lora_dropout=0.1, target_modules=["query", "value"])


def trainable_share(model) -> dict[str, int | float]:
    """Trainable and total parameter counts of ``model`` (any ``torch.nn.Module``) and their ratio."""
    tr = sum(p.numel() for p in model.parameters() if p.requires_grad)
    tot = sum(p.numel() for p in model.parameters())
    return {"trainable": int(tr), "total": int(tot), "share": tr / tot}


def _model_folder(name_or_path: str | Path, revision: str | None) -> Path:
    """A local folder for ``name_or_path``: the folder itself, or a Hub repository downloaded with
    ``huggingface_hub.snapshot_download`` (``HF_ENDPOINT`` selects another Hub)."""
    p = Path(name_or_path)
    if p.is_dir():
        return p
    s = str(name_or_path)
    if p.exists() or s.startswith((".", "/", "~")) or s.count("/") != 1:
        raise Errors.E307(path=p, detail="no model folder here (and not a Hub id NAMESPACE/NAME)")
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(s, revision=revision))
    except Exception as e:  # noqa: BLE001 -- network, auth, missing repo: one message for the user
        raise Errors.E501(detail=f"cannot download {s!r} ({type(e).__name__}: {e})") from None


def check_head_warmup(name: str, value) -> int | str:
    """``value`` of a head warm-up setting (``mlm_warmup``, ``dapt_warmup``): ``"auto"`` or an integer
    >= 0. Raises ParameterError E322 for anything else."""
    if value != "auto" and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise Errors.E322(what=name, expected="'auto' or an integer >= 0 (the first steps in which the masked-LM "
                          "loss trains its head only)", got=repr(value))
    return value


def head_warmup_steps(setting: int | str, total: int, head_new) -> int:
    """The warm-up steps of a run of ``total`` steps: ``setting``, or for ``"auto"`` half of them when
    the checkpoint lacked the masked-LM head (``head_new`` lists its new weights), else none."""
    if setting == "auto":
        return total // 2 if head_new else 0
    return int(setting)


def new_head_weights(mlm, loading: dict) -> list[str]:
    """The weights of masked-LM model ``mlm`` outside its encoder that its checkpoint lacked
    (initialised fresh), from ``from_pretrained(..., output_loading_info=True)``'s ``loading``: the
    sentence-embedding checkpoints of the zoo carry no masked-LM head at all (tied weights, as the
    decoder tied to the word embeddings, are not reported missing)."""
    prefix = mlm.base_model_prefix + "."
    return sorted(k for k in loading.get("missing_keys", ()) if not k.startswith(prefix))


class AdapterModel:
    """A POS tagger or sentiment classifier on a pretrained encoder.

    Args:
        kind: ``pos`` or ``sentiment``.
        model: a zoo name, local folder or Hub id (see :func:`nlpta.models.resolve`).
        method: ``lora`` or ``full-ft``.
        lora_config: a peft ``LoraConfig`` (``None``: :func:`default_lora_config`); its
            ``task_type`` is set from ``kind`` (TOKEN_CLS / SEQ_CLS) and the head is added to its
            ``modules_to_save`` when the model is built. Only for ``method="lora"``.
        max_length: subword length limit (longer inputs are truncated; POS words past the limit
            get the most frequent training tag).
        train: a :class:`TrainConfig` (learning rate, epochs, batch size, seed, checkpoints...).
        eval_batch_size: batch size for prediction.

    Fitted attributes: ``model_`` (the peft or transformers model), ``tokenizer_``, ``share_``
    (trainable parameters), ``train_info_``; after :meth:`dapt`, ``dapt_info_`` and ``pivots_``.
    """

    def __init__(self, kind: str, model: str = "minilm-l6", method: str = "lora",
                 lora_config: LoraConfig | None = None, max_length: int = 128, train: TrainConfig | None = None,
                 eval_batch_size: int = 64) -> None:
        if kind not in ("pos", "sentiment"):
            raise Errors.E303(what="AdapterModel", kind=kind, detail="kind must be pos or sentiment")
        if method not in ("lora", "full-ft"):
            raise Errors.E303(what="AdapterModel", kind=method, detail="method must be lora or full-ft")
        if method == "full-ft" and lora_config is not None:
            raise Errors.E304(detail="lora_config is for method='lora'; full fine-tuning trains every weight")
        self.kind, self.model_name, self.method = kind, str(model), method
        self.lora_config = self._task_lora_config(lora_config or default_lora_config()) if method == "lora" else None
        self.max_length, self.train_cfg, self.eval_batch_size = max_length, train or TrainConfig(), eval_batch_size
        self.labels = list(UPOS_TAGS) if kind == "pos" else list(SENTIMENT_LABELS)

    def _task_lora_config(self, cfg) -> LoraConfig:
        from peft import LoraConfig

        if not isinstance(cfg, LoraConfig):
            raise Errors.E322(what="lora_config", expected="a peft LoraConfig", got=f"a {type(cfg).__name__}")
        want = TASK_TYPES[self.kind]
        if cfg.task_type not in (None, want):
            raise Errors.E322(what="lora_config.task_type", expected=f"{want} (or None) for a {self.kind} model",
                              got=str(cfg.task_type))
        return replace(cfg, task_type=want)

    # ------------------------------------------------------------------ building
    def _base_path(self) -> Path:
        """The base model's local folder, absolute: peft records it in ``adapter_config.json``
        (``base_model_name_or_path``), where plain peft finds it from any working directory."""
        from ..models import resolve

        return resolve(self.model_name).resolve()

    def _tokenizer(self):
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(self._base_path())

    def _auto_class(self):
        from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification

        return AutoModelForTokenClassification if self.kind == "pos" else AutoModelForSequenceClassification

    def _task_model(self, encoder_state: dict | None = None):
        id2label = dict(enumerate(self.labels))
        with quiet_loading():
            m = self._auto_class().from_pretrained(self._base_path(), num_labels=len(self.labels), id2label=id2label,
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

        have = list(self.lora_config.modules_to_save or [])
        self.lora_config = replace(self.lora_config, modules_to_save=have + [h for h in self._heads(model)
                                                                             if h not in have])
        try:
            return get_peft_model(model, copy.deepcopy(self.lora_config))  # peft extends modules_to_save
        except ValueError as e:
            if "target" not in str(e).lower():
                raise
            names = sorted({n.rsplit(".", 1)[-1] for n, m in model.named_modules()
                            if type(m).__name__ == "Linear" and "." in n})
            raise Errors.E322(what="targets", expected=f"names of linear layers of {self.model_name!r} "
                              f"(it has {', '.join(names)}) or 'all-linear'",
                              got=repr(self.lora_config.target_modules)) from e

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
             mask_prob: float = 0.15, pivot_mask_prob: float = 0.5, head_warmup: int | str = "auto") -> dict:
        """Domain-adaptive masked-LM training with a LoRA adapter (the task adapter's settings,
        without task type or head) on ``texts`` (pre-split words); the adapter is merged into the
        encoder that :meth:`fit` then adapts to the task. ``pivots``: words masked with
        ``pivot_mask_prob`` instead of ``mask_prob`` (PERL, Ben-David et al. 2020).

        The base checkpoints of the zoo (sentence-embedding encoders) carry no MLM head: its
        transform layer is initialised fresh and trained with the adapter (the decoder is tied to
        the word embeddings). ``head_warmup`` steps come first in which the adapter gets no
        masked-LM gradient (the encoder's output enters the head detached, its gradient times
        zero, so every trainable weight stays in the graph as distributed training needs): the
        head learns before it steers the adapter. ``"auto"``: half of the steps when the
        checkpoint lacks the head, none when it has it.

        Returns the training record (``losses``, ``steps``, ``examples``, ``pivots``,
        ``head_new``: the head weights the checkpoint lacked, ``head_warmup`` and
        ``head_warmup_steps``). The trained head's weights stay in ``dapt_head_state_`` (not saved)
        for a masked-LM stage that follows (:class:`~nlpta.finetune.udalm.UDALMAdapterModel`).

        Raises:
            ParameterError: E322 for a ``head_warmup`` that is neither ``"auto"`` nor an integer >= 0.
        """
        from peft import get_peft_model
        from transformers import AutoModelForMaskedLM

        _set_threads()
        self.tokenizer_ = getattr(self, "tokenizer_", None) or self._tokenizer()
        check_head_warmup("dapt_warmup", head_warmup)
        with quiet_loading():
            mlm, loading = AutoModelForMaskedLM.from_pretrained(self._base_path(), output_loading_info=True)
        new_head = new_head_weights(mlm, loading)
        peft_mlm = get_peft_model(mlm, replace(self.lora_config or default_lora_config(), task_type=None,
                                               modules_to_save=None))
        for n, p in peft_mlm.named_parameters():  # train the (new) MLM transform with the adapter
            # BERT names the transform .predictions.transform.*, MPNet .lm_head.dense/.layer_norm/.bias
            if (".predictions.transform." in n or ".lm_head.dense." in n or ".lm_head.layer_norm." in n
                    or n.endswith(".lm_head.bias")):
                p.requires_grad = True
        exs = encode.encode_mlm(self.tokenizer_, texts, self.max_length, pivots or ())
        acc = accelerator()
        coll = encode.MLMCollator(self.tokenizer_, mask_prob, pivot_mask_prob, seed=cfg.seed, rank=acc.process_index)
        warm: dict[str, Any] = {"on": False}
        encoder = getattr(peft_mlm.get_base_model(), peft_mlm.get_base_model().base_model_prefix)

        def on_step(step: int, total: int) -> None:
            if "steps" not in warm:
                warm["steps"] = min(head_warmup_steps(head_warmup, total, new_head), total)
            warm["on"] = step < warm["steps"]

        def detach_while_warm(module, args, output):
            if not warm["on"]:
                return output
            h = output[0]
            output["last_hidden_state"] = h.detach() + h * 0.0  # zero gradient to the adapter, still in the graph
            return output

        hook = encoder.register_forward_hook(detach_while_warm)
        cfg = replace(cfg, fingerprint={**(cfg.fingerprint or {}), "head_warmup": head_warmup})
        try:
            info = train(peft_mlm, exs, coll, cfg, acc, on_step=on_step)
        finally:
            hook.remove()
        info = {**info, "head_new": new_head, "head_warmup": head_warmup, "head_warmup_steps": warm.get("steps", 0)}
        with tempfile.TemporaryDirectory(prefix="nlpta-dapt-") as tmp:  # before merging: merging drops the LoRA layers
            peft_mlm.save_pretrained(tmp)
            self.dapt_files_ = {p.name: p.read_bytes() for p in Path(tmp).iterdir()
                                if p.is_file() and p.name in _PEFT_FILES}
        merged = peft_mlm.merge_and_unload()
        # the masked-LM head DAPT trained (transform and bias; the decoder is the tied word embeddings), for a
        # later masked-LM stage on this encoder (udalm with dapt: true) to start from instead of a fresh head
        head = next(m for n, m in merged.named_children() if n != merged.base_model_prefix)
        self.dapt_head_state_ = {k: v.detach().clone() for k, v in head.state_dict().items()
                                 if not k.endswith("decoder.weight")}
        self.encoder_state_ = {k: v.detach().clone()
                               for k, v in getattr(merged, merged.base_model_prefix).state_dict().items()}
        self.pivots_ = list(pivots or [])
        self.dapt_info_ = {**info, "examples": len(exs), "pivots": len(self.pivots_)}
        return self.dapt_info_

    def fit(self, ds, accelerate=None) -> AdapterModel:
        """Train on labeled rows ``ds`` (POS rows with ``tokens``/``upos``, or sentiment rows).
        Returns self."""
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
        self._set_fallback(ds)
        return self

    def continue_fit(self, ds, cfg: TrainConfig, accelerate=None,
                     after_step: Callable[[int, int], None] | None = None) -> AdapterModel:
        """Train the fitted model further on labeled rows ``ds`` (the schema of :meth:`fit`) with
        ``cfg``: the same adapter and head, a fresh optimiser and learning-rate schedule (e.g. a
        self-training round on source + pseudo-labeled rows). ``after_step`` is passed to
        :func:`~nlpta.finetune.trainer.train`. Returns self; ``train_info_`` is this run's record.

        Raises:
            NotFittedError: the model is neither fitted nor loaded.
        """
        self._check()
        _set_threads()
        exs = self._encode(ds, with_labels=True)
        pad = self.tokenizer_.pad_token_id

        def collate(items, step):
            return encode.pad_batch(items, pad)

        acc = accelerate or accelerator()
        model = self.model_
        self.train_info_ = train(model, exs, collate, cfg, acc, after_step=after_step)
        self.model_ = acc.unwrap_model(model) if hasattr(acc, "unwrap_model") else model
        self.model_.eval()
        return self

    def proba(self, ds) -> list:
        """Class probabilities (softmax of :meth:`logits`). Sentiment: one array of
        ``len(labels)`` per row. POS: one ``(words, len(labels))`` array per row, a line per word
        that has a subword within ``max_length`` (the first subword's distribution; words past
        the limit have none), in word order."""
        lg = self.logits(ds)
        out = []
        for i, x in enumerate(lg):
            x = np.asarray(x, dtype=np.float64)
            if self.kind == "pos":
                wids, prev, keep = self._last_encoded[i]["word_ids"], None, []
                for t, w in enumerate(wids):
                    if w is not None and w != prev:
                        keep.append(t)
                    prev = w
                x = x[keep] if keep else np.zeros((0, len(self.labels)))
            e = np.exp(x - x.max(axis=-1, keepdims=True)) if x.size else x
            out.append(e / e.sum(axis=-1, keepdims=True) if x.size else x)
        return out

    def _set_fallback(self, ds) -> None:
        if self.kind == "pos":
            from collections import Counter

            self.fallback_ = Counter(t for row in ds["upos"] for t in row).most_common(1)[0][0]

    def _check(self) -> None:
        if not hasattr(self, "model_"):
            raise Errors.E302(what="AdapterModel (neither trained nor loaded with from_pretrained())")

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
        """Fold the LoRA weights into the base weights (faster inference; no adapter left; a merged
        model saves as a full transformers model)."""
        from peft import PeftModel

        self._check()
        if isinstance(self.model_, PeftModel):
            self.model_ = self.model_.merge_and_unload()
        return self

    # ------------------------------------------------------------------ save / load
    def meta(self) -> dict:
        """The contents of ``nlpta_model.json``."""
        lc = self.lora_config
        lora = None if lc is None else {"r": lc.r, "lora_alpha": lc.lora_alpha, "lora_dropout": lc.lora_dropout,
                                        "target_modules": sorted(lc.target_modules) if isinstance(lc.target_modules, set)
                                        else lc.target_modules}
        return {"kind": self.kind, "base_model": self.model_name, "method": self.method, "lora": lora,
                "max_length": self.max_length, "labels": self.labels,
                "fallback": getattr(self, "fallback_", None), "dapt": bool(getattr(self, "dapt_files_", None)),
                "pivots": getattr(self, "pivots_", []), "trainable": getattr(self, "share_", None)}

    def save_pretrained(self, save_directory: str | Path) -> Path:
        """Write the model into ``save_directory`` (layout in the module docstring; safetensors
        only, no pickle): peft adapter + head (or the full model), ``config.json`` with
        ``id2label``, tokenizer, model card, ``nlpta_model.json`` and ``dapt/``. Returns the folder;
        :meth:`from_pretrained` (or plain peft + transformers) reads it back."""
        from peft import PeftModel

        from .hub import model_card

        self._check()
        d = Path(save_directory)
        d.mkdir(parents=True, exist_ok=True)
        peft, base_ref = isinstance(self.model_, PeftModel), None
        for stale in _FULL_FILES if peft else _PEFT_FILES:  # a folder saved over: one format only
            (d / stale).unlink(missing_ok=True)
        with quiet_loading():
            if peft:
                self.model_.save_pretrained(d, safe_serialization=True)
                base_ref = self._tidy_adapter_config(d / "adapter_config.json")
                base = self.model_.get_base_model()
                cfg = copy.deepcopy(base.config)
                cfg.architectures = [type(base).__name__]
                cfg.save_pretrained(d)
            else:
                self.model_.save_pretrained(d)
        shutil.rmtree(d / "dapt", ignore_errors=True)
        if getattr(self, "dapt_files_", None):
            (d / "dapt").mkdir()
            for name, data in self.dapt_files_.items():
                (d / "dapt" / name).write_bytes(data)
        self.tokenizer_.save_pretrained(d)
        meta = self.meta()
        if not peft:
            meta["method"] = "full-ft" if self.method == "full-ft" else "merged"
        card = model_card(meta, None, None, None, base_ref=base_ref).replace("REPO_ID", str(d))
        (d / "README.md").write_text(card, encoding="utf-8")
        atomic_write_json(d / META, meta)
        return d

    @staticmethod
    def _tidy_adapter_config(path: Path) -> str | None:
        """Make the ``adapter_config.json`` peft wrote loadable from anywhere: the base model as an
        absolute folder path when it is a local folder (a Hub id stays), ``modules_to_save`` without
        the repeats peft adds (it appends its default head names to ours). Returns the base model
        reference written."""
        cfg = json.loads(path.read_text(encoding="utf-8"))
        base = cfg.get("base_model_name_or_path")
        if base and Path(base).expanduser().is_dir():
            cfg["base_model_name_or_path"] = str(Path(base).expanduser().resolve())
        if cfg.get("modules_to_save"):
            cfg["modules_to_save"] = list(dict.fromkeys(cfg["modules_to_save"]))
        atomic_write_json(path, cfg)
        return cfg.get("base_model_name_or_path")

    def push_to_hub(self, repo_id: str, token: str | None = None, private: bool = False,
                    commit_message: str | None = None) -> str:
        """Save the model (:meth:`save_pretrained`) and upload it to the Hub repository ``repo_id``
        (created if needed) with a model card, through :func:`nlpta.finetune.hub.push`. The token
        comes from ``token`` or ``HF_TOKEN``; ``HF_ENDPOINT`` selects another Hub. Returns the
        commit URL."""
        from .hub import push

        with tempfile.TemporaryDirectory(prefix="nlpta-push-") as tmp:
            folder = self.save_pretrained(Path(tmp) / "model")
            return push(folder, repo_id, token=token, private=private,
                        commit_message=commit_message or f"nlpta: upload a {self.kind} {self.method} model")

    @classmethod
    def _meta_kwargs(cls, meta: dict) -> dict:
        """Constructor arguments a subclass reads back from ``nlpta_model.json``."""
        return {}

    def _load_extra(self, directory: Path) -> None:
        """Subclasses read their extra files here."""

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | Path, base_model: str | None = None,
                        revision: str | None = None, eval_batch_size: int = 64) -> AdapterModel:
        """Rebuild a model written by :meth:`save_pretrained`: from a local folder, or from a Hub
        repository id (downloaded with ``huggingface_hub``). The base encoder comes from
        ``base_model`` or the saved ``base_model`` (through :func:`nlpta.models.resolve`); the DAPT
        adapter, if any, is merged into it, then the task adapter and head are put on top.

        Raises:
            NlptaError: not a model folder (no ``nlpta_model.json``) or no such Hub repository.
        """
        from peft import PeftModel
        from transformers import AutoTokenizer

        d = _model_folder(pretrained_model_name_or_path, revision)
        if not (d / META).exists():
            raise Errors.E307(path=d, detail=f"no {META}, which AdapterModel.save_pretrained writes")
        m = json.loads((d / META).read_text(encoding="utf-8"))
        method = "full-ft" if m["method"] in ("full-ft", "merged") else "lora"
        self = cls(m["kind"], model=base_model or m["base_model"], method=method, max_length=m["max_length"],
                   eval_batch_size=eval_batch_size, **cls._meta_kwargs(m))
        self.labels, self.fallback_ = list(m["labels"]), m.get("fallback")
        self.pivots_, self.share_ = list(m.get("pivots") or []), m.get("trainable")
        self.tokenizer_ = AutoTokenizer.from_pretrained(d)
        # folders written before save_pretrained kept the adapter in adapter/ and a full model in model/
        adapter = d / "adapter" if (d / "adapter" / "adapter_config.json").exists() else d
        if (adapter / "adapter_config.json").exists():
            base = self._task_model()
            with quiet_loading():
                if m.get("dapt") and (d / "dapt" / "adapter_config.json").exists():
                    base = PeftModel.from_pretrained(base, d / "dapt").merge_and_unload()
                    self.dapt_files_ = {n: (d / "dapt" / n).read_bytes() for n in _PEFT_FILES}
                self.model_ = PeftModel.from_pretrained(base, adapter)
            loaded = self.model_.peft_config["default"]  # peft added its head names to modules_to_save
            self.lora_config = self._task_lora_config(replace(
                loaded, inference_mode=False, modules_to_save=list(dict.fromkeys(loaded.modules_to_save or []))))
        else:
            with quiet_loading():
                self.model_ = self._auto_class().from_pretrained(d / "model" if (d / "model").is_dir() else d)
            self.method, self.lora_config = "full-ft", None
        self.model_.eval()
        self._load_extra(d)
        return self


def load_adapters(base_model: str, adapters: dict[str, str | Path], kind: str):
    """Several task adapters on one base model: a peft model holding each adapter of
    ``adapters`` (name -> folder written by :meth:`AdapterModel.save_pretrained`) under its
    name; switch with ``model.set_adapter(name)``. Heads are per adapter (``modules_to_save``)."""
    from peft import PeftModel

    def folder(p) -> Path:
        return Path(p) / "adapter" if (Path(p) / "adapter" / "adapter_config.json").exists() else Path(p)

    names = list(adapters)
    first = AdapterModel.from_pretrained(adapters[names[0]], base_model=base_model)
    if first.method != "lora" or first.kind != kind:
        raise Errors.E312(path=adapters[names[0]], found=f"a {first.kind} {first.method} model",
                          expected=f"a {kind} LoRA adapter")
    pm = PeftModel.from_pretrained(first._task_model(), folder(adapters[names[0]]), adapter_name=names[0])
    for n in names[1:]:
        pm.load_adapter(str(folder(adapters[n])), adapter_name=n)
    pm.eval()
    return pm
