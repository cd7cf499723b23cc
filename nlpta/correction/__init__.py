"""Corrections the field expects of a domain-adaptation toolkit, as scikit-learn estimators that
know nothing of tasks (source and target rows travel together in ``X`` with a SKADA-style
``sample_domain``):

* :class:`CORAL` -- correlation alignment (Sun, Feng & Saenko 2016);
* :class:`LabelShift` -- label (prior) shift: BBSE (Lipton, Wang & Smola 2018) or EM prior
  adjustment (Saerens, Latinne & Decaestecker 2002), with a bootstrap interval of the target prior;
* :class:`SelfTraining` -- confidence-thresholded, class-balanced pseudo-labels, iterated.

Registered methods (:mod:`nlpta.methods.correction`): ``coral``, ``label-shift``, ``self-train``.
"""

from .coral import CORAL, coral_distance
from .label_shift import LabelShift, adjust_proba, bbse_weights, em_prior
from .self_training import SelfTraining, select_pseudo_labels, select_sequences, sequence_confidence

__all__ = ["CORAL", "LabelShift", "SelfTraining", "adjust_proba", "bbse_weights", "coral_distance", "em_prior",
           "select_pseudo_labels", "select_sequences", "sequence_confidence"]
