import threading

import pytest
import torch

from tests.devices import CUDA, needs_cuda, push_thread_held, stage_transfers_on_cpu
from visagnn.history.store import (
    History,
    HistoryStorage,
    StoragePlacement,
    history_nbytes,
    layer_histories,
)


def test_push_pull_round_trip():
    history = History(num_nodes=10, dim=3)
    values = torch.arange(12, dtype=torch.float).view(4, 3)
    n_id = torch.tensor([7, 2, 9, 0])
    history.push(n_id, values, iteration=1)
    assert torch.equal(history.pull(torch.tensor([9, 7])), values[[2, 0]])
    assert torch.equal(history.pull(torch.tensor([5])), torch.zeros(1, 3))


def test_pushed_values_are_detached_copies():
    history = History(num_nodes=4, dim=2)
    values = torch.ones(2, 2, requires_grad=True)
    history.push(torch.tensor([0, 1]), values * 2, iteration=1)
    pulled = history.pull(torch.tensor([0, 1]))
    assert not pulled.requires_grad
    pulled.add_(5)
    assert torch.equal(history.pull(torch.tensor([0])), torch.full((1, 2), 2.0))


def test_persistence_counts_iterations_since_last_push():
    history = History(num_nodes=5, dim=1)
    history.fill(torch.zeros(5, 1), iteration=0)
    history.push(torch.tensor([1, 3]), torch.ones(2, 1), iteration=4)
    history.push(torch.tensor([3]), torch.ones(1, 1), iteration=9)
    assert history.persistence(iteration=10).tolist() == [10, 6, 10, 1, 10]
    assert history.persistence(10, torch.tensor([3, 1])).tolist() == [1, 6]


def test_recorded_grad_norms_land_on_their_nodes_only():
    history = History(num_nodes=6, dim=3)
    history.record_grad_norm(torch.tensor([4, 1]), torch.tensor([2.5, 0.5]))
    assert history.grad_norm.tolist() == [0.0, 0.5, 0.0, 0.0, 2.5, 0.0]
    history.fill(torch.zeros(6, 3))
    assert history.grad_norm.eq(0).all()


def test_empty_like_and_layer_histories_match_the_shapes():
    histories = layer_histories(7, [4, 2])
    assert [(h.num_nodes, h.dim) for h in histories] == [(7, 4), (7, 2)]
    twin = histories[0].empty_like()
    assert (twin.num_nodes, twin.dim, twin.device) == (7, 4, histories[0].device)
    assert twin.embedding.eq(0).all() and twin.last_push.eq(-1).all()


@pytest.mark.parametrize(("dtype", "tolerance"), [("float16", 1e-3), ("bfloat16", 1e-2)])
@pytest.mark.parametrize("place", ["ram", "mmap"])
def test_a_16_bit_history_round_trips_within_its_precision(dtype, tolerance, place):
    history = History(50, 8, storage=HistoryStorage(place, dtype))
    values = torch.randn(20, 8, generator=torch.Generator().manual_seed(0)) * 10
    n_id = torch.arange(0, 40, 2)
    history.push(n_id, values, iteration=1)
    pulled = history.pull(n_id)
    assert pulled.dtype == torch.float32 and history.embedding.dtype != torch.float32
    assert torch.allclose(pulled, values, rtol=tolerance, atol=0)
    history.refresh(values.repeat(3, 1)[:50], iteration=2)
    assert torch.allclose(history.pull(n_id[:5]), values.repeat(3, 1)[:50][n_id[:5]],
                          rtol=tolerance, atol=0)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_16_bit_rows_and_last_exact_rows_take_half_the_bytes_and_the_rate_stays_float32(dtype):
    full = History(100, 16, track_drift=True)
    half = History(100, 16, storage=HistoryStorage(dtype=dtype), track_drift=True)
    assert half.embedding.nbytes * 2 == full.embedding.nbytes == 100 * 16 * 4
    for history in (full, half):
        history.refresh(torch.zeros(100, 16), iteration=0)
        history.refresh(torch.ones(100, 16), iteration=2)  # exactly representable in both
    assert half._exact.dtype == half.embedding.dtype and half.drift_rate.dtype == torch.float32
    assert torch.equal(half.drift_rate, full.drift_rate)
    assert full.nbytes - half.nbytes == 2 * 100 * 16 * 2  # the rows and the last exact rows


