import threading
import time

import pytest
import torch

from visagnn.graph.batch import PartitionBatchLoader, SubgraphBatcher
from visagnn.graph.partition import partition_graph
from visagnn.graph.prefetch import prefetch


def prefetch_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "visagnn-prefetch"]


def loader(csr, seed: int) -> PartitionBatchLoader:
    partition = partition_graph(csr, num_parts=8)
    batcher = SubgraphBatcher(csr.permute(partition.perm), partition)
    return PartitionBatchLoader(batcher, 3, generator=torch.Generator().manual_seed(seed))


def test_yields_exactly_the_batches_of_the_plain_loader_in_order(csr):
    plain, background = loader(csr, seed=4), loader(csr, seed=4)
    for _ in range(3):  # epochs: the generator advances the same way in the thread
        expected, got = list(plain), list(prefetch(background))
        assert len(got) == len(expected) == 3
        for mine, theirs in zip(got, expected, strict=True):
            assert torch.equal(mine.parts, theirs.parts) and mine.batch_size == theirs.batch_size
            assert torch.equal(mine.n_id, theirs.n_id)
            assert torch.equal(mine.edge_index, theirs.edge_index)
    assert not prefetch_threads()


def test_an_exception_in_the_background_surfaces_in_the_caller():
    def source():
        yield 1
        yield 2
        raise KeyError("batch 3 is broken")

    got = []
    with pytest.raises(KeyError, match="batch 3 is broken"):
        for item in prefetch(source()):
            got.append(item)
    assert got == [1, 2]
    assert not prefetch_threads()


def test_leaving_the_loop_early_stops_the_thread_one_item_ahead_at_most():
    produced = []

    def source():
        for index in range(100):
            produced.append(index)
            yield index

    for item in prefetch(source()):
        if item == 3:
            time.sleep(0.05)  # room for the thread to run ahead, if it could
            assert len(produced) <= 5  # item 4 built while 3 is worked on, no further
            break
    assert not prefetch_threads()
    assert len(produced) <= 5


def test_nothing_starts_before_the_first_item_is_asked_for():
    items = prefetch(iter([1]))
    assert not prefetch_threads()
    assert list(items) == [1]
    with pytest.raises(ValueError, match="ahead"):
        prefetch([], ahead=0)
