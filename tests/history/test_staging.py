import threading

import pytest
import torch

from tests.devices import CUDA, needs_cuda, push_thread_held
from visagnn.history.staging import GROWTH, DirectTransfers, StagedTransfers, StagingBuffer


def test_the_buffer_is_reused_and_grows_only_when_a_transfer_needs_more_rows():
    staging = StagingBuffer(3, torch.float16, torch.device("cpu"))
    assert staging.stream is None  # the stream-free fallback without CUDA
    store = torch.arange(60, dtype=torch.float16).view(20, 3)
    first = staging.gather(store, torch.tensor([4, 1, 7, 0]))
    buffer = staging.buffer
    assert staging.capacity == 4
    assert torch.equal(first, store[[4, 1, 7, 0]].float()) and first.dtype == torch.float32
    second = staging.gather(store, torch.tensor([2, 3]))
    assert staging.buffer is buffer  # fewer rows: the same buffer
    assert torch.equal(first, store[[4, 1, 7, 0]].float())  # pulls are not views of it
    staging.gather(store, torch.tensor([5]))
    staging.gather(store, torch.arange(5))
    assert staging.buffer is not buffer and staging.capacity == int(4 * GROWTH)
    staging.gather(store, torch.arange(12))
    assert staging.capacity == 12  # more than GROWTH times: exactly what is needed
    assert torch.equal(second, store[[2, 3]].float())


def test_scatter_writes_the_rows_in_the_store_dtype():
    staging = StagingBuffer(2, torch.bfloat16, torch.device("cpu"))
    store = torch.zeros(5, 2, dtype=torch.bfloat16)
    staging.scatter(store, torch.tensor([4, 0]), torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    staging.wait()
    assert store.tolist() == [[3.0, 4.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.0, 2.0]]
    buffer = staging.buffer
    staging.scatter(store, torch.tensor([1]), torch.tensor([[5.0, 6.0]]))
    staging.wait()
    assert staging.buffer is buffer and store[1].tolist() == [5.0, 6.0]


def test_a_push_returns_before_its_scatter_and_the_buffer_is_reused_only_after_it():
    staging = StagingBuffer(2, torch.float32, torch.device("cpu"))
    store = torch.zeros(6, 2)
    with push_thread_held():
        staging.scatter(store, torch.tensor([1, 3]), torch.ones(2, 2))
        assert staging.scattering and store.eq(0).all()  # queued, not written
    rows = staging.rows(2)  # waits for the scatter before the buffer is written again
    assert not staging.scattering and store[[1, 3]].eq(1).all() and store.sum() == 4
    rows.fill_(7)
    assert store.sum() == 4  # the store holds copies, not the buffer


def test_a_failed_scatter_is_raised_by_the_next_wait_once():
    staging = StagingBuffer(2, torch.float32, torch.device("cpu"))
    staging.scatter(torch.zeros(3, 2), torch.tensor([5]), torch.ones(1, 2))  # out of range
    with pytest.raises(IndexError):
        staging.wait()
    staging.wait()  # the error is not raised again
    store = torch.zeros(3, 2)
    staging.scatter(store, torch.tensor([2]), torch.ones(1, 2))
    staging.wait()
    assert store[2].eq(1).all()


@needs_cuda
def test_on_cuda_transfers_reuse_one_pinned_buffer_on_their_own_stream():
    staging = StagingBuffer(4, torch.float16, CUDA)
    assert staging.stream is not None
    store = torch.randn(500, 4).half()
    pulled = []
    for start in range(0, 400, 40):  # each gather rewrites the buffer while earlier copies run
        index = torch.arange(start, start + 40).flip(0)
        pulled.append((index, staging.gather(store, index)))
    buffer = staging.buffer
    assert staging.capacity == 40 and buffer.is_pinned()
    for index, rows in pulled:
        assert rows.device.type == "cuda" and rows.dtype == torch.float32
        assert torch.equal(rows.cpu(), store[index].float())
    values = torch.randn(40, 4, device=CUDA) * 3
    with push_thread_held():  # the copy is queued on the stream, the scatter in the thread
        staging.scatter(store, torch.arange(100, 140), values)
        assert staging.scattering
    staging.wait()
    assert staging.buffer is buffer
    assert torch.equal(store[100:140], values.half().cpu())
    for start in range(0, 400, 40):  # every push reuses the buffer once the last one landed
        staging.scatter(store, torch.arange(start, start + 40), values + start)
    staging.wait()
    assert staging.buffer is buffer
    assert torch.equal(store[360:400], (values + 360).half().cpu())


def test_direct_transfers_write_in_the_store_dtype_and_pull_float32():
    store = torch.zeros(4, 2, dtype=torch.bfloat16)
    transfers = DirectTransfers(store, torch.device("cpu"))
    transfers.push(torch.tensor([2, 0]), torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert not transfers.push_in_flight and store[[0, 2]].tolist() == [[3.0, 4.0], [1.0, 2.0]]
    pulled = transfers.pull(torch.tensor([2]))
    assert pulled.dtype == torch.float32 and pulled.tolist() == [[1.0, 2.0]]
    assert transfers.tensors() == []


def test_a_staged_pull_lands_the_push_in_flight_only_when_it_reads_its_rows():
    store = torch.zeros(6, 2)
    transfers = StagedTransfers(store, torch.device("cpu"))
    with push_thread_held() as gate:
        transfers.push(torch.tensor([1, 3]), torch.ones(2, 2))
        assert transfers.push_in_flight and store.eq(0).all()
        assert transfers.pull(torch.tensor([0, 2])).eq(0).all()  # disjoint: no wait
        assert transfers.push_in_flight
        threading.Timer(0.05, gate.set).start()
        assert transfers.pull(torch.tensor([3])).tolist() == [[1.0, 1.0]]
        assert not transfers.push_in_flight
    pending, pulls, pushes = transfers.tensors()
    assert pending.shape == (6,) and not pending.any()  # the mask of the rows in flight
    assert pulls.shape == pushes.shape == (2, 2)
