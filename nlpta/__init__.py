"""nlpta: transfer and domain adaptation for NLP.

Corpora load as :class:`datasets.Dataset` (:mod:`nlpta.data`), transfer tasks are built from YAML
files (:mod:`nlpta.tasks`), methods come from a registry (:mod:`nlpta.methods`) and
:func:`nlpta.pipeline.run_task` writes a run folder with metrics, predictions and a report.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
