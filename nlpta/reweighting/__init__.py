"""Instance-based adaptation: importance weights for covariate shift and multi-source combination.

* :class:`DomainClassifierWeights` -- odds of a source-vs-target classifier (Bickel et al. 2007)
* :class:`KMM` -- kernel mean matching (Huang et al. 2006)
* :class:`KLIEP` -- KL importance estimation (Sugiyama et al. 2008)
* :func:`effective_sample_size`, :func:`weight_summary`

Registered methods (``nlpta.reweighting.methods``): ``reweight-clf``, ``kmm``, ``kliep``,
``ms-weighted``, ``ms-ensemble``.
"""

from .weights import (
           KLIEP,
           KMM,
           DomainClassifierWeights,
           effective_sample_size,
           normalize_weights,
           weight_summary,
)

__all__ = ["KLIEP", "KMM", "DomainClassifierWeights", "effective_sample_size", "normalize_weights",
           "weight_summary"]
