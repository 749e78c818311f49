from ml.management.commands._launch import LaunchCommand


class Command(LaunchCommand):
    help = (
        "Enqueues a scoring job: a reward model or LLM judge scores a study's responses (or one system's) or "
        "a project's items; a similarity model scores a pair project's pairs. --wait follows progress and exits "
        "non-zero on failure."
    )
    job_kind = "scoring"
    model_kinds = ("scorer", "judge")

    def default_model_kinds(self, project) -> tuple[str, ...]:
        return ("similarity",) if project is not None and project.kind == "pair" else self.model_kinds
