"""Transformers with LoRA adapters: POS tagging and sentiment classification across domains and
languages, domain-adaptive masked-LM pretraining (with optional pivot masking), checkpointed
training on accelerate, and sharing models on the Hugging Face Hub.

Heavy libraries (torch, transformers, peft) are imported inside functions; importing this package
is cheap. Main entry points: :class:`nlpta.finetune.model.AdapterModel` (a peft ``LoraConfig``
inside; ``save_pretrained`` / ``from_pretrained`` / ``push_to_hub``; what it saves loads with plain
peft + transformers), :class:`nlpta.finetune.trainer.TrainConfig` and
:func:`nlpta.finetune.trainer.train`, :func:`nlpta.finetune.hub.push`, and domain-adversarial
training in :mod:`nlpta.finetune.dann`. The registered methods ``lora``, ``lora-dapt``,
``full-ft``, ``udalm``, ``lora-self-train`` and ``lora-dann`` are in :mod:`nlpta.methods.finetune` and
:mod:`nlpta.methods.adversarial`.
"""

from __future__ import annotations

__all__ = ["AdapterModel", "TrainConfig", "push"]


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
    raise AttributeError(name)
