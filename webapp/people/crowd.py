"""Crowd identities from recruitment links (Prolific, MTurk, open links)."""

import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from webapp.people.models import User

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
        return CrowdIdentity(User.Platform.PROLIFIC, prolific, (params.get("STUDY_ID") or "")[:MAX_ID_LENGTH],
                             (params.get("SESSION_ID") or "")[:MAX_ID_LENGTH])
    worker = (params.get("workerId") or "").strip()[:MAX_ID_LENGTH]
    if worker:
        assignment = (params.get("assignmentId") or "")[:MAX_ID_LENGTH]
        if assignment == "ASSIGNMENT_ID_NOT_AVAILABLE":
            return None  # MTurk preview: the worker has not accepted the HIT yet
        return CrowdIdentity(User.Platform.MTURK, worker, (params.get("hitId") or "")[:MAX_ID_LENGTH], assignment)
    return None


def crowd_identity_from_request(request) -> CrowdIdentity | None:
    return crowd_identity_from_params(request.GET)


def crowd_user_get_or_create(*, identity: CrowdIdentity | None, role: str):
    """Creates or resumes the account behind a crowd identity; None makes a fresh open-link account."""
    return _crowd_user(identity, role)[0]


def _crowd_user(identity: CrowdIdentity | None, role: str) -> tuple:
    """(user, created) for a crowd identity; a fresh open-link account when None."""
    if identity is None:
        return User.objects.create_user(
            username=f"open-{secrets.token_hex(8)}", role=role, crowd_platform=User.Platform.OPEN
        ), True
    username = f"{identity.platform}-{role[0]}-{identity.worker_id}"[:150]
    try:
        with transaction.atomic():
            return User.objects.get_or_create(
                crowd_platform=identity.platform,
                crowd_id=identity.worker_id,
                role=role,
                defaults={"username": username},
            )
    except IntegrityError:
        return User.objects.get(crowd_platform=identity.platform, crowd_id=identity.worker_id, role=role), False


# ---------------------------------------------------------------------------------------------
# binding a crowd identity to the browser that first used it

BROWSER_COOKIE = "resonance_crowd"
_BROWSER_SALT = "webapp.crowd.browser"
_RESUME_SALT = "webapp.crowd.resume"
MAX_BOUND = 20


class CrowdRefused(PermissionDenied):
    """The link cannot be used in this browser as it stands; the message says what to do instead."""


def crowd_resume_code(*, user) -> str:
    """The code a crowd worker is shown, to continue in another browser. Derived from the server's secret, so
    nothing is stored and nobody can compute it from the worker id alone."""
    digest = salted_hmac(_RESUME_SALT, f"{user.pk}:{user.crowd_platform}:{user.crowd_id}").hexdigest()
    return f"{digest[:4]}-{digest[4:8]}".upper()


def _bound_ids(request) -> list[int]:
    raw = request.COOKIES.get(BROWSER_COOKIE)
    if not raw:
        return []
    try:
        ids = signing.loads(raw, salt=_BROWSER_SALT)
    except signing.BadSignature:
        return []
    return [value for value in ids if isinstance(value, int)] if isinstance(ids, list) else []


def _resume_matches(request, user) -> bool:
    given = (request.GET.get("resume") or "").strip().upper()
    return bool(given) and constant_time_compare(given, crowd_resume_code(user=user))


def crowd_user_for_link(*, request, identity: CrowdIdentity | None, role: str, signs_in: bool) -> tuple:
    """The account a recruitment link stands for in this browser, and whether it is new: (user, created).

    A crowd identity belongs to the browser that first used it (a signed cookie, `crowd_browser_bind`); another
    browser gets it only with the person's resume code (`?resume=`), otherwise CrowdRefused. `signs_in`: the link
    logs the browser in as that account (annotation projects): then a browser signed in as someone else is never
    switched silently, it is told to sign out first (CrowdRefused)."""
    current = getattr(request, "user", None)
    if signs_in and current is not None and current.is_authenticated:
        same = identity is None or (current.crowd_platform == identity.platform
                                    and current.crowd_id == identity.worker_id)
        if same and current.role == role:
            return current, False
        raise CrowdRefused(
            f"This browser is signed in as {current.username}, and this link is for "
            f"{'a new ' + role if identity is None else 'another person'}. Nothing was changed: sign out first, or "
            "open the link in a private window.")
    existing, created = _crowd_user(identity, role)
    if _browser_claim(existing) or existing.pk in _bound_ids(request) or _resume_matches(request, existing):
        return existing, created
    raise CrowdRefused(
        "This participant ID has already been used in another browser. To continue here, open the link again with "
        "&resume=<your resume code> added (the code was shown on the pages, e.g. ABCD-1234).")


def _browser_claim(user) -> bool:
    """Whether this browser is the first to take `user`'s crowd identity (one conditional UPDATE, so of two
    browsers racing for it exactly one wins)."""
    claimed = type(user).objects.filter(pk=user.pk, crowd_browser_claimed_at__isnull=True).update(
        crowd_browser_claimed_at=timezone.now())
    return claimed == 1


def crowd_browser_bind(*, request, response, user) -> None:
    """Records on `response` (a signed cookie, one year) that this browser may use `user`'s crowd identity."""
    ids = [value for value in _bound_ids(request) if value != user.pk][-(MAX_BOUND - 1):] + [user.pk]
    response.set_cookie(BROWSER_COOKIE, signing.dumps(ids, salt=_BROWSER_SALT), max_age=365 * 24 * 3600,
                        httponly=True, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)


RESUME_CODE_SESSION_KEY = "crowd_resume_code"


def crowd_link_remember(*, request, response, user, identity: CrowdIdentity | None) -> None:
    """What a recruitment link leaves behind once it admitted `user`: the resume code in the session (pages show
    it to a crowd worker, to continue in another browser) and this browser bound to the identity."""
    if identity is not None:
        request.session[RESUME_CODE_SESSION_KEY] = crowd_resume_code(user=user)
    crowd_browser_bind(request=request, response=response, user=user)
