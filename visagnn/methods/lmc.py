"""LMC (Shi et al., ICLR 2023): local message compensation in the forward and backward passes."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from visagnn.batch import SubgraphBatch
from visagnn.clock import Clock
from visagnn.graph import CSRGraph
from visagnn.history import History
from visagnn.methods.historical_method import HistoricalMethod
from visagnn.methods.registry import register_method
from visagnn.nn.backbone import Backbone, LayerInput
from visagnn.nn.halo_policy import HaloPolicy


@dataclass(frozen=True)
class LMCOptions:
    """β of LMC's compensations; 1 as in all of LMC's configurations."""

    beta: float = field(default=1.0, metadata={
        "help": "β: a halo node's up-to-date share is β·α_j (α_j: share of its neighbours "
                "in the subgraph); 0 reads the histories as GAS"})

    def __post_init__(self) -> None:
        if not 0 <= self.beta <= 1:
            raise ValueError(f"LMCOptions.beta must be in [0, 1], got {self.beta}")


class _LayerCall(nn.Module):
    """``backbone.layer`` as a module's forward, so that it can run with swapped parameters."""

    def __init__(self, backbone: Backbone) -> None:
        super().__init__()
        self.backbone = backbone

    def forward(self, index: int, inp: LayerInput) -> Tensor:
        return self.backbone.layer(index, inp)


