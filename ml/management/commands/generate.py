from ml.management.commands._launch import LaunchCommand


class Command(LaunchCommand):
    help = ("Enqueues a generation job: a generator answers a study's prompts (stored as one of its systems) "
            "or a project's items. --wait follows progress and exits non-zero on failure.")
    job_kind = "generation"
    model_kinds = ("generator",)
