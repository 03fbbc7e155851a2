r"""The optimizer every method builds and the step every method takes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import torch
import torch.distributed as dist
from torch import Tensor, nn

from visagnn.history.sharded import EXCHANGED
from visagnn.utils.distributed import current_world

GradientReduction = Literal["mean", "sum"]


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
    gradient_reduction: GradientReduction = "mean",
) -> float:
    """Backpropagate ``loss``; under ``torchrun`` reduce the gradients over the ranks
    (:func:`reduce_gradients`: their ``mean``, as data-parallel training needs, or their ``sum``,
    for a model split over the ranks whose loss is already normalised globally, as SANCUS's);
    clip the gradient norm to ``grad_clip`` (if set); step.

    Returns the loss value.
    """
    optimizer.zero_grad()
    loss.backward()
    if current_world().is_distributed:
        reduce_gradients(list(model.parameters()), mean=gradient_reduction == "mean")
    if grad_clip is not None:
        nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    return float(loss.detach())


def reduce_gradients(parameters: list[nn.Parameter], mean: bool = True) -> None:
    """Replace every rank's gradients by their mean (or, with ``mean`` off, their sum) over the
    ranks, as ``DistributedDataParallel``'s all-reduce does: one ``all_reduce`` of which
    parameters have a gradient on some rank, then one of those gradients flattened into one
    bucket (a rank without a gradient for one contributes zeros; a parameter without a gradient
    on every rank keeps none, so the optimizer skips it as in one process).

    One synchronous all-reduce after the backward pass rather than ``DistributedDataParallel``'s
    reducer, because the historical methods run collectives of their own inside the forward and
    backward passes (the sharded histories' pulls, which LMC makes in its backward hooks): the
    reducer launches its bucket all-reduces asynchronously while the backward pass runs, on the
    same process group, so their order against those pulls would differ between ranks and
    deadlock. After the backward pass every collective runs in one order on every rank; the
    gradient is the same as DDP's."""
    device = parameters[0].device
    present = torch.tensor([param.grad is not None for param in parameters], dtype=torch.int32,
                           device=device)
    dist.all_reduce(present)
    used = [param for param, count in zip(parameters, present.tolist(), strict=True) if count]
    flat = torch.cat([(param.grad if param.grad is not None else torch.zeros_like(param))
                      .flatten() for param in used])
    dist.all_reduce(flat)
    if mean:
        flat /= dist.get_world_size()
    EXCHANGED.gradient_bytes += present.nbytes + flat.nbytes
    for param, grad in zip(used, flat.split([param.numel() for param in used]), strict=True):
        param.grad = grad.view_as(param)
