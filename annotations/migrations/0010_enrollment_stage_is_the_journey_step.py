from django.db import migrations, models

# the old stored name → the journey's step (webapp.people.journey), the one vocabulary both apps store
RENAMED = {"items": "work"}


def _rename(apps, mapping: dict[str, str]) -> None:
    enrollment_model = apps.get_model("annotations", "Enrollment")
    for old, new in mapping.items():
        enrollment_model.objects.filter(stage=old).update(stage=new)


def stages_forward(apps, schema_editor):
    _rename(apps, RENAMED)


def stages_backward(apps, schema_editor):
    _rename(apps, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):

    dependencies = [
        ("annotations", "0009_one_reservation_per_annotator"),
    ]

    operations = [
        migrations.AlterField(
            model_name="enrollment",
            name="stage",
            field=models.CharField(choices=[("consent", "Consent"), ("survey", "Survey"), ("instructions", "Instructions"), ("work", "Items"), ("final", "Final survey"), ("done", "Done"), ("ended", "Ended early")], default="consent", max_length=16),
        ),
        migrations.RunPython(stages_forward, stages_backward),
    ]
