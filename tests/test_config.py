import pytest

from visagnn.config import RunConfig
from visagnn.methods import resolve_config


def test_dataset_defaults_then_overrides():
    config = resolve_config("Cora", "gas", epochs=7, lr=None)
    assert (config.num_parts, config.batch_parts, config.heads, config.hidden_channels) == (
        40, 10, 8, 8)
    assert config.dropout == 0.6 and config.grad_clip == 1.0
    assert config.epochs == 7
    assert config.lr == 0.005


def test_unknown_dataset_gets_global_defaults():
    assert resolve_config("my-graph.pt").num_parts == RunConfig().num_parts


@pytest.mark.parametrize(
    ("field", "value"),
    [("dropout", 1.0), ("epochs", 0), ("lr", -1.0), ("grad_clip", 0.0), ("device", "tpu"),
     ("measure_staleness_every", -1), ("history_storage", "disk"),
     ("history_storage", "pinned"), ("history_dtype", "float64")],
)
def test_validation_names_the_bad_field(field, value):
    with pytest.raises(ValueError, match=f"RunConfig.{field}"):
        RunConfig(**{field: value})


def test_batch_parts_may_not_exceed_num_parts():
    with pytest.raises(ValueError, match="batch_parts"):
        RunConfig(num_parts=4, batch_parts=5)


def test_unknown_override_lists_valid_fields():
    with pytest.raises(TypeError, match="num_parts"):
        resolve_config("cora", bogus=1)
