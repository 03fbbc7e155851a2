import torch

from tests.devices import CUDA, needs_cuda
from visagnn.staging import GROWTH, StagingBuffer


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
    assert store.tolist() == [[3.0, 4.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.0, 2.0]]
    buffer = staging.buffer
    staging.scatter(store, torch.tensor([1]), torch.tensor([[5.0, 6.0]]))
    assert staging.buffer is buffer and store[1].tolist() == [5.0, 6.0]


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
    staging.scatter(store, torch.arange(100, 140), values)
    assert staging.buffer is buffer
    assert torch.equal(store[100:140], values.half().cpu())
