"""An annotator's journey through a project: consent → survey → instructions → items → final survey → done.

Stages without content in the spec are passed over. The final stage always asks a short wellbeing check-in."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from annotations.models import Enrollment, Project
from webapp.surveys import attributes_from_answers

Stage = Enrollment.Stage
ORDER = [Stage.CONSENT, Stage.SURVEY, Stage.INSTRUCTIONS, Stage.ITEMS, Stage.FINAL, Stage.DONE]


def _has_content(spec: dict, stage: str) -> bool:
    if stage == Stage.CONSENT:
        return bool((spec.get("consent") or {}).get("text"))
    if stage == Stage.SURVEY:
        before = (spec.get("surveys") or {}).get("before") or {}
        return bool(before.get("demographic") or before.get("questions"))
    if stage == Stage.INSTRUCTIONS:
        return bool(spec.get("instructions"))
    return True


def _stage_after(spec: dict, stage: str) -> str:
    for candidate in ORDER[ORDER.index(stage) + 1:]:
        if _has_content(spec, candidate):
            return candidate
    return Stage.DONE


def _first_stage(spec: dict) -> str:
    for candidate in ORDER:
        if _has_content(spec, candidate):
            return candidate
    return Stage.ITEMS


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
        defaults={"stage": _first_stage(project.spec), "crowd": crowd or {}, "session_started_at": timezone.now()},
    )
    if not created and crowd and crowd != enrollment.crowd:
        enrollment.crowd = {**enrollment.crowd, **crowd}
        enrollment.save(update_fields=["crowd"])
    return enrollment


def _advance(enrollment: Enrollment, **changes) -> Enrollment:
    enrollment.stage = _stage_after(enrollment.project.spec, enrollment.stage)
    if enrollment.stage == Stage.ITEMS:
        enrollment.session_started_at = timezone.now()
        enrollment.session_done = 0
    if enrollment.stage == Stage.DONE:
        enrollment.completed_at = timezone.now()
    for key, value in changes.items():
        setattr(enrollment, key, value)
    enrollment.save()
    return enrollment


def _end(enrollment: Enrollment, reason: str) -> Enrollment:
    enrollment.stage = Stage.ENDED
    enrollment.ended_reason = reason
    enrollment.completed_at = timezone.now()
    enrollment.save(update_fields=["stage", "ended_reason", "completed_at"])
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


def enrollment_items_finished(*, enrollment: Enrollment) -> Enrollment:
    """No item left for this annotator, or their quota is reached: on to the final survey."""
    if enrollment.stage != Stage.ITEMS:
        return enrollment
    with transaction.atomic():
        return _advance(enrollment)


def enrollment_after_item(*, enrollment: Enrollment, counters_fresh: bool = False) -> str | None:
    """Applies the spec's policies after an item: returns None to carry on, or the reason the items stage stops
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
        enrollment_items_finished(enrollment=enrollment)
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
