"""The frozen-encoder baseline of the transformer benchmarks: mean-pooled features of a frozen
encoder (all-MiniLM-L6-v2 by default) and a logistic regression with C by cross-validation on the
source -- the "frozen features" reference of ANCHORS.md, against which LoRA is compared.

It follows the :class:`nlpta.methods.Method` interface (``fit(task)`` / ``predict(rows)``) but is
not registered: it lives here until it moves to ``nlpta/methods/finetune.py`` as a registered
method (it has no ``save`` yet). Its file is part of the benchmark cache's code version.
"""

from __future__ import annotations

from typing import Any, ClassVar

import datasets
import numpy as np

from nlpta.methods import Method


class FrozenEncoder(Method):
    """Sentiment from a frozen encoder: mean-pooled last hidden states (``max_length`` subwords,
    inputs sorted by length, batches of ``batch_size``, on CUDA when ``device`` is ``auto`` and
    torch sees a GPU) + ``LogisticRegressionCV`` (``Cs``,
    ``cv`` folds) on at most ``max_examples`` source rows (a seeded sample)."""

    name: ClassVar[str] = "frozen-encoder"
    tasks: ClassVar[tuple[str, ...]] = ("sentiment",)
    defaults: ClassVar[dict[str, dict[str, Any]]] = {
        "sentiment": {"model": "minilm-l6", "max_length": 128, "max_examples": None, "batch_size": 64,
                      "Cs": [0.1, 1.0, 10.0], "cv": 5, "max_iter": 2000,
                      "device": "auto"},
    }

    def _encoder(self):
        if getattr(self, "_enc", None) is None:
            from transformers import AutoModel, AutoTokenizer

            from nlpta.models import resolve

            path = resolve(self.params["model"])
            self._tok = AutoTokenizer.from_pretrained(path)
            self._enc = AutoModel.from_pretrained(path).eval().to(self._device())
        return self._tok, self._enc

    def _device(self) -> str:
        import torch

        d = self.params["device"]
        return ("cuda" if torch.cuda.is_available() else "cpu") if d == "auto" else d

    def embed(self, texts: list[str]) -> np.ndarray:
        """Mean-pooled encoder features of ``texts`` (one row each, in their order)."""
        import torch

        tok, enc = self._encoder()
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = []
        bs = int(self.params["batch_size"])
        with torch.no_grad():
            for s in range(0, len(texts), bs):
                idx = order[s:s + bs]
                b = tok([texts[i] for i in idx], truncation=True, max_length=int(self.params["max_length"]),
                        padding=True, return_tensors="pt").to(enc.device)
                h = enc(**b).last_hidden_state
                m = b["attention_mask"].unsqueeze(-1).float()
                out.append(((h * m).sum(1) / m.sum(1)).float().cpu().numpy())
        e = np.concatenate(out) if out else np.zeros((0, 0), dtype=np.float32)
        res = np.empty_like(e)
        res[order] = e
        return res

    def fit(self, task) -> FrozenEncoder:
        from sklearn.linear_model import LogisticRegressionCV

        from nlpta.data import sample_rows

        src = sample_rows(task.source, self.params["max_examples"], self.seed)
        self.train_rows_ = len(src)
        self.clf_ = LogisticRegressionCV(Cs=list(self.params["Cs"]), cv=int(self.params["cv"]),
                                         max_iter=int(self.params["max_iter"]), random_state=self.seed)
        self.clf_.fit(self.embed(list(src["text"])), list(src["label"]))
        self.C_ = float(self.clf_.C_[0])
        return self

    def predict(self, ds: datasets.Dataset) -> list:
        return [int(x) for x in self.clf_.predict(self.embed(list(ds["text"])))]
