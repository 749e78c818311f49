"""Study pages: the participant flow (recruitment link, stages, the judging loop) and the researcher dashboard.

Participants are identified only by the random token in their URL (kept in the session too, so the
bare recruitment link resumes). Nothing a participant receives names a system or a stored id.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import get_template
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from studies import selectors, services
from studies.models import Pair, Participant, Study
from studies.spec import DEFAULT_CRITERIA, DEFAULT_PARTICIPANT_TITLE, SpecError, redirect_url_usable
from webapp.people.crowd import crowd_identity_from_request, crowd_link_remember, crowd_user_for_link
from webapp.people.journey import link_admits
from webapp.people.language import crowd_language_use, crowd_page
from webapp.people.models import User
from webapp.people.ownership import ShareError, may_manage
from webapp.people.roles import researcher_required
from webapp.people.surveys import (
    attributes_from_answers,
    survey_questions_for_form,
    survey_section,
    survey_section_questions,
    survey_self_described,
    survey_validate,
)

KEY_TO_SIDE = {"1": "left", "2": "right", "0": "tie"}
SESSION_KEY = "studies:{slug}"
PAGE = "studies/participate.html"
SLOT = "studies/_slot.html"
PRESETS_DIR = Path(__file__).resolve().parent / "presets"
PROLIFIC_QUERY = "?PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"


def study_survey_questions(study) -> list[dict]:
    """The spec's survey as questions: its demographic fields ("age_band", or "demographic" for all) first, then
    its own questions."""
    return survey_section_questions(survey_section(study.spec["survey"]))


def _returning(study, identity) -> bool:
    return identity is not None and Participant.objects.filter(
        study=study, user__crowd_platform=identity.platform, user__crowd_id=identity.worker_id).exists()


def _pairs_left(study) -> bool:
    """Some pair can still take a judgment (reserved ones count as taken until they expire)."""
    return Pair.objects.filter(study=study, taken__lt=study.spec["judgments_per_pair"]).exists()


def _full_context(study, identity, reason: str) -> dict:
    recruitment = study.spec.get("recruitment") or {}
    return {"study": study, "spec": study.spec, "full": reason, "identity": identity,
            "participant_title": _in_page_language(study.spec["participant_title"]),
            "no_work_code": (recruitment.get("prolific") or {}).get("no_work_code")}


@require_GET
@crowd_page
def join(request, slug):
    """The recruitment link: identifies the crowd worker (or resumes the browser's session) and enrols them."""
    study = selectors.study_get_open(slug=slug)
    crowd_language_use(study.spec)
    identity = crowd_identity_from_request(request)
    session_key = SESSION_KEY.format(slug=slug)
    if identity is None and request.session.get(session_key):
        return redirect("studies:participate", token=request.session[session_key])
    if not link_admits(returning=_returning(study, identity), work_left=lambda: _pairs_left(study)):
        # said at the link, before consent and survey, not after them
        return render(request, PAGE, _full_context(study, identity, gettext("every pair in this study has all the "
                                                                             "judgments it needs")), status=200)
    # CrowdRefused (403, saying what to do) when the identity was first used in another browser
    user, _ = crowd_user_for_link(request=request, identity=identity, role=User.Role.PARTICIPANT,
                                  signs_in=False)
    crowd = {} if identity is None else {"platform": identity.platform, "study_id": identity.study_id,
                                          "session_id": identity.session_id}
    try:
        participant = services.participant_enroll(study=study, user=user, crowd=crowd)
    except services.StudyFull as exc:
        return render(request, PAGE, _full_context(study, identity, str(exc)), status=200)
    request.session[session_key] = participant.token
    response = redirect("studies:participate", token=participant.token)
    crowd_link_remember(request=request, response=response, user=user, identity=identity)
    return response


def _participant(token: str) -> Participant:
    """The participant the link token names (Http404 otherwise), the rest of the view in their study's language."""
    participant = selectors.participant_get_by_token(token=token)
    crowd_language_use(participant.study.spec)
    return participant


# The spec's own defaults are the platform's words, not the researcher's: participants read them in the study's
# language (whatever a researcher writes is shown as written).
DEFAULT_WORDS = {DEFAULT_PARTICIPANT_TITLE: gettext_lazy("Compare two replies"),
                 DEFAULT_CRITERIA[0]["question"]: gettext_lazy("Which response is better overall?")}


def _in_page_language(text: str) -> str:
    return str(DEFAULT_WORDS.get(text, text))


def _page(request, participant: Participant, *, errors: dict | None = None, slot=None, warned: bool = False,
          posted=None):
    study = participant.study
    context = {"study": study, "participant": participant, "errors": errors or {}, "warned": warned,
               "criteria": [{**c, "question": _in_page_language(c["question"])} for c in study.spec["criteria"]],
               "participant_title": _in_page_language(study.spec["participant_title"]), "spec": study.spec,
               "judge_url": reverse("studies:participate_judge", kwargs={"token": participant.token})}
    if participant.stage == Participant.Stage.SURVEY:
        context["questions"] = survey_questions_for_form(study_survey_questions(study), posted=posted, errors=errors)
    if participant.stage == Participant.Stage.WORK and not participant.total:
        context["preparing"] = True  # participant_start is reserving this participant's pairs right now
    elif participant.stage == Participant.Stage.WORK:
        slot = slot or services.slot_for_display(participant=participant)
        if slot is None:  # the refill found nothing left: the participant is finished
            participant.refresh_from_db()
        else:
            context["slot"] = selectors.slot_blind(slot=slot, total=participant.total)
    return context


@require_GET
@crowd_page
def participate(request, token):
    """The participant's page for whatever stage they are in; a reload resumes exactly where they were."""
    participant = _participant(token)
    return render(request, PAGE, _page(request, participant))


def _to_page(request, token):
    url = reverse("studies:participate", kwargs={"token": token})
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@require_POST
@crowd_page
def participate_consent(request, token):
    participant = _participant(token)
    services.participant_consent(participant=participant, agreed=request.POST.get("agree") == "yes")
    return _to_page(request, token)


@require_POST
@crowd_page
def participate_survey(request, token):
    participant = _participant(token)
    questions = study_survey_questions(participant.study)
    answers, errors = survey_validate(questions, request.POST)
    answers = survey_self_described(questions, posted=request.POST, answers=answers)
    if errors:
        return render(request, PAGE, _page(request, participant, errors=errors, posted=request.POST), status=422)
    services.participant_survey_submit(participant=participant, answers=answers,
                                       attributes=attributes_from_answers(answers))
    return _to_page(request, token)


@require_POST
@crowd_page
def participate_start(request, token):
    participant = _participant(token)
    try:
        services.participant_start(participant=participant)
    except services.StudyFull as exc:
        return render(request, PAGE, _full_context(participant.study, None, str(exc)))
    return _to_page(request, token)


def answers_from_post(post, criteria: list[dict]) -> dict[str, dict]:
    """Form fields ``choice_<criterion>`` (1 left, 2 right, 0 tie), ``strength_<c>``, ``rationale_<c>``."""
    return {
        c["name"]: {"side": KEY_TO_SIDE.get(post.get(f"choice_{c['name']}", "")),
                    "strength": post.get(f"strength_{c['name']}"),
                    "rationale": post.get(f"rationale_{c['name']}", "")}
        for c in criteria
    }


def criteria_with_answers(criteria: list[dict], post) -> list[dict]:
    """The criteria with what was posted for each (``chosen``, ``strength_chosen``, ``rationale_text``), so a
    form sent back with an error keeps the participant's choices and typed reasons."""
    return [{**c, "chosen": post.get(f"choice_{c['name']}", ""), "strength_chosen": post.get(f"strength_{c['name']}", ""),
             "rationale_text": post.get(f"rationale_{c['name']}", "")} for c in criteria]


@require_POST
@crowd_page
def participate_judge(request, token):
    """Stores one comparison and answers with the next one (an htmx fragment), or the finished page."""
    participant, slots = services.judgment_context_fetch(token=token)
    if participant is None:
        raise Http404("no such participation")
    crowd_language_use(participant.study.spec)
    answers = answers_from_post(request.POST, participant.study.spec["criteria"])
    try:
        outcome = services.judgment_submit(participant=participant, token=request.POST.get("slot", ""),
                                           answers=answers, slots=slots)
    except services.JudgmentInvalid as exc:
        context = _page(request, participant, errors=exc.errors)
        context["criteria"] = criteria_with_answers(context["criteria"], request.POST)
        return _slot_fragment(request, context) if request.htmx and "slot" in context else render(request, PAGE, context)
    if not request.htmx:
        return redirect("studies:participate", token=token)
    if outcome.next_slot is None:
        redirect_url = participant.study.spec["recruitment"]["redirect_url"]
        if participant.stage == Participant.Stage.DONE and redirect_url and redirect_url_usable(redirect_url):
            return HttpResponseClientRedirect(redirect_url)
        return _to_page(request, token)
    context = _page(request, participant, slot=outcome.next_slot, warned=outcome.warned)
    return _slot_fragment(request, context)


def _slot_fragment(request, context: dict) -> HttpResponse:
    """The next comparison alone, for htmx. Rendered from a plain dict, without the context processors (the
    researcher navigation, the user, messages): a participant's fragment needs none of them, and this is the
    loop every judgment goes through."""
    context["csrf_token"] = get_token(request)
    return HttpResponse(get_template(SLOT).render(context))  # the cached loader compiles it once per process


# Researcher pages ----------------------------------------------------------------------------------------


@require_GET
@researcher_required
def study_list(request):
    studies = selectors.studies_for_user(user=request.user).select_related("owner")
    return render(request, "studies/study_list.html", {"studies": studies})


@require_GET
@researcher_required
def study_detail(request, slug):
    study = selectors.study_get_for_user(user=request.user, slug=slug)
    join_url = request.build_absolute_uri(reverse("studies:join", kwargs={"slug": slug}))
    context = {"study": study, "progress": selectors.study_progress(study=study),
               "systems": study.systems.all(), "missing": services.responses_missing(study=study)[:20],
               "join_url": join_url, "prolific_url": join_url + PROLIFIC_QUERY,
               "collaborators": study.collaborators.order_by("username"),
               "may_manage": may_manage(study, request.user),
               "delete_url": reverse("studies:study_delete", kwargs={"slug": slug}),
               "kept": "People have taken part, so it cannot be deleted: close it instead, and their judgments stay."
               if services.study_delete_refusal(study=study) else ""}
    template = "studies/study_detail.html#progress" if request.htmx else "studies/study_detail.html"
    return render(request, template, context)


@require_http_methods(["POST"])
@researcher_required
def study_toggle(request, slug):
    """Opens (after checking every response exists) or closes the recruitment link."""
    study = selectors.study_get_for_user(user=request.user, slug=slug)
    try:
        if request.POST.get("open") == "yes":
            services.study_open(study=study)
            messages.success(request, "The study is open.")
        else:
            services.study_close(study=study)
            messages.success(request, "The study is closed.")
    except services.StudyError as exc:
        messages.error(request, str(exc))
    return redirect("studies:study_detail", slug=slug)


@require_POST
@researcher_required
def study_delete(request, slug):
    """Deletes the study when the form repeats its slug (owner only; refused once anyone took part); to the study
    list once done, else back to the study page with why."""
    study = selectors.study_get_for_user(user=request.user, slug=slug)
    back = reverse("studies:study_detail", kwargs={"slug": slug}) + "#delete"
    if request.POST.get("confirm", "").strip() != study.slug:
        messages.error(request, f"Not deleted: type {study.slug} to confirm.")
        return redirect(back)
    try:
        services.study_delete(study=study, by=request.user)
    except services.StudyError as exc:
        messages.error(request, f"Not deleted: {exc}.")
        return redirect(back)
    messages.success(request, f"Study {slug} deleted.")
    return redirect("studies:study_list")


@require_POST
@researcher_required
def study_share(request, slug):
    """Shares the study with the researcher named in the form (owner only), or with ``remove`` set takes it back
    from that collaborator; back to the study page with what happened."""
    study = selectors.study_get_for_user(user=request.user, slug=slug)
    username = request.POST.get("username", "").strip()
    try:
        if request.POST.get("remove"):
            services.study_unshare(study=study, username=username, by=request.user)
            messages.success(request, f"{username} no longer has access.")
        else:
            services.study_share(study=study, username=username, by=request.user)
            messages.success(request, "Shared.")
    except ShareError as exc:
        messages.error(request, str(exc))
    return redirect(reverse("studies:study_detail", kwargs={"slug": slug}) + "#share")


def study_presets() -> dict[str, str]:
    """Spec texts to start a study from, by name (studies/presets/*.yaml)."""
    return {path.stem: path.read_text(encoding="utf-8") for path in sorted(PRESETS_DIR.glob("*.yaml"))}


def _spec_form(request, *, spec_text: str, study: Study | None, error: str | None = None, status: int = 200):
    return render(request, "studies/study_edit.html",
                  {"study": study, "spec_text": spec_text, "error": error,
                   "presets": {} if study else study_presets()}, status=status)


def _spec_save(request, *, study: Study | None):
    """Creates (no ``study``) or updates the study from the posted spec; the form again with the error, its key
    and line, and the researcher's text (422) when anything is wrong, nothing saved."""
    spec_text = request.POST.get("spec", "")
    try:
        if study is None:
            saved = services.study_create(spec=spec_text, owner=request.user)
        else:
            saved = services.study_update(study=study, spec=spec_text, by=request.user)
    except (SpecError, services.StudyError) as exc:
        return _spec_form(request, spec_text=spec_text, study=study, error=str(exc), status=422)
    messages.success(request, f"Saved study {saved.slug}.")
    return redirect("studies:study_detail", slug=saved.slug)


@require_http_methods(["GET", "POST"])
@researcher_required
def study_new(request):
    """A new study from a spec typed or pasted into the page, starting from a preset."""
    if request.method == "POST":
        return _spec_save(request, study=None)
    presets = study_presets()
    chosen = request.GET.get("preset") or next(iter(presets), "")
    return _spec_form(request, spec_text=presets.get(chosen, ""), study=None)


@require_http_methods(["GET", "POST"])
@researcher_required
def study_edit(request, slug):
    """The study's spec as YAML, to edit and save; what may change once participants started is the same as
    for ``manage.py load_study`` (``services.study_load`` decides)."""
    study = selectors.study_get_for_user(user=request.user, slug=slug)
    if request.method == "POST":
        return _spec_save(request, study=study)
    return _spec_form(request, spec_text=yaml.safe_dump(study.spec, sort_keys=False, allow_unicode=True, width=110),
                      study=study)
