"""Planted shifts: synthetic POS and sentiment domains whose differences are known by construction.

POS: a tag-bigram Markov chain emits words from per-tag Zipf distributions (so a word's neighbours
depend on its tag, as in language). The target domain can (a) multiply the emission probability of
some words (frequency bias), (b) move some words from one tag's vocabulary to another's (context
bias: same word, another label, other neighbours), (c) change the tag transition probabilities
(label shift).

Sentiment: documents mix neutral words with label-specific sentiment words. The target can boost
neutral words (frequency bias), swap the polarity of some sentiment words (context bias) and change
the share of positive documents (label shift).
"""

from __future__ import annotations

import numpy as np

from nlpta.data.schema import pos_dataset, sentiment_dataset

TAGS = ["DET", "NOUN", "VERB", "ADJ", "ADP", "PRON", "ADV", "PUNCT"]
# tag -> next-tag probabilities (a rough English-like grammar); rows sum to 1
_TRANS = {
    "<s>": {"DET": 0.4, "PRON": 0.3, "NOUN": 0.15, "ADV": 0.15},
    "DET": {"NOUN": 0.7, "ADJ": 0.3},
    "ADJ": {"NOUN": 0.85, "PUNCT": 0.15},
    "NOUN": {"VERB": 0.45, "ADP": 0.25, "PUNCT": 0.3},
    "VERB": {"DET": 0.45, "ADP": 0.2, "ADV": 0.15, "PRON": 0.2},
    "ADP": {"DET": 0.6, "NOUN": 0.25, "PRON": 0.15},
    "PRON": {"VERB": 0.85, "PUNCT": 0.15},
    "ADV": {"VERB": 0.6, "ADJ": 0.4},
}
_VOCAB_SIZE = {"DET": 8, "NOUN": 600, "VERB": 300, "ADJ": 200, "ADP": 15, "PRON": 10, "ADV": 80, "PUNCT": 3}


def _zipf(n: int, a: float = 1.0) -> np.ndarray:
    p = 1.0 / np.arange(1, n + 1) ** a
    return p / p.sum()


def pos_lexicon() -> dict[str, list[str]]:
    return {t: [f"{t.lower()}{i}" for i in range(n)] for t, n in _VOCAB_SIZE.items()}


def planted_pos(n_sentences: int = 3000, seed: int = 0, freq_boost: dict[str, float] | None = None,
                moved: dict[str, tuple[str, str]] | None = None, trans_change: dict | None = None):
    """Sentences from the Markov chain. ``freq_boost``: word -> emission-probability factor;
    ``moved``: word -> (from_tag, to_tag): the word is emitted by ``to_tag`` instead (it keeps its
    probability mass rank); ``trans_change``: tag -> next-tag probabilities overriding ``_TRANS``."""
    rng = np.random.default_rng(seed)
    lex = pos_lexicon()
    emit = {}
    for t, words in lex.items():
        words = list(words)
        p = list(_zipf(len(words)))
        emit[t] = [words, p]
    for w, (src, dst) in (moved or {}).items():
        words, p = emit[src]
        i = words.index(w)
        mass = p[i]
        del words[i], p[i]
        emit[dst][0].append(w)
        emit[dst][1].append(mass)
    for w, f in (freq_boost or {}).items():
        for words, p in emit.values():
            if w in words:
                p[words.index(w)] *= f
    emit = {t: (w, np.asarray(p) / np.sum(p)) for t, (w, p) in emit.items()}
    trans = {**_TRANS, **(trans_change or {})}
    rows_tok, rows_tag = [], []
    for _ in range(n_sentences):
        tag, toks, tags = "<s>", [], []
        while True:
            nxt = trans[tag]
            tag = rng.choice(list(nxt), p=list(nxt.values()))
            words, p = emit[tag]
            toks.append(words[rng.choice(len(words), p=p)])
            tags.append(tag)
            if tag == "PUNCT" or len(toks) >= 25:
                break
        rows_tok.append(toks)
        rows_tag.append(tags)
    return pos_dataset({"id": f"s{seed}-{i}", "tokens": t, "upos": g, "domain": f"synthetic{seed}", "lang": "xx"}
                       for i, (t, g) in enumerate(zip(rows_tok, rows_tag, strict=True)))


def planted_sentiment(n_docs: int = 2000, seed: int = 0, p_positive: float = 0.5, doc_len: int = 60,
                      freq_boost: dict[str, float] | None = None, swapped: list[str] | None = None):
    """Documents of ``doc_len`` words: 85% neutral (Zipf over 3000 words), 15% sentiment words of
    the document's label (Zipf over 150 per polarity). ``swapped`` sentiment words change polarity."""
    rng = np.random.default_rng(seed)
    neutral = [f"w{i}" for i in range(3000)]
    pos_w = [f"good{i}" for i in range(150)]
    neg_w = [f"bad{i}" for i in range(150)]
    for w in swapped or []:  # the word takes the other polarity at the same frequency rank
        a, b = (pos_w, neg_w) if w in pos_w else (neg_w, pos_w)
        i = a.index(w)
        a[i], b[i] = f"__{w}", w
    pn = _zipf(len(neutral))
    for w, f in (freq_boost or {}).items():
        pn[neutral.index(w)] *= f
    pn /= pn.sum()
    pp, pq = _zipf(len(pos_w)), _zipf(len(neg_w))
    texts, labels = [], []
    for _ in range(n_docs):
        y = int(rng.random() < p_positive)
        n_s = rng.binomial(doc_len, 0.15)
        words = list(rng.choice(neutral, doc_len - n_s, p=pn))
        sw, sp = (pos_w, pp) if y else (neg_w, pq)
        words += list(rng.choice(sw, n_s, p=sp))
        rng.shuffle(words)
        texts.append(" ".join(w for w in words if not w.startswith("__")))
        labels.append(y)
    return sentiment_dataset({"id": f"d{seed}-{i}", "text": t, "label": y, "domain": f"synthetic{seed}", "lang": "xx"}
                             for i, (t, y) in enumerate(zip(texts, labels, strict=True)))
