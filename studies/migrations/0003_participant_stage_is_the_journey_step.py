from django.db import migrations, models

# the old stored names → the journey's steps (webapp.people.journey), the one vocabulary both apps store;
# `imported` stays, a participant's own value
RENAMED = {"judging": "work", "completed": "done"}


def _rename(apps, mapping: dict[str, str]) -> None:
    participant_model = apps.get_model("studies", "Participant")
    for old, new in mapping.items():
        participant_model.objects.filter(stage=old).update(stage=new)


def stages_forward(apps, schema_editor):
    _rename(apps, RENAMED)


def stages_backward(apps, schema_editor):
    _rename(apps, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):

    dependencies = [
        ("studies", "0002_prompt_metadata"),
    ]

    operations = [
        migrations.AlterField(
            model_name="participant",
            name="stage",
            field=models.CharField(choices=[("consent", "Consent"), ("survey", "Survey"), ("instructions", "Instructions"), ("work", "Judging"), ("done", "Completed"), ("ended", "Ended (attention checks)"), ("declined", "Declined consent"), ("imported", "Imported")], default="consent", max_length=16),
        ),
        migrations.RunPython(stages_forward, stages_backward),
    ]
