"""Writes on annotation projects themselves: create from spec text, update, delete, share and unshare.

The page, the API and ``manage.py load_project`` call these; each is one transaction. Spec problems are
``SpecError`` (``SlugTaken`` when a new project names a slug already in use); who may do what is checked here
too (PermissionDenied), beside the selectors that let a researcher reach the project at all."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.db.models.functions import Greatest

from annotations.models import Item, Project
from annotations.spec import SpecError, spec_load
from webapp.people.ownership import (
    ShareError,
    collaborator_add,
    collaborator_remove,
    may_manage,
    owned_or_shared,
)
from webapp.specs import SlugTaken, spec_hash

__all__ = ["ProjectError", "ShareError", "project_create", "project_delete", "project_share", "project_unshare",
           "project_update"]


class ProjectError(ValueError):
    """A project cannot be changed as asked (deleted while it holds labels); the message says why."""


@transaction.atomic
def project_create(*, spec_text: str, owner) -> Project:
    """A new project owned by ``owner`` from YAML/JSON spec text. ``SlugTaken`` when any project (whoever's)
    already has the spec's slug: creating never updates, and the existing project's existence is all it says."""
    spec = spec_load(spec_text)
    if Project.objects.filter(slug=spec["slug"]).exists():
        raise SlugTaken(spec["slug"], "project")
    project = Project(slug=spec["slug"], owner=owner)
    _spec_apply(project, spec)
    return project


@transaction.atomic
def project_update(*, project: Project, spec_text: str, by=None, owner=None) -> Project:
    """Replaces ``project``'s spec. The spec's slug must be the project's own (a slug never moves another
    project). ``by``, the researcher acting, must own or share it (PermissionDenied otherwise; None for a
    command). The item kind cannot change once items exist. ``owner`` hands the project over (commands only).
    Attention-check items are created or updated, items named in ``gold.answers`` become gold items, and task
    items take the new overlap as ``needed``."""
    spec = spec_load(spec_text)
    if spec["slug"] != project.slug:
        raise SpecError("slug", "a project's slug cannot change here; load it as a new project")
    project = Project.objects.select_for_update().get(pk=project.pk)
    if by is not None and not owned_or_shared(Project.objects.filter(pk=project.pk), by).exists():
        raise PermissionDenied(f"the slug {spec['slug']!r} belongs to another researcher's project")
    if project.kind != spec["kind"] and project.items.exists():
        raise SpecError("kind", f"the project already holds {project.kind} items; kind cannot become {spec['kind']!r}")
    if owner is not None:
        project.owner = owner
    _spec_apply(project, spec)
    return project


@transaction.atomic
def project_delete(*, project: Project, by) -> None:
    """Deletes the project with its items. Only its owner or a superuser deletes (PermissionDenied); a project
    that holds labels is refused (ProjectError): close it instead, so collected work is never lost."""
    if not may_manage(project, by):
        raise PermissionDenied("only the project's owner can delete it")
    refusal = project_delete_refusal(project=project)
    if refusal:
        raise ProjectError(refusal)
    project.delete()


def project_delete_refusal(*, project: Project) -> str:
    """Why the project may not be deleted ("" when it may): collected labels are never deleted with it."""
    return "a project with labels cannot be deleted; close it instead" if project.labels.exists() else ""


@transaction.atomic
def project_share(*, project: Project, username: str, by) -> None:
    """Gives the researcher ``username`` access to the project (see ``collaborator_add``)."""
    collaborator_add(obj=project, username=username, by=by)


@transaction.atomic
def project_unshare(*, project: Project, username: str, by) -> None:
    """Takes access back from the collaborator ``username`` (see ``collaborator_remove``)."""
    collaborator_remove(obj=project, username=username, by=by)


def _spec_apply(project: Project, spec: dict) -> None:
    project.title, project.kind, project.overlap = spec["title"], spec["kind"], spec["overlap"]
    project.spec, project.spec_hash = spec, spec_hash(spec)
    project.save()
    _attention_items_sync(project, spec)
    _gold_items_sync(project, spec)
    _overlap_apply(project, spec["overlap"])
def _attention_items_sync(project: Project, spec: dict) -> None:
    checks = spec["attention_checks"]["items"]
    wanted = {check["id"]: check for check in checks}
    existing = {item.external_id: item for item in project.items.filter(external_id__in=list(wanted))}
    for index, check in enumerate(checks):
        item = existing.get(check["id"])
        if item is not None and item.role != Item.Role.ATTENTION:
            raise SpecError(f"attention_checks.items[{index}].id", f"{check['id']!r} is already an imported item's id")
        if item is None:
            Item.objects.create(project=project, external_id=check["id"], kind=project.kind, data=check["data"],
                                role=Item.Role.ATTENTION, gold=check["expect"], needed=project.overlap)
        else:
            Item.objects.filter(id=item.id).update(data=check["data"], gold=check["expect"])
    # Checks dropped from the spec go unless someone already answered them (their results stay meaningful).
    project.items.filter(role=Item.Role.ATTENTION, assignments__isnull=True).exclude(
        external_id__in=list(wanted)
    ).delete()


def _gold_items_sync(project: Project, spec: dict) -> None:
    answers = spec["gold"]["answers"]
    project.items.filter(role=Item.Role.GOLD).exclude(external_id__in=list(answers)).update(
        role=Item.Role.TASK, gold=None
    )
    for item in project.items.filter(external_id__in=list(answers)).exclude(role=Item.Role.ATTENTION):
        item.role, item.gold = Item.Role.GOLD, answers[item.external_id]
        item.save(update_fields=["role", "gold"])


def _overlap_apply(project: Project, overlap: int) -> None:
    # Never below `taken`: live reservations and stored labels keep their slots.
    project.items.filter(role=Item.Role.TASK).update(
        needed=Greatest(Value(overlap), F("taken")),
        is_full=Case(When(taken__gte=overlap, then=Value(True)), default=Value(False)),
    )
