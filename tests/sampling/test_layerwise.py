import pytest
import torch
from scipy.stats import chisquare

from tests.graphs import dense_normalized_adjacency
from visagnn.graph.csr import CSRGraph
from visagnn.graph.normalization import NormalizedAdjacency
from visagnn.sampling.layerwise import FastGCNSampler, LADIESSampler
from visagnn.sampling.neighbor import SampledBlock

# A small undirected graph with uneven degrees (node 0 has 4 neighbours, node 2 two, ...).
TINY_EDGES = [(0, 1), (0, 2), (0, 3), (0, 4), (1, 2), (3, 5), (5, 6), (6, 7), (4, 7)]
TINY_NODES = 8


@pytest.fixture
def tiny() -> NormalizedAdjacency:
    pairs = torch.tensor(TINY_EDGES).t()
    edge_index = torch.cat([pairs, pairs.flip(0)], dim=1)
    return NormalizedAdjacency.of(CSRGraph.from_edge_index(edge_index, TINY_NODES))


def dense_a_hat(adjacency: NormalizedAdjacency) -> torch.Tensor:
    """The dense reference of the graph's normalised adjacency."""
    return dense_normalized_adjacency(adjacency.graph.edge_index, adjacency.graph.num_nodes)


def dense_weights(block: SampledBlock, num_nodes: int) -> torch.Tensor:
    """The block's weighted edges as a dense ``[targets, N]`` matrix over global ids."""
    source, target = block.edge_index
    weights = torch.zeros(block.batch_size, num_nodes, dtype=torch.float64)
    weights.index_put_((target, block.n_id[source]), block.edge_weight.double(), accumulate=True)
    return weights


def test_fastgcn_probabilities_are_the_normalised_squared_column_norms(tiny):
    a_hat = dense_a_hat(tiny)
    norms = a_hat.square().sum(0)
    sampler = FastGCNSampler(tiny, num_layers=2, layer_size=3)
    assert torch.allclose(sampler.probability, norms / norms.sum(), atol=1e-7)
    assert float(sampler.probability.sum()) == pytest.approx(1.0)


def test_fastgcn_draws_follow_q():
    """4,000 draws of 5 on a star (the hub's column is heavier): counts fit q."""
    leaves = torch.arange(1, 7)
    hub = torch.zeros(6, dtype=torch.long)
    edge_index = torch.stack([torch.cat([leaves, hub]), torch.cat([hub, leaves])])
    adjacency = NormalizedAdjacency.of(CSRGraph.from_edge_index(edge_index, 7))
    sampler = FastGCNSampler(adjacency, 1, 5, torch.Generator().manual_seed(0))
    counts = torch.zeros(7, dtype=torch.float64)
    for _ in range(800):
        nodes, times = sampler.draw()
        counts[nodes] += times.double()
    assert counts.sum() == 4000
    assert chisquare(counts.numpy(), (4000 * sampler.probability).numpy()).pvalue > 0.01


def test_fastgcn_aggregation_is_unbiased(tiny):
    """Over 4,000 samples of 3 nodes, the mean sampled row W of each target is Â's row and
    the mean aggregation W h is Â h, within 4 standard errors of the mean (and 0.03)."""
    a_hat = dense_a_hat(tiny)
    targets = torch.tensor([0, 3, 6])
    sampler = FastGCNSampler(tiny, num_layers=1, layer_size=3,
                             generator=torch.Generator().manual_seed(0))
    h = torch.randn(TINY_NODES, 4, generator=torch.Generator().manual_seed(1),
                    dtype=torch.float64)
    samples = torch.stack([dense_weights(block, TINY_NODES)
                           for _ in range(4000) for block in sampler.sample(targets)])
    for estimates, exact in ((samples, a_hat[targets]), (samples @ h, a_hat[targets] @ h)):
        error = (estimates.mean(0) - exact).abs()
        standard_error = estimates.std(0) / len(samples) ** 0.5
        assert (error <= 4 * standard_error + 1e-12).all(), (error, standard_error)
    assert torch.allclose(samples.mean(0), a_hat[targets], atol=0.03)
    # each sample is sparse: at most 3 of the 8 columns are drawn
    assert int(samples.count_nonzero(dim=2).max()) <= 3


def test_ladies_probabilities_are_the_normalised_squared_column_norms_of_the_rows(tiny):
    a_hat = dense_a_hat(tiny)
    targets = torch.tensor([0, 6])
    columns, _, values = tiny.rows(targets)
    candidates, probability, _ = LADIESSampler.probabilities(columns, values)
    norms = a_hat[targets].square().sum(0)  # ‖Q Â(:, u)‖² with Q selecting rows 0 and 6
    assert candidates.tolist() == norms.nonzero().flatten().tolist() == [0, 1, 2, 3, 4, 5, 6, 7]
    assert torch.allclose(probability, (norms / norms.sum())[candidates], atol=1e-7)
    candidates, _, _ = LADIESSampler.probabilities(*tiny.rows(torch.tensor([2]))[::2])
    assert candidates.tolist() == [0, 1, 2]  # node 2's neighbours and itself


