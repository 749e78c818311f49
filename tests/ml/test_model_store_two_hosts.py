"""Two worker hosts, one model store: a version trained by a worker on one host is scored with by a worker on
another, which has its own local cache and never saw the first host's files (each runs with its own var folder
and model cache; only the store, the database and the media are shared, as in production). The trained version
scores the dimensions it was trained on."""

from __future__ import annotations

import shutil

import pytest

from ml import services
from ml.models import ModelVersion, Score
from ml.services.model_store import folder_checksum, models_storage, store_key
from ml.services.training import train_job_launch
from tests.celery_worker import running_worker
from tests.factories import UserFactory
from tests.ml.test_jobs_support import wait_for
from tests.ml.training_support import learnable_items, likert, project_with_labels
from webapp.jobs.models import Job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_worker, pytest.mark.slow]


def test_a_version_trained_on_one_host_is_used_by_a_worker_on_another(transactional_db, tmp_path_factory,
                                                                      tiny_regressor_path, settings):
    store = tmp_path_factory.mktemp("shared-model-store")
    settings.RESONANCE_MODEL_STORE = store  # this process (the web) reads the same store
    caches = {host: tmp_path_factory.mktemp(f"model-cache-{host}") for host in ("one", "two")}
    owner = UserFactory(username="two-hosts", role="researcher")
    base = services.model_version_register(name="tiny-base", kind="scorer", path=tiny_regressor_path)
    project = project_with_labels(kind="narrative", dimensions=[likert("empathy")],
                                  items=learnable_items("narrative", 16))

    host_one = {"RESONANCE_MODEL_STORE": str(store), "RESONANCE_MODEL_CACHE": str(caches["one"])}
    with running_worker(tmp_path_factory, env=host_one) as worker:
        trained = wait_for(train_job_launch(recipe="reward-model", created_by=owner, project=project, base=base,
                                            overrides={"max_steps": 4, "batch_size": 4}), timeout=300)
        assert trained.status == Job.Status.SUCCEEDED, f"{trained.error}\n{worker.log[-3000:]}"
        one_folder = worker.folder
    version = ModelVersion.objects.get(parent=base)
    artifact = version.training_settings["artifact"]
    assert artifact["store_key"] == store_key(version.name)
    assert models_storage().exists(f"{artifact['store_key']}/MANIFEST.json")
    shutil.rmtree(one_folder)  # the first host is gone: its var folder (checkpoints, run output) with it
    shutil.rmtree(caches["one"])

    host_two = {"RESONANCE_MODEL_STORE": str(store), "RESONANCE_MODEL_CACHE": str(caches["two"])}
    with running_worker(tmp_path_factory, env=host_two) as worker:
        scored = wait_for(services.model_job_launch(kind="scoring", model_version=version, project=project,
                                                    created_by=owner), timeout=240)
        assert scored.status == Job.Status.SUCCEEDED, f"{scored.error}\n{worker.log[-3000:]}"
    copies = list((caches["two"] / "store").iterdir())
    assert len(copies) == 1 and copies[0].name.startswith(version.name)
    assert folder_checksum(folder=copies[0]) == {"sha256": artifact["sha256"], "bytes": artifact["bytes"]}
    assert scored.done == scored.total > 0
    # it scores what it was trained on (its own outputs), not the four default PERM dimensions
    assert scored.params["dimensions"] == version.training_settings["outputs"] == ["empathy"]
    assert set(Score.objects.filter(job=scored).values_list("dimension", flat=True)) == {"empathy", "reward"}
