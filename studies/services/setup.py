"""Study setup writes: create, update, delete and share a study from its spec, store or import responses, open
and close it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from itertools import combinations
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils import timezone

from studies.models import AttentionCheck, Pair, Prompt, Response, Study, System
from studies.spec import SpecError, spec_parse
from webapp.people.ownership import collaborator_add, collaborator_remove, may_manage, owned_or_shared
from webapp.specs import SlugTaken, spec_hash

# Keys whose change would invalidate judgments already collected.
FROZEN_ONCE_STARTED = ("prompts", "systems", "criteria", "pairs_per_participant", "judgments_per_pair",
                       "attention_checks", "repeat_prompts")


class StudyError(ValueError):
    """A study cannot be changed or opened as asked; the message says why (file, line, field where known)."""


@transaction.atomic
def study_create(*, spec: str | dict, owner) -> Study:
    """A new study owned by ``owner`` from spec text (YAML/JSON) or a mapping (``studies.spec.spec_parse``).
    ``SlugTaken`` when any study (whoever's) already has the slug: creating never updates another study."""
    spec = spec_parse(spec)
    if Study.objects.filter(slug=spec["slug"]).exists():
        raise SlugTaken(spec["slug"], "study")
    study = Study.objects.create(slug=spec["slug"], title=spec["title"], spec=spec, spec_hash=spec_hash(spec),
                                 owner=owner)
    _sync_rows(study, spec)
    return study


@transaction.atomic
def study_update(*, study: Study, spec: str | dict, by=None) -> Study:
    """Replaces ``study``'s spec (text or mapping). The slug must stay the study's own. ``by``, the researcher
    acting, must own or share it, or be a superuser (PermissionDenied otherwise; None for a command).

    Upserts systems by name and prompts by id; systems and prompts the spec no longer lists are removed with
    their responses. Once a participant has started, and while the study is open, only wording and recruitment
    may change (``FROZEN_ONCE_STARTED`` keys must be equal), else ``StudyError``. The same spec twice changes
    nothing."""
    spec = spec_parse(spec)
    if spec["slug"] != study.slug:
        raise SpecError("slug", f"a study's slug cannot change (this one is {study.slug!r}); "
                                "load the spec as a new study instead")
    study = Study.objects.select_for_update().get(pk=study.pk)
    if by is not None and not owned_or_shared(Study.objects.filter(pk=study.pk), by).exists():
        raise PermissionDenied(f"the slug {study.slug!r} belongs to another researcher's study")
    digest = spec_hash(spec)
    if study.spec_hash == digest:
        return study
    if study.is_open or study.participants.exists():
        changed = [key for key in FROZEN_ONCE_STARTED if study.spec.get(key) != spec.get(key)]
        if changed:
            raise StudyError(f"{changed[0]}: cannot change while the study is open or once participants "
                             "have started (close it, or make a new study)")
    study.title, study.spec, study.spec_hash = spec["title"], spec, digest
    study.save(update_fields=["title", "spec", "spec_hash"])
    _sync_rows(study, spec)
    return study


@transaction.atomic
def study_load(*, spec: dict, owner) -> Study:
    """Creates or updates the study a normalised spec (``studies.spec.spec_parse``) describes, acting as
    ``owner``: what ``manage.py load_study``, the demo and the model comparison do (pages and API create and
    update separately). Loading over a study ``owner`` neither owns nor shares is a ``StudyError``."""
    study = Study.objects.filter(slug=spec["slug"]).first()
    if study is None:
        return study_create(spec=spec, owner=owner)
    try:
        return study_update(study=study, spec=spec, by=owner)
    except PermissionDenied:
        raise StudyError(f"slug: a study {spec['slug']!r} already exists and is not yours") from None


@transaction.atomic
def study_delete(*, study: Study, by) -> None:
    """Deletes a study. Only its owner or a superuser deletes (PermissionDenied, also for a collaborator); a
    study with participants is refused (StudyError): close it instead, so collected judgments are never lost."""
    if not may_manage(study, by):
        raise PermissionDenied("only the owner may delete a study")
    refusal = study_delete_refusal(study=study)
    if refusal:
        raise StudyError(refusal)
    study.delete()


def study_delete_refusal(*, study: Study) -> str:
    """Why the study may not be deleted ("" when it may): collected judgments are never deleted with it."""
    return "a study with participants cannot be deleted; close it instead" if study.participants.exists() else ""


@transaction.atomic
def study_share(*, study: Study, username: str, by) -> None:
    """Gives the researcher ``username`` access to the study (see ``collaborator_add``)."""
    collaborator_add(obj=study, username=username, by=by)


@transaction.atomic
def study_unshare(*, study: Study, username: str, by) -> None:
    """Takes access back from the collaborator ``username`` (see ``collaborator_remove``)."""
    collaborator_remove(obj=study, username=username, by=by)


def _sync_rows(study: Study, spec: dict) -> None:
    _sync_systems(study, spec["systems"])
    _sync_prompts(study, spec["prompts"])
    _sync_attention_checks(study, spec["attention_checks"]["items"])


def _sync_systems(study: Study, systems: list[dict]) -> None:
    existing = {system.name: system for system in study.systems.all()}
    wanted = [s["name"] for s in systems]
    study.systems.exclude(name__in=wanted).delete()
    # positions are unique: park the kept rows out of the way before renumbering
    study.systems.update(position=models.F("position") + 10_000)
    for position, row in enumerate(systems):
        system = existing.get(row["name"])
        if system is None:
            System.objects.create(study=study, name=row["name"], kind=row["kind"],
                                  model_version_id=row["model_version"], position=position)
        else:
            System.objects.filter(pk=system.pk).update(kind=row["kind"], model_version_id=row["model_version"],
                                                       position=position)


def _sync_prompts(study: Study, prompts: list[dict]) -> None:
    existing = {p.external_id: p for p in study.prompts.all()}
    study.prompts.exclude(external_id__in=[p["id"] for p in prompts]).delete()
    new = []
    for row in prompts:
        prompt = existing.get(row["id"])
        metadata = row.get("metadata") or {}
        if prompt is None:
            new.append(Prompt(study=study, external_id=row["id"], context=row["context"], metadata=metadata))
        elif prompt.context != row["context"] or prompt.metadata != metadata:
            Prompt.objects.filter(pk=prompt.pk).update(context=row["context"], metadata=metadata)
    Prompt.objects.bulk_create(new)


def _sync_attention_checks(study: Study, items: list[dict]) -> None:
    study.attention_checks.all().delete()
    AttentionCheck.objects.bulk_create(
        AttentionCheck(study=study, external_id=i["id"], context=i["context"], good=i["good"], bad=i["bad"])
        for i in items
    )


@transaction.atomic
def responses_store(*, study: Study, system_name: str, rows: list[dict]) -> int:
    """Upserts responses of one system keyed by (prompt, system); for GPU workers and imports.

    ``rows``: ``[{prompt_id, text, model_version_id?, metadata?}]`` with ``prompt_id`` the prompt's
    external id. Unknown prompt or system raises ``StudyError``. Returns the number of rows written.
    Responses of an open study cannot change (participants may have read them).
    """
    if study.is_open:
        raise StudyError("responses cannot change while the study is open")
    system = System.objects.filter(study=study, name=system_name).first()
    if system is None:
        raise StudyError(f"system: {system_name!r} is not a system of study {study.slug!r}")
    prompts = dict(Prompt.objects.filter(study=study).values_list("external_id", "id"))
    objects = []
    for row in rows:
        prompt_id = prompts.get(str(row["prompt_id"]))
        if prompt_id is None:
            raise StudyError(f"prompt_id: {row['prompt_id']!r} is not a prompt of study {study.slug!r}")
        objects.append(Response(
            study=study, prompt_id=prompt_id, system=system, text=row["text"],
            model_version_id=row.get("model_version_id", system.model_version_id),
            metadata=row.get("metadata") or {},
        ))
    Response.objects.bulk_create(
        objects, update_conflicts=True, unique_fields=["prompt", "system"],
        update_fields=["text", "model_version_id", "metadata"],
    )
    return len(objects)


def responses_parse(*, lines: Iterable[str], source: str, study: Study) -> dict[str, list[dict]]:
    """Validates a JSONL import ``{prompt_id, system, response}`` completely before anything is written.

    Returns rows grouped by system name. Raises ``StudyError("<source>:<line>: <field>: ...")`` on bad
    JSON, a missing field, an unknown prompt or system, or a (prompt, system) given twice.
    """
    prompts = set(Prompt.objects.filter(study=study).values_list("external_id", flat=True))
    systems = set(System.objects.filter(study=study).values_list("name", flat=True))
    seen: dict[tuple[str, str], int] = {}
    grouped: dict[str, list[dict]] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise StudyError(f"{where}: not valid JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise StudyError(f"{where}: each line must be an object {{prompt_id, system, response}}")
        for field in ("prompt_id", "system", "response"):
            value = row.get(field)
            if value is None or (isinstance(value, str) and not value.strip()):
                raise StudyError(f"{where}: {field}: is missing")
        prompt_id, system = str(row["prompt_id"]), str(row["system"])
        if not isinstance(row["response"], str):
            raise StudyError(f"{where}: response: must be a string")
        if prompt_id not in prompts:
            raise StudyError(f"{where}: prompt_id: {prompt_id!r} is not a prompt of this study")
        if system not in systems:
            raise StudyError(f"{where}: system: {system!r} is not a system of this study")
        if (prompt_id, system) in seen:
            raise StudyError(f"{where}: prompt_id: duplicate response for ({prompt_id!r}, {system!r}), "
                             f"first given on line {seen[(prompt_id, system)]}")
        seen[(prompt_id, system)] = number
        grouped.setdefault(system, []).append({
            "prompt_id": prompt_id, "text": row["response"],
            "model_version_id": row.get("model_version_id"), "metadata": row.get("metadata") or {},
        })
    return grouped


@transaction.atomic
def responses_import(*, study: Study, lines: Iterable[str], source: str) -> int:
    """Parses (see ``responses_parse``) then stores every row; all or nothing. Returns rows stored."""
    grouped = responses_parse(lines=lines, source=source, study=study)
    return sum(responses_store(study=study, system_name=name, rows=rows) for name, rows in grouped.items())


def responses_import_file(*, study: Study, path: Path) -> int:
    try:
        with path.open(encoding="utf-8") as handle:
            return responses_import(study=study, lines=handle, source=path.name)
    except OSError as exc:
        raise StudyError(f"{path}: cannot read ({exc.strerror})") from exc


def responses_missing(*, study: Study) -> list[tuple[str, str]]:
    """(prompt id, system name) for every response the study still lacks."""
    have = set(Response.objects.filter(study=study).values_list("prompt__external_id", "system__name"))
    return [(p, s) for p in study.prompts.values_list("external_id", flat=True)
            for s in study.systems.values_list("name", flat=True) if (p, s) not in have]


@transaction.atomic
def study_open(*, study: Study) -> Study:
    """Checks every prompt has a response from every system, builds the pairs, opens the link.

    Raises ``StudyError`` naming the first missing (prompt, system) and how many are missing.
    """
    missing = responses_missing(study=study)
    if missing:
        prompt_id, system = missing[0]
        raise StudyError(f"responses: prompt {prompt_id!r} has no response from system {system!r} "
                         f"({len(missing)} missing in all); import them before opening")
    responses = {(r.prompt_id, r.system_id): r.pk for r in Response.objects.filter(study=study)}
    systems = list(study.systems.order_by("position"))
    pairs = [
        Pair(study=study, prompt_id=prompt_id, system_a=a, system_b=b,
             response_a_id=responses[(prompt_id, a.pk)], response_b_id=responses[(prompt_id, b.pk)])
        for prompt_id in study.prompts.values_list("id", flat=True)
        for a, b in combinations(systems, 2)
    ]
    Pair.objects.bulk_create(pairs, ignore_conflicts=True)
    study.is_open = True
    study.opened_at = study.opened_at or timezone.now()
    study.save(update_fields=["is_open", "opened_at"])
    return study


@transaction.atomic
def study_close(*, study: Study) -> Study:
    study.is_open = False
    study.save(update_fields=["is_open"])
    return study
