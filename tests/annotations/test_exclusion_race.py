"""At most one active exclusion per annotator and project: the database refuses a second, the service answers a
racing exclude with the row that won, and the migration that brought the constraint resolved old duplicates."""

import threading
import time

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from annotations.models import Exclusion
from annotations.services.quality import annotator_exclude
from tests.conftest import require_postgres
from tests.factories import ProjectFactory, UserFactory


@pytest.mark.django_db
def test_the_database_refuses_a_second_active_exclusion_but_keeps_revoked_ones(project, researcher):
    annotator = UserFactory(role="annotator")
    first = Exclusion.objects.create(project=project, annotator=annotator, created_by=researcher)
    with pytest.raises(IntegrityError), transaction.atomic():
        Exclusion.objects.create(project=project, annotator=annotator, created_by=researcher)
    Exclusion.objects.filter(pk=first.pk).update(revoked_at=first.created_at)
    Exclusion.objects.create(project=project, annotator=annotator, created_by=researcher)
    assert project.exclusions.filter(annotator=annotator).count() == 2


@pytest.mark.django_db(transaction=True)
def test_an_exclude_racing_another_returns_the_row_that_won_instead_of_failing():
    require_postgres("the race needs two connections that really overlap")
    researcher = UserFactory(role="researcher")
    project = ProjectFactory(owner=researcher)
    annotator = UserFactory(role="annotator")
    outcome: dict = {}

    def second_exclude():
        try:
            outcome["row"] = annotator_exclude(project=project, annotator=annotator, reason="late",
                                               created_by=researcher)
        except BaseException as error:  # noqa: BLE001 - reported below
            outcome["error"] = error
        finally:
            connection.close()

    with transaction.atomic():
        # the first exclude has inserted but not committed: the second looks, finds nothing, and its insert waits
        winner = Exclusion.objects.create(project=project, annotator=annotator, reason="first",
                                          created_by=researcher)
        thread = threading.Thread(target=second_exclude)
        thread.start()
        time.sleep(0.5)
        assert thread.is_alive(), "the second exclude should be waiting on the first one's row"
    thread.join(timeout=10)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["row"].pk == winner.pk and outcome["row"].reason == "first"
    assert Exclusion.objects.filter(project=project, annotator=annotator, revoked_at__isnull=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_the_earliest_of_duplicate_active_exclusions_and_revokes_the_rest():
    executor = MigrationExecutor(connection)
    before = [("annotations", "0005_scope_existing_imported_annotators")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user_model = old.get_model("webapp", "User")
    researcher = user_model.objects.create(username="r", role="researcher", pseudonym="p_r")
    annotator = user_model.objects.create(username="a", role="annotator", pseudonym="p_a")
    other = user_model.objects.create(username="b", role="annotator", pseudonym="p_b")
    project = old.get_model("annotations", "Project").objects.create(slug="x", title="x", kind="narrative",
                                                                     owner_id=researcher.pk)
    exclusion = old.get_model("annotations", "Exclusion")
    earliest, later = (exclusion.objects.create(project_id=project.pk, annotator_id=annotator.pk,
                                                created_by_id=researcher.pk, reason=reason)
                       for reason in ("earliest", "later"))
    alone = exclusion.objects.create(project_id=project.pk, annotator_id=other.pk, created_by_id=researcher.pk)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    active = set(Exclusion.objects.filter(revoked_at__isnull=True).values_list("pk", flat=True))
    assert active == {earliest.pk, alone.pk}
    revoked = Exclusion.objects.get(pk=later.pk)
    assert revoked.revoked_at == revoked.created_at
