"""Models: classical taggers and classifiers (and, later, the offline transformer zoo)."""

from .classical import BowSentimentClassifier, FeatureTagger, token_features

__all__ = ["BowSentimentClassifier", "FeatureTagger", "token_features"]
