"""Data-parallel training: a run with ``processes`` > 1 trains in one process group launched through accelerate (gloo
on CPU here, NCCL with one process per GPU on a CUDA host), each process taking its share of every epoch; the main
process alone reports progress and saves; a cancel stops the whole group at the same step."""

from __future__ import annotations

import pytest

from ml.core.errors import Cancelled
from ml.core.training import TrainingDataError, defaults_for, hyperparameters
from ml.core.training.child import processes_of, run_in_child
from tests.ml.training_support import export_file, learnable_items, likert, project_with_labels

DIMS = [likert("empathy")]
pytestmark = pytest.mark.slow


@pytest.fixture
def labels_file(db, tmp_path):
    return export_file(project_with_labels(kind="narrative", dimensions=DIMS, items=learnable_items("narrative", 20)),
                       tmp_path)


def _request(tmp_path, base, source, name: str, **overrides) -> dict:
    return {"recipe": "reward-model", "base": str(base), "out": str(tmp_path / name), "source": str(source),
            "dimensions": DIMS, "device": "cpu",
            "overrides": {"epochs": 2.0, "batch_size": 4, "save_steps": 2, "logging_steps": 1, **overrides}}


def test_two_processes_share_each_epoch_and_the_main_one_reports_and_saves(tmp_path, tiny_regressor_path,
                                                                           labels_file):
    alone_seen, group_seen = [], []
    alone = run_in_child(_request(tmp_path, tiny_regressor_path, labels_file, "alone"),
                         on_progress=lambda p: alone_seen.append(p) or True)
    group = run_in_child(_request(tmp_path, tiny_regressor_path, labels_file, "group", processes=2),
                         on_progress=lambda p: group_seen.append(p) or True)
    assert alone["record"]["processes"] == 1 and group["record"]["processes"] == 2
    train_items = alone["split"]["sizes"]["train"]  # 14 of 20: each process takes 7 an epoch, 2 batches of 4
    assert alone["record"]["steps"] == 2 * -(-train_items // 4) == 8
    assert group["record"]["steps"] == 2 * -(-(train_items // 2) // 4) == 4
    logged = [p["step"] for p in group_seen if p["loss"] is not None]
    assert logged == [1, 2, 3, 4], "each step is reported once, by the main process"
    assert group["split"] == alone["split"] and "empathy" in group["metrics"]
    assert (tmp_path / "group" / "model" / "config.json").is_file()


def test_a_cancel_stops_every_process_of_the_group_and_keeps_no_model(tmp_path, tiny_regressor_path, labels_file):
    seen = []
    with pytest.raises(Cancelled):
        run_in_child(_request(tmp_path, tiny_regressor_path, labels_file, "group", processes=2, epochs=50.0),
                     on_progress=lambda p: seen.append(p) or p["step"] < 3)
    assert 3 <= max(p["step"] for p in seen) < 20
    assert not (tmp_path / "group" / "model").exists()


def test_processes_default_to_one_on_cpu_and_refuse_what_the_host_cannot_run():
    assert defaults_for("reward-model", "cpu")["processes"] == 1
    assert processes_of({"recipe": "reward-model", "device": "cpu", "overrides": {"processes": 3}}) == 3
    assert processes_of({"recipe": "no-such-recipe", "device": "cpu"}) == 1  # train() refuses it in words
    for wrong in (0, -1, 1.5, "2", True):
        with pytest.raises(ValueError, match="processes: must be a whole number of at least 1"):
            hyperparameters("reward-model", "cpu", {"processes": wrong})


def test_a_run_asking_for_more_processes_than_it_can_have_is_refused_naming_the_field(tmp_path, tiny_regressor_path,
                                                                                     labels_file):
    with pytest.raises(TrainingDataError, match="hyperparameters: processes"):
        run_in_child(_request(tmp_path, tiny_regressor_path, labels_file, "bad", processes=0),
                     on_progress=lambda p: True)
