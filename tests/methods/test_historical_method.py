import pytest
import torch

from tests.graphs import write_community_graph
from visagnn.datasets import load_dataset
from visagnn.methods import create_method, resolve_config
from visagnn.nn.backbone import LayerInput


@pytest.fixture
def gas(tmp_path):
    dataset = load_dataset(write_community_graph(tmp_path / "graph.pt"))
    config = resolve_config(str(tmp_path / "graph.pt"), "gas", num_parts=8, batch_parts=2,
                            hidden_channels=4, heads=2, num_layers=3, epochs=1)
    torch.manual_seed(0)
    return create_method(dataset, config)


def test_prepare_fills_histories_with_exact_embeddings(gas):
    gas.prepare()
    exact = gas.exact_embeddings()
    for history, rows in zip(gas.model.histories, exact[:-1], strict=True):
        assert torch.equal(history.embedding, rows)
        assert history.last_push.eq(0).all()


def test_epoch_steps_once_per_batch_with_training_nodes(gas):
    gas.prepare()
    batches_with_training_nodes = sum(
        bool(gas.train_mask[batch.batch_nodes].any()) for batch in gas.inference_loader
    )
    gas.train_epoch(1)
    assert gas.clock.iteration == batches_with_training_nodes
    pushed = torch.stack([h.last_push for h in gas.model.histories])
    assert pushed.max() == gas.clock.iteration


@torch.no_grad()
def test_predict_returns_logits_in_the_dataset_node_order(gas):
    gas.model.eval()
    data = gas.dataset.data
    h = data.x
    for index in range(gas.model.num_layers):
        h = gas.model.backbone.layer(
            index, LayerInput(h, data.edge_index, torch.arange(data.num_nodes), data.num_nodes)
        )
    assert torch.allclose(gas.predict(), h, atol=1e-5)
