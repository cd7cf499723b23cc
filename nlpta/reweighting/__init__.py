"""Instance-based adaptation: importance weights for covariate shift (scikit-learn estimators;
source and target rows travel together in ``X`` with a SKADA-style ``sample_domain``).

* :class:`DomainClassifierWeights` -- odds of a source-vs-target classifier (Bickel et al. 2007)
* :class:`KMM` -- kernel mean matching (Huang et al. 2006)
* :class:`KLIEP` -- KL importance estimation (Sugiyama et al. 2008)
* :func:`effective_sample_size`, :func:`weight_summary`, :func:`normalize_weights`,
  :func:`source_mask`

Registered methods (:mod:`nlpta.methods.reweighting`): ``reweight-clf``, ``kmm``, ``kliep``,
``ms-weighted``, ``ms-ensemble``.
"""

from .weights import (
    KLIEP,
    KMM,
    DomainClassifierWeights,
    NoTargetRowsWarning,
    effective_sample_size,
    normalize_weights,
    source_mask,
    weight_summary,
)

__all__ = ["KLIEP", "KMM", "DomainClassifierWeights", "NoTargetRowsWarning", "effective_sample_size",
           "normalize_weights", "source_mask", "weight_summary"]
