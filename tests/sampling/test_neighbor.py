import pytest
import torch
from scipy.stats import chisquare

from visagnn.graph.csr import CSRGraph
from visagnn.sampling.neighbor import (
    NeighborSampler,
    neighbourhood_blocks,
    relabel,
    sample_neighbors,
)

NUM_NODES = 240


def neighbour_sets(csr: CSRGraph) -> list[set[int]]:
    return [set(csr.col[csr.rowptr[i]:csr.rowptr[i + 1]].tolist()) for i in range(NUM_NODES)]


@pytest.mark.parametrize("fanout", [1, 3, 10])
def test_at_most_fanout_distinct_real_neighbours(csr, fanout):
    targets = torch.randperm(NUM_NODES, generator=torch.Generator().manual_seed(1))[:100]
    sources, positions = sample_neighbors(csr, targets, fanout, torch.Generator().manual_seed(0))
    neighbours = neighbour_sets(csr)
    for position, target in enumerate(targets.tolist()):
        drawn = sources[positions == position].tolist()
        assert len(drawn) == len(set(drawn)) == min(fanout, len(neighbours[target]))
        assert set(drawn) <= neighbours[target]


def test_every_neighbour_is_equally_likely():
    """A node of degree 20 sampled 5 at a time, 4,000 times: counts fit the uniform law."""
    degree, fanout, trials = 20, 5, 4000
    hub = torch.zeros(degree, dtype=torch.long)
    leaves = torch.arange(1, degree + 1)
    edge_index = torch.stack([torch.cat([leaves, hub]), torch.cat([hub, leaves])])
    graph = CSRGraph.from_edge_index(edge_index, degree + 1)
    targets = torch.zeros(trials, dtype=torch.long)  # the hub, once per trial, in one call
    sources, positions = sample_neighbors(graph, targets, fanout,
                                          torch.Generator().manual_seed(0))
    assert torch.bincount(positions, minlength=trials).eq(fanout).all()
    counts = torch.bincount(sources, minlength=degree + 1)[1:]
    expected = trials * fanout / degree
    result = chisquare(counts.numpy(), [expected] * degree)
    assert result.pvalue > 0.01, (counts.tolist(), result)


def test_low_degree_nodes_keep_all_neighbours(csr):
    targets = torch.arange(NUM_NODES)
    sources, positions = sample_neighbors(csr, targets, int(csr.degree.max()))
    assert sources.numel() == csr.num_edges
    sampled = sorted(zip(targets[positions].tolist(), sources.tolist(), strict=True))
    target, source = csr.edge_index[1], csr.edge_index[0]
    assert sampled == sorted(zip(target.tolist(), source.tolist(), strict=True))


def test_relabel_puts_targets_first_and_keeps_edges():
    targets = torch.tensor([4, 0])
    block = relabel(targets, torch.tensor([7, 0, 2]), torch.tensor([0, 0, 1]))
    assert block.n_id.tolist() == [4, 0, 2, 7] and block.batch_size == 2
    assert block.edge_index.tolist() == [[3, 1, 2], [0, 0, 1]]


def test_blocks_chain_from_input_to_seeds(csr):
    sampler = NeighborSampler(csr, [4, 3], torch.Generator().manual_seed(0))
    seeds = torch.tensor([5, 17, 200])
    blocks = sampler.sample(seeds)
    assert len(blocks) == 2
    assert blocks[-1].n_id[:3].tolist() == seeds.tolist() and blocks[-1].batch_size == 3
    assert blocks[0].batch_size == blocks[1].n_id.numel()
    assert torch.equal(blocks[0].n_id[: blocks[0].batch_size], blocks[1].n_id)
    neighbours = neighbour_sets(csr)
    for block, fanout in zip(blocks, [3, 4], strict=True):
        source, target = block.n_id[block.edge_index]
        assert all(s in neighbours[t] for s, t in
                   zip(source.tolist(), target.tolist(), strict=True))
        per_target = torch.bincount(block.edge_index[1], minlength=block.batch_size)
        assert per_target.max() <= fanout
        assert len(set(block.n_id.tolist())) == block.n_id.numel()


def test_sampling_is_reproducible_with_a_seeded_generator(csr):
    def draw():
        sampler = NeighborSampler(csr, [5, 5], torch.Generator().manual_seed(3))
        return [block.edge_index for block in sampler.sample(torch.arange(10))]

    assert all(torch.equal(a, b) for a, b in zip(draw(), draw(), strict=True))


def test_fanouts_must_be_positive(csr):
    with pytest.raises(ValueError, match="fanout"):
        NeighborSampler(csr, [5, 0])


def test_neighbourhood_blocks_keep_every_in_edge_and_start_each_hop_with_the_seeds(csr):
    seeds = torch.tensor([5, 2])
    blocks = neighbourhood_blocks(csr, seeds, 2)
    assert torch.equal(blocks[1].n_id[:2], seeds)
    assert torch.equal(blocks[0].n_id[: len(blocks[1].n_id)], blocks[1].n_id)
    for block in blocks:
        assert block.edge_index.size(1) == int(csr.degree[block.n_id[: block.batch_size]].sum())


def test_neighbourhood_blocks_need_a_hop(csr):
    with pytest.raises(ValueError, match="hops must be >= 1"):
        neighbourhood_blocks(csr, torch.tensor([0]), 0)
