"""An annotator's journey through a project (the crowd journey of webapp.people.journey): consent → survey →
instructions → work (the items) → final survey → done.

Stages without content in the spec are passed over. The final stage always asks a short wellbeing check-in."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from annotations.models import Assignment, Enrollment, Project
from annotations.services.routing import assignments_release
from webapp.people.journey import Journey
from webapp.people.surveys import attributes_from_answers, survey_has_questions

Stage = Enrollment.Stage


def project_journey(spec: dict) -> Journey:
    """The project's journey: consent with text, a before-survey with questions, instructions; the final stage
    always (its wellbeing check-in)."""
    return Journey(consent=bool((spec.get("consent") or {}).get("text")),
                   survey=survey_has_questions((spec.get("surveys") or {}).get("before")),
                   instructions=bool(spec.get("instructions")), final=True)


BREAK_MINUTES = 10


def limits(spec: dict) -> dict:
    raw = spec.get("limits") or {}
    return {
        "items_per_annotator": raw.get("items_per_annotator"),
        "session_items": raw.get("session_items"),
        "session_minutes": raw.get("session_minutes"),
        "break_every_minutes": raw.get("break_every_minutes"),
        "break_minutes": raw.get("break_minutes") or BREAK_MINUTES,
    }


def completion_offer(*, enrollment: Enrollment) -> dict:
    """What the crowd section of the pages shows: the researcher's rule (`min_labels`, labels needed for the
    completion code; 1 unless the spec says otherwise) and, once the enrollment is done and meets it, the
    completion code and redirect. `withheld` is true when the rule kept them back."""
    crowd = enrollment.project.spec.get("crowd") or {}
    minimum = 1 if crowd.get("min_labels") is None else int(crowd["min_labels"])
    offered = bool(crowd.get("completion_code") or crowd.get("redirect_url"))
    earned = enrollment.labels_done >= minimum
    return {"min_labels": minimum if offered else 0, "withheld": offered and not earned,
            "completion_code": crowd.get("completion_code") if earned else None,
            "redirect_url": crowd.get("redirect_url") if earned else None,
            "no_work_code": crowd.get("no_work_code")}


def attention_policy(spec: dict) -> dict:
    policy = (spec.get("attention_checks") or {}).get("policy") or {}
    return {"warn_after": policy.get("warn_after", 1), "end_after": policy.get("end_after", 3)}


def session_over(enrollment: Enrollment) -> bool:
    spec_limits = limits(enrollment.project.spec)
    if spec_limits["session_items"] and enrollment.session_done >= int(spec_limits["session_items"]):
        return True
    minutes = spec_limits["session_minutes"]
    started = enrollment.session_started_at
    return bool(minutes and started and timezone.now() - started >= timedelta(minutes=int(minutes)))


def break_reminder_due(enrollment: Enrollment) -> bool:
    """A gentle reminder (not a stop) once every `break_every_minutes` of a session."""
    minutes = limits(enrollment.project.spec)["break_every_minutes"]
    started = enrollment.session_started_at
    if not minutes or not started:
        return False
    elapsed = (timezone.now() - started).total_seconds() / 60
    return int(elapsed // int(minutes)) > 0 and (elapsed % int(minutes)) < 1.0


@transaction.atomic
def enrollment_open(*, project: Project, user, crowd: dict | None = None) -> Enrollment:
    """Creates or resumes the annotator's enrollment. Idempotent."""
    enrollment, created = Enrollment.objects.get_or_create(
        project=project, annotator=user,
        defaults={"stage": project_journey(project.spec).first(), "crowd": crowd or {}, "session_started_at": timezone.now()},
    )
    if not created and crowd and crowd != enrollment.crowd:
        enrollment.crowd = {**enrollment.crowd, **crowd}
        enrollment.save(update_fields=["crowd"])
    return enrollment


def _advance(enrollment: Enrollment, **changes) -> Enrollment:
    """Moves to the next stage, writing only the fields it changes: the loop's counters (`skipped`, `labels_done`)
    are kept by conditional updates, which a whole-row save from a stale copy would undo."""
    enrollment.stage = project_journey(enrollment.project.spec).after(enrollment.stage)
    fields = {"stage", *changes}
    if enrollment.stage == Stage.WORK:
        enrollment.session_started_at = timezone.now()
        enrollment.session_done = 0
        fields |= {"session_started_at", "session_done"}
    if enrollment.stage == Stage.DONE:
        enrollment.completed_at = timezone.now()
        fields.add("completed_at")
    for key, value in changes.items():
        setattr(enrollment, key, value)
    enrollment.save(update_fields=sorted(fields))
    return enrollment


def _end(enrollment: Enrollment, reason: str) -> Enrollment:
    """Ends the enrollment early; the items it held go back to the pool."""
    enrollment.stage = Stage.ENDED
    enrollment.ended_reason = reason
    enrollment.completed_at = timezone.now()
    with transaction.atomic():
        held = _held(enrollment)
        enrollment.save(update_fields=["stage", "ended_reason", "completed_at"])
        assignments_release(assignments=held + _held(enrollment))
    return enrollment


