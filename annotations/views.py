"""Annotator pages: the crowd link, the stage pages and the annotation loop (htmx)."""

from dataclasses import asdict

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext, ngettext
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from annotations.models import Assignment, Enrollment, Item, ItemNote, Label
from annotations.presenting import item_view
from annotations.selectors import (
    enrollment_get,
    enrollment_reachable_goal,
    project_get_open,
    project_task_total,
)
from annotations.services import flow
from annotations.services.notes import FORM_COMMENT, FORM_FLAG, note_from_form
from annotations.services.routing import SubmitError, assignment_next, stored_label
from annotations.services.turn import SKIPS, annotation_turn, turn_context_fetch
from annotations.values import raw_values_from_form
from annotations.views_errors import NOTE_ERROR, item_view_with_answers
from webapp.people.crowd import crowd_identity_from_request, crowd_link_remember, crowd_user_for_link
from webapp.people.journey import final_questions, link_admits, wants_support
from webapp.people.language import crowd_language_use, crowd_page
from webapp.people.models import User
from webapp.people.roles import annotator_required
from webapp.people.surveys import (
    survey_questions_for_form,
    survey_section_questions,
    survey_self_described,
    survey_validate,
)

Stage = Enrollment.Stage


@require_GET
@crowd_page
def join(request, slug):
    """The recruitment link: creates or resumes the annotator (Prolific / MTurk parameters, or an open link)."""
    project = project_get_open(slug=slug)
    crowd_language_use(project.spec)
    identity = crowd_identity_from_request(request)
    if not link_admits(returning=_returning(request, project, identity), work_left=lambda: _work_left(project)):
        # said before consent: nobody reads, answers or waits for work that is not there
        return render(request, "annotations/no_work.html",
                      {"project": project, "crowd": project.spec.get("crowd") or {}, "identity": identity})
    # CrowdRefused (403, saying what to do) for someone else's identity or a browser signed in as someone else
    user, _ = crowd_user_for_link(request=request, identity=identity, role=User.Role.ANNOTATOR,
                                  signs_in=True)
    if user != request.user:
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    flow.enrollment_open(project=project, user=user, crowd=asdict(identity) if identity else {})
    response = redirect("annotations:annotate", slug)
    crowd_link_remember(request=request, response=response, user=user, identity=identity)
    return response


def _returning(request, project, identity) -> bool:
    """Whether this link belongs to someone already enrolled (they resume, whatever is left)."""
    if identity is not None:
        return Enrollment.objects.filter(project=project, annotator__crowd_platform=identity.platform,
                                         annotator__crowd_id=identity.worker_id).exists()
    user = request.user
    return user.is_authenticated and Enrollment.objects.filter(project=project, annotator=user).exists()


def _work_left(project) -> bool:
    """A newcomer can get an item: some task item still needs annotators (reservations count as taken until
    they expire, so a project whose last items are being labelled reads as full for that while)."""
    return Item.objects.filter(project=project, role=Item.Role.TASK, is_full=False).exists()


def _enrollment_or_403(request, slug) -> Enrollment:
    """The signed-in annotator's enrollment in the open project `slug` (views check the role first)."""
    project = project_get_open(slug=slug)
    crowd_language_use(project.spec)
    enrollment = enrollment_get(project=project, user=request.user)
    if enrollment is None:
        raise PermissionDenied("open the project link first")
    enrollment.project = project
    return enrollment


ITEM = "annotations/_item.html"


def _final_questions(enrollment: Enrollment) -> list[dict]:
    """The after-survey, and the wellbeing check-in for someone who read at least one item."""
    return final_questions(enrollment.project.spec["surveys"]["after"],
                           read_any=bool(enrollment.labels_done or enrollment.skipped))


SECONDS_PER_QUESTION = 12  # a first guess until the project has its own times


