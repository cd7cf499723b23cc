"""Tiny randomly initialised BERT models and synthetic rows for the fine-tuning tests (no download)."""

from __future__ import annotations

import random
from pathlib import Path

from nlpta.data.schema import pos_dataset, sentiment_dataset

LEXICON = {
    "DET": ["the", "a", "this", "every"], "NOUN": ["dog", "cat", "book", "pan", "movie", "plot", "knife"],
    "VERB": ["sees", "likes", "reads", "cuts", "hates"], "ADJ": ["good", "bad", "great", "awful", "sharp"],
    "ADP": ["on", "in", "with"], "PUNCT": [".", "!"], "PRON": ["it", "she", "he"],
}
POSITIVE = ["good", "great", "love", "excellent", "sharp"]
NEGATIVE = ["bad", "awful", "hate", "poor", "broken"]
FILLER = ["the", "book", "pan", "movie", "plot", "knife", "this", "is", "was", "it", "a", "very"]


def import_script(name: str):
    """The module of ``scripts/<name>.py`` (the bench scripts import their siblings by name)."""
    import importlib
    import sys

    scripts = str(Path(__file__).resolve().parents[1] / "scripts")
    sys.path.insert(0, scripts)
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(scripts)


def vocab_words() -> list[str]:
    words = {w for ws in LEXICON.values() for w in ws} | set(POSITIVE) | set(NEGATIVE) | set(FILLER)
    return sorted(words)


def tiny_bert(directory: str | Path, seed: int = 0, layers: int = 2) -> Path:
    """Write a 2-layer, 32-dim BERT with a WordPiece vocabulary of the synthetic words."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    pieces = specials + vocab_words() + [f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz"] + list("abcdefghijklmnopqrstuvwxyz.!")
    seen, vocab = set(), []
    for p in pieces:
        if p not in seen:
            seen.add(p)
            vocab.append(p)
    (d / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tok = BertTokenizerFast(vocab={p: i for i, p in enumerate(vocab)}, do_lower_case=True)
    tok.save_pretrained(d)
    cfg = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=layers, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=128)
    torch.manual_seed(seed)
    BertModel(cfg).save_pretrained(d)
    return d


def pos_rows(n: int, seed: int = 0, domain: str = "src"):
    rng = random.Random(seed)
    templates = [["DET", "NOUN", "VERB", "DET", "ADJ", "NOUN", "PUNCT"], ["PRON", "VERB", "ADP", "DET", "NOUN", "PUNCT"],
                 ["DET", "ADJ", "NOUN", "VERB", "PRON", "PUNCT"]]
    rows = []
    for i in range(n):
        t = rng.choice(templates)
        rows.append({"id": f"{domain}-{i}", "tokens": [rng.choice(LEXICON[g]) for g in t], "upos": list(t),
                     "domain": domain, "lang": "en"})
    return pos_dataset(rows)


def sentiment_rows(n: int, seed: int = 0, domain: str = "src", labeled: bool = True):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        y = i % 2
        words = [rng.choice(FILLER) for _ in range(5)] + [rng.choice(POSITIVE if y else NEGATIVE) for _ in range(2)]
        rng.shuffle(words)
        rows.append({"id": f"{domain}-{i}", "text": " ".join(words), "label": y if labeled else -1,
                     "domain": domain, "lang": "en"})
    return sentiment_dataset(rows)


def write_conllu(path: str | Path, ds) -> Path:
    """Write POS rows as a CoNLL-U file (for task files in the tests)."""
    lines = []
    for r in ds:
        lines.append(f"# sent_id = {r['id']}")
        for k, (w, t) in enumerate(zip(r["tokens"], r["upos"], strict=True), 1):
            lines.append(f"{k}\t{w}\t{w}\t{t}\t_\t_\t0\t_\t_\t_")
        lines.append("")
    Path(path).write_text("\n".join(lines) + "\n")
    return Path(path)
