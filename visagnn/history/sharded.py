"""History rows sharded by owner over the ranks of a ``torch.distributed`` run.

Rank ``r`` stores only the rows of the nodes it owns, a contiguous id range (:class:`RowOwners`;
for the layer histories whole METIS parts, the parts split into contiguous ranges of parts).
:class:`ShardedTransfers` is the :class:`~visagnn.history.staging.RowTransfers` of such a store:

* a pull is one collective exchange (``all_to_all_single`` of the counts, the row ids and the
  rows): every rank asks the owners for the rows it reads and answers the others' requests;
* a push is buffered on the pushing rank and delivered to the owners at the end of the step
  (:meth:`ShardedTransfers.deliver`, one exchange of the same shape).

So a step's pulls read the rows every rank left at the end of the previous step, plus this
rank's own pushes of this step (laid over what the owners return): exactly what a single
process stepping from that state would read, so the distributed step is the average of the
ranks' single-process steps. Where two ranks push the same row in one step (the halo writes of
``--exact-halo`` or GraphFM), the higher rank's row wins, in every store and replica alike.

Every function here is a collective: all ranks call it, the same number of times, in the same
order (a pull of no rows still joins the exchange).
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor

from visagnn.utils.distributed import World


class ExchangeCounter:
    """Bytes this rank sent: in history exchanges (``sent_bytes``: rows, ids, counts and the
    replicated state's updates) and in the gradients' all-reduce (``gradient_bytes``, the
    bucket's size), and the lockstep steps taken, for the summary."""

    def __init__(self) -> None:
        self.sent_bytes = self.gradient_bytes = self.steps = 0

    def reset(self) -> None:
        self.sent_bytes = self.gradient_bytes = self.steps = 0

    def per_step(self) -> dict[str, float]:
        """Bytes sent per step, by kind."""
        steps = max(self.steps, 1)
        return {"history_bytes_per_step": self.sent_bytes / steps,
                "gradient_bytes_per_step": self.gradient_bytes / steps}


EXCHANGED = ExchangeCounter()
"""The process's history exchanges (one process trains one method)."""


class RowOwners:
    """Which rank owns which rows: rank ``r`` owns the ids ``bounds[r] .. bounds[r + 1] - 1``.

    Args:
        bounds: ``world.size + 1`` non-decreasing ids from 0 to the number of rows.
        world: the run's process group.
    """

    def __init__(self, bounds: list[int], world: World) -> None:
        if len(bounds) != world.size + 1 or bounds[0] != 0 or bounds != sorted(bounds):
            raise ValueError(f"row bounds {bounds} for {world.size} ranks")
        self.bounds = bounds
        self.world = world
        self._cuts = torch.tensor(bounds[1:-1], dtype=torch.long)

    @classmethod
    def even(cls, num_rows: int, world: World) -> RowOwners:
        """Contiguous ranges of ``⌈num_rows / size⌉`` rows (the last ones shorter)."""
        share = -(-num_rows // world.size)
        return cls([min(rank * share, num_rows) for rank in range(world.size + 1)], world)

    @classmethod
    def by_parts(cls, part_ptr: Tensor, world: World) -> RowOwners:
        """Whole parts per rank (``part_ptr``: each part's first id, then the number of
        rows): rank ``r`` owns parts ``⌊r P / size⌋ .. ⌊(r + 1) P / size⌋ - 1``."""
        parts = part_ptr.numel() - 1
        return cls([int(part_ptr[rank * parts // world.size])
                    for rank in range(world.size + 1)], world)

    @property
    def num_rows(self) -> int:
        return self.bounds[-1]

    @property
    def start(self) -> int:
        return self.bounds[self.world.rank]

    @property
    def stop(self) -> int:
        return self.bounds[self.world.rank + 1]

    def owner_of(self, index: Tensor) -> Tensor:
        """The rank owning each id of ``index`` (CPU)."""
        return torch.bucketize(index, self._cuts, right=True)

    def gather(self, owned: Tensor) -> Tensor:
        """Every rank's ``owned`` rows (``[stop - start, ...]``) as one ``[num_rows, ...]``
        tensor on every rank (one ``all_gather`` of rows padded to the largest range)."""
        sizes = [stop - start for start, stop in zip(self.bounds, self.bounds[1:], strict=False)]
        padded = owned.new_zeros((max(sizes), *owned.shape[1:]), device=collective_device())
        padded[: owned.size(0)] = owned
        pieces = [torch.empty_like(padded) for _ in sizes]
        dist.all_gather(pieces, padded)
        EXCHANGED.sent_bytes += padded.nbytes
        return torch.cat([piece[:size] for piece, size in zip(pieces, sizes, strict=True)])


def collective_device() -> torch.device:
    """Where a collective's tensors must be: this rank's GPU under ``nccl``, else the CPU."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def exchange(chunks: list[Tensor]) -> list[Tensor]:
    """``chunks[r]`` sent to rank ``r``; what every rank sent to this one, by sender, on the
    CPU (``all_to_all_single`` of the counts, then of the rows, on :func:`collective_device`)."""
    device = collective_device()
    send = torch.tensor([chunk.size(0) for chunk in chunks], dtype=torch.long, device=device)
    received = torch.empty_like(send)
    dist.all_to_all_single(received, send)
    rows = torch.cat(chunks).to(device)
    out = rows.new_empty((int(received.sum()), *rows.shape[1:]))
    dist.all_to_all_single(out, rows, received.tolist(), send.tolist())
    EXCHANGED.sent_bytes += send.nbytes + rows.nbytes
    return list(out.cpu().split(received.tolist()))


def last_occurrences(index: Tensor) -> Tensor:
    """The positions in ``index`` of the last occurrence of each distinct id: an index
    assignment through them is deterministic where ``index`` repeats an id (the last wins)."""
    unique, inverse = torch.unique(index, return_inverse=True)
    positions = torch.arange(index.numel())
    last = torch.full((unique.numel(),), -1, dtype=torch.long)
    return last.scatter_reduce(0, inverse, positions, "amax")


def by_owner(owners: RowOwners, index: Tensor) -> tuple[Tensor, list[Tensor]]:
    """``index`` (CPU) grouped by owner, keeping their order within each owner: the stable
    order and one chunk of positions per rank."""
    owner = owners.owner_of(index)
    order = torch.sort(owner, stable=True).indices
    counts = torch.bincount(owner, minlength=owners.world.size).tolist()
    return order, list(order.split(counts))


class ShardedTransfers:
    """Pulls and pushes of the rows one rank owns (``store``: ``[stop - start, D]``).

    Args:
        store: this rank's rows.
        device: the compute device pulls return their rows on.
        owners: who owns which rows.
    """

    push_in_flight = False

    def __init__(self, store: Tensor, device: torch.device, owners: RowOwners) -> None:
        self.store = store
        self.device = device
        self.owners = owners
        self._pending: list[tuple[Tensor, Tensor]] = []  # this step's pushes, in order

    def pull(self, index: Tensor) -> Tensor:
        """The rows of the ids ``index`` as the owners hold them, this rank's pushes of this
        step laid over them."""
        index = index.cpu()
        order, groups = by_owner(self.owners, index)
        asked = exchange([index[group] for group in groups])
        start = self.owners.start
        answers = exchange([self.store.index_select(0, (ids - start).to(self.store.device))
                            .cpu() for ids in asked])
        rows = torch.empty((index.numel(), self.store.size(1)), dtype=self.store.dtype)
        rows[order] = torch.cat(answers)
        rows = rows.to(self.device, torch.float32)
        for pushed, values in self._pending:
            self._overlay(rows, index, pushed, values)
        return rows

    @staticmethod
    def _overlay(rows: Tensor, index: Tensor, pushed: Tensor, values: Tensor) -> None:
        """``rows[k] = values[m]`` wherever ``index[k] == pushed[m]``."""
        if pushed.numel() == 0 or index.numel() == 0:
            return
        ids, position = torch.sort(pushed)
        slot = torch.searchsorted(ids, index).clamp(max=ids.numel() - 1)
        hit = (ids[slot] == index).nonzero().flatten()
        rows[hit.to(rows.device)] = values[position[slot[hit]].to(values.device)].float()

    def push(self, index: Tensor, values: Tensor) -> None:
        self._pending.append((index.cpu().clone(), values.detach().clone()))

    def deliver(self) -> None:
        """Send this step's pushes to their owners and write the ones this rank owns (the
        higher rank's row wins where two ranks pushed the same row, the last push within a
        rank)."""
        pending, self._pending = self._pending, []
        dim = self.store.size(1)
        index = torch.cat([ids for ids, _ in pending] or [torch.empty(0, dtype=torch.long)])
        values = torch.cat([rows.to("cpu", self.store.dtype) for _, rows in pending]
                           or [torch.empty(0, dim, dtype=self.store.dtype)])
        _, groups = by_owner(self.owners, index)
        ids = torch.cat(exchange([index[group] for group in groups]))
        rows = torch.cat(exchange([values[group] for group in groups]))
        last = last_occurrences(ids)
        self.store[(ids[last] - self.owners.start).to(self.store.device)] = rows[last].to(
            self.store.device)

    def land(self) -> None:
        """Nothing to wait for: this step's pushes reach their owners at :meth:`deliver`."""

    def tensors(self) -> list[Tensor]:
        return []


def gather_updates(updates: Tensor) -> Tensor:
    """Every rank's ``[k_r, C]`` float64 ``updates``, by rank (``all_gather`` of the counts,
    then of the rows padded to the largest ``k_r``)."""
    world_size, device = dist.get_world_size(), collective_device()
    count = torch.tensor([updates.size(0)], dtype=torch.long, device=device)
    counts = [torch.empty_like(count) for _ in range(world_size)]
    dist.all_gather(counts, count)
    sizes = [int(size) for size in counts]
    padded = updates.new_zeros((max(sizes), updates.size(1)), device=device)
    padded[: updates.size(0)] = updates
    pieces = [torch.empty_like(padded) for _ in sizes]
    dist.all_gather(pieces, padded)
    EXCHANGED.sent_bytes += count.nbytes + padded.nbytes
    return torch.cat([piece[:size] for piece, size in zip(pieces, sizes, strict=True)]).cpu()