def _time_estimate(project) -> str:
    """"About N minutes for K items": from the project's median time per item once it has a few labels, else from
    the number of questions per item."""
    quota = flow.limits(project.spec)["items_per_annotator"]
    total = project_task_total(project_id=project.id)
    items = min(quota, total) if quota else total
    if not items:
        return ""
    times = sorted(Label.objects.filter(project=project, seconds__gt=0).order_by("-id")
                   .values_list("seconds", flat=True)[:200])
    if len(times) >= 5:
        per_item = times[len(times) // 2]
    else:
        per_item = SECONDS_PER_QUESTION * max(1, len(project.dimensions))
    minutes = max(1, round(items * per_item / 60))
    for_items = ngettext("for %(items)d item", "for %(items)d items", items) % {"items": items}
    return ngettext("This takes about %(minutes)d minute %(for_items)s (you may stop at any time).",
                    "This takes about %(minutes)d minutes %(for_items)s (you may stop at any time).",
                    minutes) % {"minutes": minutes, "for_items": for_items}


# The questions' HTML by (project, spec hash, language, question order): it depends on nothing else (the order may
# change per assignment through randomize_order; a researcher's preview is English), and drawing two scales is most
# of the item's rendering time.
_WIDGETS_HTML: dict[tuple, str] = {}
_WIDGETS_KEPT = 256


def _widgets_html(project, widgets: list[dict]) -> str:
    """The "widgets" partial of the item, rendered once per process for each spec, language and question order."""
    if not project.spec_hash:
        return ""  # no identity to cache it under: the template draws the questions itself
    key = (project.id, project.spec_hash, get_language(), tuple(widget["field"] for widget in widgets))
    html = _WIDGETS_HTML.get(key)
    if html is None:
        html = get_template(f"{ITEM}#widgets").render({"view": {"widgets": widgets}})
        if len(_WIDGETS_HTML) >= _WIDGETS_KEPT:
            _WIDGETS_HTML.clear()
        _WIDGETS_HTML[key] = html
    return html


def _item_context(enrollment: Enrollment, assignment: Assignment, errors: dict | None = None,
                  posted=None) -> dict:
    """The item page's context. With `errors` (a rejected submit), the widgets carry the answers given in
    `posted` and a plain-words error each, so they are drawn afresh rather than from the cache."""
    project = enrollment.project
    view = item_view(dimensions=project.dimensions, item_data=assignment.item.data, seed=assignment.id)
    error_summary = item_view_with_answers(view, posted=posted, errors=errors) if errors else []
    quota = flow.limits(project.spec)["items_per_annotator"]
    reachable = enrollment_reachable_goal(enrollment=enrollment,
                                                    current_is_task=assignment.item.role == Item.Role.TASK)
    goal = min(int(quota), reachable) if quota else reachable
    warn_after = flow.attention_policy(project.spec)["warn_after"]
    return {
        "project": project, "enrollment": enrollment, "assignment": assignment, "item": assignment.item,
        "view": view, "widgets_html": "" if errors else _widgets_html(project, view["widgets"]),
        "goal": goal, "errors": errors or {}, "error_summary": error_summary,
        "content_note": project.spec.get("content_note") if (assignment.item.distressing or project.spec.get("content_note")) else "",
        "attention_warning": enrollment.attention_failures >= warn_after,
        "break_reminder": flow.break_reminder_due(enrollment),
        "note": _note_shown(posted, errors), "note_flags": ItemNote.Flag.choices,
        "note_comment_max": ItemNote.COMMENT_MAX,
    }


def _note_shown(posted, errors: dict | None) -> dict:
    """The note box as the annotator left it when their submit was refused (empty on a fresh item)."""
    if not errors or posted is None:
        return {}
    return {"flag": posted.get(FORM_FLAG, ""), "comment": posted.get(FORM_COMMENT, ""),
            "error": errors.get(NOTE_ERROR, "")}


def _stage_page(request, enrollment: Enrollment, errors: dict | None = None, status: int = 200, posted=None,
                early: bool = False):
    project = enrollment.project
    spec = project.spec
    context = {"project": project, "enrollment": enrollment, "errors": errors or {}}
    stage = enrollment.stage
    if stage == Stage.WORK:
        if enrollment.break_until is not None:
            context["break_until"] = enrollment.break_until
            context["break_minutes"] = flow.limits(spec)["break_minutes"]
            context["break_left"] = max(0, int((enrollment.break_until - timezone.now()).total_seconds() + 59) // 60)
            context["early"] = early
            return render(request, "annotations/stages.html", context, status=status)
        assignment = assignment_next(enrollment=enrollment)
        if assignment is None:
            flow.enrollment_items_finished(enrollment=enrollment)
            return _stage_page(request, enrollment)
        return render(request, "annotations/annotate.html", {**context, **_item_context(enrollment, assignment)},
                      status=status)
    if stage == Stage.SURVEY:
        context["questions"] = survey_questions_for_form(survey_section_questions(spec["surveys"]["before"]),
                                                         posted=posted, errors=errors)
    if stage == Stage.FINAL:
        context["questions"] = survey_questions_for_form(_final_questions(enrollment), posted=posted, errors=errors)
    if stage == Stage.DONE:
        context["wants_support"] = wants_support(enrollment.survey_after)
    if stage in {Stage.CONSENT, Stage.INSTRUCTIONS}:
        context["estimate"] = _time_estimate(project)
    context["crowd"] = flow.completion_offer(enrollment=enrollment)
    return render(request, "annotations/stages.html", context, status=status)


@require_GET
@annotator_required
@crowd_page
def annotate(request, slug):
    response = _stage_page(request, _enrollment_or_403(request, slug))
    # Back (or a restored tab) must ask again and show where the annotator really is, never an old item whose
    # answers look editable: submitted answers are final, and the page says so.
    response["Cache-Control"] = "no-store"
    return response


def _to_stage(request, slug):
    """After a stage form: htmx follows with a full navigation, plain forms with a redirect."""
    url = reverse("annotations:annotate", args=[slug])
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@require_POST
@annotator_required
@crowd_page
def annotate_consent(request, slug):
    enrollment = _enrollment_or_403(request, slug)
    flow.enrollment_consent(enrollment=enrollment, agreed=request.POST.get("agree") == "yes")
    return _to_stage(request, slug)


@require_POST
@annotator_required
@crowd_page
def annotate_survey(request, slug):
    enrollment = _enrollment_or_403(request, slug)
    spec = enrollment.project.spec
    if enrollment.stage == Stage.SURVEY:
        questions = survey_section_questions(spec["surveys"]["before"])
    elif enrollment.stage == Stage.FINAL:
        questions = _final_questions(enrollment)
    else:
        return _to_stage(request, slug)
    answers, errors = survey_validate(questions, request.POST)
    if errors:
        return _stage_page(request, enrollment, errors=errors, status=422, posted=request.POST)
    answers = survey_self_described(questions, posted=request.POST, answers=answers)
    flow.enrollment_survey_submit(enrollment=enrollment, answers=answers)
    return _to_stage(request, slug)


@require_POST
@annotator_required
@crowd_page
def annotate_instructions(request, slug):
    flow.enrollment_instructions_done(enrollment=_enrollment_or_403(request, slug))
    return _to_stage(request, slug)


@require_POST
@annotator_required
@crowd_page
def annotate_finish(request, slug):
    """"Finish now": the work stage ends here, on to the final questions and the completion page. The item on
    screen is left unanswered and goes back to the pool at once."""
    enrollment = _enrollment_or_403(request, slug)
    flow.enrollment_items_finished(enrollment=enrollment, release=True)
    return _to_stage(request, slug)


@require_POST
@annotator_required
@crowd_page
def annotate_break(request, slug):
    enrollment = _enrollment_or_403(request, slug)
    if not flow.enrollment_new_session(enrollment=enrollment):
        return _stage_page(request, enrollment, status=409, early=True)
    return _to_stage(request, slug)


def _seconds(request) -> float | None:
    try:
        return float(request.POST.get("seconds", ""))
    except ValueError:
        return None


def _item_fragment(request, context: dict, status: int = 200) -> HttpResponse:
    """The item alone, for htmx. Rendered from a plain dict, without the context processors (the researcher
    navigation, the user, messages): the fragment needs none of them, and every item of the loop goes through it."""
    context["csrf_token"] = get_token(request)
    return HttpResponse(get_template(ITEM).render(context), status=status)  # the cached loader compiles it once


def _submit_context(request, slug: str) -> tuple[Enrollment, Assignment | None]:
    """The annotator's enrollment (with its open project) and the assignment the form names, if it is theirs, in
    one statement: this view is the hot loop. PermissionDenied when the project is not open or the annotator not
    enrolled."""
    assignment_id = request.POST.get("assignment") or ""
    enrollment, assignment = turn_context_fetch(annotator_id=request.user.id, slug=slug,
                                                assignment_id=int(assignment_id) if assignment_id.isdigit() else 0)
    if enrollment is None:
        _enrollment_or_403(request, slug)  # says why
        raise PermissionDenied("open the project link first")
    crowd_language_use(enrollment.project.spec)
    return enrollment, assignment


@require_POST
@annotator_required
@crowd_page
def annotate_submit(request, slug):
    """One turn of the loop: store (or skip) the current item and swap in the next one."""
    enrollment, assignment = _submit_context(request, slug)
    action = request.POST.get("action", "submit")
    if enrollment.stage != Stage.WORK:
        if (assignment is not None and action == "submit"
                and stored_label(assignment=assignment) is None):
            # never answer as if it were stored: the form on screen was not
            return _stage_page(request, enrollment, status=409, errors={
                "item": gettext("Your last answer was not stored: the items part had already ended.")})
        return _to_stage(request, slug)
    if assignment is None:
        raise PermissionDenied("that item is not yours")
    if action not in SKIPS:
        action = "submit"
    raw = raw_values_from_form(enrollment.project.dimensions, request.POST) if action == "submit" else None
    try:
        turn = annotation_turn(enrollment=enrollment, assignment=assignment, action=action, raw_values=raw,
                               seconds=_seconds(request), note=note_from_form(request.POST))
    except SubmitError as exc:
        context = _item_context(enrollment, assignment, exc.errors, posted=request.POST)
        if request.htmx:
            return _item_fragment(request, context, status=422)
        return render(request, "annotations/annotate.html", context, status=422)
    if turn.assignment is None:  # a stop (attention, quota, break) or nothing left: the stage page says which
        return _to_stage(request, slug)
    if not request.htmx:
        return redirect("annotations:annotate", slug)
    return _item_fragment(request, _item_context(enrollment, turn.assignment))


@require_GET
@login_required
def annotate_home(request):
    return redirect("my_work")