class LMCHalo(HaloPolicy):
    r"""LMC's compensated halo embeddings forward and compensated halo gradients backward.

    **Forward.** For each hidden layer the halo rows are LMC's compensated embeddings

    .. math::
        h_j^{(l+1)} = h_j^{inc} + (1 - \lambda_j)\big(\tilde h_j^{(l+1)} -
        \mathrm{sg}(h_j^{inc})\big), \qquad
        \lambda_j = \begin{cases} 1 & \alpha_j = 1 \\ \beta \alpha_j & \alpha_j < 1 \end{cases}

    where :math:`h_j^{inc} = g_\theta^{(l+1)}(h_j^{(l)}, \{h_k^{(l)}\}_{k \in \mathcal{N}(j)
    \cap S})` is the *incomplete up-to-date* embedding, layer :math:`l` applied to :math:`j` with
    only its neighbours in the subgraph :math:`S` = batch plus halo (rows of layer :math:`l`'s
    input: fresh in-batch rows, compensated halo rows), :math:`\alpha_j` the share of its
    neighbours in :math:`S` (:meth:`SubgraphBatch.halo_neighbourhood`), :math:`\tilde h_j` its
    history and ``sg`` stop-gradient: the value is :math:`\lambda_j h^{inc} + (1 - \lambda_j)
    \tilde h`, the gradient flows through :math:`h^{inc}` only. Halo nodes with a complete
    neighbourhood are computed exactly and their history is not read, as in LMC's code. As in
    LMC's code (its ``MaskGCNConv``), :math:`h^{inc}` is computed with the layer's parameters
    detached: the parameter gradient sums over in-batch nodes only, the halo rows only carry
    backward messages.

    **Backward.** Each hidden layer also has a history of gradients :math:`\bar V_j^{(l+1)}`: the
    backward pass pushes the in-batch rows' gradients :math:`V_i = \partial L / \partial
    h_i^{(l+1)}` and replaces the halo rows' incomplete gradients by

    .. math::
        V_j \leftarrow \lambda_j V_j + (1 - \lambda_j) \bar V_j

    before they flow into :math:`h_j^{inc}`. LMC's code divides the gradients by the number of
    batches before storing and multiplies them back after mixing; with fixed batches that factor
    is constant and cancels, so the raw gradients of the batch loss are stored.

    The neighbourhood of each batch is computed once and cached by its parts: LMC's batches are
    fixed groups of parts, and LMC's code pre-processes their subgraphs the same way.

    Args:
        graph: the (partition-ordered) graph, whose edges into the halo LMC needs.
        beta: :math:`\beta \in [0, 1]` (0 reads histories as GAS does for every incomplete halo
            node).
    """

    def __init__(self, graph: CSRGraph, beta: float) -> None:
        self.graph = graph
        self.beta = beta
        self.grad_histories: list[History] = []
        self._neighbourhoods: dict[tuple[int, ...], tuple[Tensor, Tensor]] = {}

    def attach(self, backbone: Backbone, histories: list[History]) -> None:
        super().attach(backbone, histories)
        self.grad_histories = [history.empty_like() for history in histories]

    def neighbourhood(self, batch: SubgraphBatch) -> tuple[Tensor, Tensor]:
        """``batch.halo_neighbourhood`` on ``batch``'s device, cached by its parts."""
        key = tuple(batch.parts.tolist())
        if key not in self._neighbourhoods:
            device = batch.n_id.device
            edge_index, alpha = batch.halo_neighbourhood(self.graph)
            self._neighbourhoods[key] = (edge_index.to(device), alpha.to(device))
        return self._neighbourhoods[key]

    def mixing_weight(self, alpha: Tensor) -> Tensor:
        r""":math:`\lambda_j`: 1 for complete neighbourhoods, :math:`\beta \alpha_j` otherwise."""
        return torch.where(alpha < 1, self.beta * alpha, torch.ones_like(alpha))

    def incomplete_embeddings(
        self, index: int, inp: LayerInput, halo_edge_index: Tensor, batch_size: int
    ) -> Tensor:
        """Layer ``index``'s halo rows from the subgraph's neighbours, parameters detached."""
        halo_input = LayerInput(inp.x, halo_edge_index, inp.n_id, inp.x.size(0))
        detached = {f"backbone.{name}": p.detach() for name, p in self.backbone.named_parameters()}
        rows = torch.func.functional_call(_LayerCall(self.backbone), detached, (index, halo_input))
        return rows[batch_size:]

    def next_input(
        self, index: int, inp: LayerInput, fresh: Tensor, batch: SubgraphBatch, clock: Clock
    ) -> LayerInput:
        halo_edge_index, alpha = self.neighbourhood(batch)
        incomplete = self.incomplete_embeddings(index, inp, halo_edge_index, batch.batch_size)
        weight = self.mixing_weight(alpha)
        stale = (weight < 1).nonzero().flatten()
        up_to_date = incomplete[stale]
        history = self.histories[index].pull(batch.halo_nodes[stale])
        compensated = up_to_date + (1 - weight[stale]).unsqueeze(-1) * (
            history - up_to_date.detach()
        )
        rows = torch.cat([fresh, incomplete.index_put((stale,), compensated)])
        self.compensate_backward(index, rows, batch, stale, weight[stale], clock.iteration)
        return LayerInput(rows, batch.edge_index, batch.n_id, batch.batch_size)

    def compensate_backward(
        self,
        index: int,
        rows: Tensor,
        batch: SubgraphBatch,
        stale: Tensor,
        weight: Tensor,
        iteration: int,
    ) -> None:
        """Push the in-batch rows' gradients; mix the ``stale`` halo rows' with their history."""
        if not rows.requires_grad:
            return
        grad_history = self.grad_histories[index]
        batch_size = batch.batch_size
        stale_nodes, stale_rows = batch.halo_nodes[stale], stale + batch_size
        weight = weight.unsqueeze(-1)

        def compensate(grad: Tensor) -> Tensor:
            grad_history.push(batch.batch_nodes, grad[:batch_size], iteration)
            mixed = grad.clone()
            mixed[stale_rows] = weight * grad[stale_rows] + (1 - weight) * grad_history.pull(
                stale_nodes
            )
            return mixed

        rows.register_hook(compensate)


@register_method
class LMC(HistoricalMethod):
    """LMC: GAS with :class:`LMCHalo`'s compensations, over fixed groups of parts visited in
    the same order every epoch, as LMC's code merges its clusters once."""

    name = "lmc"
    options_class = LMCOptions
    shuffle_batches = False

    def build_policy(self) -> LMCHalo:
        return LMCHalo(self.parted.graph, self.options.beta)
