import pytest

from annotations.models import Assignment, Item, Label
from annotations.services import flow
from annotations.services.routing import (
    SubmitError,
    assignment_next,
    assignment_skip,
    label_submit,
    reservations_reclaim,
)
from tests.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def _enrolled(project, name):
    user = UserFactory(username=name)
    enrollment = flow.enrollment_open(project=project, user=user)
    enrollment.stage = "work"
    enrollment.save()
    return enrollment


def test_annotator_never_gets_the_same_item_twice_and_pool_runs_out(project):
    enrollment = _enrolled(project, "a1")
    seen = []
    while (assignment := assignment_next(enrollment=enrollment)) is not None:
        seen.append(assignment.item_id)
        label_submit(assignment=assignment, raw_values={"empathy": "3"}, seconds=2.0)
    assert len(seen) == 5 and len(set(seen)) == 5


def test_items_sent_back_for_reannotation_are_served_before_the_others(researcher):
    project = ProjectFactory(owner=researcher, slug="sent-back", overlap=1)
    ItemFactory.create_batch(30, project=project, needed=1)
    sent_back = set(Item.objects.filter(project=project).order_by("-shuffle_key").values_list("id", flat=True)[:3])
    Item.objects.filter(id__in=sent_back).update(priority=1)
    for name in ("first", "second", "third"):  # each offset is random; the sent-back items come first for all
        served = assignment_next(enrollment=_enrolled(project, name), resume=False)
        assert served.item_id in sent_back
        label_submit(assignment=served, raw_values={"empathy": "3"}, seconds=1.0)
        sent_back.discard(served.item_id)
    assert not sent_back
    fourth = assignment_next(enrollment=_enrolled(project, "fourth"), resume=False)
    assert fourth is not None and fourth.item.priority == 0  # then the rest, as before


def test_no_item_gets_more_labels_than_overlap(project):
    enrollments = [_enrolled(project, f"a{i}") for i in range(4)]
    for enrollment in enrollments:
        while (assignment := assignment_next(enrollment=enrollment)) is not None:
            label_submit(assignment=assignment, raw_values={"empathy": 4}, seconds=1.0)
    counts = list(Label.objects.filter(project=project).values_list("item_id", flat=True))
    assert len(counts) == 5 * project.overlap
    assert all(item.labels_count == item.needed == item.taken for item in Item.objects.filter(project=project))


def test_second_submit_of_same_assignment_changes_nothing(project):
    enrollment = _enrolled(project, "a1")
    assignment = assignment_next(enrollment=enrollment)
    first = label_submit(assignment=assignment, raw_values={"empathy": 2}, seconds=3.0)
    second = label_submit(assignment=assignment, raw_values={"empathy": 5}, seconds=9.0)
    assert first.id == second.id and Label.objects.get(id=first.id).values == {"empathy": 2}
    enrollment.refresh_from_db()
    assert enrollment.labels_done == 1


def test_value_outside_the_scale_is_refused_and_nothing_is_stored(project):
    assignment = assignment_next(enrollment=_enrolled(project, "a1"))
    with pytest.raises(SubmitError) as caught:
        label_submit(assignment=assignment, raw_values={"empathy": 9}, seconds=1.0)
    assert "empathy" in caught.value.errors
    assert not Label.objects.exists()
    assert Assignment.objects.get(id=assignment.id).status == "reserved"


def test_reload_resumes_the_reserved_item(project):
    enrollment = _enrolled(project, "a1")
    assert assignment_next(enrollment=enrollment).id == assignment_next(enrollment=enrollment).id


def test_skip_returns_the_slot_and_distressing_is_recorded_apart(project):
    enrollment = _enrolled(project, "a1")
    assignment = assignment_next(enrollment=enrollment)
    assert assignment_skip(assignment=assignment, distressing=True)
    assert not assignment_skip(assignment=assignment, distressing=False)
    assert Assignment.objects.get(id=assignment.id).status == "distressing"
    assert Item.objects.get(id=assignment.item_id).taken == 0


def test_expired_reservation_returns_to_the_pool(project, settings):
    settings.RESONANCE_RESERVATION_SECONDS = -1
    project.items.exclude(id=project.items.first().id).delete()
    project.overlap = 1
    Item.objects.filter(project=project).update(needed=1)
    first = _enrolled(project, "a1")
    abandoned = assignment_next(enrollment=first)
    assert abandoned is not None
    assert reservations_reclaim(project_id=project.id, force=True) == 1
    second = _enrolled(project, "a2")
    taken = assignment_next(enrollment=second)
    assert taken is not None and taken.item_id == abandoned.item_id


def test_failing_attention_checks_ends_the_enrollment(researcher):
    project = ProjectFactory(owner=researcher, slug="attn")
    project.spec["attention_checks"] = {"rate": 0.5, "policy": {"warn_after": 1, "end_after": 1}, "items": []}
    project.save()
    ItemFactory.create_batch(4, project=project)
    ItemFactory(project=project, role="attention", gold={"empathy": 1})
    enrollment = _enrolled(project, "a1")
    stops = []
    for _ in range(3):
        assignment = assignment_next(enrollment=enrollment)
        if assignment is None:  # an ended enrollment is given nothing more
            break
        label_submit(assignment=assignment, raw_values={"empathy": 5}, seconds=1.0)
        stops.append(flow.enrollment_after_item(enrollment=enrollment))
    assert stops[-1] == "attention" and not Assignment.objects.filter(status="reserved").exists()
    enrollment.refresh_from_db()
    assert enrollment.stage == "ended" and enrollment.attention_failures == 1
