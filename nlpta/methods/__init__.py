"""Methods: the registry and one adapter module per family. These are the only modules that
import :mod:`nlpta.tasks`; the method families (``pivots``, ``embeddings``, ``reweighting``,
``correction``, ``adversarial``, ``finetune``) hold estimators that know nothing of tasks.

Importing this package registers every method; heavy dependencies (torch, gensim) are imported
inside ``fit``.
"""

from __future__ import annotations

from . import adversarial, baselines, correction, embeddings, finetune, pivots, reweighting  # noqa: F401  (register)
from .registry import METHODS, MODEL_FILE, Method, get_method, load_model, register

__all__ = ["METHODS", "MODEL_FILE", "Method", "get_method", "load_model", "register"]
