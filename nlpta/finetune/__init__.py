"""Transformers with LoRA adapters: POS tagging and sentiment classification across domains and
languages, domain-adaptive masked-LM pretraining (with optional pivot masking), checkpointed
training on accelerate, and pushing adapters to the Hugging Face Hub.

Heavy libraries (torch, transformers, peft) are imported inside functions; importing this package
is cheap. Main entry points: :class:`nlpta.finetune.model.AdapterModel`,
:func:`nlpta.finetune.trainer.train`, :func:`nlpta.finetune.hub.push`, and the registered methods
``lora``, ``lora-dapt``, ``full-ft``, ``lora-dann`` and ``dann`` (:mod:`nlpta.finetune.methods`;
domain-adversarial training in :mod:`nlpta.finetune.dann`).
"""

from __future__ import annotations

__all__ = ["AdapterModel", "TrainConfig", "push", "select_pivots"]


def __getattr__(name: str):
    if name == "AdapterModel":
        from .model import AdapterModel

        return AdapterModel
    if name == "TrainConfig":
        from .trainer import TrainConfig

        return TrainConfig
    if name == "push":
        from .hub import push

        return push
    if name == "select_pivots":
        from .encode import select_pivots

        return select_pivots
    raise AttributeError(name)
