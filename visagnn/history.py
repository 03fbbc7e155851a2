"""Per-layer historical embeddings and the staleness state VISAGNN, ReFresh and LMC read."""

from __future__ import annotations

import torch
from torch import Tensor


class History:
    """Historical embeddings ``h̃_j`` of one hidden layer for all ``N`` nodes, plus staleness state.

    Next to the ``[N, D]`` embeddings it keeps, per node:

    * ``last_push[j]``: the training iteration of the last push of ``j`` (``-1``: never), so that
      the persistence time is ``T_j = t - last_push[j]`` at iteration ``t``;
    * ``grad_norm[j]``: ``‖∂L/∂h_j‖``, the norm of the loss gradient with respect to ``j``'s
      embedding the last time ``j`` was in the batch, written by :meth:`record_grad_norm` in the
      backward pass, and ``grad_seen[j]``, whether that ever happened;
    * with ``track_drift``, ``drift_velocity[j]``: how ``j``'s exact embedding moves per
      iteration, ``(e_j(t_k) - e_j(t_{k-1})) / (t_k - t_{k-1})`` between the exact embeddings
      ``e`` of the last two :meth:`refresh` calls, and its norm :attr:`drift_rate` (NaN until
      two refreshes have happened). Exact rows are eval-mode rows, so the drift measures
      parameter change, not dropout noise; the price is two more ``[N, D]`` tensors (the last
      exact rows and the velocity).

    Rows are written two ways: :meth:`push` (a training step's in-batch rows) and
    :meth:`refresh` (exact rows of every node, e.g. from an evaluation's exact inference);
    ``refreshed_at`` is the iteration of the last refresh, so a row with ``last_push[j] ==
    refreshed_at`` holds an exact row.

    On a CUDA device the store lives in pinned CPU memory (``keep_on_device=True`` keeps it in
    device memory instead); pulls gather rows into pinned buffers and copy them asynchronously.
    On CPU it is a plain tensor.
    """

    def __init__(
        self,
        num_nodes: int,
        dim: int,
        device: torch.device | str = "cpu",
        keep_on_device: bool = False,
        track_drift: bool = False,
    ) -> None:
        self.device = torch.device(device)
        self.keep_on_device = keep_on_device
        self.track_drift = track_drift
        on_cuda = self.device.type == "cuda"
        keep_here = keep_on_device or not on_cuda
        self.storage_device = self.device if keep_here else torch.device("cpu")
        self.pinned = on_cuda and self.storage_device.type == "cpu"
        self.embedding = torch.zeros(num_nodes, dim, device=self.storage_device)
        if self.pinned:
            self.embedding = self.embedding.pin_memory()
        self.last_push = torch.full((num_nodes,), -1, dtype=torch.long, device=self.device)
        self.grad_norm = torch.zeros(num_nodes, device=self.device)
        self.grad_seen = torch.zeros(num_nodes, dtype=torch.bool, device=self.device)
        self.drift_velocity: Tensor | None = None  # known after two refreshes
        self.refreshed_at: int | None = None
        self._exact: Tensor | None = None  # the last refresh's rows, with track_drift
        self.rows_pulled = 0

    @property
    def num_nodes(self) -> int:
        return self.embedding.size(0)

    @property
    def dim(self) -> int:
        return self.embedding.size(1)

    def empty_like(self) -> History:
        """A zero history of the same shape, on the same devices (e.g. for gradients)."""
        return History(self.num_nodes, self.dim, self.device, self.keep_on_device,
                       self.track_drift)

    def push(self, n_id: Tensor, values: Tensor, iteration: int) -> None:
        """Write ``values`` (detached) as the history of ``n_id`` at ``iteration``."""
        self.embedding[n_id.to(self.storage_device)] = values.detach().to(self.storage_device)
        self.last_push[n_id.to(self.device)] = iteration

    def pull(self, n_id: Tensor) -> Tensor:
        """The stored rows of ``n_id`` on the compute device (no gradient flows into them)."""
        self.rows_pulled += n_id.numel()
        index = n_id.to(self.storage_device)
        if not self.pinned:
            return self.embedding.index_select(0, index).to(self.device)
        buffer = torch.empty((index.numel(), self.dim), pin_memory=True)
        torch.index_select(self.embedding, 0, index, out=buffer)
        return buffer.to(self.device, non_blocking=True)

    def fill(self, values: Tensor, iteration: int = 0) -> None:
        """Start afresh from ``values``: a :meth:`refresh` that also forgets every gradient
        norm and drift rate (e.g. with exact embeddings before the first epoch)."""
        self._exact = self.drift_velocity = None
        self.refresh(values, iteration)
        self.grad_norm.zero_()
        self.grad_seen.zero_()

    def refresh(self, exact: Tensor, iteration: int) -> None:
        """Write the ``exact`` embeddings of every node at ``iteration`` (persistence back to 0)
        and, with ``track_drift``, update each node's drift rate from the previous refresh."""
        exact = exact.detach().to(self.storage_device)
        if self.track_drift:
            if self._exact is not None and iteration > self.refreshed_at:
                moved = (exact - self._exact).to(self.device)
                self.drift_velocity = moved / (iteration - self.refreshed_at)
            self._exact = exact.clone()
        self.embedding.copy_(exact)
        self.last_push.fill_(iteration)
        self.refreshed_at = iteration

    @property
    def drift_rate(self) -> Tensor:
        """``‖drift_velocity[j]‖`` of every node; NaN while the velocity is unknown."""
        if self.drift_velocity is None:
            return torch.full((self.num_nodes,), float("nan"), device=self.device)
        return self.drift_velocity.norm(dim=-1)

    def persistence(self, iteration: int, n_id: Tensor | None = None) -> Tensor:
        """``T_j = iteration - last_push[j]``: iterations since ``j``'s history was written, for
        the nodes ``n_id`` (every node when ``None``)."""
        last_push = self.last_push if n_id is None else self.last_push[n_id.to(self.device)]
        return iteration - last_push

    def record_grad_norm(self, n_id: Tensor, grad_norm: Tensor) -> None:
        """Store ``‖∂L/∂h_j‖`` of the nodes ``n_id``."""
        index = n_id.to(self.device)
        self.grad_norm[index] = grad_norm.detach().to(self.device)
        self.grad_seen[index] = True


def layer_histories(
    num_nodes: int,
    dims: list[int],
    device: torch.device | str = "cpu",
    keep_on_device: bool = False,
    track_drift: bool = False,
) -> list[History]:
    """One empty :class:`History` of ``num_nodes`` rows per hidden layer width in ``dims``."""
    return [History(num_nodes, dim, device, keep_on_device, track_drift) for dim in dims]
