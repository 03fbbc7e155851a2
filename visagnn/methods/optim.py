r"""The optimizer every method builds and the step every method takes."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import Tensor, nn


def build_optimizer(model: nn.Module, regularized: Iterable[nn.Parameter], lr: float,
                    weight_decay: float) -> torch.optim.Adam:
    r"""Adam (Kingma & Ba, ICLR 2015) over every parameter of ``model``, with L2 weight decay
    :math:`\lambda` = ``weight_decay`` on the ``regularized`` ones and none on the rest:

    .. math::
        g_\theta = \nabla_\theta \mathcal L + \lambda\, \theta\ \ (\theta \text{ regularised}),
        \qquad g_\theta = \nabla_\theta \mathcal L\ \ (\text{otherwise}),

    each :math:`g_\theta` then fed to Adam's moment estimates.

    The model declares which parameters are regularised (``regularized_parameters()`` of the
    backbones, :class:`~visagnn.nn.appnp.APPNP` and
    :class:`~visagnn.nn.full_graph.FullGraphModel`), as GNNAutoScale's models declare
    ``reg_modules`` and ``nonreg_modules``, because the papers differ: GCN, APPNP and FastGCN
    decay the first layer only, GAT, GNNAutoScale and the samplers every parameter. The two
    groups are Adam's parameter groups; with every parameter regularised this is elementwise
    the same step as ``Adam(model.parameters(), weight_decay=λ)``.

    Raises ``ValueError`` if a regularised parameter is not one of ``model``'s.
    """
    decayed = list(regularized)
    decayed_ids = {id(p) for p in decayed}
    parameters = list(model.parameters())
    foreign = decayed_ids - {id(p) for p in parameters}
    if foreign:
        raise ValueError(f"{len(foreign)} regularised parameters are not the model's")
    rest = [p for p in parameters if id(p) not in decayed_ids]
    groups = [{"params": decayed, "weight_decay": weight_decay},
              {"params": rest, "weight_decay": 0.0}]
    return torch.optim.Adam([group for group in groups if group["params"]], lr=lr)


def optimizer_step(
    loss: Tensor, model: nn.Module, optimizer: torch.optim.Optimizer, grad_clip: float | None,
    reduce_gradients: Callable[[], None] | None = None,
) -> float:
    """Backpropagate ``loss``, call ``reduce_gradients`` (if given: e.g. summing a distributed
    model's gradients over its ranks, so that they clip and step as one), clip the gradient
    norm to ``grad_clip`` (if set), step.

    Returns the loss value.
    """
    optimizer.zero_grad()
    loss.backward()
    if reduce_gradients is not None:
        reduce_gradients()
    if grad_clip is not None:
        nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    return float(loss.detach())
