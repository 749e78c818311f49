"""Jobs move to the job system (``webapp.jobs``): every ``ml_job`` row is copied into ``jobs_job`` under
the same id (so generations and scores keep pointing at their job), its study or project becoming the
job's target, and the model part of generation, scoring and training jobs into ``ml_modeljob``. A
``report`` job becomes an ``agreement_report`` (on a project) or a ``study_report`` (on a study).
``0007`` then points generations and scores at the new table and drops ``ml_job`` (and, migrating back,
copies the rows back before pointing them at ``ml_job`` again)."""

import django.db.models.deletion
from django.core.management.color import no_style
from django.db import migrations, models

MODEL_KINDS = ("generation", "scoring", "train")
COPIED = ("status", "params", "done", "total", "error", "result", "cancel_requested", "attempts", "worker",
          "heartbeat_at", "created_by_id", "created_at", "started_at", "finished_at")


def _kind(old) -> str:
    if old.kind == "report":
        return "agreement_report" if old.project_id else "study_report"
    return old.kind


def forward(apps, schema_editor):
    OldJob = apps.get_model("ml", "Job")
    Job = apps.get_model("jobs", "Job")
    ContentType = apps.get_model("contenttypes", "ContentType")
    connection = schema_editor.connection
    study_type, _ = ContentType.objects.get_or_create(app_label="studies", model="study")
    project_type, _ = ContentType.objects.get_or_create(app_label="annotations", model="project")
    model_rows = []
    for old in OldJob.objects.order_by("pk").iterator():
        target_type = study_type if old.study_id else project_type if old.project_id else None
        fields = {name: getattr(old, name) for name in COPIED}
        Job.objects.create(pk=old.pk, kind=_kind(old), queue="gpu" if old.kind in MODEL_KINDS else "default",
                           target_type=target_type, target_id=old.study_id or old.project_id, **fields)
        Job.objects.filter(pk=old.pk).update(created_at=old.created_at)  # auto_now_add set it to now
        if old.kind in MODEL_KINDS and old.model_version_id:
            model_rows.append((old.pk, old.model_version_id, old.system_name))
    with connection.cursor() as cursor:
        cursor.executemany("INSERT INTO ml_modeljob (job_ptr_id, model_version_id, system_name) VALUES (%s, %s, %s)",
                           model_rows)
        for sql in connection.ops.sequence_reset_sql(no_style(), [Job]):
            cursor.execute(sql)
        if connection.vendor == "postgresql":  # no pending trigger events left for the ALTER TABLEs that follow
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def backward(apps, schema_editor):
    """The rows went back to ``ml_job`` in ``0007``'s reverse; the copies here go."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DELETE FROM ml_modeljob")
    apps.get_model("jobs", "Job").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("jobs", "0001_initial"),
        ("ml", "0005_score_judge_answer"),
    ]

    operations = [
        migrations.CreateModel(
            name="ModelJob",
            fields=[
                ("job_ptr", models.OneToOneField(auto_created=True, on_delete=django.db.models.deletion.CASCADE,
                                                 parent_link=True, primary_key=True, serialize=False, to="jobs.job")),
                ("system_name", models.CharField(blank=True, default="", max_length=100)),
                ("model_version", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="jobs",
                                                    to="ml.modelversion")),
            ],
            bases=("jobs.job",),
        ),
        migrations.RunPython(forward, backward),
    ]
