from ml.management.commands._launch import LaunchCommand


class Command(LaunchCommand):
    help = (
        "Enqueues a scoring job: a reward model or LLM judge scores a study's responses (or one system's) or "
        "a project's items. --wait follows progress and exits non-zero on failure."
    )
    job_kind = "scoring"
    model_kinds = ("scorer", "judge")
