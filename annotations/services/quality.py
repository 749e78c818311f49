"""Researcher decisions about annotator quality: exclusions (recorded, reversible) and asking
for more labels on an item."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from annotations.models import Exclusion, Item, Project


@transaction.atomic
def annotator_exclude(*, project: Project, annotator, reason: str = "", created_by) -> Exclusion:
    """Leaves ``annotator`` out of ``project``'s analysis and exports. Idempotent: an active
    exclusion is returned unchanged; earlier revoked ones stay as history. Two excludes at once
    leave one active exclusion (the database allows no second) and both return it."""
    active = _active_exclusion(project, annotator)
    if active is not None:
        return active
    try:
        with transaction.atomic():
            return Exclusion.objects.create(project=project, annotator=annotator, reason=reason[:500],
                                            created_by=created_by)
    except IntegrityError:
        # a concurrent exclude committed its row between the look and the insert
        return _active_exclusion(project, annotator)


def _active_exclusion(project: Project, annotator) -> Exclusion | None:
    return (Exclusion.objects.select_for_update()
            .filter(project=project, annotator=annotator, revoked_at__isnull=True).first())


@transaction.atomic
def annotator_include(*, project: Project, annotator) -> int:
    """Revokes ``annotator``'s active exclusion in ``project`` (kept as history). Returns how
    many exclusions were revoked (0 when none was active)."""
    return Exclusion.objects.filter(project=project, annotator=annotator, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


@transaction.atomic
def item_queue_more_labels(*, item: Item) -> Item:
    """Raises ``item``'s needed overlap by one so routing hands it out again. Locks the row."""
    locked = Item.objects.select_for_update().get(pk=item.pk)
    Item.objects.filter(pk=locked.pk).update(needed=F("needed") + 1, is_full=False)
    locked.refresh_from_db()
    return locked
