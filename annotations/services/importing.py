"""Writes that bring data in: project specs, items and labels collected elsewhere.

Each public function is one transaction: a malformed line anywhere stores nothing.
Errors are ``SpecError`` (spec text), ``ImportFormatError`` (file, line, field) or
``ValueError`` (a request that cannot be met, e.g. a new project without an owner).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.db.models.functions import Least

from annotations.importing import ImportFormatError, iter_items, iter_label_rows
from annotations.importing.sources import source_name
from annotations.models import Item, ItemKind, Label, Project, ProjectAnnotator
from annotations.services import projects
from annotations.spec import dimension_value_clean, dimension_value_parse, spec_load

BATCH_SIZE = 2000
IMPORTED_PLATFORM = "imported"


class LabelsImported(int):
    """How many Label rows an import wrote (an int), with the attribute columns it recorded."""

    attributes: list[str]

    def __new__(cls, count: int, attributes: list[str]):
        made = super().__new__(cls, count)
        made.attributes = attributes
        return made


# ---------------------------------------------------------------------------------------------
# projects


@transaction.atomic
def project_load_spec(*, spec_text: str, owner=None, editor=None) -> Project:
    """Creates or updates (by slug) a project from YAML/JSON spec text: what ``manage.py load_project`` and the
    demo do (the pages and the API create and update separately, see ``annotations.services.projects``).

    A new project needs ``owner`` (or ``editor``, who then owns it); on update the owner stays unless one is
    given. ``editor``, when given, must own or share an existing project (PermissionDenied otherwise)."""
    spec = spec_load(spec_text)
    project = Project.objects.select_for_update().filter(slug=spec["slug"]).first()
    if project is None:
        if (owner or editor) is None:
            raise ValueError(f"project {spec['slug']!r} is new: give its owner")
        return projects.project_create(spec_text=spec_text, owner=owner or editor)
    return projects.project_update(project=project, spec_text=spec_text, by=editor, owner=owner)


# ---------------------------------------------------------------------------------------------
# items


@transaction.atomic
def items_import(*, project: Project, path_or_file: Any, fmt: str | None = None) -> int:
    """Imports every item of a file into ``project``, all or nothing; returns how many.

    Streams the file and inserts in batches of ``BATCH_SIZE``. An id already in the project or
    twice in the file is an error, as is an item of another kind than the project's. A line's
    ``gold`` / ``attention_check`` answers (or the spec's ``gold.answers``) make it a gold item
    / attention check; metadata ``distressing: true`` flags the item for a content warning.
    """
    name = source_name(path_or_file)
    spec = project.spec
    dims = {d["name"]: d for d in spec.get("dimensions", [])}
    spec_gold = (spec.get("gold") or {}).get("answers") or {}
    existing = set(project.items.values_list("external_id", flat=True).iterator(chunk_size=10_000))
    batch: list[Item] = []
    count = 0
    for parsed in iter_items(path_or_file, fmt=fmt, kind=project.kind):
        if parsed["external_id"] in existing:
            raise ImportFormatError(name, parsed["line"], "id",
                                    f"{parsed['external_id']!r} is already an item of project {project.slug!r}")
        role, gold = _role_and_answers(parsed, spec_gold.get(parsed["external_id"]), dims, name)
        metadata = parsed["metadata"]
        distressing = _truthy(metadata.pop("distressing", False))
        batch.append(Item(project=project, external_id=parsed["external_id"], kind=parsed["kind"],
                          data=parsed["data"], metadata=metadata, role=role, gold=gold,
                          distressing=distressing, needed=project.overlap))
        if len(batch) >= BATCH_SIZE:
            Item.objects.bulk_create(batch)
            count += len(batch)
            batch = []
    if batch:
        Item.objects.bulk_create(batch)
        count += len(batch)
    return count


def _role_and_answers(parsed: dict, spec_answers: dict | None, dims: dict, name: str) -> tuple[str, dict | None]:
    if parsed["attention_check"]:
        return Item.Role.ATTENTION, _answers_clean(parsed["attention_check"], dims, name, parsed["line"],
                                                   "attention_check")
    if parsed["gold"]:
        return Item.Role.GOLD, _answers_clean(parsed["gold"], dims, name, parsed["line"], "gold")
    if spec_answers:
        return Item.Role.GOLD, spec_answers
    return Item.Role.TASK, None


def _answers_clean(answers: dict, dims: dict, name: str, line: int, key: str) -> dict:
    clean = {}
    for dimension, value in answers.items():
        if dimension not in dims:
            raise ImportFormatError(name, line, f"{key}.{dimension}", f"no such dimension (one of {', '.join(dims)})")
        try:
            clean[dimension] = dimension_value_clean(dims[dimension], value)
        except ValueError as exc:
            raise ImportFormatError(name, line, f"{key}.{dimension}", str(exc)) from None
    return clean


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("1", "true", "yes"))


# ---------------------------------------------------------------------------------------------
# labels


@transaction.atomic
def labels_import(*, project: Project, path_or_file: Any, fmt: str | None = None,
                  dimension: str | None = None, same_annotators_as: Project | None = None) -> LabelsImported:
    """Imports labels collected elsewhere, all or nothing; returns how many Label rows it wrote
    (``LabelsImported``, an int that also lists the attribute columns it recorded).

    Accepts a long CSV (item_id, annotator_id, dimension, value, optional turn, attribute
    columns; see ``annotations.importing.labels``) or an EPITOME file (its levels become
    labels of annotator ``epitome``; ``dimension`` names the target when the file name does
    not). One Label per (item, annotator) gathers every dimension. Annotator ids belong to the
    project: ``us1`` imported into two projects is two people, unless ``same_annotators_as``
    names the project whose annotators these ids are (then ``us1`` is that project's ``us1``).
    A new id becomes an imported annotator (crowd_platform ``imported``, crowd_id
    ``<owning project slug>/<id>``). The extra columns are recorded as the annotator's
    attributes in ``project`` only (``ProjectAnnotator``), never in another project. A blank
    value is a missing label and stores nothing. Labels already stored for the same (item,
    annotator) are merged; a dimension stored with a different value is an error.
    """
    name = source_name(path_or_file)
    dims = {d["name"]: d for d in project.spec.get("dimensions", [])}
    items = _item_index(project)
    gathered = _LabelGathering(name)
    for row in iter_label_rows(path_or_file, fmt=fmt):
        dim = _dimension_for(row, dims, dimension, name)
        item_id, turns = items.get(row["item_id"], (None, 0))
        if item_id is None:
            raise ImportFormatError(name, row["line"], "item_id", f"{row['item_id']!r} is not an item of {project.slug!r}")
        _turn_check(row, dim, turns, name)
        value = None
        if row["value"] is not None:
            try:
                value = dimension_value_parse(dim, row["value"])
            except ValueError as exc:
                raise ImportFormatError(name, row["line"], "value", f"{dim['name']}: {exc}") from None
        gathered.add(row, item_id, dim["name"], value)
    scope = (same_annotators_as or project).slug
    annotators = _imported_annotators(gathered.attributes, gathered.first_line, name, scope=scope)
    _project_attributes_record(project, gathered.attributes, annotators)
    kept = sorted({key for attributes in gathered.attributes.values() for key in attributes})
    return LabelsImported(_labels_store(project, gathered, annotators, name), kept)


def _item_index(project: Project) -> dict[str, tuple[int, int]]:
    """external id -> (item id, number of turns)."""
    if project.kind == ItemKind.DIALOGUE:
        rows = project.items.values_list("external_id", "id", "data").iterator(chunk_size=5000)
        return {ext: (pk, len(data.get("turns", []))) for ext, pk, data in rows}
    rows = project.items.values_list("external_id", "id").iterator(chunk_size=10_000)
    return {ext: (pk, 0) for ext, pk in rows}


def _dimension_for(row: dict, dims: dict, override: str | None, name: str) -> dict:
    wanted = row["dimension"] if row["dimension"] is not None and override is None else override
    if wanted is None:  # an EPITOME file whose name names no mechanism
        levels = [d for d in dims.values() if d["type"] == "levels"]
        if len(levels) != 1:
            raise ImportFormatError(name, row["line"], "level", "the file name names no EPITOME mechanism; "
                                    "name the dimension (--dimension)")
        return levels[0]
    if wanted not in dims:
        raise ImportFormatError(name, row["line"], "dimension", f"{wanted!r} is not one of {', '.join(dims)}")
    return dims[wanted]


def _turn_check(row: dict, dim: dict, turns: int, name: str) -> None:
    if dim["per_turn"] and row["turn"] is None:
        raise ImportFormatError(name, row["line"], "dimension", f"{dim['name']} is rated per turn: write "
                                f"{dim['name']}[turn] or fill the turn column")
    if not dim["per_turn"] and row["turn"] is not None:
        raise ImportFormatError(name, row["line"], "turn", f"{dim['name']} is not rated per turn")
    if row["turn"] is not None and row["turn"] >= turns:
        raise ImportFormatError(name, row["line"], "turn", f"turn {row['turn']} but the dialogue has {turns} turns")


class _LabelGathering:
    """Values per (item, annotator), attributes per annotator, and where each was first seen."""

    def __init__(self, name: str):
        self.name = name
        self.values: dict[tuple[int, str], dict] = defaultdict(dict)
        self.lines: dict[tuple[int, str], int] = {}
        self.attributes: dict[str, dict] = {}
        self.first_line: dict[str, int] = {}
        self._cells: dict[tuple, int] = {}

    def add(self, row: dict, item_id: int, dimension: str, value: Any) -> None:
        annotator, line = row["annotator_id"], row["line"]
        cell = (item_id, annotator, dimension, row["turn"])
        if cell in self._cells:
            raise ImportFormatError(self.name, line, "dimension", f"{dimension} of {row['item_id']!r} by "
                                    f"{annotator!r} already appears on line {self._cells[cell]}")
        self._cells[cell] = line
        self.first_line.setdefault(annotator, line)
        known = self.attributes.setdefault(annotator, {})
        for key, text in row["attributes"].items():
            if known.setdefault(key, text) != text:
                raise ImportFormatError(self.name, line, key, f"{text!r} but an earlier line gives {annotator!r} "
                                        f"{known[key]!r}")
        key = (item_id, annotator)
        self.lines.setdefault(key, line)
        if value is None:
            return
        if row["turn"] is None:
            self.values[key][dimension] = value
        else:
            self.values[key].setdefault(dimension, {})[str(row["turn"])] = value


def _imported_annotators(attributes: dict[str, dict], first_line: dict[str, int], name: str, *,
                         scope: str) -> dict[str, int]:
    """file's annotator id -> user id; the imported annotators of project ``scope``, created when new."""
    user_model = get_user_model()
    role = user_model.Role.ANNOTATOR
    limit = 128 - len(scope) - 1
    for annotator_id, line in first_line.items():
        if len(annotator_id) > limit:
            raise ImportFormatError(name, line, "annotator_id", f"is longer than {limit} characters")
    crowd_ids = {annotator_id: f"{scope}/{annotator_id}" for annotator_id in attributes}
    found = {}
    ids = list(crowd_ids.values())
    for start in range(0, len(ids), BATCH_SIZE):
        chunk = ids[start:start + BATCH_SIZE]
        for user in user_model.objects.filter(crowd_platform=IMPORTED_PLATFORM, role=role, crowd_id__in=chunk):
            found[user.crowd_id] = user
    new = [
        user_model(username=f"{IMPORTED_PLATFORM}-{role[0]}-{crowd_id}"[:150], role=role,
                   crowd_platform=IMPORTED_PLATFORM, crowd_id=crowd_id)
        for crowd_id in ids if crowd_id not in found
    ]
    for user in new:
        user.set_unusable_password()
    taken_names = set(user_model.objects.filter(username__in=[u.username for u in new]).values_list("username", flat=True))
    line_of = {crowd_ids[annotator_id]: line for annotator_id, line in first_line.items()}
    for user in new:
        if user.username in taken_names:
            raise ImportFormatError(name, line_of[user.crowd_id], "annotator_id",
                                    f"username {user.username!r} is taken by another account")
    user_model.objects.bulk_create(new, batch_size=BATCH_SIZE)
    # bulk_create returns primary keys on PostgreSQL and SQLite >= 3.35 alike
    by_crowd_id = {user.crowd_id: user.pk for user in [*found.values(), *new]}
    return {annotator_id: by_crowd_id[crowd_id] for annotator_id, crowd_id in crowd_ids.items()}


def _project_attributes_record(project: Project, attributes: dict[str, dict], annotators: dict[str, int]) -> None:
    """Merges this file's attribute columns into each annotator's record for ``project`` alone."""
    records = {r.annotator_id: r for r in ProjectAnnotator.objects.filter(
        project=project, annotator_id__in=list(annotators.values()))}
    new, changed = [], []
    for annotator_id, user_id in annotators.items():
        record = records.get(user_id)
        if record is None:
            new.append(ProjectAnnotator(project=project, annotator_id=user_id, attributes=attributes[annotator_id]))
            continue
        merged = {**record.attributes, **attributes[annotator_id]}
        if merged != record.attributes:
            record.attributes = merged
            changed.append(record)
    ProjectAnnotator.objects.bulk_create(new, batch_size=BATCH_SIZE)
    ProjectAnnotator.objects.bulk_update(changed, ["attributes"], batch_size=BATCH_SIZE)


def _labels_store(project: Project, gathered: _LabelGathering, annotators: dict[str, int], name: str) -> int:
    wanted = {(item_id, annotators[crowd_id]): (item_id, crowd_id) for item_id, crowd_id in gathered.values}
    stored = {}
    pairs = list(wanted)
    for start in range(0, len(pairs), BATCH_SIZE):
        chunk = pairs[start:start + BATCH_SIZE]
        item_ids = {item for item, _ in chunk}
        user_ids = {user for _, user in chunk}
        for label in Label.objects.filter(item_id__in=item_ids, annotator_id__in=user_ids):
            if (label.item_id, label.annotator_id) in wanted:
                stored[(label.item_id, label.annotator_id)] = label
    new, changed = [], []
    added_per_item: dict[int, int] = defaultdict(int)
    for pair, key in wanted.items():
        values = gathered.values[key]
        label = stored.get(pair)
        if label is None:
            new.append(Label(project=project, item_id=pair[0], annotator_id=pair[1], values=values,
                             source=Label.Source.IMPORT))
            added_per_item[pair[0]] += 1
            continue
        merged = _merge_values(label.values, values, name, gathered.lines[key])
        if merged != label.values:
            label.values = merged
            changed.append(label)
    Label.objects.bulk_create(new, batch_size=BATCH_SIZE)
    Label.objects.bulk_update(changed, ["values"], batch_size=BATCH_SIZE)
    _item_counts_add(added_per_item)
    return len(new) + len(changed)


def _merge_values(stored: dict, incoming: dict, name: str, line: int) -> dict:
    merged = {k: (dict(v) if isinstance(v, dict) else v) for k, v in stored.items()}
    for dimension, value in incoming.items():
        if isinstance(value, dict):
            turns = merged.setdefault(dimension, {})
            for turn, turn_value in value.items():
                if turns.setdefault(turn, turn_value) != turn_value:
                    raise ImportFormatError(name, line, "value", f"{dimension}[{turn}] is already stored as "
                                            f"{turns[turn]!r} for this annotator and item")
        elif merged.setdefault(dimension, value) != value:
            raise ImportFormatError(name, line, "value", f"{dimension} is already stored as {merged[dimension]!r} "
                                    "for this annotator and item")
    return merged


def _item_counts_add(added_per_item: dict[int, int]) -> None:
    """Imported labels fill their items' slots, never beyond ``needed`` (the taken <= needed rule)."""
    by_count: dict[int, list[int]] = defaultdict(list)
    for item_id, added in added_per_item.items():
        by_count[added].append(item_id)
    for added, item_ids in by_count.items():
        for start in range(0, len(item_ids), BATCH_SIZE):
            Item.objects.filter(id__in=item_ids[start:start + BATCH_SIZE]).update(
                labels_count=F("labels_count") + added,
                taken=Least(F("needed"), F("taken") + added),
                is_full=Case(When(taken__gte=F("needed") - added, then=Value(True)), default=Value(False)),
            )
