"""Classical models: fit/predict/save/load round trips, without pickle, and input checks."""

from __future__ import annotations

import numpy as np
import pytest

from nlpta.errors import NlptaError, NotFittedError
from nlpta.models import BowSentimentClassifier, FeatureTagger
from nlpta.models.classical import word_shape

SENTS = [["The", "dog", "runs", "."], ["A", "cat", "sleeps", "."], ["Dogs", "run", "fast", "."],
         ["The", "cat", "runs", "."]] * 5
TAGS = [["DET", "NOUN", "VERB", "PUNCT"], ["DET", "NOUN", "VERB", "PUNCT"], ["NOUN", "VERB", "ADV", "PUNCT"],
        ["DET", "NOUN", "VERB", "PUNCT"]] * 5


def test_word_shape():
    assert word_shape("Hello") == "Xx"
    assert word_shape("1990s") == "dx"
    assert word_shape("U.S.") == "X.X."


def test_tagger_fit_predict_roundtrip(tmp_path):
    tg = FeatureTagger(C=10).fit(SENTS, TAGS)
    pred = tg.predict([["The", "dog", "sleeps", "."]])
    assert pred == [["DET", "NOUN", "VERB", "PUNCT"]]
    tg.save(tmp_path / "m")
    assert not list((tmp_path / "m").glob("*.pkl"))
    back = FeatureTagger.load(tmp_path / "m")
    assert back.predict(SENTS[:4]) == tg.predict(SENTS[:4])


def test_tagger_errors():
    with pytest.raises(NotFittedError):
        FeatureTagger().predict([["a"]])
    with pytest.raises(NlptaError, match="2 tokens but 1 tags"):
        FeatureTagger().fit([["a", "b"]], [["X"]])


def test_sentiment_cv_and_roundtrip(tmp_path):
    texts = ["good great fine", "bad awful poor", "great film good", "awful bad plot"] * 10
    labels = [1, 0, 1, 0] * 10
    clf = BowSentimentClassifier(cv=3, seed=1).fit(texts, labels)
    assert clf.C_ in (0.1, 1.0, 10.0, 100.0) and len(clf.cv_scores_) == 4
    assert list(clf.predict(["good great", "awful poor"])) == [1, 0]
    clf.save(tmp_path / "c")
    back = BowSentimentClassifier.load(tmp_path / "c")
    np.testing.assert_allclose(back.decision_function(texts), clf.decision_function(texts))


def test_sentiment_input_errors():
    with pytest.raises(NlptaError, match="single class"):
        BowSentimentClassifier().fit(["a", "b"], [1, 1])
    with pytest.raises(NlptaError, match="0/1"):
        BowSentimentClassifier().fit(["a", "b"], [1, 2])