def test_ladies_single_draws_follow_p(tiny):
    """With one draw per layer, a candidate outside the targets is drawn with probability
    p(u); 3,000 draws fit that law (the targets, always kept, pooled in one cell)."""
    targets = torch.tensor([2])
    columns, _, values = tiny.rows(targets)
    candidates, probability, _ = LADIESSampler.probabilities(columns, values)
    sampler = LADIESSampler(tiny, 1, 1, torch.Generator().manual_seed(0))
    drawn = [block.n_id[1:].tolist() for (block,) in
             (sampler.sample(targets) for _ in range(3000))]
    counts = {int(node): sum(nodes == [int(node)] for nodes in drawn) for node in candidates}
    counts[2] = sum(nodes == [] for nodes in drawn)  # the target itself was drawn
    observed = [counts[int(node)] for node in candidates]
    expected = (3000 * probability).tolist()
    assert chisquare(observed, expected).pvalue > 0.01, (observed, expected)


def test_ladies_draws_only_among_the_neighbours_of_the_layer_above(csr):
    sampler = LADIESSampler(NormalizedAdjacency.of(csr), num_layers=3, layer_size=10,
                            generator=torch.Generator().manual_seed(0))
    seeds_generator = torch.Generator().manual_seed(1)
    for _ in range(100):
        seeds = torch.randperm(csr.num_nodes, generator=seeds_generator)[:8]
        for block in sampler.sample(seeds):
            targets = block.n_id[: block.batch_size]
            sources, _, _ = csr.in_edges(targets)
            allowed = set(sources.tolist()) | set(targets.tolist())
            assert set(block.n_id.tolist()) <= allowed
            assert block.n_id.numel() - block.batch_size <= 10


@pytest.mark.parametrize("sampler_class", [FastGCNSampler, LADIESSampler])
def test_blocks_chain_and_hold_only_edges_of_a_hat(csr, sampler_class):
    sampler = sampler_class(NormalizedAdjacency.of(csr), num_layers=3, layer_size=20,
                            generator=torch.Generator().manual_seed(0))
    seeds = torch.tensor([5, 17, 200])
    blocks = sampler.sample(seeds)
    assert len(blocks) == 3 and blocks[-1].n_id[:3].tolist() == seeds.tolist()
    for lower, upper in zip(blocks, blocks[1:], strict=False):
        assert torch.equal(lower.n_id[: lower.batch_size], upper.n_id)
    edges = set(zip(*csr.edge_index.tolist(), strict=True))
    for block in blocks:
        source, target = block.n_id[block.edge_index]
        assert all(s == t or (s, t) in edges
                   for s, t in zip(source.tolist(), target.tolist(), strict=True))
        assert block.edge_weight.dtype == torch.float32 and (block.edge_weight > 0).all()
        assert len(set(block.n_id.tolist())) == block.n_id.numel()


def test_ladies_rows_are_importance_weights_scaled_to_the_row_sums_of_a_hat(tiny):
    """Per target v: w(v, u) ∝ Â(v, u) / p(u) over the kept nodes, Σ_u w(v, u) = Σ_u Â(v, u)
    (so a constant signal is aggregated exactly), and v keeps its self-loop."""
    a_hat = dense_a_hat(tiny)
    targets = torch.tensor([0, 6])
    candidates, probability, _ = LADIESSampler.probabilities(*tiny.rows(targets)[::2])
    p = torch.zeros(TINY_NODES, dtype=torch.float64)
    p[candidates] = probability
    sampler = LADIESSampler(tiny, 1, 2, torch.Generator().manual_seed(0))
    for _ in range(20):
        (block,) = sampler.sample(targets)
        weights = dense_weights(block, TINY_NODES)
        assert torch.allclose(weights.sum(1), a_hat[targets].sum(1), atol=1e-6)
        ones = torch.ones(TINY_NODES, dtype=torch.float64)
        assert torch.allclose(weights @ ones, a_hat[targets] @ ones, atol=1e-6)
        assert (weights[[0, 1], targets] > 0).all()
        kept = weights > 0
        assert (a_hat[targets][kept] > 0).all()
        ratio = weights * p / a_hat[targets]  # the row's scale wherever an edge is kept
        for row in range(2):
            scale = ratio[row][kept[row]]
            assert torch.allclose(scale, scale[0].expand_as(scale), rtol=1e-5)


def test_ladies_keeps_every_candidate_when_the_layer_is_large(tiny):
    (block,) = LADIESSampler(tiny, 1, 100).sample(torch.tensor([2]))
    assert sorted(block.n_id.tolist()) == [0, 1, 2]


@pytest.mark.parametrize("sampler_class", [FastGCNSampler, LADIESSampler])
def test_sampling_is_reproducible_and_needs_positive_sizes(tiny, sampler_class):
    def draw() -> list[torch.Tensor]:
        sampler = sampler_class(tiny, 2, 3, torch.Generator().manual_seed(3))
        return [block.edge_weight for block in sampler.sample(torch.tensor([0, 5]))]

    assert all(torch.equal(a, b) for a, b in zip(draw(), draw(), strict=True))
    with pytest.raises(ValueError, match="layer_size must be >= 1"):
        sampler_class(tiny, 2, 0)
