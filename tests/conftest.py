import pytest
from django.db import connection

from tests.factories import ItemFactory, ProjectFactory, UserFactory


def pytest_report_header(config):
    from django.conf import settings

    return f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}"


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache: ids are reused between tests, so cached counts would go stale."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def model_cache_of_this_test(settings, tmp_path):
    """Workers copy published model versions into RESONANCE_MODEL_CACHE; a test's copies stay in its own folder."""
    settings.RESONANCE_MODEL_CACHE = tmp_path / "model-cache"


@pytest.fixture
def researcher(db):
    return UserFactory(username="researcher", role="researcher")


@pytest.fixture
def other_researcher(db):
    return UserFactory(username="other-researcher", role="researcher")


@pytest.fixture
def annotator(db):
    return UserFactory(username="annotator", role="annotator")


@pytest.fixture
def participant(db):
    return UserFactory(username="participant", role="participant")


@pytest.fixture
def project(researcher):
    project = ProjectFactory(owner=researcher, slug="demo")
    ItemFactory.create_batch(5, project=project)
    return project


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"


def require_postgres(reason: str) -> None:
    """Skips loudly outside CI when the suite fell back to SQLite; under CI=true that is a failure, never a skip."""
    from webapp.settings.services import in_ci

    if connection.vendor == "postgresql":
        return
    if in_ci():
        pytest.fail(f"PostgreSQL is required under CI: {reason}")
    pytest.skip(f"SQLite fallback: {reason}")
