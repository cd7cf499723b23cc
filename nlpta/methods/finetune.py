"""Registered transformer methods: ``lora``, ``lora-dapt`` and ``full-ft`` (for POS and sentiment).

* ``lora`` -- a LoRA adapter (Hu et al. 2022) + classification head trained on the labeled
  source, applied to the target (zero-shot across domains or, with a multilingual encoder such as
  ``multilingual-e5-small``, across languages).
* ``lora-dapt`` -- first a LoRA masked-LM adapter on the target's unlabeled rows (Gururangan et al.
  2020), optionally masking pivot words preferentially (``pivots``: a list, or ``auto`` for
  sentiment: words frequent in both domains ranked by mutual information with the source label,
  as in PERL, Ben-David et al. 2020); merged; then ``lora``. ``dapt_warmup`` (default ``auto``:
  half of the masked-LM steps when the checkpoint has no masked-LM head) trains a fresh head alone
  before its gradient reaches the adapter.
* ``full-ft`` -- every weight trained (the comparison).

* ``udalm`` -- UDALM (Karouzos, Paraskevopoulos & Potamianos 2021): one run whose loss mixes the
  task loss on labeled source batches with the masked-LM loss on target unlabeled batches through
  one encoder (and one LoRA adapter), ``task_weight * L_task + (1 - task_weight) * L_mlm``
  (:mod:`nlpta.finetune.udalm`); ``full: true`` trains every weight instead of an adapter,
  ``dapt: true`` runs the paper's first stage (``lora-dapt``'s masked-LM adapter, merged) before.
* ``lora-self-train`` -- ``lora``, then ``rounds`` of pseudo-labeling the target unlabeled rows
  (confidence >= ``threshold``; sentiment: the same number of rows per class, as many as the rarest
  class has; POS: whole sentences by their least confident word) and training on, with an optional
  EMA (mean) teacher (:mod:`nlpta.finetune.self_train`; the selection is the classical
  ``self-train``'s, :mod:`nlpta.correction.self_training`).

The adversarial ``lora-dann`` (and the shallow ``dann``) are in :mod:`nlpta.methods.adversarial`.

``few_shot: true`` adds the task's ``target_labeled`` rows to the training rows. ``max_examples``
caps the labeled source rows (a seeded sample), ``max_steps`` the optimiser steps,
``max_length`` the subwords per input: the knobs for quick runs. ``r``, ``alpha``, ``dropout``,
``targets``, ``use_rslora`` and ``use_dora`` build the peft ``LoraConfig`` (``r``, ``lora_alpha``,
``lora_dropout``, ``target_modules``, ``use_rslora``: scaling ``alpha / sqrt(r)``, Kalajdzievski 2023;
``use_dora``: weight-decomposed LoRA, Liu et al. 2024). ``targets`` is a list of module names
(the suffixes peft matches: ``[query, value]`` for BERT / XLM-R, ``[q, v]`` for MPNet) or
``all-linear`` (peft's every linear layer of the encoder; the head is trained whole).

Checkpoints: with ``checkpoint_dir: DIR`` and ``checkpoint_every: N`` each seed checkpoints every N
steps into its own folder ``DIR/seed<S>/`` (``lora-dapt``: ``DIR/seed<S>/dapt`` and
``DIR/seed<S>/task``; ``lora-self-train``: ``DIR/seed<S>/round<R>``) and a rerun resumes from there. Each checkpoint carries a fingerprint of the
run (task kind, method, parameters, seed, model, training examples); a folder holding checkpoints
of another configuration is refused (``E311``), never resumed from. ``checkpoint_every`` without
``checkpoint_dir`` is refused (``E313``) rather than silently writing nothing.

A fitted method saves (:meth:`~nlpta.methods.registry.Method.save`) the model folder of
:meth:`nlpta.finetune.model.AdapterModel.save_pretrained` -- loadable with plain peft +
transformers -- plus ``train_info.json`` and ``method.json``; :func:`nlpta.load_model` reads it back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import datasets

from ..data import sample_rows
from ..errors import Errors
from ..tasks import TransferTask
from .registry import UNLABELED_EXAMPLE, Method, need_unlabeled, register

_COMMON: dict[str, Any] = {
    "model": "minilm-l6", "r": 8, "alpha": 16, "dropout": 0.1, "targets": ["query", "value"],
    "lr": 1e-3, "batch_size": 16, "max_steps": None, "max_examples": None, "warmup_ratio": 0.06,
    "weight_decay": 0.01, "eval_batch_size": 64, "checkpoint_dir": None, "checkpoint_every": 0,
    "few_shot": False, "report_dir": None, "use_rslora": False, "use_dora": False,
}
_TASK = {"sentiment": {"epochs": 1, "max_length": 256}, "pos": {"epochs": 3, "max_length": 128}}
_DANN = {"lambda_max": 1.0, "gamma": 10.0, "max_unlabeled": 2000, "pooling": "cls", "domain_hidden": 256}
_DAPT = {"dapt_lr": 1e-3, "dapt_epochs": 1, "dapt_steps": None, "dapt_examples": 2000, "dapt_warmup": "auto",
         "pivots": None, "n_pivots": 100, "pivot_mask_prob": 0.5, "mask_prob": 0.15}


def _defaults(extra: dict | None = None, **over) -> dict[str, dict[str, Any]]:
    return {k: {**_COMMON, **v, **over, **(extra or {})} for k, v in _TASK.items()}


def select_pivot_words(source_texts: Sequence[str], source_labels: Sequence[int], target_texts: Sequence[str],
                       n: int = 100, min_count: int = 10) -> list[str]:
    """PERL's pivots (Ben-David et al. 2020) for masking: lower-cased whitespace words occurring in
    at least ``min_count`` documents of both the source and the target, the ``n`` with the highest
    mutual information between the word's presence and the source label (SCL-MI, Blitzer et al.
    2007), best first (ties alphabetical). Returns the words.

    The counting and ranking are :func:`nlpta.pivots.selection.select_pivots` (``criterion="mi"``)
    over binary document-word columns; the words are the units the masked-LM collator masks
    (:func:`nlpta.finetune.encode.split_words`, compared lower-cased), not scikit-learn's default
    ``\\b\\w\\w+\\b`` tokens or n-grams.

    Raises:
        NlptaError: no word occurs in ``min_count`` documents of both domains.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    from ..finetune.encode import split_words
    from ..pivots.selection import select_pivots

    vec = CountVectorizer(tokenizer=split_words, lowercase=True, token_pattern=None, binary=True)
    vec.fit(list(source_texts) + list(target_texts))  # columns in alphabetical order: stable ties
    Xs, Xt = vec.transform(list(source_texts)), vec.transform(list(target_texts))
    idx, _, _, _ = select_pivots(Xs, Xt, list(source_labels), n_pivots=n, min_count=min_count, criterion="mi")
    words = vec.get_feature_names_out()
    return [str(words[i]) for i in idx]


