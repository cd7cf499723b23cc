"""Moved to :mod:`nlpta.data.lexicons` (the one MUSE loader); CL-SCL's lower-casing loader kept here."""
from functools import partial

from ..data.lexicons import load_dictionary as _load_dictionary
from ..data.lexicons import max_match_tokenizer, muse_path, word_tokenizer

load_dictionary = partial(_load_dictionary, lower=True)
__all__ = ["load_dictionary", "max_match_tokenizer", "muse_path", "word_tokenizer"]
