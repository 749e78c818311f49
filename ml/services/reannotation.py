"""Send back for annotation: the held-out items where a trained version and the humans disagree most
go back to their project's queue for more labels, served before its other items, recorded on each item as a
re-annotation round."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ml.models import ModelVersion
from ml.selectors_training import version_disagreements
from webapp.jobs.errors import JobError


@transaction.atomic
def items_reannotate(*, version: ModelVersion, top: int, labels: int = 3) -> list[str]:
    """Reopens the ``top`` items of largest disagreement for ``labels`` more labels each; returns
    their ids. Each item's metadata gains ``reannotation_rounds`` [{version, labels, needed_before, at}], which
    the label export carries in ``item_metadata`` and the agreement page compares (labels before ``at``
    against all labels now)."""
    from annotations.models import Item, Project

    settings = version.training_settings or {}
    if not settings.get("project"):
        raise JobError(f"{version.name} was not trained on an annotation project's labels", field="name")
    if top < 1 or labels < 1:
        raise JobError("and labels: must be at least 1", field="top")
    project = Project.objects.get(slug=settings["project"])
    chosen = list(dict.fromkeys(row["item"] for row in version_disagreements(version=version, top=10_000)))[:top]
    if not chosen:
        raise JobError(f"{version.name} has no held-out items with both model and human values", field="name")
    items = list(Item.objects.select_for_update().filter(project=project, external_id__in=chosen))
    sent_at = timezone.now().isoformat()
    for item in items:
        rounds = list((item.metadata or {}).get("reannotation_rounds", []))
        rounds.append({"version": version.name, "labels": labels, "needed_before": item.needed, "at": sent_at})
        item.metadata = {**(item.metadata or {}), "reannotation_rounds": rounds}
        item.save(update_fields=["metadata"])
    # served before the project's other open items (annotations.services.routing's pick)
    Item.objects.filter(pk__in=[i.pk for i in items]).update(needed=F("needed") + labels, is_full=False, priority=1)
    return [i.external_id for i in items]
