"""REST API of the annotation loop for annotators: next item, submit, skip.

The same turn as the htmx page (`views.annotate_submit`), through the same service (`services.turn`); only the annotator's
own enrollment and assignments are reachable, and an item is shown by its display fields only (never its labels,
gold answers, role or metadata). Assignment ids leave the server signed, so they are opaque and cannot be guessed.
Token or session auth, annotator role only; routed by `annotations.api_urls` under /api/annotate/.
"""

from __future__ import annotations

from django.core import signing
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.models import Assignment, Enrollment, ItemNote
from annotations.presenting import item_view
from annotations.selectors import enrollment_get, project_get_open, project_task_total
from annotations.services import flow
from annotations.services.notes import note_parse
from annotations.services.routing import SubmitError, stored_label
from annotations.services.turn import Turn, annotation_turn, turn_next
from webapp.people.api_fields import FieldErrorsOut, TextField
from webapp.people.roles import IsAnnotator

_SALT = "annotations.api_annotate.assignment"
_PERMISSIONS = "Annotators only (token or session), and only on their own enrollment and assignments."


def assignment_token(assignment: Assignment) -> str:
    """The opaque id an annotator sends back: the assignment and its annotator, signed. No timestamp, so
    the same held assignment always gets the same token (a reservation's expiry lives on the row)."""
    return signing.Signer(salt=_SALT).sign_object([assignment.id, assignment.annotator_id], compress=True)


def _assignment_from_token(token: str, enrollment: Enrollment) -> Assignment:
    try:
        assignment_id, annotator_id = signing.Signer(salt=_SALT).unsign_object(token)
    except (signing.BadSignature, TypeError, ValueError) as exc:
        raise ValidationError({"assignment": ["not an assignment id this server gave out"]}) from exc
    assignment = None
    if annotator_id == enrollment.annotator_id:
        assignment = (Assignment.objects.select_related("item")
                      .filter(id=assignment_id, annotator_id=enrollment.annotator_id, project=enrollment.project)
                      .first())
    if assignment is None:
        raise NotFound("no such assignment of yours in this project")
    assignment.project = enrollment.project
    return assignment


def _enrollment(request, slug: str) -> Enrollment:
    project = project_get_open(slug=slug)
    enrollment = enrollment_get(project=project, user=request.user)
    if enrollment is None:
        raise PermissionDenied("open the project link first")
    enrollment.project = project
    return enrollment


def _enrollment_in_items(request, slug: str) -> Enrollment:
    """For submit and skip: answers are taken only while the annotator is at the work stage."""
    enrollment = _enrollment(request, slug)
    if enrollment.stage != Enrollment.Stage.WORK:
        raise ValidationError({"assignment": [f"items are not open to you now (your stage: {enrollment.stage})"]})
    return enrollment


def _goal(enrollment: Enrollment) -> int:
    project = enrollment.project
    total = project_task_total(project_id=project.id)
    quota = flow.limits(project.spec)["items_per_annotator"]
    return min(int(quota), total) if quota else total


def _facing(enrollment: Enrollment, turn: Turn) -> dict:
    """What the annotator faces now: the reserved item of ``turn``, or why there is none (stage, break, quota...)."""
    payload: dict = {"stage": enrollment.stage, "stop": turn.stop, "assignment": None, "item": None,
                     "break_until": enrollment.break_until, "done": enrollment.labels_done, "goal": _goal(enrollment)}
    assignment = turn.assignment
    if assignment is None:
        return payload
    item = assignment.item
    spec = enrollment.project.spec
    view = item_view(dimensions=enrollment.project.dimensions, item_data=item.data, seed=assignment.id)
    payload["assignment"] = assignment_token(assignment)
    payload["item"] = {
        "kind": item.kind, "data": item.data, "distressing": item.distressing,
        "content_note": spec.get("content_note") or "", "widgets": view["widgets"], "turns": view["turns"],
        "expires_at": assignment.expires_at,
    }
    return payload


def _current(enrollment: Enrollment, *, resume: bool) -> dict:
    following, stop = turn_next(enrollment=enrollment, resume=resume)
    return _facing(enrollment, Turn(stop=stop, assignment=following))


class ItemOutput(serializers.Serializer):
    kind = serializers.CharField()
    data = serializers.JSONField(help_text="the item's text fields, as the page shows them")
    distressing = serializers.BooleanField()
    content_note = serializers.CharField(allow_blank=True)
    widgets = serializers.ListField(child=serializers.DictField(), help_text="item-level questions, in page order")
    turns = serializers.ListField(child=serializers.DictField(), help_text="dialogue turns with per-turn questions")
    expires_at = serializers.DateTimeField(help_text="the reservation lapses then; a late submit may be refused")


class TurnOutput(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Enrollment.Stage.choices)
    stop = serializers.ChoiceField(choices=["break", "quota", "attention", "finished"], allow_null=True,
                                   help_text="why no item is given: null while the loop goes on")
    assignment = serializers.CharField(allow_null=True, help_text="opaque id to send back with submit or skip")
    item = ItemOutput(allow_null=True)
    break_until = serializers.DateTimeField(allow_null=True)
    done = serializers.IntegerField(help_text="labels this annotator has stored in this project")
    goal = serializers.IntegerField(help_text="items this annotator is asked for")


