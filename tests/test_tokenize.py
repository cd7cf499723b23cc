"""nlpta.data.tokenize: spaCy tokens whose character offsets map back to the original text."""

from __future__ import annotations

import pytest
import spacy

from nlpta.data.tokenize import PIPELINES, tokenize, tokenizer_info
from nlpta.errors import NlptaError

TEXTS = [
    "Don't panic: it's 3.50 $ at the café.",
    "Multiple   spaces\tand\ttabs,  then\n\nnewlines\r\nand CRLF.",
    "Combining marks: cafe\u0301 and n\u0303 and Z\u0351\u0351algo.",
    "Emoji 👍🏽 and flags 🇫🇷🇩🇪 and ZWJ 👨‍👩‍👧 in line.",
    "Ünïcödé ßtraße, Ελληνικά, русский, 中文字符, العربية.",
    "   leading and trailing   ",
    "",
    "\n\n \t ",
    "e.g. U.S.A. (see http://example.com/a?b=c) #tag @user",
]


def _check(texts: list[str], lang: str) -> list[dict]:
    out = list(tokenize(texts, lang=lang, batch_size=3))
    assert len(out) == len(texts)
    for text, row in zip(texts, out, strict=True):
        assert set(row) == {"tokens", "offsets"}
        assert len(row["tokens"]) == len(row["offsets"])
        prev_end = 0
        for tok, (start, end) in zip(row["tokens"], row["offsets"], strict=True):
            assert text[start:end] == tok
            assert tok.strip() == tok and tok  # no whitespace tokens survive
            assert start >= prev_end  # in order, not overlapping
            prev_end = end
        # nothing but whitespace is lost between tokens
        covered = "".join(row["tokens"])
        assert covered == "".join(text.split())
    return out


@pytest.mark.parametrize("lang", ["en", "fr", "de"])
def test_offsets_map_back_exactly(lang):
    out = _check(TEXTS, lang)
    assert out[6] == {"tokens": [], "offsets": []}
    assert out[7] == {"tokens": [], "offsets": []}
    assert out[5]["tokens"] == ["leading", "and", "trailing"]
    assert out[5]["offsets"][0] == [3, 10]


def test_english_pipeline_rules_apply():
    # the pipeline's tokenizer exceptions, not a whitespace split
    row = next(tokenize(["Don't stop, e.g. now."], lang="en"))
    assert row["tokens"] == ["Do", "n't", "stop", ",", "e.g.", "now", "."]
    assert row["offsets"] == [[0, 2], [2, 5], [6, 10], [10, 11], [12, 16], [17, 20], [20, 21]]


def test_generator_is_lazy_and_takes_any_iterable():
    def texts():
        for i in range(1000):
            yield f"text number {i} ."

    gen = tokenize(texts(), batch_size=64)
    first = next(gen)
    assert first["tokens"] == ["text", "number", "0", "."]
    assert sum(1 for _ in gen) == 999


def test_language_choice_is_recorded():
    info = tokenizer_info("en")
    installed = [n for n in PIPELINES["en"] if spacy.util.is_package(n)]
    assert installed, "the `models` extra installs an English spaCy pipeline"
    assert info["tokenizer"] == f"spacy:{installed[0]}"
    assert info["spacy"] == spacy.__version__
    assert info["model_version"] and info["model_version"][0].isdigit()
    assert info["lang"] == "en"

    fr = tokenizer_info("fr")
    assert fr["tokenizer"] == ("spacy:fr_core_news_sm" if spacy.util.is_package("fr_core_news_sm")
                               else "spacy.blank:fr")

    de = tokenizer_info("de")  # no German pipeline in the extra: the blank tokenizer
    assert de == {"tokenizer": "spacy.blank:de", "spacy": spacy.__version__, "model_version": None, "lang": "de"}


def test_unknown_language_is_a_coded_error():
    with pytest.raises(NlptaError) as ei:
        list(tokenize(["x"], lang="zz"))
    assert ei.value.code == "E113"
    assert "'zz'" in str(ei.value)
