"""The gradient reversal layer and DANN's schedules (Ganin & Lempitsky 2015, "Unsupervised Domain
Adaptation by Backpropagation", ICML; Ganin et al. 2016, "Domain-Adversarial Training of Neural
Networks", JMLR 17).

* :class:`GradientReversal` -- the identity going forward, ``-lambda`` times the gradient going
  backward (a settable ``lambda_``), on :class:`GradReverse`.
* :func:`dann_lambda` -- the schedule ``2 / (1 + exp(-gamma p)) - 1`` (p = training progress 0..1)
  and :func:`annealed_lr` -- ``lr0 / (1 + 10 p) ** 0.75`` (Ganin et al. 2016, section 5.2.2).
"""

from __future__ import annotations

import contextlib
import math

import torch
from torch import nn

# ------------------------------------------------------------------------- gradient reversal


class GradReverse(torch.autograd.Function):
    """``R_lambda(x) = x`` forward, ``dR/dx = -lambda I`` backward (Ganin & Lempitsky 2015, eq. 9)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, lambda_: float) -> torch.Tensor:
        ctx.lambda_ = float(lambda_)
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        return -ctx.lambda_ * grad_output, None


def grad_reverse(x: torch.Tensor, lambda_: float = 1.0) -> torch.Tensor:
    """Apply :class:`GradReverse` with coefficient ``lambda_``."""
    return GradReverse.apply(x, lambda_)


class GradientReversal(nn.Module):
    """The gradient reversal layer as a module; set ``lambda_`` as training goes on (Ganin &
    Lempitsky 2015). ``lambda_ = 0`` cuts the domain gradient off the features."""

    def __init__(self, lambda_: float = 1.0) -> None:
        super().__init__()
        self.lambda_ = float(lambda_)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return grad_reverse(x, self.lambda_)

    def extra_repr(self) -> str:
        return f"lambda_={self.lambda_:g}"


def dann_lambda(p: float, gamma: float = 10.0) -> float:
    """The adaptation factor ``2 / (1 + exp(-gamma p)) - 1`` at training progress ``p`` in [0, 1]:
    0 at the start, close to 1 at the end (Ganin et al. 2016, section 5.2.2; gamma = 10)."""
    p = min(max(float(p), 0.0), 1.0)
    return float(2.0 / (1.0 + math.exp(-gamma * p)) - 1.0)


def annealed_lr(lr0: float, p: float, alpha: float = 10.0, beta: float = 0.75) -> float:
    """The learning rate ``lr0 / (1 + alpha p) ** beta`` at progress ``p`` (Ganin et al. 2016,
    section 5.2.2: alpha = 10, beta = 0.75)."""
    p = min(max(float(p), 0.0), 1.0)
    return float(lr0 / (1.0 + alpha * p) ** beta)


@contextlib.contextmanager
def _torch_threads(n: int):
    old = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        torch.set_num_threads(old)
