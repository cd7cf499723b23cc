"""Word embeddings across domains and languages: train (gensim word2vec / fastText), load (word2vec
text and binary, GloVe, fastText ``.vec``, spaCy pipelines, the GloVe 6B 50d package), align
(Procrustes, CSLS refinement, identical strings, VecMap-style unsupervised self-learning, CCA and
linear maps), evaluate (bilingual lexicon induction with CSLS) and measure semantic shift."""

from .align import EmbeddingAligner, cca_maps, identical_seeds, linear_map, normalize, procrustes
from .bli import evaluate_bli, load_dictionary, muse_dictionary, retrieve
from .io import VectorFormatError, keyed_vectors, load_vectors, save_vectors

__all__ = [
    "EmbeddingAligner", "VectorFormatError", "cca_maps", "evaluate_bli", "identical_seeds", "keyed_vectors",
    "linear_map", "load_dictionary", "load_vectors", "muse_dictionary", "normalize", "procrustes", "retrieve",
    "save_vectors",
]