def _lora_targets(targets: Any) -> str | list[str]:
    """``targets`` as peft's ``target_modules``: ``"all-linear"`` as it is, else a list of names.

    Raises:
        ParameterError: E322 for any other string or a list holding a non-string.
    """
    if targets == "all-linear":
        return "all-linear"
    if isinstance(targets, list | tuple) and targets and all(isinstance(t, str) and t for t in targets):
        return list(targets)
    raise Errors.E322(what="targets", expected="a list of module names (e.g. [query, value]; [q, v] for MPNet) "
                                               "or all-linear", got=repr(targets))


def _flag(params: dict[str, Any], name: str) -> bool:
    """The boolean parameter ``name`` (E322 when it is not a boolean)."""
    v = params[name]
    if not isinstance(v, bool):
        raise Errors.E322(what=name, expected="true or false", got=repr(v))
    return v


# parameters that do not change what is trained (where checkpoints and reports go, evaluation batches)
_BOOKKEEPING = ("checkpoint_dir", "checkpoint_every", "report_dir", "eval_batch_size")


class _Transformer(Method):
    """Shared fit/predict/save/load for the transformer methods."""

    full_ft: ClassVar[bool] = False
    dapt: ClassVar[bool] = False

    def _checkpoint_root(self) -> Path | None:
        """This seed's checkpoint folder ``<checkpoint_dir>/seed<S>`` (``None`` without one).

        Raises:
            ParameterError: ``E313`` ``checkpoint_every`` > 0 without ``checkpoint_dir``;
            ``E322`` ``checkpoint_every`` is not an integer >= 0.
        """
        p = self.params
        every = p["checkpoint_every"]
        if isinstance(every, bool) or not isinstance(every, int) or every < 0:
            raise Errors.E322(what="checkpoint_every", expected="an integer >= 0 (steps; 0 = never)", got=repr(every))
        if not p["checkpoint_dir"]:
            if every:
                raise Errors.E313(every=every, detail=f"method {self.name!r} has no checkpoint_dir, so nothing would "
                                                      "be written; pass --param checkpoint_dir=DIR (or nlpta "
                                                      "finetune --checkpoint-dir DIR): seed S checkpoints into "
                                                      "DIR/seed<S>/")
            return None
        return Path(p["checkpoint_dir"]) / f"seed{self.seed}"

    def _fingerprint(self, stage: str) -> dict[str, Any]:
        """What identifies this run in its checkpoints (the trainer adds the examples' digest)."""
        return {"kind": self.task, "method": self.name, "stage": stage, "seed": self.seed,
                "model": str(self.params["model"]),
                "params": {k: v for k, v in sorted(self.params.items()) if k not in _BOOKKEEPING}}

    def _model_class(self):
        from ..finetune.model import AdapterModel

        return AdapterModel

    def _model_kwargs(self) -> dict[str, Any]:
        """The :class:`~nlpta.finetune.model.AdapterModel` arguments these parameters give."""
        from peft import LoraConfig

        from ..finetune.trainer import TrainConfig

        p = self.params
        ck = self._checkpoint_root()
        if ck is not None and self.dapt:
            ck = ck / "task"
        cfg = TrainConfig(lr=p["lr"], epochs=p["epochs"], batch_size=p["batch_size"], max_steps=p["max_steps"],
                          warmup_ratio=p["warmup_ratio"], weight_decay=p["weight_decay"], seed=self.seed,
                          checkpoint_dir=str(ck) if ck is not None else None, checkpoint_every=p["checkpoint_every"],
                          desc=f"{self.name} {self.task}", report_dir=p["report_dir"],
                          fingerprint=self._fingerprint("task"))
        lora = None if self.full_ft else LoraConfig(r=int(p["r"]), lora_alpha=p["alpha"], lora_dropout=float(p["dropout"]),
                                                    target_modules=_lora_targets(p["targets"]),
                                                    use_rslora=_flag(p, "use_rslora"), use_dora=_flag(p, "use_dora"))
        return {"kind": self.task, "model": p["model"], "method": "full-ft" if self.full_ft else "lora",
                "lora_config": lora, "max_length": p["max_length"], "train": cfg,
                "eval_batch_size": p["eval_batch_size"]}

    def _model(self):
        return self._model_class()(**self._model_kwargs())

    def _train_rows(self, task: TransferTask) -> datasets.Dataset:
        """The labeled training rows: a ``max_examples`` sample of the source (+ ``target_labeled``
        with ``few_shot``)."""
        p = self.params
        train_ds = sample_rows(task.source, p["max_examples"], self.seed)
        if p["few_shot"]:
            if task.target_labeled is None:
                raise Errors.E308(method=self.name, detail="few_shot needs a target_labeled entry in the task")
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
        from ..finetune.encode import split_words
        from ..finetune.trainer import TrainConfig

        p = self.params
        if task.unlabeled is None:
            raise Errors.E306(method=self.name, example=UNLABELED_EXAMPLE[self.task])
        unl = sample_rows(task.unlabeled, p["dapt_examples"], self.seed)
        texts = unl["tokens"] if self.task == "pos" else [split_words(t) for t in unl["text"]]
        pivots = p["pivots"]
        if pivots == "auto":
            if self.task != "sentiment":
                raise Errors.E304(detail="pivots: auto ranks words by mutual information with a document label, "
                                         "so it needs a sentiment task; give a list of pivot words for POS")
            pivots = select_pivot_words(train_ds["text"], train_ds["label"], unl["text"], n=p["n_pivots"])
        elif pivots is not None and not (isinstance(pivots, list) and all(isinstance(w, str) for w in pivots)):
            raise Errors.E322(what="pivots", expected="null, 'auto' or a list of words", got=repr(pivots))
        ck = self._checkpoint_root()
        cfg = TrainConfig(lr=p["dapt_lr"], epochs=p["dapt_epochs"], batch_size=p["batch_size"],
                          max_steps=p["dapt_steps"], seed=self.seed, desc=f"dapt {self.task}",
                          checkpoint_dir=str(ck / "dapt") if ck is not None else None,
                          checkpoint_every=p["checkpoint_every"], fingerprint=self._fingerprint("dapt"))
        self.model_.dapt(texts, cfg, pivots=pivots, mask_prob=p["mask_prob"], pivot_mask_prob=p["pivot_mask_prob"],
                         head_warmup=p["dapt_warmup"])

    def predict(self, ds: datasets.Dataset) -> list:
        return self.model_.predict(ds)

    def _save(self, directory: Path) -> None:
        from ..io import atomic_write_json

        self.model_.save_pretrained(directory)
        atomic_write_json(directory / "train_info.json", self.info_)

    def _load(self, directory: Path) -> None:
        self.model_ = self._model_class().from_pretrained(directory, eval_batch_size=self.params["eval_batch_size"])
        info = directory / "train_info.json"
        self.info_ = json.loads(info.read_text(encoding="utf-8")) if info.exists() else {}


