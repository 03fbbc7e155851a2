"""Per-layer historical embeddings and the staleness state VISAGNN, ReFresh and LMC read."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from visagnn.history.sharded import RowOwners, ShardedTransfers, gather_updates, last_occurrences
from visagnn.history.staging import DirectTransfers, RowTransfers, StagedTransfers
from visagnn.utils.cache import cache_folder
from visagnn.utils.distributed import current_world

HistoryDtype = Literal["float32", "float16", "bfloat16"]
HISTORY_DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
HistoryPlace = Literal["auto", "ram", "pinned", "device", "mmap"]
HISTORY_PLACES: tuple[HistoryPlace, ...] = ("auto", "ram", "pinned", "device", "mmap")


DEVICE_SHARE = 0.75
"""The share of the free device memory ``auto`` lets the histories take on CUDA.

The rest stays free for what a step allocates beside them: the batch's features and pulled
halo rows, the activations autograd keeps (GAT's per-edge attention, one row per edge and head),
the gradients and the allocator's fragmentation. A share rather than a fixed number of GiB,
because all of these grow with the batch, and the batches with the graph, as the histories do:
a fixed reserve would be most of a small device and too little beside a large graph."""


def free_device_memory(device: torch.device) -> int:
    """Bytes free on the CUDA ``device`` now (``torch.cuda.mem_get_info``)."""
    return torch.cuda.mem_get_info(device)[0]


def mebibytes(nbytes: float) -> str:
    """``nbytes`` in MiB as the summary writes it, e.g. ``2,431 MiB``."""
    return f"{nbytes / 2**20:,.0f} MiB"


@dataclass(frozen=True)
class StoragePlacement:
    """Where histories keep their rows, and why: :meth:`HistoryStorage.choose`'s answer.

    ``str()`` gives both, e.g. ``device (histories 2,431 MiB of 120,000 MiB free)``.
    """

    place: HistoryPlace
    reason: str

    def __str__(self) -> str:
        return f"{self.place} ({self.reason})"


@dataclass(frozen=True)
class HistoryStorage:
    """Where a :class:`History` keeps its rows, and in which dtype.

    Args:
        place: ``auto`` (default: ``ram`` on CPU; on CUDA ``device`` where the histories fit
            in :data:`DEVICE_SHARE` of the free device memory, else ``pinned``; see
            :meth:`choose`), ``ram`` (a plain CPU tensor), ``pinned`` (page-locked CPU memory;
            CUDA only), ``device`` (the compute device's memory) or ``mmap`` (a file in the
            cache folder's ``histories/``, memory-mapped; the operating system pages rows in
            and out, so the histories may exceed RAM).
        dtype: ``float32`` (default), ``float16`` or ``bfloat16``: the rows' storage dtype.
            Pulls return float32 whatever it is; 16-bit halves the memory and the transfers and
            rounds every stored row (float16: relative error below 2^-11 in [6e-5, 65504];
            bfloat16: below 2^-8, float32's range).
    """

    place: HistoryPlace = "auto"
    dtype: HistoryDtype = "float32"

    def __post_init__(self) -> None:
        if self.place not in HISTORY_PLACES:
            raise ValueError(f"history place must be one of {HISTORY_PLACES}, got {self.place!r}")
        if self.dtype not in HISTORY_DTYPES:
            raise ValueError(f"history dtype must be one of {tuple(HISTORY_DTYPES)}, "
                             f"got {self.dtype!r}")

    @property
    def torch_dtype(self) -> torch.dtype:
        return HISTORY_DTYPES[self.dtype]

    def choose(
        self,
        device: torch.device,
        nbytes: int,
        free_memory: Callable[[torch.device], int] = free_device_memory,
    ) -> StoragePlacement:
        """The place of histories of ``nbytes`` in all (:func:`history_nbytes`) on ``device``.

        ``auto`` is ``ram`` on CPU; on CUDA it is ``device`` when ``nbytes`` is at most
        :data:`DEVICE_SHARE` of ``free_memory(device)`` (the device's free bytes, asked before
        the histories are made), so that pulls and pushes are device indexing with no host
        transfer, and ``pinned`` otherwise. ``device`` on CPU is ``ram``; ``pinned`` on CPU
        raises ``ValueError``; every other place is the one asked for.
        """
        on_cuda = device.type == "cuda"
        if self.place == "pinned" and not on_cuda:
            raise ValueError("pinned histories need a CUDA device")
        if self.place == "auto" and on_cuda:
            free = free_memory(device)
            need = f"histories {mebibytes(nbytes)}"
            if nbytes <= DEVICE_SHARE * free:
                return StoragePlacement("device", f"{need} of {mebibytes(free)} free")
            return StoragePlacement(
                "pinned", f"{need} over {DEVICE_SHARE:.0%} of {mebibytes(free)} free")
        if self.place == "auto":
            return StoragePlacement("ram", "CPU device")
        if self.place == "device" and not on_cuda:
            return StoragePlacement("ram", "device memory asked for on a CPU device")
        return StoragePlacement(self.place, "asked for")


DEFAULT_STORAGE = HistoryStorage()
"""Rows in float32, in RAM on CPU; on CUDA in device memory where they fit, else pinned RAM."""


def history_nbytes(num_nodes: int, dims: Sequence[int], dtype: torch.dtype,
                   track_drift: bool = False, keep_velocity: bool = False) -> int:
    """Bytes of the :class:`History` of every width in ``dims`` (:attr:`History.nbytes` without
    the staging buffers, which only rows in CPU memory on a CUDA device have): per layer the
    rows in ``dtype``, ``last_push`` (int64), ``grad_norm`` (float32) and ``grad_seen`` (bool),
    with ``track_drift`` the last exact rows (``dtype``) and the drift rate (float32), with
    ``keep_velocity`` also the velocity (float32 rows)."""
    track_drift = track_drift or keep_velocity
    row_bytes = torch.empty((), dtype=dtype).element_size()
    state_bytes = 8 + 4 + 1 + (4 if track_drift else 0)
    total = 0
    for dim in dims:
        rows = dim * row_bytes * (2 if track_drift else 1)
        total += num_nodes * (rows + state_bytes + (dim * 4 if keep_velocity else 0))
    return total


DRIFT_CHUNK = 65_536
"""Rows per step when a refresh measures the drift."""


def mapped_zeros(rows: int, dim: int, dtype: torch.dtype) -> Tensor:
    """A ``[rows, dim]`` zero tensor backed by a shared memory-mapped file in the cache folder.

    The file is unlinked as soon as it is mapped: the mapping keeps its pages, which the
    operating system frees when the tensor is freed, so no file outlives the process, even one
    that crashes or is killed.
    """
    handle, path = tempfile.mkstemp(prefix="history-", suffix=".bin",
                                    dir=cache_folder("histories"))
    os.close(handle)
    try:
        flat = torch.from_file(path, shared=True, size=rows * dim, dtype=dtype)
    finally:
        os.unlink(path)
    return flat.view(rows, dim)


class History:
    r"""Historical embeddings ``h̃_j`` of one hidden layer for all ``N`` nodes, plus staleness state.

    Next to the ``[N, D]`` embeddings it keeps, per node:

    * ``last_push[j]``: the training iteration of the last push of ``j`` (``-1``: never), so that
      the persistence time is ``T_j = t - last_push[j]`` at iteration ``t``;
    * ``grad_norm[j]``: ``‖∂L/∂h_j‖``, the norm of the loss gradient with respect to ``j``'s
      embedding the last time ``j`` was in the batch, written by :meth:`record_grad_norm` in the
      backward pass, and ``grad_seen[j]``, whether that ever happened;
    * with ``track_drift``, :attr:`drift_rate` ``[j]``: how fast ``j``'s exact embedding
      moves per iteration, :math:`\lVert v_j \rVert` with
      :math:`v_j = (e_j(t_k) - e_j(t_{k-1})) / (t_k - t_{k-1})` between the exact embeddings
      ``e`` of the last two :meth:`refresh` calls (NaN until two refreshes have happened), and
      with ``keep_velocity`` also ``drift_velocity[j]`` :math:`= v_j` itself. Exact rows are
      eval-mode rows, so the drift measures parameter change, not dropout noise; the price is
      one more ``[N, D]`` tensor (the last exact rows, in the rows' dtype and place), and a
      second one for the velocity.

    Rows are written two ways: :meth:`push` (a training step's in-batch rows) and
    :meth:`refresh` (exact rows of every node, e.g. from an evaluation's exact inference);
    ``refreshed_at`` is the iteration of the last refresh, so a row with ``last_push[j] ==
    refreshed_at`` holds an exact row. In a model, only
    :class:`~visagnn.history.model.HistoricalModel` writes its histories.

    The rows live where ``placement`` says, or where ``storage`` chooses for this history alone
    (:meth:`HistoryStorage.choose`: by default a plain tensor on CPU; on CUDA device memory
    where it fits, else pinned CPU memory), in the storage's dtype; :func:`layer_histories`
    chooses once for every layer. :attr:`storage` is then the place chosen, so that a history
    made from it (:meth:`empty_like`) lands in the same place. Pulls return float32 rows on the
    compute device. How they get there is :attr:`transfers`' job: when the rows are on the CPU
    and the device is CUDA (:func:`stages_transfers`),
    :class:`~visagnn.history.staging.StagedTransfers` (reused pinned buffers on their own
    stream, a push that returns before its rows are in the store), else
    :class:`~visagnn.history.staging.DirectTransfers`; reading :attr:`embedding` waits for every
    push. The per-node state (``last_push``, ``grad_norm``, ``grad_seen``, the drift rate
    and velocity) is float32 on the compute device whatever the storage; the last exact rows of
    ``track_drift`` are kept like the rows (dtype, and place: memory-mapped with ``mmap``, on
    the device with ``device``, plain RAM otherwise).

    In a ``torch.distributed`` run (``owners``, by default :meth:`RowOwners.even` of the
    current world) the history is sharded: this rank stores only the rows (and the last exact
    rows) of the nodes it owns, and moves rows through
    :class:`~visagnn.history.sharded.ShardedTransfers`. The per-node state stays replicated on
    every rank, as the policies index it over all nodes: each rank writes its own updates at
    once and :meth:`end_step` (a collective, once per step) replays every rank's updates of the
    step in rank order on every replica, so the replicas agree (per node and layer 13 bytes, 17
    with the drift rate, against a row's ``D`` × 4). The drift velocity (``keep_velocity``)
    would be an ``[N, D]`` replica, and is refused.
    """

    def __init__(
        self,
        num_nodes: int,
        dim: int,
        device: torch.device | str = "cpu",
        storage: HistoryStorage = DEFAULT_STORAGE,
        track_drift: bool = False,
        keep_velocity: bool = False,
        placement: StoragePlacement | None = None,
        owners: RowOwners | None = None,
    ) -> None:
        self.device = torch.device(device)
        self.track_drift = track_drift or keep_velocity
        self.keep_velocity = keep_velocity
        world = current_world()
        self.owners = owners or (RowOwners.even(num_nodes, world) if world.is_distributed
                                 else None)
        if self.owners is not None and keep_velocity:
            raise ValueError("the drift velocity (VISAGNN's --extrapolate) runs in one "
                             "process only")
        self._num_nodes = num_nodes
        self.placement = placement or storage.choose(self.device, history_nbytes(
            self.owned_rows, [dim], storage.torch_dtype, track_drift, keep_velocity))
        self.place = self.placement.place
        self.storage = HistoryStorage(self.place, storage.dtype)
        self.storage_device = self.device if self.place == "device" else torch.device("cpu")
        self.dtype = storage.torch_dtype
        self._rows = self._zero_rows(self.owned_rows, dim, pin_memory=self.place == "pinned")
        self.transfers: RowTransfers
        if self.owners is not None:
            self.transfers = ShardedTransfers(self._rows, self.device, self.owners)
        elif stages_transfers(self.device, self.storage_device):
            self.transfers = StagedTransfers(self._rows, self.device)
        else:
            self.transfers = DirectTransfers(self._rows, self.device)
        self._updates: list[Tensor] = []  # sharded: this step's state updates, for end_step
        self.last_push = torch.full((num_nodes,), -1, dtype=torch.long, device=self.device)
        self.grad_norm = torch.zeros(num_nodes, device=self.device)
        self.grad_seen = torch.zeros(num_nodes, dtype=torch.bool, device=self.device)
        self.drift_velocity: Tensor | None = None  # known after two refreshes
        self._drift_rate: Tensor | None = None
        self.refreshed_at: int | None = None
        self._exact: Tensor | None = None  # the last refresh's rows, with track_drift

    @property
    def embedding(self) -> Tensor:
        """The ``[N, D]`` rows in the storage dtype and place, every push written (sharded:
        the rows of the nodes this rank owns, every earlier step's push written)."""
        self.transfers.land()
        return self._rows

    @property
    def num_nodes(self) -> int:
        return self._num_nodes

    @property
    def owned(self) -> slice:
        """The nodes whose rows this history stores (all but for a sharded history)."""
        if self.owners is None:
            return slice(0, self._num_nodes)
        return slice(self.owners.start, self.owners.stop)

    @property
    def owned_rows(self) -> int:
        return self.owned.stop - self.owned.start

    @property
    def dim(self) -> int:
        return self._rows.size(1)

    def empty_like(self) -> History:
        """A zero history of the same shape, on the same devices (e.g. for gradients)."""
        return History(self.num_nodes, self.dim, self.device, self.storage, self.track_drift,
                       self.keep_velocity, self.placement, self.owners)

    def tensors(self) -> list[Tensor]:
        """Every tensor the history holds: the rows, the per-node state (drift state
        included), and what the transfers hold (staged: the buffers and the mask of the rows in
        flight)."""
        held = [self._rows, self.last_push, self.grad_norm, self.grad_seen,
                self._drift_rate, self.drift_velocity, self._exact]
        return [tensor for tensor in held if tensor is not None] + self.transfers.tensors()

    @property
    def nbytes(self) -> int:
        """Bytes of :meth:`tensors`."""
        return sum(tensor.nbytes for tensor in self.tensors())

    def push(self, n_id: Tensor, values: Tensor, iteration: int,
             host_n_id: Tensor | None = None) -> None:
        """Write ``values`` (detached) as the history of ``n_id`` at ``iteration``; staged, the
        rows reach the store in the background
        (:class:`~visagnn.history.staging.StagedTransfers`). ``host_n_id``, the same ids on the
        CPU (:attr:`SubgraphBatch.host_n_id`), index rows stored on the CPU without copying
        device ids to the host, which would wait for the device."""
        self.transfers.push(self.store_index(n_id, host_n_id), values.detach())
        self.last_push[n_id.to(self.device)] = iteration
        if self.owners is not None:
            ids = n_id.detach().cpu().double()
            self._updates.append(torch.stack([ids, torch.full_like(ids, iteration),
                                              torch.full_like(ids, torch.nan)], dim=1))

    def pull(self, n_id: Tensor, host_n_id: Tensor | None = None) -> Tensor:
        """The stored rows of ``n_id``, float32, on the compute device (no gradient flows into
        them), every earlier push of these rows included; ``host_n_id`` as in :meth:`push`."""
        return self.transfers.pull(self.store_index(n_id, host_n_id))

    def store_index(self, n_id: Tensor, host_n_id: Tensor | None) -> Tensor:
        """``n_id`` where the rows are stored: ``host_n_id`` for rows on the CPU when given."""
        if host_n_id is not None and self.storage_device.type == "cpu":
            return host_n_id
        return n_id.to(self.storage_device)

    def fill(self, values: Tensor, iteration: int = 0) -> None:
        """Start afresh from ``values``: a :meth:`refresh` that also forgets every gradient
        norm and drift rate (e.g. with exact embeddings before the first epoch)."""
        self._exact = self.drift_velocity = self._drift_rate = None
        self.refresh(values, iteration)
        self.grad_norm.zero_()
        self.grad_seen.zero_()

    def refresh(self, exact: Tensor, iteration: int) -> None:
        """Write the ``exact`` embeddings of every node at ``iteration`` (persistence back to 0)
        and, with ``track_drift``, update each node's drift rate from the previous refresh."""
        exact = exact.detach()[self.owned].to(self.storage_device, torch.float32)
        if self.track_drift:
            if self._exact is not None and iteration > self.refreshed_at:
                self._measure_drift(exact, iteration - self.refreshed_at)
            if self._exact is None:  # plain RAM for pinned rows: nothing copies it to a device
                self._exact = self._zero_rows(self.owned_rows, self.dim, pin_memory=False)
            self._exact.copy_(exact)
        self.embedding.copy_(exact)
        self.last_push.fill_(iteration)
        self.refreshed_at = iteration

    def _zero_rows(self, rows: int, dim: int, pin_memory: bool) -> Tensor:
        """A zero ``[rows, dim]`` tensor of the storage dtype where the storage is: a mapped
        file for ``mmap``, else on :attr:`storage_device` (page-locked with ``pin_memory``)."""
        if self.place == "mmap":
            return mapped_zeros(rows, dim, self.dtype)
        return torch.zeros(rows, dim, dtype=self.dtype, device=self.storage_device,
                           pin_memory=pin_memory)

    def _measure_drift(self, exact: Tensor, elapsed: int) -> None:
        r""":math:`v = (e(t_k) - e(t_{k-1})) / \Delta t` from ``exact`` and the last exact rows,
        ``DRIFT_CHUNK`` rows at a time (no ``[N, D]`` temporary); its row norms, and ``v``
        itself with ``keep_velocity``."""
        rate = torch.empty(self.owned_rows, device=self.device)
        velocity = (torch.empty(self.owned_rows, self.dim, device=self.device)
                    if self.keep_velocity else None)
        for start in range(0, self.owned_rows, DRIFT_CHUNK):
            rows = slice(start, start + DRIFT_CHUNK)
            moved = (exact[rows] - self._exact[rows].float()).to(self.device) / elapsed
            rate[rows] = moved.norm(dim=-1)
            if velocity is not None:
                velocity[rows] = moved
        if self.owners is not None:  # every rank's policy reads the rate of every node
            rate = self.owners.gather(rate.cpu()).to(self.device)
        self._drift_rate, self.drift_velocity = rate, velocity

    @property
    def drift_rate(self) -> Tensor:
        r""":math:`\lVert v_j \rVert` of every node; NaN while it is unknown (fewer than two
        refreshes)."""
        if self._drift_rate is None:
            return torch.full((self.num_nodes,), float("nan"), device=self.device)
        return self._drift_rate

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
        if self.owners is not None:
            ids = n_id.detach().cpu().double()
            self._updates.append(torch.stack([ids, torch.full_like(ids, torch.nan),
                                              grad_norm.detach().cpu().double()], dim=1))

    def end_step(self) -> None:
        """Sharded, a collective at the end of every step: deliver the step's pushes to their
        owners, and replay every rank's state updates of the step (pushes' ``last_push``,
        recorded gradient norms) in rank order on this replica; nothing otherwise."""
        if self.owners is None:
            return
        self.transfers.deliver()
        updates, self._updates = self._updates, []
        every = gather_updates(torch.cat(updates or [torch.empty(0, 3, dtype=torch.float64)]))
        ids = every[:, 0].long()
        pushed = (~every[:, 1].isnan()).nonzero().flatten()
        last = pushed[last_occurrences(ids[pushed])]
        self.last_push[ids[last].to(self.device)] = every[last, 1].long().to(self.device)
        recorded = (~every[:, 2].isnan()).nonzero().flatten()
        last = recorded[last_occurrences(ids[recorded])]
        self.grad_norm[ids[last].to(self.device)] = every[last, 2].float().to(self.device)
        self.grad_seen[ids[last].to(self.device)] = True


def stages_transfers(device: torch.device, storage_device: torch.device) -> bool:
    """Whether pulls and pushes go through :class:`~visagnn.history.staging.StagedTransfers`: the
    rows
    are on the CPU and the compute device is CUDA."""
    return device.type == "cuda" and storage_device.type == "cpu"


def layer_histories(
    num_nodes: int,
    dims: list[int],
    device: torch.device | str = "cpu",
    storage: HistoryStorage = DEFAULT_STORAGE,
    track_drift: bool = False,
    keep_velocity: bool = False,
    free_memory: Callable[[torch.device], int] = free_device_memory,
    owners: RowOwners | None = None,
) -> list[History]:
    """One empty :class:`History` of ``num_nodes`` rows per hidden layer width in ``dims``, all in
    the place ``storage`` chooses for all of them together (:meth:`HistoryStorage.choose` with
    :func:`history_nbytes` of every layer; ``free_memory`` gives a CUDA device's free bytes).
    Histories a policy makes from one of them (LMC's gradient histories,
    :meth:`History.empty_like`) take the same place without being counted. ``owners`` shard
    them in a distributed run (:class:`History`)."""
    device = torch.device(device)
    rows = num_nodes if owners is None else owners.stop - owners.start
    placement = storage.choose(device, history_nbytes(
        rows, dims, storage.torch_dtype, track_drift, keep_velocity), free_memory)
    return [History(num_nodes, dim, device, storage, track_drift, keep_velocity, placement,
                    owners) for dim in dims]

