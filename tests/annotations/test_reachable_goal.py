"""The progress line's "of N" (what an annotator can still reach) is the same count as the plain query over the
project's items, but a cold count costs as much as the annotator's own assignments: the project's open tasks are
counted once for everyone (the open loop at 100k items spent 18 ms of each first turn recounting them)."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.models import Assignment, Enrollment, Item
from annotations.selectors import enrollment_reachable_goal
from annotations.services import flow
from annotations.services.routing import assignment_next
from tests.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def _plain_count(enrollment: Enrollment, current_is_task: bool) -> int:
    """The definition: labels, the item in hand, and the open tasks this annotator never had."""
    never_had = (Item.objects.filter(project_id=enrollment.project_id, role=Item.Role.TASK, is_full=False)
                 .exclude(assignments__annotator_id=enrollment.annotator_id).count())
    return enrollment.labels_done + int(current_is_task) + never_had


def test_the_goal_equals_the_plain_count_as_others_fill_items_and_the_annotator_moves_on():
    project = ProjectFactory(slug="goal", overlap=1)
    ItemFactory.create_batch(8, project=project)
    ItemFactory(project=project, role=Item.Role.GOLD)
    enrollments = [flow.enrollment_open(project=project, user=UserFactory(username=f"goal-{i}")) for i in range(3)]
    Enrollment.objects.update(stage=Enrollment.Stage.WORK)
    for step in range(3):
        for enrollment in enrollments:
            enrollment.refresh_from_db()
            held = assignment_next(enrollment=enrollment)
            if held is None:
                continue
            cache.clear()
            current_is_task = held.item.role == Item.Role.TASK
            assert enrollment_reachable_goal(enrollment=enrollment, current_is_task=current_is_task) == \
                _plain_count(enrollment, current_is_task), (step, enrollment.annotator.username)
            Item.objects.filter(pk=held.item_id).update(is_full=True, taken=1)  # as a label fills it
            Assignment.objects.filter(pk=held.pk).update(status=Assignment.Status.SUBMITTED)
            Enrollment.objects.filter(pk=enrollment.pk).update(labels_done=enrollment.labels_done + 1)


def test_a_cold_goal_reads_the_annotators_assignments_not_the_projects_items():
    project = ProjectFactory(slug="goal-cost", overlap=2)
    ItemFactory.create_batch(6, project=project)
    first, second = (flow.enrollment_open(project=project, user=UserFactory(username=name)) for name in ("a", "b"))
    assert enrollment_reachable_goal(enrollment=first, current_is_task=False) == 6  # counts the project's once
    with CaptureQueriesContext(connection) as queries:
        assert enrollment_reachable_goal(enrollment=second, current_is_task=False) == 6
    assert len(queries) == 1 and 'FROM "annotations_assignment"' in queries[0]["sql"], queries.captured_queries
    with CaptureQueriesContext(connection) as queries:
        enrollment_reachable_goal(enrollment=second, current_is_task=False)
    assert len(queries) == 0  # and then not at all for 15 seconds
