"""Evaluators: metrics with confidence intervals, and the detectors that explain a shift.

* :func:`frequency_bias` -- P(X) differs (log-odds z-scores, Monroe et al. 2008)
* :func:`context_bias` -- P(Y|X) differs (labeled: per-word label distributions; unlabeled: usage)
* :func:`label_shift` -- P(Y) differs (observed, or black-box shift estimation)
* :func:`domain_distance` -- proxy A-distance and MMD (:func:`proxy_a_distance`, :func:`mmd`)
* :func:`domain_accuracy_of_features` -- the domain classifier probe on any features;
  :func:`pad_from_accuracy` -- its proxy A-distance
* :func:`negative_transfer` -- did adapting hurt?
* :func:`diagnose` -- all of them, as a :class:`BiasReport` (``bias.json``, ``report.md``, plots)

Scorers are injected: ``context_bias(..., scorer=...)`` takes e.g.
:func:`nlpta.embeddings.shift.shift_scorer`; no evaluator imports a method family.
"""

from .context import context_bias, recovery
from .distance import domain_distance, minilm_embedder, mmd, proxy_a_distance
from .domain import balanced_indices, domain_accuracy_of_features, pad_from_accuracy
from .frequency import frequency_bias, frequency_summary, log_odds_z
from .label import bbse_weights, label_shift
from .metrics import accuracy, bootstrap_ci, evaluate_predictions, mean_ci
from .report import BiasReport, diagnose, error_breakdown
from .transfer import compare_runs, negative_transfer

__all__ = [
    "BiasReport", "accuracy", "balanced_indices", "bbse_weights", "bootstrap_ci", "compare_runs", "context_bias",
    "diagnose", "domain_accuracy_of_features", "domain_distance", "error_breakdown", "evaluate_predictions",
    "frequency_bias", "frequency_summary", "label_shift", "log_odds_z", "mean_ci", "minilm_embedder", "mmd",
    "negative_transfer", "pad_from_accuracy", "proxy_a_distance", "recovery",
]
