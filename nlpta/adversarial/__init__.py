"""Adversarial domain adaptation that needs no transformer: the gradient reversal layer, DANN's
schedules and the shallow DANN over bag-of-n-grams (Ganin et al. 2016). The transformer DANN
(:class:`nlpta.finetune.dann.DANNAdapterModel`) builds on :mod:`nlpta.adversarial.grl`.
"""

from __future__ import annotations

from .grl import GradientReversal, GradReverse, annealed_lr, dann_lambda, grad_reverse
from .shallow import ShallowDANN

__all__ = ["GradReverse", "GradientReversal", "ShallowDANN", "annealed_lr", "dann_lambda", "grad_reverse"]
