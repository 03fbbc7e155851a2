import torch


def test_csr_round_trip(edge_index, csr):
    assert csr.num_nodes == 240
    assert csr.num_edges == edge_index.size(1)
    assert torch.equal(csr.degree, torch.bincount(edge_index[1], minlength=240))
    original = set(map(tuple, edge_index.t().tolist()))
    assert set(map(tuple, csr.edge_index.t().tolist())) == original


def test_in_edges_lists_every_incoming_edge(edge_index, csr):
    targets = torch.tensor([5, 17, 3, 200])
    sources, positions, edge_ids = csr.in_edges(targets)
    got = sorted(zip(sources.tolist(), targets[positions].tolist(), strict=True))
    expected = sorted(
        (s, t) for s, t in edge_index.t().tolist() if t in set(targets.tolist())
    )
    assert got == expected
    assert torch.equal(csr.edge_index[:, edge_ids], torch.stack([sources, targets[positions]]))


def test_permute_relabels_nodes(edge_index, csr):
    perm = torch.randperm(240, generator=torch.Generator().manual_seed(1))
    permuted = csr.permute(perm)
    source, target = permuted.edge_index
    relabelled = set(zip(perm[source].tolist(), perm[target].tolist(), strict=True))
    assert relabelled == set(map(tuple, edge_index.t().tolist()))
