"""Train word vectors with gensim (word2vec skip-gram / CBOW, Mikolov et al. 2013; fastText,
Bojanowski et al. 2017) on the text of any nlpta dataset, and gather monolingual corpora per
language from the data layer.

Determinism: gensim seeds its initial vectors from ``seed`` and the word's hash, so a run is
exactly reproducible only with ``workers=1`` **and** a fixed ``PYTHONHASHSEED`` (gensim's
``hashfxn`` is Python's ``hash``, salted per process for strings unless ``PYTHONHASHSEED`` is set);
with several worker threads the order in which they update the shared vectors varies, and the
vectors differ run to run (the quality does not). :func:`train_vectors` defaults to
``workers=1``.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import datasets

from ..errors import Errors, NlptaError

log = logging.getLogger(__name__)

ALGOS = ("word2vec", "fasttext")
_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?|\d+(?:[.,]\d+)*|[^\w\s]", re.UNICODE)
# Japanese has no spaces: runs of one script (kanji, hiragana, katakana) or other word characters
_JA_RUN = re.compile(r"[\u4e00-\u9fff\u3005]+|[\u3040-\u309f]+|[\u30a0-\u30ff\u30fc]+|[A-Za-z]+|\d+|[^\s\w]|\w+")


def tokenize(text: str, lang: str = "en", lower: bool = True, vocab: set[str] | None = None,
             max_word: int = 6) -> list[str]:
    """Split raw text into tokens: words (keeping an inner apostrophe), numbers, punctuation.

    Japanese text without spaces is cut greedily into the longest words of ``vocab`` (maximum
    matching, at most ``max_word`` characters); where no known word starts, one kanji or a run of
    one script (kana, latin, digits) is a token. Without ``vocab``, same-script runs are tokens.
    """
    if lower:
        text = text.lower()
    if lang in ("ja", "jp", "zh"):
        out: list[str] = []
        for chunk in text.split():
            if vocab is None or chunk in vocab:
                out.extend([chunk] if vocab is not None else _JA_RUN.findall(chunk))
                continue
            i = 0
            while i < len(chunk):
                run = _JA_RUN.match(chunk, i)
                end = run.end() if run else i + 1
                for j in range(min(len(chunk), i + max_word), i, -1):
                    if chunk[i:j] in vocab:
                        break
                else:  # no known word starts here: one character of kanji, else the script run
                    j = i + 1 if run and "\u4e00" <= chunk[i] <= "\u9fff" else end
                out.append(chunk[i:j])
                i = j
        return out
    return _TOKEN.findall(text)


def dataset_sentences(ds: datasets.Dataset, lower: bool = True, vocab: set[str] | None = None) -> list[list[str]]:
    """Token lists of a POS (``tokens``) or sentiment (``text``, tokenized) dataset."""
    if "tokens" in ds.column_names:
        return [[t.lower() for t in toks] if lower else list(toks) for toks in ds["tokens"]]
    langs = ds["lang"]
    return [tokenize(t, lang=lg, lower=lower, vocab=vocab) for t, lg in zip(ds["text"], langs, strict=True)]


# Monolingual text per language: every split that is not one of nlpta's evaluation test sets (the
# xling21 and OpeNER test splits are not evaluated on here, so their text is used).
LANGUAGE_CORPORA: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "en": [("ud:en_ewt", ("train", "dev")), ("ud:en_gum", ("train", "dev")),
           *[(f"webis:en/{d}", ("train",)) for d in ("books", "dvd", "music")],
           *[(f"mdsd:{d}", ("unlabeled",)) for d in ("books", "dvd", "electronics", "kitchen")],
           *[(f"fdu:{d}", ("train", "unlabeled")) for d in (
               "apparel", "baby", "books", "camera_photo", "dvd", "electronics", "health_personal_care", "imdb",
               "kitchen_housewares", "magazines", "MR", "music", "software", "sports_outdoors", "toys_games", "video")],
           ("xling21:en", ("train", "dev"))],
    "de": [("ud:de_gsd", ("train", "dev")), *[(f"webis:de/{d}", ("train",)) for d in ("books", "dvd", "music")],
           ("xling21:de", ("train", "dev", "test"))],
    "fr": [("ud:fr_gsd", ("train", "dev")), ("ud:fr_sequoia", ("train", "dev")),
           *[(f"webis:fr/{d}", ("train",)) for d in ("books", "dvd", "music")]],
    "es": [("ud:es_gsd", ("train", "dev")), ("xling21:es", ("train", "dev", "test")),
           ("opener:es", ("train", "dev", "test"))],
    "ja": [("xling21:ja", ("train", "dev", "test")), *[(f"webis:jp/{d}", ("train",)) for d in ("books", "dvd", "music")]],
}


@dataclass
class CorpusStats:
    """Size of a training corpus."""

    sentences: int
    tokens: int
    types: int
    parts: dict[str, int]

    def as_dict(self) -> dict:
        return {"sentences": self.sentences, "tokens": self.tokens, "types": self.types, "parts": self.parts}


def corpus_stats(sentences: Sequence[Sequence[str]], parts: dict[str, int] | None = None) -> CorpusStats:
    counts = Counter(t for s in sentences for t in s)
    return CorpusStats(len(sentences), sum(counts.values()), len(counts), parts or {})


def language_corpus(lang: str, include_test: bool = False) -> tuple[list[list[str]], CorpusStats]:
    """All monolingual text of ``lang`` available in the data layer (:data:`LANGUAGE_CORPORA`),
    lower-cased and tokenized; evaluation test splits are left out unless ``include_test``.
    Japanese reviews are segmented with the vocabulary of the pre-tokenized xling21 text.

    Returns:
        ``(sentences, stats)`` with the token count per corpus in ``stats.parts``.
    """
    from .. import data

    if lang not in LANGUAGE_CORPORA:
        raise Errors.E405(detail=f"no monolingual corpora listed for {lang!r}; known: {', '.join(LANGUAGE_CORPORA)}")
    out: list[list[str]] = []
    parts: dict[str, int] = {}
    vocab: set[str] | None = None
    for name, splits in LANGUAGE_CORPORA[lang]:
        corpus = data.REGISTRY[name]
        for split in (*splits, "test") if include_test else splits:
            if split not in corpus.splits:
                continue
            try:
                ds = data.load(name, split=split, labeled=False)
            except (NlptaError, FileNotFoundError) as e:  # a split this copy of the corpus lacks
                log.info("language_corpus(%s): skipping %s/%s: %s", lang, name, split, e)
                continue
            sents = dataset_sentences(ds, vocab=vocab)
            if lang == "ja" and name.startswith("xling21") and vocab is None:
                c = Counter(t for s in sents for t in s)
                vocab = {w for w, n in c.items() if n >= 2}
            parts[f"{name}/{split}"] = sum(len(s) for s in sents)
            out.extend(sents)
    if not out:
        tried = ", ".join(n for n, _ in LANGUAGE_CORPORA[lang])
        raise Errors.E101(detail=f"no text for language {lang!r} under the data root (looked in {tried})")
    return out, corpus_stats(out, parts)


class _Progress:
    """A gensim callback driving a tqdm bar over epochs (off when not a TTY)."""

    def __init__(self, epochs: int, desc: str) -> None:
        from gensim.models.callbacks import CallbackAny2Vec
        from tqdm.auto import tqdm

        class CB(CallbackAny2Vec):
            def __init__(self) -> None:
                self.bar = tqdm(total=epochs, desc=desc, unit="epoch", disable=None)

            def on_epoch_end(self, model) -> None:
                self.bar.update(1)

            def on_train_end(self, model) -> None:
                self.bar.close()

        self.callback = CB()


def train_vectors(sentences: Iterable[Sequence[str]], algo: str = "word2vec", sg: int = 1, vector_size: int = 100,
                  window: int = 5, min_count: int = 3, epochs: int = 5, negative: int = 10, sample: float = 1e-4,
                  seed: int = 0, workers: int = 1, progress: bool = True, init=None,
                  return_model: bool = False):
    """Train word vectors; returns gensim ``KeyedVectors`` (words most frequent first).

    Args:
        sentences: token lists.
        algo: ``word2vec`` (``sg=1`` skip-gram, ``sg=0`` CBOW) or ``fasttext`` (subword n-grams 3-6).
        init: optional ``KeyedVectors`` whose vectors initialise the words they share (used by
            :mod:`nlpta.embeddings.shift` to start two domain spaces from one model).
        workers: worker threads; only ``workers=1`` with a fixed ``PYTHONHASHSEED`` is
            exactly reproducible (module docstring).
        return_model: return the whole gensim model (to train further) instead of its vectors.
    """
    from gensim.models import FastText, Word2Vec

    if algo not in ALGOS:
        raise Errors.E405(detail=f"unknown algorithm {algo!r}; expected {', '.join(ALGOS)}")
    sentences = [list(s) for s in sentences if len(s)]
    if not sentences:
        raise Errors.E305(detail="no non-empty sentences to train word vectors on")
    cls = Word2Vec if algo == "word2vec" else FastText
    kw = {"vector_size": vector_size, "window": window, "min_count": min_count, "sg": sg, "negative": negative,
          "sample": sample, "seed": seed, "workers": workers}
    model = cls(**kw)
    model.build_vocab(sentences)
    if len(model.wv) == 0:
        raise Errors.E305(detail=f"no word occurs min_count={min_count} times in {len(sentences)} sentences; "
                                 "lower min_count")
    if init is not None:
        shared = [w for w in model.wv.index_to_key if w in init.key_to_index]
        if init.vector_size != vector_size:
            raise Errors.E405(detail=f"init vectors have {init.vector_size} dimensions, expected "
                                     f"vector_size={vector_size}")
        table = model.wv.vectors_vocab if algo == "fasttext" else model.wv.vectors
        for w in shared:
            table[model.wv.key_to_index[w]] = init[w]
    cb = [_Progress(epochs, f"{algo} {'sg' if sg else 'cbow'}").callback] if progress else []
    model.train(sentences, total_examples=len(sentences), epochs=epochs, callbacks=cb)
    return model if return_model else model.wv


def continue_training(model, sentences: Iterable[Sequence[str]], epochs: int = 5, progress: bool = False):
    """A copy of a trained gensim model trained further on ``sentences`` (its vocabulary fixed:
    unseen words are ignored); returns the copy's ``KeyedVectors``."""
    import copy

    m = copy.deepcopy(model)
    sentences = [list(s) for s in sentences if len(s)]
    cb = [_Progress(epochs, "continue").callback] if progress else []
    m.train(sentences, total_examples=len(sentences), epochs=epochs, callbacks=cb)
    return m.wv
