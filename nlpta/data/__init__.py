"""Corpora as :class:`datasets.Dataset`: readers, the named-corpus registry, the data root.

>>> from nlpta import data
>>> ewt = data.load("ud:en_ewt", split="train", domain="email")     # doctest: +SKIP
>>> books = data.load("mdsd:books", split="train", split_seed=1)     # doctest: +SKIP
"""

from .api import PATH_FORMATS, describe, list_corpora, load
from .conllu import iter_conllu
from .lexicons import load_dictionary, muse_path
from .paths import data_root, open_text
from .pools import dataset_meta, pool_stats
from .registry import REGISTRY, Corpus, get_corpus
from .reviews import (
    iter_blitzer_processed,
    iter_blitzer_raw,
    iter_fdu_task,
    iter_lines,
    iter_table,
    iter_webis,
)
from .schema import (
    POS_FEATURES,
    SENTIMENT_FEATURES,
    UPOS_TAGS,
    pos_dataset,
    sample_rows,
    sentiment_dataset,
    strip_labels,
    task_of,
)
from .tagged import ARK_TO_UPOS, UNIVERSAL12_TO_UPOS, UPOS_TO_UNIVERSAL12, iter_ark
from .tokenize import tokenize, tokenizer_info

__all__ = [
    "ARK_TO_UPOS", "PATH_FORMATS", "POS_FEATURES", "REGISTRY", "SENTIMENT_FEATURES", "UNIVERSAL12_TO_UPOS",
    "UPOS_TAGS", "UPOS_TO_UNIVERSAL12", "Corpus", "data_root", "dataset_meta", "describe", "get_corpus", "iter_ark",
    "iter_blitzer_processed", "iter_blitzer_raw", "iter_conllu", "iter_fdu_task", "iter_lines", "iter_table",
    "iter_webis", "list_corpora", "load", "load_dictionary", "muse_path", "open_text", "pool_stats", "pos_dataset",
    "sample_rows", "sentiment_dataset", "strip_labels", "task_of", "tokenize", "tokenizer_info",
]
