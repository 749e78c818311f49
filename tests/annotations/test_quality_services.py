import pytest

from annotations.services.quality import annotator_exclude, annotator_include, item_queue_more_labels
from tests.factories import ItemFactory, LabelFactory, UserFactory


@pytest.mark.django_db
def test_exclusion_is_recorded_and_reversible_keeping_history(project, researcher):
    annotator = UserFactory(role="annotator")
    first = annotator_exclude(project=project, annotator=annotator, reason="failed gold", created_by=researcher)
    assert annotator_exclude(project=project, annotator=annotator, created_by=researcher).pk == first.pk
    assert annotator_include(project=project, annotator=annotator) == 1
    assert annotator_include(project=project, annotator=annotator) == 0
    again = annotator_exclude(project=project, annotator=annotator, reason="second look", created_by=researcher)
    assert again.pk != first.pk
    assert project.exclusions.filter(annotator=annotator).count() == 2
    assert project.exclusions.filter(annotator=annotator, revoked_at__isnull=True).get().reason == "second look"


@pytest.mark.django_db
def test_queuing_an_item_raises_its_needed_overlap_by_one_and_reopens_it(project):
    item = ItemFactory(project=project, needed=2, taken=2, labels_count=2, is_full=True)
    for _ in range(2):
        LabelFactory(item=item)
    queued = item_queue_more_labels(item=item)
    assert queued.needed == 3 and queued.is_full is False
    assert item_queue_more_labels(item=queued).needed == 4


@pytest.mark.django_db
def test_quality_table_flags_excluded_annotators_and_reads_gold(project, researcher):
    from annotations.agreement.load import project_annotator_quality

    gold = ItemFactory(project=project, role="gold", gold={"empathy": 4})
    careful, careless = UserFactory(role="annotator"), UserFactory(role="annotator")
    LabelFactory(item=gold, annotator=careful, values={"empathy": 4}, seconds=20.0)
    LabelFactory(item=gold, annotator=careless, values={"empathy": 1}, seconds=1.0)
    for item in project.items.filter(role="task"):
        LabelFactory(item=item, annotator=careful, values={"empathy": 3}, seconds=20.0)
        LabelFactory(item=item, annotator=careless, values={"empathy": 3}, seconds=1.0)
    annotator_exclude(project=project, annotator=careless, created_by=researcher)
    table = project_annotator_quality(project=project).set_index("annotator")
    assert bool(table.loc[careless.pseudonym, "excluded"]) and not bool(table.loc[careful.pseudonym, "excluded"])
    assert table.loc[careful.pseudonym, "gold_accuracy"] == 1.0
    assert table.loc[careless.pseudonym, "gold_accuracy"] == 0.0
    assert table.loc[careless.pseudonym, "too_fast_share"] == 1.0
