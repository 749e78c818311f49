"""Importing judgments collected elsewhere (CSV), for re-analysis beside the platform's own."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction

from studies.models import Judgment, Pair, Participant, Prompt, Study, System
from studies.services.setup import StudyError
from webapp.people.crowd import CrowdIdentity, crowd_user_get_or_create
from webapp.people.models import User

REQUIRED = ("participant_id", "prompt_id", "system_a", "system_b", "choice")
OPTIONAL = ("left", "criterion")
FLIP = {"a": "b", "b": "a", "tie": "tie", "": ""}


@dataclass(frozen=True)
class JudgmentsImported:
    """What an import stored: judgments, participants new to the study, participant attribute columns kept."""

    judgments: int
    participants: int
    attributes: list[str] = field(default_factory=list)


def participant_attribute_names(study: Study) -> list[str]:
    """Columns an import may carry as participant attributes: exactly those the group analysis breaks
    results down by (demographic ones and the study's non-free-text survey questions)."""
    from studies.analysis.load import study_group_attributes

    return study_group_attributes(study)


def judgments_parse(*, lines: Iterable[str], source: str, study: Study) -> list[dict]:
    """Validates a CSV ``participant_id,prompt_id,system_a,system_b,choice[,left][,criterion][,attributes]``.

    ``choice`` is a/b/tie relative to the row's system_a/system_b; ``left`` (a/b, optional) says which
    of them was shown on the left; ``criterion`` defaults to the study's first criterion. Any other
    column is a participant attribute and must be one the analysis can group by
    (``participant_attribute_names``): an unknown column is refused, never dropped. A participant's
    attribute must be the same on every row (blank cells say nothing). Rows are turned to canonical
    order (system_a the system listed first in the spec), flipping choice and left; each row carries
    ``attributes`` ({column: text}). Raises ``StudyError("<source>:<line>: <field>: ...")``.
    """
    reader = csv.DictReader(lines)
    header = [(h or "").strip() for h in (reader.fieldnames or [])]
    for name in REQUIRED:
        if name not in header:
            raise StudyError(f"{source}:1: {name}: missing column (need {', '.join(REQUIRED)})")
    allowed = participant_attribute_names(study)
    attribute_columns = [h for h in header if h and h not in REQUIRED and h not in OPTIONAL]
    for name in attribute_columns:
        if name not in allowed:
            raise StudyError(f"{source}:1: {name}: unknown column; a participant attribute column must be one of "
                             f"{', '.join(allowed)} (or add it to the study's survey)")
    seen_attributes: dict[str, dict[str, tuple[str, int]]] = {}
    systems = {s.name: s for s in System.objects.filter(study=study)}
    prompts = dict(Prompt.objects.filter(study=study).values_list("external_id", "id"))
    criteria = [c["name"] for c in study.spec["criteria"]]
    rows = []
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        where = f"{source}:{number}"
        for name in REQUIRED:
            if not row.get(name):
                raise StudyError(f"{where}: {name}: is empty")
        if row["prompt_id"] not in prompts:
            raise StudyError(f"{where}: prompt_id: {row['prompt_id']!r} is not a prompt of this study")
        for side in ("system_a", "system_b"):
            if row[side] not in systems:
                raise StudyError(f"{where}: {side}: {row[side]!r} is not a system of this study")
        if row["system_a"] == row["system_b"]:
            raise StudyError(f"{where}: system_b: a system cannot be compared with itself")
        choice, left = row["choice"].lower(), row.get("left", "").lower()
        if choice not in ("a", "b", "tie"):
            raise StudyError(f"{where}: choice: must be a, b or tie")
        if left not in ("", "a", "b"):
            raise StudyError(f"{where}: left: must be a or b (or empty)")
        criterion = row.get("criterion") or criteria[0]
        if criterion not in criteria:
            raise StudyError(f"{where}: criterion: {criterion!r} is not a criterion of this study")
        a, b = systems[row["system_a"]], systems[row["system_b"]]
        if a.position > b.position:
            a, b, choice, left = b, a, FLIP[choice], FLIP[left]
        known = seen_attributes.setdefault(row["participant_id"], {})
        attributes = {}
        for name in attribute_columns:
            text = row.get(name, "")
            if not text:
                continue
            first, first_line = known.setdefault(name, (text, number))
            if first != text:
                raise StudyError(f"{where}: {name}: {text!r} but line {first_line} gives participant "
                                 f"{row['participant_id']!r} {first!r}")
            attributes[name] = text
        rows.append({"participant": row["participant_id"], "prompt_id": prompts[row["prompt_id"]],
                     "system_a": a, "system_b": b, "choice": choice, "left": left, "criterion": criterion,
                     "attributes": attributes})
    return rows


@transaction.atomic
def judgments_import(*, study: Study, lines: Iterable[str], source: str) -> JudgmentsImported:
    """Parses (``judgments_parse``) and stores every row with ``source="import"``; all or nothing.

    Each external participant id becomes a participant account (platform "imported", scoped to the
    study) so group analyses and exports treat them like anyone else; their attribute columns are
    stored as the participant's answers in this study (``Participant.survey``), which the group
    analysis reads. Returns what was stored and which attribute columns were kept.
    """
    rows = judgments_parse(lines=lines, source=source, study=study)
    participants: dict[str, Participant] = {p.user.crowd_id: p for p in
                                            Participant.objects.filter(study=study).select_related("user")}
    next_index = max((p.index for p in participants.values()), default=-1) + 1
    pairs = {(p.prompt_id, p.system_a_id, p.system_b_id): p.pk for p in Pair.objects.filter(study=study)}
    judgments = []
    created = 0
    answers: dict[int, dict] = {}
    kept: dict[str, None] = {}
    for row in rows:
        crowd_id = f"{study.slug}/{row['participant']}"
        participant = participants.get(crowd_id)
        if participant is None:
            user = crowd_user_get_or_create(identity=CrowdIdentity(User.Platform.IMPORTED, crowd_id),
                                            role=User.Role.PARTICIPANT)
            participant = Participant.objects.create(study=study, user=user, index=next_index, seed=next_index,
                                                     stage=Participant.Stage.IMPORTED)
            participants[crowd_id] = participant
            next_index += 1
            created += 1
        if row["attributes"]:
            answers.setdefault(participant.pk, dict(participant.survey or {})).update(row["attributes"])
            kept.update(dict.fromkeys(row["attributes"]))
        judgments.append(Judgment(
            study=study, participant=participant, prompt_id=row["prompt_id"], system_a=row["system_a"],
            system_b=row["system_b"], pair_id=pairs.get((row["prompt_id"], row["system_a"].pk, row["system_b"].pk)),
            choice=row["choice"], left=row["left"], criterion=row["criterion"], source=Judgment.Source.IMPORT,
        ))
    Judgment.objects.bulk_create(judgments)
    changed = [Participant(pk=pk, survey=survey) for pk, survey in answers.items()]
    Participant.objects.bulk_update(changed, ["survey"])
    return JudgmentsImported(judgments=len(judgments), participants=created, attributes=list(kept))
