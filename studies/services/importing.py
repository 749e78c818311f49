"""Importing judgments collected elsewhere (CSV), for re-analysis beside the platform's own."""

from __future__ import annotations

import csv
from collections.abc import Iterable

from django.db import transaction

from studies.models import Judgment, Pair, Participant, Prompt, Study, System
from studies.services.setup import StudyError
from webapp.crowd import CrowdIdentity, crowd_user_get_or_create

REQUIRED = ("participant_id", "prompt_id", "system_a", "system_b", "choice")
FLIP = {"a": "b", "b": "a", "tie": "tie", "": ""}


def judgments_parse(*, lines: Iterable[str], source: str, study: Study) -> list[dict]:
    """Validates a CSV ``participant_id,prompt_id,system_a,system_b,choice[,left][,criterion]`` fully.

    ``choice`` is a/b/tie relative to the row's system_a/system_b; ``left`` (a/b, optional) says which
    of them was shown on the left; ``criterion`` defaults to the study's first criterion. Rows are
    turned to canonical order (system_a the system listed first in the spec), flipping choice and
    left. Raises ``StudyError("<source>:<line>: <field>: ...")``.
    """
    reader = csv.DictReader(lines)
    header = [h.strip() for h in (reader.fieldnames or [])]
    for name in REQUIRED:
        if name not in header:
            raise StudyError(f"{source}:1: {name}: missing column (need {', '.join(REQUIRED)})")
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
        rows.append({"participant": row["participant_id"], "prompt_id": prompts[row["prompt_id"]],
                     "system_a": a, "system_b": b, "choice": choice, "left": left, "criterion": criterion})
    return rows


@transaction.atomic
def judgments_import(*, study: Study, lines: Iterable[str], source: str) -> int:
    """Parses (``judgments_parse``) and stores every row with ``source="import"``; all or nothing.

    Each external participant id becomes a participant account (platform "imported", scoped to the
    study) so group analyses and exports treat them like anyone else. Returns rows stored.
    """
    rows = judgments_parse(lines=lines, source=source, study=study)
    participants: dict[str, Participant] = {p.user.crowd_id: p for p in
                                            Participant.objects.filter(study=study).select_related("user")}
    next_index = max((p.index for p in participants.values()), default=-1) + 1
    pairs = {(p.prompt_id, p.system_a_id, p.system_b_id): p.pk for p in Pair.objects.filter(study=study)}
    judgments = []
    for row in rows:
        crowd_id = f"{study.slug}/{row['participant']}"
        participant = participants.get(crowd_id)
        if participant is None:
            user = crowd_user_get_or_create(identity=CrowdIdentity("imported", crowd_id), role="participant")
            participant = Participant.objects.create(study=study, user=user, index=next_index, seed=next_index,
                                                     stage=Participant.Stage.IMPORTED)
            participants[crowd_id] = participant
            next_index += 1
        judgments.append(Judgment(
            study=study, participant=participant, prompt_id=row["prompt_id"], system_a=row["system_a"],
            system_b=row["system_b"], pair_id=pairs.get((row["prompt_id"], row["system_a"].pk, row["system_b"].pk)),
            choice=row["choice"], left=row["left"], criterion=row["criterion"], source=Judgment.Source.IMPORT,
        ))
    Judgment.objects.bulk_create(judgments)
    return len(judgments)
