"""Small graphs written by tests in the formats users bring."""

from __future__ import annotations

from pathlib import Path

import torch
from torch_geometric.data import Data
from torch_geometric.utils import coalesce, remove_self_loops, to_undirected

from visagnn.nn.backbone import Backbone, LayerInput


def random_community_graph(
    num_nodes: int, num_edges: int, communities: int, seed: int
) -> torch.Tensor:
    """Undirected, coalesced edge_index without self-loops; most edges inside communities."""
    generator = torch.Generator().manual_seed(seed)
    source = torch.randint(num_nodes, (num_edges,), generator=generator)
    size = num_nodes // communities
    same = torch.rand(num_edges, generator=generator) < 0.8
    target = torch.randint(num_nodes, (num_edges,), generator=generator)
    target[same] = (source[same] // size) * size + torch.randint(size, (int(same.sum()),),
                                                                 generator=generator)
    target = target.clamp(max=num_nodes - 1)
    edge_index, _ = remove_self_loops(torch.stack([source, target]))
    return coalesce(to_undirected(edge_index, num_nodes=num_nodes), num_nodes=num_nodes)


def write_community_graph(path: Path, num_nodes: int = 400, num_classes: int = 4) -> Path:
    """A ``.pt`` Data whose labels are its communities and whose features are noisy labels."""
    generator = torch.Generator().manual_seed(7)
    edge_index = random_community_graph(num_nodes, num_nodes * 4, num_classes, seed=3)
    y = torch.arange(num_nodes) // (num_nodes // num_classes)
    x = torch.randn(num_nodes, 16, generator=generator)
    x[:, :num_classes] += 0.8 * torch.nn.functional.one_hot(y, num_classes)
    split = torch.rand(num_nodes, generator=generator)
    data = Data(x=x, y=y, edge_index=edge_index, train_mask=split < 0.3,
                val_mask=(split >= 0.3) & (split < 0.5), test_mask=split >= 0.5)
    torch.save(data, path)
    return path


def full_batch_forward(backbone: Backbone, graph, x: torch.Tensor) -> list[torch.Tensor]:
    """Every layer's output of ``backbone`` on the whole ``graph`` (a CSR graph) at once: the
    reference the mini-batch computations are checked against."""
    h, outputs = x, []
    for index in range(backbone.num_layers):
        inp = LayerInput(h, graph.edge_index, torch.arange(graph.num_nodes), graph.num_nodes)
        h = backbone.layer(index, inp)
        outputs.append(h)
    return outputs


def dense_normalized_adjacency(edge_index: torch.Tensor, num_nodes: int,
                               dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The reference D^{-1/2} (A + I) D^{-1/2}, built densely: A[t, s] = 1 for every edge s → t
    and D the row sums of A + I."""
    a = torch.zeros(num_nodes, num_nodes, dtype=dtype)
    a[edge_index[1], edge_index[0]] = 1.0
    a += torch.eye(num_nodes, dtype=dtype)
    scale = a.sum(1).rsqrt()
    return scale[:, None] * a * scale[None, :]
