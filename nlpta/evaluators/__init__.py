"""Evaluators: metrics with confidence intervals (and, later, the shift detectors)."""

from .metrics import accuracy, bootstrap_ci, evaluate_predictions, mean_ci

__all__ = ["accuracy", "bootstrap_ci", "evaluate_predictions", "mean_ci"]
