from django.conf import settings
from django.db import migrations, models
from django.db.models import F
from django.utils import timezone


def expire_extra_reservations(apps, schema_editor):
    """Before the constraint: where an annotator holds several reservations in a project (racing requests, two
    tabs), the latest stays and the earlier ones expire, their task items' slots given back as the reclaim does."""
    assignment_model = apps.get_model("annotations", "Assignment")
    item_model = apps.get_model("annotations", "Item")
    kept: set[tuple[int, int]] = set()
    for assignment in assignment_model.objects.filter(status="reserved").order_by("-reserved_at", "-id"):
        key = (assignment.project_id, assignment.annotator_id)
        if key not in kept:
            kept.add(key)
            continue
        assignment_model.objects.filter(pk=assignment.pk).update(status="expired", finished_at=timezone.now())
        item_model.objects.filter(pk=assignment.item_id, role="task", taken__gt=0).update(
            taken=F("taken") - 1, is_full=False)


class Migration(migrations.Migration):

    dependencies = [
        ("annotations", "0008_items_sent_back_first"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(expire_extra_reservations, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="assignment",
            constraint=models.UniqueConstraint(condition=models.Q(("status", "reserved")),
                                               fields=("project", "annotator"), name="one_reservation_per_annotator"),
        ),
    ]
