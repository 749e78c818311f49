"""A project's agreement report with attributes regrouped (age bands, merged categories) on the fly.

:func:`annotations.agreement.load.project_agreement_report` does not take regrouping rules, so
with rules this builds the same report from the same loaders; without rules it is that function.
"""

from __future__ import annotations

from annotations.agreement.load import (
    project_agreement_report,
    project_annotator_attributes,
    project_label_frame,
)
from annotations.agreement.report import agreement_report
from annotations.models import Exclusion, Project


def project_agreement_report_regrouped(
    *,
    project: Project,
    regroup: dict[str, dict] | None = None,
    by: list[str] | tuple[str, ...] = (),
    n_bootstrap: int = 1000,
    seed: int = 0,
    level: str | None = None,
    kappa_weights: str = "quadratic",
) -> dict:
    """The agreement report of ``project`` with ``regroup`` rules (:func:`webapp.regroup.regroup_parse`)
    applied to the annotator attributes. Raises ValueError naming an attribute no annotator has."""
    options = {"by": by, "n_bootstrap": n_bootstrap, "seed": seed, "level": level, "kappa_weights": kappa_weights}
    if not regroup:
        return project_agreement_report(project=project, **options)
    frame = project_label_frame(project=project, tasks_only=True)
    attributes = project_annotator_attributes(project=project)
    report = agreement_report(frame, project.dimensions, attributes, regroup=regroup, **options)
    report["project"] = project.slug
    report["excluded_annotators"] = sorted(
        Exclusion.objects.filter(project=project, revoked_at__isnull=True)
        .values_list("annotator__pseudonym", flat=True)
        .distinct()
    )
    return report
