"""Pivot-feature adaptation: SCL / SCL-MI (Blitzer et al. 2006, 2007), SFA (Pan et al. 2010) and
cross-language SCL (Prettenhofer & Stein 2010), as scikit-learn-compatible transformers."""

from .clscl import CLSCL
from .scl import SCL, solve_pivot_predictors
from .selection import mutual_information, select_pivots
from .sfa import SFA

__all__ = ["CLSCL", "SCL", "SFA", "mutual_information", "select_pivots", "solve_pivot_predictors"]
