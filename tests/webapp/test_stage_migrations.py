"""The migrations that made both apps store the journey's steps rewrite the rows they find, and undo it: an
enrollment at `items` is at `work`, a participant `judging` or `completed` is at `work` or `done`; every other
stage (an imported participant's included) is left as it was."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("annotations", "0009_one_reservation_per_annotator"), ("studies", "0002_prompt_metadata")]
AFTER = [("annotations", "0010_enrollment_stage_is_the_journey_step"),
         ("studies", "0003_participant_stage_is_the_journey_step")]
OLD_ENROLLMENTS = ["items", "final", "ended"]
OLD_PARTICIPANTS = ["judging", "completed", "declined", "imported"]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _stages(apps) -> tuple[list[str], list[str]]:
    enrollments = apps.get_model("annotations", "Enrollment").objects.order_by("pk").values_list("stage", flat=True)
    participants = apps.get_model("studies", "Participant").objects.order_by("pk").values_list("stage", flat=True)
    return list(enrollments), list(participants)


@pytest.mark.django_db(transaction=True)
def test_the_stage_migrations_rewrite_the_old_names_forward_and_back():
    old = _migrate(BEFORE)
    try:
        user_model = old.get_model("webapp", "User")
        owner = user_model.objects.create(username="r", role="researcher", pseudonym="p_r")
        project = old.get_model("annotations", "Project").objects.create(slug="p", title="p", kind="narrative",
                                                                         owner_id=owner.pk)
        study = old.get_model("studies", "Study").objects.create(slug="s", title="s", spec_hash="h", owner_id=owner.pk)
        for index, (enrolled, joined) in enumerate(zip(OLD_ENROLLMENTS + [None], OLD_PARTICIPANTS, strict=True)):
            person = user_model.objects.create(username=f"a{index}", role="annotator", pseudonym=f"p_a{index}")
            if enrolled:
                old.get_model("annotations", "Enrollment").objects.create(project_id=project.pk,
                                                                          annotator_id=person.pk, stage=enrolled)
            old.get_model("studies", "Participant").objects.create(study_id=study.pk, user_id=person.pk,
                                                                   token=f"t{index}", index=index, seed=index,
                                                                   stage=joined)

        assert _stages(_migrate(AFTER)) == (["work", "final", "ended"], ["work", "done", "declined", "imported"])
        assert _stages(_migrate(BEFORE)) == (OLD_ENROLLMENTS, OLD_PARTICIPANTS)
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
