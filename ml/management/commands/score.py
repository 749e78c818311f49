from annotations.models import ItemKind
from ml.management.commands._launch import LaunchCommand
from ml.models import MlJobKind, ModelKind


class Command(LaunchCommand):
    help = (
        "Enqueues a scoring job: a reward model or LLM judge scores a study's responses (or one system's) or "
        "a project's items; a similarity model scores a pair project's pairs. --wait follows progress and exits "
        "non-zero on failure."
    )
    job_kind = MlJobKind.SCORING
    model_kinds = (ModelKind.SCORER, ModelKind.JUDGE)

    def default_model_kinds(self, project) -> tuple[str, ...]:
        return (ModelKind.SIMILARITY,) if project is not None and project.kind == ItemKind.PAIR else self.model_kinds
