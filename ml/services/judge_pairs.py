"""A judge model's pairwise verdicts on a study's judged pairs, in both orders, against the humans."""

from __future__ import annotations

from django.conf import settings

from ml.core.cache import load_model
from ml.core.registry_checks import check_loadable
from ml.models import ModelKind, ModelVersion
from ml.services.inputs import context_text
from ml.services.model_store import version_path
from studies.analysis.frame import judgments_canonical
from studies.analysis.judge_pairs import judge_versus_humans
from studies.analysis.load import judgments_frame, study_criteria, study_judgments
from studies.models import Response, Study
from webapp.jobs.errors import JobError


def study_judge_pairs(
    *,
    study: Study,
    model_version: ModelVersion,
    criterion: str | None = None,
    include_ended: bool = False,
    batch_size: int = 16,
    device: str | None = None,
) -> dict:
    """Asks the judge ``model_version`` which reply is better for every (prompt, system pair) the
    study's participants judged on ``criterion`` (default: the study's first), in both orders, and
    compares (:func:`studies.analysis.judge_pairs.judge_versus_humans`). Raises ``JobError``
    naming the field for a model that is not a judge, an unknown criterion or a study without judgments."""
    if model_version.kind != ModelKind.JUDGE:
        raise JobError(f"{model_version.name} is a {model_version.kind}, not a judge", field="model_version")
    criteria = study_criteria(study)
    criterion = criterion or (criteria[0] if criteria else None)
    if criterion not in criteria:
        raise JobError(f"must be one of {', '.join(criteria)}", field="criterion")
    canonical = judgments_canonical(
        judgments_frame(study_judgments(study, include_ended=include_ended, criteria=[criterion]))
    )
    if canonical.empty:
        raise JobError("it has no judgments on that criterion yet", field="study")
    pairs = canonical[["prompt", "system_a", "system_b"]].drop_duplicates().reset_index(drop=True)
    responses = {
        (r.prompt.external_id, r.system.name): r
        for r in Response.objects.filter(study=study).select_related("prompt", "system")
    }
    texts_a, texts_b, contexts = [], [], []
    for prompt, system_a, system_b in pairs.itertuples(index=False):
        a, b = responses[(prompt, system_a)], responses[(prompt, system_b)]
        texts_a.append(a.text)
        texts_b.append(b.text)
        contexts.append(context_text([(t.get("speaker", ""), t.get("text", "")) for t in a.prompt.context]) or None)
    check_loadable(version_path(model_version), "judge")
    judge = load_model("judge", version_path(model_version), version_key=f"model-version-{model_version.pk}",
                       device=device, batch_size=batch_size, acceleration=settings.ML_ACCELERATION)
    verdicts = pairs.assign(
        p_a_first=judge.prefer_first(contexts, texts_a, texts_b),
        p_a_second=[1.0 - p for p in judge.prefer_first(contexts, texts_b, texts_a)],
    )
    result = judge_versus_humans(verdicts, canonical)
    result.update({"study": study.slug, "criterion": criterion, "model_version": model_version.pk})
    return result
