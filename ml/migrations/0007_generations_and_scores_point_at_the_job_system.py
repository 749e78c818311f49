"""Generations and scores point at ``jobs_job`` (the same ids, copied by ``0006``); ``ml_job`` goes."""

import django.db.models.deletion
from django.core.management.color import no_style
from django.db import migrations, models

COPIED = ("status", "params", "done", "total", "error", "result", "cancel_requested", "attempts", "worker",
          "heartbeat_at", "created_by_id", "created_at", "started_at", "finished_at")


def copy_back(apps, schema_editor):
    """Migrating back: every job row into the re-created ``ml_job``, under the same id."""
    OldJob = apps.get_model("ml", "Job")
    Job = apps.get_model("jobs", "Job")
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT job_ptr_id, model_version_id, system_name FROM ml_modeljob")
        model = {row[0]: (row[1], row[2]) for row in cursor.fetchall()}
    for job in Job.objects.select_related("target_type").order_by("pk").iterator():
        on = job.target_type.model if job.target_type_id else ""
        version, system = model.get(job.pk, (None, ""))
        kind = "report" if job.kind in ("agreement_report", "study_report") else job.kind
        OldJob.objects.create(pk=job.pk, kind=kind, model_version_id=version, system_name=system,
                              study_id=job.target_id if on == "study" else None,
                              project_id=job.target_id if on == "project" else None,
                              **{name: getattr(job, name) for name in COPIED})
        OldJob.objects.filter(pk=job.pk).update(created_at=job.created_at)
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [OldJob]):
            cursor.execute(sql)
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):

    dependencies = [
        ("ml", "0006_jobs_move_to_the_job_system"),
    ]

    operations = [
        migrations.AlterField(
            model_name="generatedtext",
            name="job",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="generations",
                                    to="jobs.job"),
        ),
        migrations.AlterField(
            model_name="score",
            name="job",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="scores",
                                    to="jobs.job"),
        ),
        migrations.RunPython(migrations.RunPython.noop, copy_back),
        migrations.DeleteModel(
            name="Job",
        ),
    ]