def test_the_drift_rate_is_the_norm_of_the_velocity_it_keeps_only_when_asked(monkeypatch):
    generator = torch.Generator().manual_seed(3)
    first, second = torch.randn(2, 70, 6, generator=generator)
    lean = History(70, 6, track_drift=True)
    full = History(70, 6, keep_velocity=True)
    assert full.track_drift
    monkeypatch.setattr("visagnn.history.store.DRIFT_CHUNK", 16)  # chunks, the last one short
    for history in (lean, full):
        history.fill(first, iteration=2)
        history.refresh(second, iteration=6)
    velocity = (second - first) / 4
    assert lean.drift_velocity is None and lean.nbytes < full.nbytes
    assert torch.allclose(full.drift_velocity, velocity)
    assert torch.equal(lean.drift_rate, full.drift_rate)
    assert torch.allclose(lean.drift_rate, velocity.norm(dim=-1))


def test_a_memory_mapped_history_leaves_no_file_behind(tmp_path, monkeypatch):
    monkeypatch.setenv("VISAGNN_CACHE", str(tmp_path))
    history = History(30, 4, storage=HistoryStorage("mmap"))
    assert list((tmp_path / "histories").iterdir()) == []  # unlinked once mapped
    history.push(torch.tensor([3, 29]), torch.ones(2, 4), iteration=1)
    assert torch.equal(history.pull(torch.tensor([29, 0])), torch.tensor([[1.0] * 4, [0.0] * 4]))
    twin = history.empty_like()
    assert twin.place == "mmap" and twin.embedding.eq(0).all()
    drifting = History(30, 4, storage=HistoryStorage("mmap"), track_drift=True)
    drifting.refresh(torch.ones(30, 4), iteration=0)  # the last exact rows are mapped too
    assert drifting._exact.untyped_storage().filename is not None
    assert list((tmp_path / "histories").iterdir()) == []


def test_places_resolve_by_device():
    cpu = torch.device("cpu")
    assert HistoryStorage().choose(cpu, 2**50) == StoragePlacement("ram", "CPU device")
    assert HistoryStorage("device").choose(cpu, 1).place == "ram"
    assert str(HistoryStorage("mmap").choose(CUDA, 1, free_memory=lambda device: 0)) == (
        "mmap (asked for)")
    with pytest.raises(ValueError, match="CUDA"):
        History(4, 2, storage=HistoryStorage("pinned"))
    with pytest.raises(ValueError, match="dtype"):
        HistoryStorage(dtype="float64")


def test_auto_on_cuda_takes_device_memory_up_to_three_quarters_of_the_free_memory():
    free = {}

    def free_memory(device: torch.device) -> int:
        free["asked"] = device
        return 4 * 2**30

    fits = HistoryStorage().choose(CUDA, 3 * 2**30, free_memory)
    assert free["asked"] == CUDA
    assert str(fits) == "device (histories 3,072 MiB of 4,096 MiB free)"
    over = HistoryStorage(dtype="bfloat16").choose(CUDA, 3 * 2**30 + 1, free_memory)
    assert str(over) == "pinned (histories 3,072 MiB over 75% of 4,096 MiB free)"
    assert HistoryStorage("pinned").choose(CUDA, 1, free_memory).place == "pinned"


@pytest.mark.parametrize(("track_drift", "keep_velocity"),
                         [(False, False), (True, False), (True, True)])
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_history_nbytes_counts_every_tensor_the_histories_hold(track_drift, keep_velocity, dtype):
    storage = HistoryStorage(dtype=dtype)
    histories = layer_histories(40, [6, 3], storage=storage, track_drift=track_drift,
                                keep_velocity=keep_velocity)
    for history in histories:  # two refreshes: every drift tensor exists
        history.fill(torch.zeros(40, history.dim))
        history.refresh(torch.ones(40, history.dim), iteration=2)
    assert history_nbytes(40, [6, 3], storage.torch_dtype, track_drift, keep_velocity) == sum(
        history.nbytes for history in histories)


def test_layer_histories_choose_one_place_for_all_layers_together(monkeypatch):
    asked = []

    def choose(self, device, nbytes, free_memory):
        asked.append((device, nbytes, free_memory(device)))
        return StoragePlacement("ram", "every layer")

    monkeypatch.setattr(HistoryStorage, "choose", choose)
    histories = layer_histories(50, [8, 4], track_drift=True, free_memory=lambda device: 123)
    assert asked == [(torch.device("cpu"), history_nbytes(50, [8, 4], torch.float32, True), 123)]
    assert [str(history.placement) for history in histories] == ["ram (every layer)"] * 2
    twin = histories[0].empty_like()
    assert twin.placement == histories[0].placement and twin.storage == HistoryStorage("ram")
    assert len(asked) == 1  # the twin takes its place, it does not choose anew


