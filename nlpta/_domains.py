"""SKADA's domain convention, checked in one place: the rows of both domains travel together in
``X``; ``sample_domain`` gives each row's domain (> 0 source, < 0 target; several source or target
domains may have their own numbers), and without it a label ``y == -1`` marks a target row
(Kirchmeyer et al., SKADA, ``skada.utils.check_X_y_domain``)."""

from __future__ import annotations

import numpy as np

from .errors import Errors, ParameterError


def check_sample_domain(n_samples: int, sample_domain, cls: type[ParameterError] = ParameterError) -> np.ndarray:
    """``sample_domain`` as a 1-d integer array of ``n_samples`` non-zero values.

    Raises:
        ParameterError (or ``cls``): not 1-d, the wrong length, not integral, or 0 on some row.
    """
    sd = np.asarray(sample_domain)
    if sd.ndim != 1:
        raise Errors.E322(what="sample_domain", expected=f"a 1-d array, one domain per row of X ({n_samples})",
                          got=f"shape {sd.shape}", cls=cls)
    if len(sd) != n_samples:
        raise Errors.E320(what="sample_domain", got=len(sd), expected=f"{n_samples} rows of X", per="row", cls=cls)
    integral = sd.dtype.kind in "iub" or (sd.dtype.kind == "f" and bool(np.all(np.isfinite(sd)))
                                          and bool(np.all(sd == np.round(sd))))
    if not integral:
        raise Errors.E322(what="sample_domain", expected="integers (positive: source row, negative: target row)",
                          got=f"dtype {sd.dtype}. Target rows travel inside X: append them and mark them with a "
                              "negative sample_domain (or y = -1)", cls=cls)
    if np.any(sd == 0):
        raise Errors.E322(what="sample_domain", expected="non-zero integers (positive: source row, negative: target row)",
                          got=f"sample_domain 0 in {int(np.sum(sd == 0))} rows: neither a source nor a target domain",
                          cls=cls)
    return sd.astype(np.int64)


def source_mask(n_samples: int, y=None, sample_domain=None, cls: type[ParameterError] = ParameterError) -> np.ndarray:
    """Which of ``n_samples`` rows are source rows: ``sample_domain`` > 0 when given; else the rows
    whose ``y`` is not -1; else every row. Returns a boolean array."""
    if sample_domain is not None:
        return check_sample_domain(n_samples, sample_domain, cls) > 0
    if y is not None:
        from sklearn.utils.validation import column_or_1d

        yy = column_or_1d(np.asarray(y), warn=False)
        if len(yy) != n_samples:
            raise Errors.E320(what="y", got=len(yy), expected=f"{n_samples} rows of X", per="row", cls=cls)
        if yy.dtype.kind in "iuf":
            return yy != -1
    return np.ones(n_samples, dtype=bool)
