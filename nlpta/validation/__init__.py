"""Decide without target labels: guards and validators over a fitted method's target predictions.

* :mod:`~nlpta.validation.guards` flags a collapse of the predicted label distribution.
* :mod:`~nlpta.validation.validators` scores a candidate method from the labeled source and the
  unlabeled target rows only: source CV, importance-weighted CV, DEV, reverse validation,
  prediction entropy, information maximisation, soft neighbourhood density, agreement, average thresholded
  confidence (ATC), difference of confidences (DoC); and
  :func:`validate` runs several over several candidates.
"""

from .guards import COLLAPSE_SHARE, label_distribution, prediction_guard
from .validators import (
    DEFAULT_VALIDATORS,
    PROBA_VALIDATORS,
    VALIDATORS,
    OutOfFold,
    SourceWeights,
    agreement,
    atc,
    atc_share,
    candidate_task,
    dev,
    diagnosis,
    doc,
    entropy,
    im,
    importance_weights,
    iwcv,
    out_of_fold,
    predict_proba,
    reverse,
    snd,
    source_cv,
    validate,
)

__all__ = ["COLLAPSE_SHARE", "DEFAULT_VALIDATORS", "PROBA_VALIDATORS", "VALIDATORS", "OutOfFold", "SourceWeights",
           "agreement", "atc", "atc_share", "candidate_task", "dev", "diagnosis", "doc", "entropy", "im",
           "importance_weights", "iwcv", "label_distribution", "out_of_fold", "predict_proba", "prediction_guard",
           "reverse", "snd", "source_cv", "validate"]