@register("lora")
class Lora(_Transformer):
    """LoRA adapter + head on the labeled source (MiniLM by default; r 8 on query/value)."""

    defaults: ClassVar[dict[str, dict[str, Any]]] = _defaults()


@register("lora-dapt")
class LoraDapt(_Transformer):
    """Masked-LM LoRA on the target's unlabeled rows (optionally pivot-masked), merged, then ``lora``.
    ``dapt_warmup``: the first masked-LM steps in which only the head trains (``auto``: half of them
    when the checkpoint has no masked-LM head, as the zoo's sentence-embedding encoders)."""

    dapt = True
    defaults: ClassVar[dict[str, dict[str, Any]]] = _defaults(_DAPT)

    def fit_report(self) -> dict:
        """The masked-LM stage: ``dapt_steps``, ``head_new`` (head weights the checkpoint lacked),
        ``head_warmup_steps``, the first and last logged masked-LM loss; a warning when a fresh head
        got no warm-up (its gradient steered the adapter from the first step)."""
        d = (self.info_ or {}).get("dapt") or {}
        losses = [h["loss"] for h in d.get("losses") or []]
        new = d.get("head_new") or []
        warnings = []
        if new and not d.get("head_warmup_steps"):
            warnings.append(f"the encoder's checkpoint has no masked-LM head ({len(new)} head weights initialised "
                            "fresh) and dapt_warmup is 0, so the masked-LM loss sent the adapter gradients from a "
                            "head that had learned nothing yet; leave dapt_warmup at auto or set it (the first "
                            "steps in which only the head trains)")
        return {"dapt_steps": d.get("steps"), "head_new": len(new), "head_warmup_steps": d.get("head_warmup_steps", 0),
                "first_mlm_loss": losses[0] if losses else None, "final_mlm_loss": losses[-1] if losses else None,
                "warnings": warnings}


