"""Turning rows into model inputs: subword-to-word label alignment (POS), document encoding
(sentiment), and masked-LM batches with optional preferential masking of pivot words (PERL,
Ben-David et al. 2020; the pivot words themselves are chosen by the caller, e.g. with
:func:`nlpta.pivots.selection.select_pivots` in :mod:`nlpta.methods.finetune`)."""

from __future__ import annotations

from collections.abc import Sequence

IGNORE = -100


def encode_words(tokenizer, words: list[list[str]], max_length: int) -> list[dict]:
    """Tokenize pre-split sentences; each example keeps its ``word_ids`` (one per subword, ``None``
    for special tokens)."""
    words = [list(w) for w in words]
    enc = tokenizer(words, is_split_into_words=True, truncation=True, max_length=max_length)
    return [{"input_ids": enc["input_ids"][i], "word_ids": enc.word_ids(i)} for i in range(len(words))]


def first_subword_labels(word_ids: Sequence[int | None], word_labels: Sequence[int]) -> list[int]:
    """Label the first subword of each word with its word's label; every other position
    (continuation subwords, special tokens) gets -100 so the loss and the evaluation are per word."""
    out, prev = [], None
    for w in word_ids:
        out.append(IGNORE if w is None or w == prev else int(word_labels[w]))
        prev = w
    return out


def encode_pos(tokenizer, tokens: list[list[str]], tags: list[list[str]] | None, label2id: dict[str, int],
               max_length: int) -> list[dict]:
    """POS examples: ``input_ids`` and first-subword ``labels`` (if ``tags`` is given)."""
    exs = encode_words(tokenizer, tokens, max_length)
    if tags is not None:
        for ex, t in zip(exs, tags, strict=True):
            ex["labels"] = first_subword_labels(ex["word_ids"], [label2id[x] for x in t])
    return exs


def encode_text(tokenizer, texts: list[str], labels: list[int] | None, max_length: int) -> list[dict]:
    """Sentiment examples: ``input_ids`` (truncated to ``max_length``) and an int ``labels``."""
    enc = tokenizer(list(texts), truncation=True, max_length=max_length)
    exs = [{"input_ids": ids} for ids in enc["input_ids"]]
    if labels is not None:
        for ex, y in zip(exs, labels, strict=True):
            ex["labels"] = int(y)
    return exs


def to_device(batch: dict, device) -> dict:
    """The batch's tensors on ``device`` (the model's: CUDA when training ran on a GPU)."""
    return {k: v.to(device) if hasattr(v, "to") else v for k, v in batch.items()}


def pad_batch(items: list[dict], pad_id: int) -> dict:
    """Right-pad ``input_ids`` (and token-level ``labels`` with -100) into tensors."""
    import torch

    n = max(len(x["input_ids"]) for x in items)
    ids = torch.full((len(items), n), pad_id, dtype=torch.long)
    mask = torch.zeros((len(items), n), dtype=torch.long)
    for i, x in enumerate(items):
        ids[i, : len(x["input_ids"])] = torch.tensor(x["input_ids"])
        mask[i, : len(x["input_ids"])] = 1
    batch = {"input_ids": ids, "attention_mask": mask}
    if items and "labels" in items[0]:
        if isinstance(items[0]["labels"], list):
            lab = torch.full((len(items), n), IGNORE, dtype=torch.long)
            for i, x in enumerate(items):
                lab[i, : len(x["labels"])] = torch.tensor(x["labels"])
            batch["labels"] = lab
        else:
            batch["labels"] = torch.tensor([x["labels"] for x in items], dtype=torch.long)
    return batch


# --------------------------------------------------------------------------- masked LM
class MLMCollator:
    """Masked-LM batches (BERT recipe: of the chosen positions 80% ``[MASK]``, 10% random, 10%
    kept). Each ordinary word is chosen with probability ``mask_prob``; words in ``pivots`` with
    ``pivot_mask_prob`` (PERL's preferential pivot masking), whole words at a time.

    The masking draws from a generator seeded by ``(seed, step, rank)``, so a resumed run masks
    exactly as the uninterrupted one did.
    """

    def __init__(self, tokenizer, mask_prob: float = 0.15, pivot_mask_prob: float = 0.5, seed: int = 0,
                 rank: int = 0) -> None:
        self.pad_id = tokenizer.pad_token_id
        self.mask_id = tokenizer.mask_token_id
        self.vocab_size = len(tokenizer)
        self.special = set(tokenizer.all_special_ids)
        self.mask_prob, self.pivot_mask_prob = mask_prob, pivot_mask_prob
        self.seed, self.rank = seed, rank

    def __call__(self, items: list[dict], step: int) -> dict:
        import torch

        g = torch.Generator().manual_seed(int(self.seed) * 1_000_003 + int(step) * 101 + self.rank)
        batch = pad_batch([{"input_ids": x["input_ids"]} for x in items], self.pad_id)
        ids = batch["input_ids"]
        labels = torch.full_like(ids, IGNORE)
        for i, x in enumerate(items):
            wids = x["word_ids"]
            nwords = max((w for w in wids if w is not None), default=-1) + 1
            pivot = x.get("pivot_words", ())
            p = torch.full((nwords,), self.mask_prob)
            if pivot:
                p[list(pivot)] = self.pivot_mask_prob
            chosen = torch.bernoulli(p, generator=g).bool()
            for t, w in enumerate(wids):
                if w is not None and chosen[w] and int(ids[i, t]) not in self.special:
                    labels[i, t] = ids[i, t]
        cand = (ids != self.pad_id) & ~torch.isin(ids, torch.tensor(sorted(self.special)))
        if not (labels != IGNORE).any() and cand.any():  # never a batch without a target
            pick = cand.nonzero()[int(torch.randint(int(cand.sum()), (1,), generator=g))]
            labels[pick[0], pick[1]] = ids[pick[0], pick[1]]
        sel = labels != IGNORE
        r = torch.rand(ids.shape, generator=g)
        rand_ids = torch.randint(self.vocab_size, ids.shape, generator=g)
        ids = torch.where(sel & (r < 0.8), torch.full_like(ids, self.mask_id), ids)
        ids = torch.where(sel & (r >= 0.8) & (r < 0.9), rand_ids, ids)
        batch["input_ids"], batch["labels"] = ids, labels
        return batch


def encode_mlm(tokenizer, texts: list[list[str]], max_length: int, pivots: Sequence[str] = ()) -> list[dict]:
    """MLM examples from pre-split texts; ``pivot_words`` lists the word positions that are pivots
    (compared lower-cased)."""
    pv = {p.lower() for p in pivots}
    texts = [list(t) for t in texts]
    exs = encode_words(tokenizer, texts, max_length)
    for ex, words in zip(exs, texts, strict=True):
        seen = {w for w in ex["word_ids"] if w is not None}
        ex["pivot_words"] = [k for k in sorted(seen) if words[k].lower() in pv]
    return exs


def split_words(text: str) -> list[str]:
    """Whitespace words of a review (the unit of whole-word masking)."""
    return text.split()