class LabelOutput(serializers.Serializer):
    values = serializers.JSONField()
    seconds = serializers.FloatField(allow_null=True)
    created_at = serializers.DateTimeField()


class SubmitOutput(serializers.Serializer):
    label = LabelOutput()
    next = TurnOutput()


class SkipOutput(serializers.Serializer):
    skipped = serializers.BooleanField(help_text="false when that assignment was already finished (a retry)")
    next = TurnOutput()


class NoteFields(serializers.Serializer):
    """The annotator's optional note on the item, sent with a submit or a skip (see annotations.services.notes)."""

    flag = serializers.ChoiceField(choices=ItemNote.Flag.choices, required=False, allow_blank=True, default="",
                                   help_text="something is wrong with the item (empty: nothing)")
    comment = TextField(required=False, allow_blank=True, default="", max_length=ItemNote.COMMENT_MAX,
                        trim_whitespace=True, help_text="a comment for the researchers")

    def note(self):
        try:
            return note_parse(flag=self.validated_data["flag"], comment=self.validated_data["comment"])
        except SubmitError as exc:
            raise ValidationError({"comment": [exc.errors["note"]]}) from exc


class SubmitInput(NoteFields):
    assignment = TextField(max_length=500)
    values = serializers.DictField(help_text="dimension name -> value; per-turn dimensions: {turn index: value}")
    seconds = serializers.FloatField(min_value=0, required=False, allow_null=True, default=None,
                                     help_text="time spent on the item")


class SkipInput(NoteFields):
    assignment = TextField(max_length=500)
    distressing = serializers.BooleanField(default=False, help_text="the content was distressing (recorded apart)")
    seconds = serializers.FloatField(min_value=0, required=False, allow_null=True, default=None)


def _submit_errors(errors: dict) -> dict:
    """SubmitError keys are dimensions (`empathy`, `empathy[2]`) or `item`; name the request field they belong to."""
    values = {key: [message] for key, message in errors.items() if key != "item"}
    shaped: dict = {"values": values} if values else {}
    if "item" in errors:
        shaped["assignment"] = [errors["item"]]
    return shaped


class NextView(APIView):
    permission_classes = [IsAnnotator]

    @extend_schema(responses={200: TurnOutput}, summary="Your current or next item",
                   description=f"Reserves the next item, or returns the one you hold. {_PERMISSIONS}")
    def get(self, request, slug):
        return Response(TurnOutput(_current(_enrollment(request, slug), resume=True)).data)


class SubmitView(APIView):
    permission_classes = [IsAnnotator]

    @extend_schema(request=SubmitInput, responses={200: SubmitOutput, 400: OpenApiResponse(FieldErrorsOut,
        description="a field is invalid: `assignment`, `values` (per dimension) or `seconds`")},
        summary="Store your answers and get the next item",
        description=f"Idempotent per assignment: a retry returns the label stored first. {_PERMISSIONS}")
    def post(self, request, slug):
        enrollment = _enrollment(request, slug)
        incoming = SubmitInput(data=request.data)
        incoming.is_valid(raise_exception=True)
        if enrollment.stage != Enrollment.Stage.WORK:
            # a retry of the submit that ended the work stage gets its answer again; anything else was not stored
            try:
                assignment = _assignment_from_token(incoming.validated_data["assignment"], enrollment)
                stored = stored_label(assignment=assignment)
            except (ValidationError, NotFound):
                stored = None
            if stored is None:
                raise ValidationError({"assignment": [
                    f"not stored: items are not open to you now (your stage: {enrollment.stage})"]})
            return Response(SubmitOutput({"label": stored, "next": _current(enrollment, resume=False)}).data)
        assignment = _assignment_from_token(incoming.validated_data["assignment"], enrollment)
        try:
            turn = annotation_turn(enrollment=enrollment, assignment=assignment, action="submit",
                                   raw_values=incoming.validated_data["values"],
                                   seconds=incoming.validated_data["seconds"], note=incoming.note())
        except SubmitError as exc:
            raise ValidationError(_submit_errors(exc.errors)) from exc
        return Response(SubmitOutput({"label": turn.label, "next": _facing(enrollment, turn)}).data)


class SkipView(APIView):
    permission_classes = [IsAnnotator]

    @extend_schema(request=SkipInput, responses={200: SkipOutput, 400: OpenApiResponse(FieldErrorsOut,
        description="a field is invalid: `assignment`, `distressing` or `seconds`")},
        summary="Give the item back and get the next one",
        description=f"You will not see the item again. {_PERMISSIONS}")
    def post(self, request, slug):
        enrollment = _enrollment_in_items(request, slug)
        incoming = SkipInput(data=request.data)
        incoming.is_valid(raise_exception=True)
        assignment = _assignment_from_token(incoming.validated_data["assignment"], enrollment)
        turn = annotation_turn(enrollment=enrollment, assignment=assignment,
                               action="distressing" if incoming.validated_data["distressing"] else "skip",
                               seconds=incoming.validated_data["seconds"], note=incoming.note())
        return Response(SkipOutput({"skipped": turn.skipped, "next": _facing(enrollment, turn)}).data)
