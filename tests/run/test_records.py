import json

from visagnn.run.records import RunWriter, write_json_atomic


def test_epochs_are_appended_as_they_come_and_the_summary_written_whole(tmp_path):
    writer = RunWriter(tmp_path / "run")
    writer.epoch({"epoch": 1, "loss": 0.5})
    lines = (tmp_path / "run" / "epochs.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [{"epoch": 1, "loss": 0.5}]
    writer.epoch({"epoch": 2, "loss": 0.25})
    writer.summary({"test": 0.8})
    lines = (tmp_path / "run" / "epochs.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2]
    assert json.loads((tmp_path / "run" / "summary.json").read_text()) == {"test": 0.8}


def test_a_new_writer_starts_the_epochs_afresh(tmp_path):
    RunWriter(tmp_path).epoch({"epoch": 1})
    RunWriter(tmp_path)
    assert (tmp_path / "epochs.jsonl").read_text() == ""


def test_write_json_atomic_creates_folders(tmp_path):
    write_json_atomic(tmp_path / "a" / "b.json", [1, 2])
    assert json.loads((tmp_path / "a" / "b.json").read_text()) == [1, 2]
