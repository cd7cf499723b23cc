"""nlpta: transfer and domain adaptation for NLP.

Corpora load as :class:`datasets.Dataset` (:mod:`nlpta.data`), transfer tasks are built from YAML
files (:mod:`nlpta.tasks`), methods come from a registry (:mod:`nlpta.methods`) and
:func:`nlpta.pipeline.run_task` writes a run folder with metrics, predictions and a report.
:func:`nlpta.load_model` reads a saved, fitted method back, and :func:`nlpta.adapt` chooses a method
without target labels (:mod:`nlpta.adaptation`).

``import nlpta`` is light: the names below are imported on first use.
"""

from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {"load_model": "nlpta.methods", "run_task": "nlpta.pipeline", "load_task": "nlpta.tasks",
         "get_method": "nlpta.methods", "NlptaError": "nlpta.errors",
         "adapt": "nlpta.adaptation"}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nlpta' has no attribute {name!r}")
