"""Pivot-feature adaptation: SCL / SCL-MI (Blitzer et al. 2006, 2007), SFA (Pan et al. 2010) and
cross-language SCL (Prettenhofer & Stein 2010), as scikit-learn transformers.

Each is fitted on the stacked rows of both domains with a ``sample_domain`` array (positive =
source, negative = target; SKADA's convention), so ``Pipeline``, ``clone``, ``GridSearchCV`` and
``check_estimator`` work, with scikit-learn's metadata routing on or off.
"""

from .base import OneDomainWarning, PivotError, PivotTransformer
from .clscl import CLSCL
from .scl import SCL, solve_pivot_predictors
from .selection import mutual_information, select_pivots
from .sfa import SFA

__all__ = ["CLSCL", "SCL", "SFA", "OneDomainWarning", "PivotError", "PivotTransformer", "mutual_information",
           "select_pivots", "solve_pivot_predictors"]
