"""One bounded per-process cache of decoded specs by (model, pk, hash), behind both apps' selectors."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.models import Project
from annotations.selectors import project_spec_cached
from studies import services
from studies.selectors import study_spec_cached
from tests.factories import ProjectFactory
from tests.studies.conftest import study_spec
from webapp.specs import cache

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    cache.spec_cache_clear()
    yield
    cache.spec_cache_clear()


def _queries(read) -> tuple[object, int]:
    with CaptureQueriesContext(connection) as captured:
        value = read()
    return value, len(captured)


def test_a_spec_is_read_once_per_hash_and_afresh_after_a_change(researcher):
    project = ProjectFactory(owner=researcher, slug="cached")
    first, n = _queries(lambda: project_spec_cached(project_id=project.pk, spec_hash=project.spec_hash))
    assert first == project.spec and n == 1
    again, n = _queries(lambda: project_spec_cached(project_id=project.pk, spec_hash=project.spec_hash))
    assert again is first and n == 0
    Project.objects.filter(pk=project.pk).update(spec={**project.spec, "title": "New"}, spec_hash="f" * 64)
    fresh, n = _queries(lambda: project_spec_cached(project_id=project.pk, spec_hash="f" * 64))
    assert fresh["title"] == "New" and n == 1


def test_projects_and_studies_with_the_same_pk_and_hash_do_not_collide(researcher):
    study = services.study_load(spec=study_spec(slug="cache-study"), owner=researcher)
    project = ProjectFactory(owner=researcher, slug="cache-project", id=study.pk)
    Project.objects.filter(pk=project.pk).update(spec_hash=study.spec_hash)
    assert study_spec_cached(study_id=study.pk, spec_hash=study.spec_hash)["prompts"]
    assert "dimensions" in project_spec_cached(project_id=project.pk, spec_hash=study.spec_hash)


def test_a_row_without_a_hash_is_read_every_time(researcher):
    project = ProjectFactory(owner=researcher, slug="no-hash", spec_hash="")
    for _ in range(2):
        _, n = _queries(lambda: project_spec_cached(project_id=project.pk, spec_hash=""))
        assert n == 1


def test_the_cache_keeps_only_the_most_recently_used(researcher, monkeypatch):
    monkeypatch.setattr(cache, "SPECS_KEPT", 2)
    projects = [ProjectFactory(owner=researcher, slug=f"bounded-{i}") for i in range(3)]
    read = lambda p: project_spec_cached(project_id=p.pk, spec_hash=p.spec_hash)  # noqa: E731
    read(projects[0]), read(projects[1]), read(projects[0]), read(projects[2])
    assert len(cache._SPECS) == 2
    assert _queries(lambda: read(projects[0]))[1] == 0  # used recently: kept
    assert _queries(lambda: read(projects[1]))[1] == 1  # least recently used: dropped
