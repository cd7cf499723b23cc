"""Decide without target labels: guards (and, later, validators) over a fitted method's target
predictions. :mod:`~nlpta.validation.guards` flags a collapse of the predicted label distribution."""

from .guards import COLLAPSE_SHARE, label_distribution, prediction_guard

__all__ = ["COLLAPSE_SHARE", "label_distribution", "prediction_guard"]