@register("full-ft")
class FullFinetune(_Transformer):
    """Every weight of the encoder and head trained (learning rate 5e-5)."""

    full_ft = True
    defaults: ClassVar[dict[str, dict[str, Any]]] = _defaults(lr=5e-5)


# UDALM (Karouzos et al. 2021): lambda = task_weight weighs the task loss, 1 - lambda the masked-LM loss
_UDALM = {"task_weight": 0.5, "task_weight_end": None, "mlm_batch_size": None, "mlm_warmup": "auto",
          "max_unlabeled": 2000, "full": False, "dapt": False, **_DAPT}


@register("udalm")
class Udalm(_Transformer):
    """UDALM (Karouzos et al. 2021): ``task_weight * L_task(source batch) + (1 - task_weight) *
    L_mlm(target batch)`` in one run through one encoder (LoRA by default; ``full: true`` trains
    every weight -- give it a full fine-tuning learning rate such as ``lr: 5e-5``). ``task_weight_end``
    moves the weight linearly over the run; ``dapt: true`` first trains and merges a masked-LM
    adapter on the target (the paper's domain pretraining stage; ``dapt_*`` parameters);
    ``mlm_warmup`` is the number of first steps in which the masked-LM loss trains its head only;
    ``"auto"`` is half of the steps when the encoder's checkpoint has no masked-LM head (the zoo's
    sentence-embedding models), else none; the fit report warns when a fresh head gets no warm-up."""

    defaults: ClassVar[dict[str, dict[str, Any]]] = _defaults(_UDALM)

    @property
    def full_ft(self) -> bool:  # type: ignore[override]
        full = self.params["full"]
        if not isinstance(full, bool):
            raise Errors.E322(what="full", expected="true (train every weight) or false (a LoRA adapter)",
                              got=repr(full))
        return full

    @property
    def dapt(self) -> bool:  # type: ignore[override]
        d = self.params["dapt"]
        if not isinstance(d, bool):
            raise Errors.E322(what="dapt", expected="true (masked-LM pretraining on the target first) or false",
                              got=repr(d))
        return d

    def _model_class(self):
        from ..finetune.udalm import UDALMAdapterModel

        return UDALMAdapterModel

    def _model(self):
        p = self.params
        return self._model_class()(**self._model_kwargs(), task_weight=p["task_weight"],
                                   task_weight_end=p["task_weight_end"], mlm_batch_size=p["mlm_batch_size"],
                                   mask_prob=p["mask_prob"], mlm_warmup=p["mlm_warmup"])

    def fit(self, task: TransferTask) -> Udalm:
        """Train on the labeled source rows and a ``max_unlabeled`` sample of the target unlabeled rows.

        Raises:
            ParameterError: no target unlabeled rows (E306 / E328), a bad weight (E322).
        """
        unl = need_unlabeled(task, self.name, self.task,
                             example=f"{UNLABELED_EXAMPLE[self.task]} (their masked-LM loss is half of UDALM's "
                                     "mixed loss)")
        train_ds = self._train_rows(task)
        self.model_ = self._model()
        if self.dapt:
            self._dapt(task, train_ds)
        self.model_.fit(train_ds, sample_rows(unl, self.params["max_unlabeled"], self.seed))
        self.info_ = {"train": self.model_.train_info_, "trainable": self.model_.share_,
                      "dapt": getattr(self.model_, "dapt_info_", None)}
        return self

    def fit_report(self) -> dict:
        """The mixing (``task_weight`` and, with a schedule, ``task_weight_end``), the target rows
        the masked-LM loss read (``unlabeled``) and the last logged task and masked-LM losses."""
        tr = (self.info_ or {}).get("train") or {}
        log = tr.get("udalm") or []
        warnings = []
        new = tr.get("mlm_head_new") or []
        if new and not tr.get("mlm_warmup_steps"):
            first = f" (it started at {log[0]['mlm_loss']:.1f})" if log else ""
            warnings.append(f"the encoder's checkpoint has no masked-LM head ({len(new)} head weights initialised "
                            f"fresh), so the masked-LM loss{first} sent the adapter gradients from a head that had "
                            "learned nothing yet; on MiniLM this lost accuracy to `lora` (BENCHMARKS.md, UDALM with "
                            "MiniLM). Leave mlm_warmup at auto or set it (steps in which that loss trains the head only)")
        out = {"task_weight": self.params["task_weight"], "unlabeled": tr.get("unlabeled"),
               "final_task_loss": log[-1]["task_loss"] if log else None,
               "final_mlm_loss": log[-1]["mlm_loss"] if log else None,
               "mlm_head_new": len(new), "mlm_head_from": tr.get("mlm_head_from"),
               "mlm_warmup_steps": tr.get("mlm_warmup_steps", 0), "warnings": warnings}
        if self.params["task_weight_end"] is not None:
            out["task_weight_end"] = self.params["task_weight_end"]
        return out


