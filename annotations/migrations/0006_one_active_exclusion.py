from django.db import migrations, models


def revoke_duplicate_active_exclusions(apps, schema_editor):
    """Before the constraint: where an annotator holds several active exclusions in a project (two excludes that
    raced), the earliest stays active and the later ones are revoked at the moment they were made (kept as
    history, as a revoked exclusion always is)."""
    exclusion_model = apps.get_model("annotations", "Exclusion")
    kept: set[tuple[int, int]] = set()
    for exclusion in exclusion_model.objects.filter(revoked_at__isnull=True).order_by("created_at", "id"):
        key = (exclusion.project_id, exclusion.annotator_id)
        if key in kept:
            exclusion_model.objects.filter(pk=exclusion.pk).update(revoked_at=exclusion.created_at)
        else:
            kept.add(key)


class Migration(migrations.Migration):

    dependencies = [
        ("annotations", "0005_scope_existing_imported_annotators"),
    ]

    operations = [
        migrations.RunPython(revoke_duplicate_active_exclusions, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="exclusion",
            constraint=models.UniqueConstraint(condition=models.Q(("revoked_at__isnull", True)),
                                               fields=("project", "annotator"), name="one_active_exclusion"),
        ),
    ]
