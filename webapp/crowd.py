"""Crowd identities from recruitment links (Prolific, MTurk, open links)."""

import secrets
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

MAX_ID_LENGTH = 128


@dataclass(frozen=True)
class CrowdIdentity:
    platform: str
    worker_id: str
    study_id: str = ""
    session_id: str = ""
    extra: dict = field(default_factory=dict)


def crowd_identity_from_params(params) -> CrowdIdentity | None:
    """Reads Prolific (`PROLIFIC_PID`, `STUDY_ID`, `SESSION_ID`) or MTurk (`workerId`, `assignmentId`, `hitId`)
    parameters from a QueryDict or dict. Returns None when the link carries no crowd identity."""
    prolific = (params.get("PROLIFIC_PID") or "").strip()[:MAX_ID_LENGTH]
    if prolific:
        return CrowdIdentity("prolific", prolific, (params.get("STUDY_ID") or "")[:MAX_ID_LENGTH],
                             (params.get("SESSION_ID") or "")[:MAX_ID_LENGTH])
    worker = (params.get("workerId") or "").strip()[:MAX_ID_LENGTH]
    if worker:
        assignment = (params.get("assignmentId") or "")[:MAX_ID_LENGTH]
        if assignment == "ASSIGNMENT_ID_NOT_AVAILABLE":
            return None  # MTurk preview: the worker has not accepted the HIT yet
        return CrowdIdentity("mturk", worker, (params.get("hitId") or "")[:MAX_ID_LENGTH], assignment)
    return None


def crowd_identity_from_request(request) -> CrowdIdentity | None:
    return crowd_identity_from_params(request.GET)


def crowd_user_get_or_create(*, identity: CrowdIdentity | None, role: str):
    """Creates or resumes the account behind a crowd identity; None makes a fresh open-link account."""
    user_model = get_user_model()
    if identity is None:
        return user_model.objects.create_user(
            username=f"open-{secrets.token_hex(8)}", role=role, crowd_platform="open"
        )
    username = f"{identity.platform}-{role[0]}-{identity.worker_id}"[:150]
    try:
        with transaction.atomic():
            user, _ = user_model.objects.get_or_create(
                crowd_platform=identity.platform,
                crowd_id=identity.worker_id,
                role=role,
                defaults={"username": username},
            )
    except IntegrityError:
        user = user_model.objects.get(crowd_platform=identity.platform, crowd_id=identity.worker_id, role=role)
    return user