@needs_cuda
@pytest.mark.parametrize("place", ["pinned", "device", "ram", "mmap"])
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_on_cuda_every_place_holds_the_rows_a_cpu_history_holds(place, dtype):
    storage = HistoryStorage(place, dtype)
    on_cpu = History(60, 5, storage=HistoryStorage("ram", dtype), track_drift=True)
    on_cuda = History(60, 5, CUDA, storage, track_drift=True)
    assert on_cuda.place == place and on_cuda.embedding.is_pinned() == (place == "pinned")
    assert on_cuda.storage_device.type == ("cuda" if place == "device" else "cpu")
    generator = torch.Generator().manual_seed(1)
    for iteration in range(1, 6):
        n_id = torch.randperm(60, generator=generator)[:25]
        values = torch.randn(25, 5, generator=generator)
        on_cpu.push(n_id, values, iteration)
        on_cuda.push(n_id.to(CUDA), values.to(CUDA), iteration)
        read = torch.randperm(60, generator=generator)[:30]
        pulled = on_cuda.pull(read.to(CUDA))
        assert pulled.device.type == "cuda" and pulled.dtype == torch.float32
        assert torch.equal(pulled.cpu(), on_cpu.pull(read))
    for iteration in (6, 8):
        exact = torch.randn(60, 5, generator=generator)
        on_cpu.refresh(exact, iteration)
        on_cuda.refresh(exact.to(CUDA), iteration)
    assert torch.equal(on_cuda.pull(torch.arange(60, device=CUDA)).cpu(),
                       on_cpu.pull(torch.arange(60)))
    assert torch.allclose(on_cuda.drift_rate.cpu(), on_cpu.drift_rate)
    assert torch.equal(on_cuda.persistence(9).cpu(), on_cpu.persistence(9))


def test_a_staged_pull_waits_for_the_push_in_flight_only_when_it_reads_its_rows(monkeypatch):
    stage_transfers_on_cpu(monkeypatch)
    history = History(8, 2)
    history.push(torch.tensor([0, 1, 2]), torch.ones(3, 2), iteration=1)
    with push_thread_held() as gate:
        history.push(torch.tensor([1, 4]), torch.full((2, 2), 5.0), iteration=2)
        assert history.transfers.push_in_flight and history.last_push[[1, 4]].eq(2).all()
        halo = history.pull(torch.tensor([0, 2, 6]))  # none of the pushed rows: no wait
        assert history.transfers.push_in_flight
        assert halo.tolist() == [[1.0, 1.0], [1.0, 1.0], [0.0, 0.0]]
        threading.Timer(0.05, gate.set).start()
        assert history.pull(torch.tensor([4, 0])).tolist() == [[5.0, 5.0], [1.0, 1.0]]
        assert not history.transfers.push_in_flight
    with push_thread_held() as gate:
        history.push(torch.tensor([7]), torch.full((1, 2), 3.0), iteration=3)
        threading.Timer(0.05, gate.set).start()
        assert history.embedding[7].tolist() == [3.0, 3.0]  # reading the rows lands the push


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_staged_transfers_hold_the_rows_an_unstaged_history_holds(dtype, monkeypatch):
    storage = HistoryStorage("ram", dtype)
    plain = History(60, 5, storage=storage, track_drift=True)
    stage_transfers_on_cpu(monkeypatch)
    staged = History(60, 5, storage=storage, track_drift=True)
    generator = torch.Generator().manual_seed(1)
    for iteration in range(1, 8):
        pushes = [(torch.randperm(60, generator=generator)[:20],
                   torch.randn(20, 5, generator=generator)) for _ in range(2)]
        for history in (plain, staged):
            for n_id, values in pushes:  # the second push waits for the first to land
                history.push(n_id, values, iteration)
        read = torch.randperm(60, generator=generator)[:30]
        assert torch.equal(staged.pull(read), plain.pull(read))
    for iteration in (9, 12):
        exact = torch.randn(60, 5, generator=generator)
        plain.refresh(exact, iteration)
        staged.refresh(exact, iteration)
    assert torch.equal(staged.embedding, plain.embedding)
    assert torch.equal(staged.drift_rate, plain.drift_rate)
    assert torch.equal(staged.persistence(13), plain.persistence(13))
    assert staged.nbytes > plain.nbytes  # the staging buffers and the in-flight mask