def pseudo_label_selection(kind: str, proba: list, threshold: float | None = 0.9,
                           top_share: float | None = None) -> tuple[Any, list, Any]:
    """Which target rows a transformer self-training round pseudo-labels, by the classical
    ``self-train``'s rules (:mod:`nlpta.correction.self_training`):

    * sentiment (``proba``: one class-probability vector per row) -- confidence = the top
      probability; rows with confidence >= ``threshold`` under their arg-max class, then
      class-balanced: the same number per class, the most confident first, as many as the rarest
      class has (:func:`~nlpta.correction.self_training.select_pseudo_labels`, ``balance="equal"``);
      ``top_share`` caps the total;
    * POS (``proba``: one ``(words, tags)`` array per sentence) -- confidence = the least top
      probability over the sentence's words (:func:`~nlpta.correction.self_training.sequence_confidence`,
      ``"min"``); whole sentences with confidence >= ``threshold``, the most confident first
      (:func:`~nlpta.correction.self_training.select_sequences`); no class balance (a sentence
      holds many tags). Sentences without a word are never selected.

    Returns:
        ``(rows, labels, confidence)``: sorted row indices; per selected row its class column
        (sentiment) or its words' tag columns (POS); every row's confidence.
    """
    import numpy as np

    from ..correction.self_training import (
        select_pseudo_labels,
        select_sequences,
        sequence_confidence,
    )

    if kind == "sentiment":
        P = np.asarray(proba, dtype=np.float64).reshape(len(proba), -1)
        rows, cols = select_pseudo_labels(P, threshold, "equal", None, top_share)
        return rows, [int(c) for c in cols], P.max(1) if len(P) else np.zeros(0)
    lengths = [len(p) for p in proba]
    k = next((p.shape[1] for p in proba if len(p)), 1)
    flat = np.concatenate([np.asarray(p, dtype=np.float64).reshape(-1, k) for p in proba]) if proba \
        else np.zeros((0, k))
    conf, cols = sequence_confidence(flat, lengths, "min")
    conf = np.where(np.asarray(lengths) > 0, conf, -1.0)  # never an empty sentence, whatever the threshold
    rows = select_sequences(conf, threshold, top_share)
    rows = rows[conf[rows] >= 0]
    starts = np.r_[0, np.cumsum(lengths)[:-1]].astype(int)
    return rows, [cols[starts[i]: starts[i] + lengths[i]] for i in rows], conf


