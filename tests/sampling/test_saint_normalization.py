import pytest
import torch

from tests.sampling.test_saint import TINY_EDGES, TINY_TRAIN, undirected
from visagnn.graph.csr import CSRGraph
from visagnn.nn.backbone import LayerInput
from visagnn.nn.gcn_backbone import GCNBackbone
from visagnn.sampling.saint import RandomWalkSampler, induced_subgraph
from visagnn.sampling.saint_normalization import SaintNormalization

REACHABLE = torch.tensor([0, 1, 2, 3, 4, 5, 9])
"""The tiny graph's nodes within 2 hops of a training node: those with p_v > 0. Any two of
them can be in one subgraph (two walks), so the edges among them are those with p_{u,v} > 0."""


def test_weights_are_the_count_ratios():
    # a star 1 - 0 - 2 walked one hop from its centre: the subgraph is {0, 1} or {0, 2}
    star = undirected([(0, 1), (0, 2)], 3)
    sampler = RandomWalkSampler(star, torch.tensor([0]), 1, 1, torch.Generator().manual_seed(0))
    norm = SaintNormalization.estimate(sampler, sample_coverage=400)
    assert norm.num_subgraphs == 200 and norm.mean_nodes == 2 and norm.mean_edges == 2
    # CSR edges 1→0, 2→0, 0→1, 0→2; C_0 = 200 = C_{1,0} + C_{2,0}, C_1 = C_{0,1}
    into_centre = norm.aggregator_weight[:2]
    assert torch.allclose((1 / into_centre).sum(), torch.tensor(1.0))
    assert 1.6 < into_centre.min() <= into_centre.max() < 2.5  # p_{u,0} / p_0 ≈ 1/2
    assert norm.aggregator_weight[2:].tolist() == [1.0, 1.0]
    assert norm.loss_weight.tolist() == [1.0, 0.0, 0.0]  # N / (C_0 |V_t|), 0 off training


def test_pre_sampling_stops_at_the_coverage_and_unseen_counts_are_one():
    # walks of 0 hops from node 3 of a path: every subgraph is {3}, no edge is ever drawn
    path = undirected([(0, 1), (1, 2), (2, 3)], 4)
    sampler = RandomWalkSampler(path, torch.tensor([3]), 1, 0)
    norm = SaintNormalization.estimate(sampler, sample_coverage=5)
    assert norm.num_subgraphs == 5 and norm.mean_nodes == 1 and norm.mean_edges == 0
    # C_v / C_{u,v} with a zero count read as 1: 1 into nodes never drawn, C_3 = 5 into node 3
    assert norm.aggregator_weight.tolist() == [1.0, 1.0, 1.0, 1.0, 1.0, 5.0]
    assert norm.loss_weight.tolist() == [0.0, 0.0, 0.0, 1.0]
    with pytest.raises(ValueError, match="sample_coverage must be >= 1, got 0"):
        SaintNormalization.estimate(sampler, sample_coverage=0)


@pytest.fixture(scope="module")
def estimated() -> tuple[CSRGraph, RandomWalkSampler, SaintNormalization]:
    graph = undirected(TINY_EDGES, 10)
    sampler = RandomWalkSampler(graph, TINY_TRAIN, 2, 2, torch.Generator().manual_seed(0))
    return graph, sampler, SaintNormalization.estimate(sampler, sample_coverage=6000)


def identity_gcn(graph: CSRGraph, width: int) -> GCNBackbone:
    """One GCN layer computing ``Â X`` (identity weight, no bias, no dropout)."""
    backbone = GCNBackbone(width, width, width, graph.degree, num_layers=1, dropout=0.0)
    with torch.no_grad():
        backbone.convs[0].lin.weight.copy_(torch.eye(width))
        backbone.convs[0].bias.zero_()
    return backbone.eval()


@torch.no_grad()
def test_normalised_aggregation_is_an_unbiased_estimate_of_the_full_one(estimated):
    graph, sampler, norm = estimated
    assert norm.num_subgraphs > 3000
    x = torch.rand(10, 4, generator=torch.Generator().manual_seed(1)) + 0.5
    backbone = identity_gcn(graph, 4)
    full = backbone.layer(0, LayerInput(x, graph.edge_index, torch.arange(10), 10))
    # what sampling can reach: ÂX over the edges with p_{u,v} > 0, i.e. among REACHABLE
    among = induced_subgraph(graph, REACHABLE)
    reachable = backbone.layer(0, LayerInput(x[REACHABLE], among.edge_index, REACHABLE, 7))
    # node 5's neighbour 6 is never sampled; every other reachable node sees its whole ÂX row
    assert not torch.allclose(reachable[5], full[5])
    assert torch.allclose(reachable[[0, 1, 2, 3, 4, 6]], full[[0, 1, 2, 3, 4, 9]])

    normalised, plain, hits = torch.zeros(10, 4), torch.zeros(10, 4), torch.zeros(10)
    for _ in range(4000):
        subgraph = sampler.sample()
        n_id, edge_index = subgraph.n_id, subgraph.edge_index
        weighted, weight = norm.weighted_edges(subgraph, backbone.inv_sqrt_degree)
        inp = LayerInput(x[n_id], weighted, n_id, n_id.numel(), edge_weight=weight)
        normalised[n_id] += backbone.layer(0, inp)
        plain[n_id] += backbone.layer(0, LayerInput(x[n_id], edge_index, n_id, n_id.numel()))
        hits[n_id] += 1
    assert torch.equal(hits.nonzero().flatten(), REACHABLE)

    def relative_error(total: torch.Tensor) -> torch.Tensor:
        mean = total[REACHABLE] / hits[REACHABLE, None]
        return (mean - reachable).norm(dim=1) / reachable.norm(dim=1)

    # E[ζ_v | v ∈ V_s] = Σ_u Â_vu x_u, every reachable node within 5% over 4000 subgraphs
    assert relative_error(normalised).max() < 0.05
    # without α a subgraph misses neighbours: far off, so the test has power
    assert relative_error(plain).max() > 0.2


def test_normalised_loss_is_an_unbiased_estimate_of_the_mean_training_loss(estimated):
    _, sampler, norm = estimated
    node_loss = torch.rand(10, generator=torch.Generator().manual_seed(2)) * 3
    train = torch.zeros(10, dtype=torch.bool)
    train[TINY_TRAIN] = True
    estimates = []
    for _ in range(4000):
        n_id = sampler.sample().n_id
        nodes = n_id[train[n_id]]
        estimates.append(norm.loss(node_loss[nodes], nodes))
    full = node_loss[TINY_TRAIN].mean()
    assert abs(torch.stack(estimates).mean() / full - 1) < 0.05


def test_weighted_edges_scale_the_subgraphs_edges_by_one_over_alpha_but_not_its_loops(
        estimated):
    graph, sampler, norm = estimated
    subgraph = sampler.sample()
    inv_sqrt_degree = (graph.degree.float() + 1).rsqrt()
    edge_index, weight = norm.weighted_edges(subgraph, inv_sqrt_degree)
    edges, loops = subgraph.num_edges, subgraph.num_nodes
    assert torch.equal(edge_index[:, :edges], subgraph.edge_index)
    assert torch.equal(edge_index[0, edges:], torch.arange(loops))
    source, target = subgraph.n_id[subgraph.edge_index]
    a_hat = inv_sqrt_degree[source] * inv_sqrt_degree[target]
    assert torch.allclose(weight[:edges], a_hat * norm.aggregator_weight[subgraph.edge_id])
    assert torch.allclose(weight[edges:], 1 / (graph.degree[subgraph.n_id].float() + 1))
