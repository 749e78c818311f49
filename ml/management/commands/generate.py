from ml.management.commands._launch import LaunchCommand
from ml.models import MlJobKind, ModelKind


class Command(LaunchCommand):
    help = ("Enqueues a generation job: a generator answers a study's prompts (stored as one of its systems) "
            "or a project's items. --wait follows progress and exits non-zero on failure.")
    job_kind = MlJobKind.GENERATION
    model_kinds = (ModelKind.GENERATOR,)