_SELF_TRAIN = {"rounds": 2, "threshold": 0.9, "top_share": None, "ema": None, "max_unlabeled": 2000}


@register("lora-self-train")
class LoraSelfTrain(_Transformer):
    """``lora``, then ``rounds`` rounds: pseudo-label the target unlabeled rows with the current
    model (or its EMA teacher, ``ema``), keep the confident ones class-balanced
    (:func:`pseudo_label_selection`) and train the same adapter on source + pseudo-labeled rows."""

    defaults: ClassVar[dict[str, dict[str, Any]]] = _defaults(_SELF_TRAIN)

    def _round_config(self, r: int):
        from dataclasses import replace

        cfg = self.model_.train_cfg
        ck = self._checkpoint_root()
        return replace(cfg, checkpoint_dir=str(ck / f"round{r}") if ck is not None else None,
                       desc=f"{self.name} {self.task} round {r}", fingerprint=self._fingerprint(f"round{r}"))

    def fit(self, task: TransferTask) -> LoraSelfTrain:
        """``lora`` on the source (+ ``target_labeled`` with ``few_shot``), then the rounds on a
        ``max_unlabeled`` sample of the target unlabeled rows.

        Raises:
            ParameterError: no target unlabeled rows (E306 / E328); a bad ``rounds``, ``threshold``,
                ``top_share`` or ``ema`` (E322).
        """
        from ..correction.self_training import select_sequences
        from ..finetune.self_train import self_train

        p = self.params
        select_sequences([], p["threshold"], p["top_share"])  # checks threshold / top_share (E322) before training
        if p["threshold"] is None and p["top_share"] is None:
            raise Errors.E322(what="threshold / top_share", expected="at least one of them set",
                              got="both null (every target row would be pseudo-labeled)")
        unl = need_unlabeled(task, self.name, self.task,
                             example=f"{UNLABELED_EXAMPLE[self.task]} (they are what self-training pseudo-labels)")
        unl = sample_rows(unl, p["max_unlabeled"], self.seed)
        train_ds = self._train_rows(task)
        self.model_ = self._model()
        self.model_.train_cfg = self._round_config(0)

        def select(proba):
            return pseudo_label_selection(self.task, proba, p["threshold"], p["top_share"])

        history = self_train(self.model_, train_ds, unl, select, rounds=p["rounds"], ema=p["ema"],
                             threshold=p["threshold"], round_config=self._round_config)
        self.info_ = {"train": self.model_.train_info_, "trainable": self.model_.share_, "dapt": None,
                      "self_training": {"rounds": history, "target_rows": len(unl), "source_rows": len(train_ds),
                                        "threshold": p["threshold"], "top_share": p["top_share"],
                                        "ema": p["ema"], "balance": "equal" if self.task == "sentiment" else None}}
        return self

    def fit_report(self) -> dict:
        """Per round (``rounds``): the threshold, the teacher, rows selected and their per-class
        counts (POS: word tags of the selected sentences), mean confidence and the share of
        pseudo-labels changed since the previous round; ``pseudo_labeled`` (the last round's);
        ``warnings`` when a round selected nothing (lower the threshold) or, for sentiment, one class only."""
        st = dict((self.info_ or {}).get("self_training") or {})
        hist = list(st.get("rounds") or [])
        warnings = []
        empty = [h["round"] for h in hist if h["selected"] == 0]
        if empty:
            warnings.append(f"no target row passed the selection in round(s) {', '.join(map(str, empty))} "
                            f"(threshold {st.get('threshold')}): lower the threshold or set top_share")
        return {"target_rows": st.get("target_rows"), "source_rows": st.get("source_rows"), "rounds": hist,
                "pseudo_labeled": hist[-1]["selected"] if hist else 0, "threshold": st.get("threshold"),
                "ema": st.get("ema"), "warnings": warnings}


def _need_unlabeled(name: str, task: TransferTask, kind: str = "sentiment") -> None:
    if task.unlabeled is None or len(task.unlabeled) == 0:
        raise Errors.E306(method=name, example=f"{UNLABELED_EXAMPLE[kind]} (they are the domain classifier's "
                                               "target side)")
