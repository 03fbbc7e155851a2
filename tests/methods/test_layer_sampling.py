import json
import math

import pytest

from visagnn.cli import main
from visagnn.methods import make_options
from visagnn.methods.fastgcn import FastGCNOptions
from visagnn.methods.ladies import LADIESOptions


@pytest.mark.parametrize("method", ["fastgcn", "ladies"])
def test_trains_through_the_command_line_on_the_synthetic_graph(method, tmp_path, capsys):
    main(["run", "--dataset", "synthetic", "--method", method, "--epochs", "2",
          "--root", str(tmp_path), "--out", str(tmp_path / "out"), "--quiet"])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (summary["method"], summary["status"], summary["epochs"]) == (method, "ok", 2)
    assert set(summary["options"]) == {"batch_size", "layer_size"}
    assert 0.0 <= summary["test"] <= 1.0
    records = [json.loads(line) for line in (tmp_path / "out" / "epochs.jsonl").open()]
    assert len(records) == 2 and all(math.isfinite(record["loss"]) for record in records)


@pytest.mark.parametrize(("options_class", "option"), [
    (FastGCNOptions, "batch_size"), (FastGCNOptions, "layer_size"),
    (LADIESOptions, "batch_size"), (LADIESOptions, "layer_size"),
])
def test_options_must_be_positive_and_name_their_field(options_class, option):
    with pytest.raises(ValueError, match=rf"^{options_class.__name__}\.{option} must be >= 1, "
                                         r"got 0$"):
        options_class(**{option: 0})


@pytest.mark.parametrize(("method", "flag"), [("fastgcn", "--layer-size"),
                                              ("ladies", "--batch-size")])
def test_bad_options_name_the_flag(method, flag, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--method", method, flag, "0", "--quiet"])
    assert exit_info.value.code == 2
    assert f"{flag} must be >= 1, got 0" in capsys.readouterr().err


def test_unknown_options_list_the_valid_ones():
    with pytest.raises(ValueError, match=r"its options are: \['batch_size', 'layer_size'\]"):
        make_options("ladies", {"fanouts": "5,5"})
