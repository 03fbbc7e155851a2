import itertools
from collections import Counter

import pytest
import torch

from visagnn.graph.batch import SubgraphBatcher
from visagnn.graph.partition import partition_graph
from visagnn.graph.schedule import WeightedPartitionBatchLoader, weighted_permutation

CHI2_DF5_P001 = 20.52
"""The χ² value that 5 degrees of freedom exceed with probability 0.001."""


def test_equal_weights_give_a_uniform_permutation():
    generator = torch.Generator().manual_seed(0)
    draws = 6000
    counts = Counter(tuple(weighted_permutation(torch.ones(3), generator).tolist())
                     for _ in range(draws))
    assert set(counts) == set(itertools.permutations(range(3)))
    expected = draws / 6
    chi2 = sum((count - expected) ** 2 / expected for count in counts.values())
    assert chi2 < CHI2_DF5_P001


def test_each_draw_picks_in_proportion_to_the_weights():
    generator = torch.Generator().manual_seed(1)
    weights = torch.tensor([1.0, 2.0, 7.0])
    orders = torch.stack([weighted_permutation(weights, generator) for _ in range(10000)])
    first = torch.bincount(orders[:, 0], minlength=3) / orders.shape[0]
    assert torch.allclose(first, weights / weights.sum(), atol=0.015)
    # second pick after item 2 came first: 1 : 2 between items 0 and 1
    after_two = orders[orders[:, 0] == 2][:, 1]
    assert (after_two == 1).float().mean() == pytest.approx(2 / 3, abs=0.02)


@pytest.mark.parametrize("weights", [torch.tensor([1.0, 0.0]), torch.tensor([1.0, float("inf")])])
def test_weights_must_be_positive_and_finite(weights):
    with pytest.raises(ValueError, match="positive finite"):
        weighted_permutation(weights)


def test_every_part_is_visited_once_per_epoch_however_skewed_the_weights(csr):
    partition = partition_graph(csr, num_parts=8)
    batcher = SubgraphBatcher(csr.permute(partition.perm), partition)
    weights = torch.tensor([1e-9] * 7 + [1.0])
    loader = WeightedPartitionBatchLoader(batcher, 3, lambda: weights,
                                          torch.Generator().manual_seed(0))
    firsts = Counter()
    for _ in range(50):
        batches = list(loader)
        assert len(batches) == len(loader) == 3
        parts = torch.cat([batch.parts for batch in batches])
        assert sorted(parts.tolist()) == list(range(8))
        firsts[int(batches[0].parts.max())] += 1
    assert firsts[7] == 50  # the heavy part always comes in the first batch


def test_part_weights_must_have_one_weight_per_part(csr):
    partition = partition_graph(csr, num_parts=4)
    batcher = SubgraphBatcher(csr.permute(partition.perm), partition)
    loader = WeightedPartitionBatchLoader(batcher, 2, lambda: torch.ones(3),
                                          torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="4 weights"):
        next(iter(loader))