@transaction.atomic
def enrollment_consent(*, enrollment: Enrollment, agreed: bool) -> Enrollment:
    if enrollment.stage != Stage.CONSENT:
        return enrollment
    if not agreed:
        return _end(enrollment, "declined consent")
    return _advance(enrollment, consented_at=timezone.now())


@transaction.atomic
def enrollment_survey_submit(*, enrollment: Enrollment, answers: dict) -> Enrollment:
    """Stores the before- or after-survey depending on the stage; the before-survey also describes the annotator
    (their attributes feed group breakdowns of agreement)."""
    if enrollment.stage == Stage.SURVEY:
        user = enrollment.annotator
        user.attributes = {**user.attributes, **attributes_from_answers(answers)}
        user.save(update_fields=["attributes"])
        return _advance(enrollment, survey_before=answers)
    if enrollment.stage == Stage.FINAL:
        return _advance(enrollment, survey_after=answers)
    return enrollment


@transaction.atomic
def enrollment_instructions_done(*, enrollment: Enrollment) -> Enrollment:
    if enrollment.stage != Stage.INSTRUCTIONS:
        return enrollment
    return _advance(enrollment)


class _StillHolding(Exception):
    """The annotator holds a live reservation: the move to the final stage rolls back."""


def enrollment_items_finished(*, enrollment: Enrollment, release: bool = False) -> Enrollment:
    """No item left for this annotator, or their quota is reached: on to the final survey.

    Nobody moves on while holding a reservation: the enrollment row is updated (so a reservation in flight, which
    share-locks it at the work stage, either lands before and is seen here, or finds the stage moved on), then
    the annotator's live reservations are looked at. With `release` (the quota is reached) they go back to
    the pool; without, the move is called off and the enrollment stays at the work stage, so the caller shows the
    held item again."""
    if enrollment.stage != Stage.WORK:
        return enrollment
    following = project_journey(enrollment.project.spec).after(Stage.WORK)
    now = timezone.now()
    try:
        with transaction.atomic():
            # assignments before the enrollment, the order a label's store locks them in
            _held(enrollment)
            moved = Enrollment.objects.filter(id=enrollment.id, stage=Stage.WORK).update(
                stage=following, completed_at=now if following == Stage.DONE else None)
            if moved:
                _reservations_settle(enrollment, release=release)
    except _StillHolding:
        return enrollment
    if not moved:
        enrollment.refresh_from_db(fields=["stage", "completed_at"])
        return enrollment
    enrollment.stage = following
    if following == Stage.DONE:
        enrollment.completed_at = now
    return enrollment


def _held(enrollment: Enrollment) -> list[Assignment]:
    return list(Assignment.objects.select_for_update().filter(
        project_id=enrollment.project_id, annotator_id=enrollment.annotator_id, status=Assignment.Status.RESERVED))


def _reservations_settle(enrollment: Enrollment, *, release: bool) -> None:
    held = _held(enrollment)
    if not held:
        return
    if not release and any(assignment.expires_at > timezone.now() for assignment in held):
        raise _StillHolding()
    assignments_release(assignments=held)


def enrollment_after_item(*, enrollment: Enrollment, counters_fresh: bool = False) -> str | None:
    """Applies the spec's policies after an item: returns None to carry on, or the reason the work stage stops
    ("attention" ends the enrollment, "quota" moves to the final survey, "break" asks for a pause).

    `counters_fresh`: the caller's enrollment already holds the counters its write returned (the fast path), so
    they are not read again; deciding to carry on then costs no query."""
    if not counters_fresh:
        # Only the counters the loop changed; keeps the cached project.
        enrollment.refresh_from_db(fields=["labels_done", "attention_failures", "session_done", "since_control",
                                           "break_until", "stage", "session_started_at"])
    spec = enrollment.project.spec
    if enrollment.attention_failures >= int(attention_policy(spec)["end_after"]):
        _end(enrollment, "failed attention checks")
        return "attention"
    quota = limits(spec)["items_per_annotator"]
    if quota and enrollment.labels_done >= int(quota):
        enrollment_items_finished(enrollment=enrollment, release=True)
        return "quota"
    if session_over(enrollment):
        if enrollment.break_until is None:
            enrollment.break_until = timezone.now() + timedelta(minutes=int(limits(spec)["break_minutes"]))
            enrollment.save(update_fields=["break_until"])
        return "break"
    return None


@transaction.atomic
def enrollment_new_session(*, enrollment: Enrollment) -> bool:
    """Starts a new session once the break is over (resets the session counter). False while the break lasts."""
    if enrollment.break_until and timezone.now() < enrollment.break_until:
        return False
    enrollment.session_done = 0
    enrollment.break_until = None
    enrollment.session_started_at = timezone.now()
    enrollment.save(update_fields=["session_done", "session_started_at", "break_until"])
    return True
