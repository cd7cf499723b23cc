"""Models: classical taggers and classifiers, and the offline transformer zoo (:func:`resolve`)."""

from .classical import BowSentimentClassifier, FeatureTagger, token_features
from .zoo import resolve

__all__ = ["BowSentimentClassifier", "FeatureTagger", "resolve", "token_features"]
