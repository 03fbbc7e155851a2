import torch

from tests.graphs import dense_normalized_adjacency
from visagnn.graph.csr import CSRGraph
from visagnn.graph.normalization import (
    NormalizedAdjacency,
    inverse_sqrt_degree,
    normalized_adjacency,
    symmetric_normalization,
)

NUM_NODES = 240


def test_subgraph_weights_use_the_whole_graphs_degrees():
    # A star 0 - {1, 2, 3} seen from the subgraph of nodes [0, 2] (global ids), edge 2 → 0.
    degree = torch.tensor([3, 1, 1, 1])
    n_id = torch.tensor([0, 2])
    edge_index, weight = symmetric_normalization(torch.tensor([[1], [0]]),
                                                 inverse_sqrt_degree(degree)[n_id])
    assert edge_index.tolist() == [[1, 0, 1], [0, 0, 1]]
    assert torch.allclose(weight, torch.tensor([1 / (4 * 2) ** 0.5, 1 / 4, 1 / 2]))


def test_sparse_matrix_equals_dense(edge_index):
    a_hat = normalized_adjacency(edge_index, NUM_NODES)
    assert a_hat.dtype == torch.float32 and a_hat.is_coalesced()
    assert torch.allclose(a_hat.to_dense().double(),
                          dense_normalized_adjacency(edge_index, NUM_NODES), atol=1e-7)


def test_rows_hold_every_in_edge_and_the_self_loop(csr):
    a_hat = dense_normalized_adjacency(csr.edge_index, NUM_NODES)
    targets = torch.tensor([0, 6, 117])
    columns, positions, values = NormalizedAdjacency.of(csr).rows(targets)
    rebuilt = torch.zeros(targets.numel(), NUM_NODES, dtype=torch.float64)
    rebuilt[positions, columns] = values
    assert torch.allclose(rebuilt, a_hat[targets], atol=1e-7)
    assert columns.numel() == int(a_hat[targets].count_nonzero())


def test_every_view_holds_the_same_float32_weights(edge_index):
    """The layers' edge weights, the sparse matrix and the samplers' rows agree to the bit."""
    graph = CSRGraph.from_edge_index(edge_index, NUM_NODES)
    inv_sqrt = inverse_sqrt_degree(graph.degree)
    (source, target), weight = symmetric_normalization(graph.edge_index, inv_sqrt)
    layer = torch.zeros(NUM_NODES, NUM_NODES)
    layer[target, source] = weight
    assert torch.equal(layer, normalized_adjacency(edge_index, NUM_NODES).to_dense())
    columns, positions, values = NormalizedAdjacency.of(graph).rows(torch.arange(NUM_NODES))
    rows = torch.zeros(NUM_NODES, NUM_NODES)
    rows[positions, columns] = values.float()
    assert torch.equal(rows, layer)
