"""Models: the classical scikit-learn estimators (:class:`BowSentimentClassifier` over texts, its
numeric core :class:`CVLogisticRegression`, :class:`FeatureTagger` over token lists) and the
offline transformer zoo (:func:`resolve`)."""

from .classical import (
    BowSentimentClassifier,
    CVLogisticRegression,
    EstimatorInputError,
    FeatureTagger,
    NoTargetRowsWarning,
    token_features,
)
from .zoo import resolve

__all__ = ["BowSentimentClassifier", "CVLogisticRegression", "EstimatorInputError", "FeatureTagger",
           "NoTargetRowsWarning", "resolve", "token_features"]
