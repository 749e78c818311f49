"""REST API for studies: researcher CRUD, spec load, response import, progress; blinded participant endpoints.

Researcher endpoints need ``IsResearcher`` and act only on studies the selectors grant. Participant
endpoints authenticate by the participation token in the URL (it is the credential a recruitment
link hands out) and return only ``BlindedSlot`` fields: no system, response, pair or prompt id.
"""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from studies import selectors, services
from studies.models import Participant, Study
from studies.spec import SpecError
from webapp.people.api_fields import FieldErrorsOut, ShareIn, TextField
from webapp.people.ownership import ShareError
from webapp.people.roles import IsResearcher
from webapp.specs import SlugTaken


class StudySerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)

    class Meta:
        model = Study
        fields = ["slug", "title", "is_open", "owner", "spec_hash", "created_at", "opened_at", "spec"]
        read_only_fields = fields


@extend_schema_field({"oneOf": [{"type": "object"}, {"type": "string"}]})
class SpecField(serializers.JSONField):
    """A spec: a JSON object, or YAML/JSON text (never null, a number or a list)."""


class SpecInSerializer(serializers.Serializer):
    spec = SpecField(help_text="the spec as a JSON object, or YAML/JSON text")


class ResponsesInSerializer(serializers.Serializer):
    jsonl = TextField(required=False, help_text="JSONL lines {prompt_id, system, response}")
    system = TextField(required=False, help_text="with rows: the system all rows belong to")
    rows = serializers.ListField(child=serializers.DictField(), required=False,
                                 help_text="[{prompt_id, text, model_version_id?, metadata?}] for one system")

    def validate(self, attrs):
        if bool(attrs.get("jsonl")) == bool(attrs.get("rows")):
            raise ValidationError("give either jsonl, or system with rows")
        if attrs.get("rows") and not attrs.get("system"):
            raise ValidationError({"system": "is required with rows"})
        return attrs


class CountSerializer(serializers.Serializer):
    stored = serializers.IntegerField()
    missing = serializers.IntegerField()


class ProgressSerializer(serializers.Serializer):
    participants = serializers.DictField(child=serializers.IntegerField())
    comparisons_done = serializers.IntegerField()
    comparisons_reserved = serializers.IntegerField()
    capacity = serializers.IntegerField()
    percent = serializers.FloatField()
    judgments = serializers.IntegerField()
    imported_judgments = serializers.IntegerField()
    attention_failures = serializers.IntegerField()


def _study(request, slug: str) -> Study:
    # the selector's Http404 (another group's study) and PermissionDenied (not a researcher) become 404 and 403
    return selectors.study_get_for_user(user=request.user, slug=slug)


class Conflict(APIException):
    """The request is well formed but the study's state refuses it (a slug taken, participants enrolled)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class SlugConflict(Conflict):
    default_code = "slug_taken"


def _spec_refused(exc: Exception):
    """400 with the problem under ``spec`` (its key path first, then its line); 409 when the slug is taken."""
    if isinstance(exc, SlugTaken):
        return SlugConflict({"spec": str(exc), "field": "slug"})
    return ValidationError({"spec": str(exc)})


class StudyListView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=StudySerializer(many=True), summary="Studies you own or share")
    def get(self, request):
        return Response(StudySerializer(selectors.studies_for_user(user=request.user), many=True).data)

    @extend_schema(request=SpecInSerializer, responses={201: StudySerializer, 409: FieldErrorsOut},
                   summary="Create from a spec (409 when the slug is taken; PUT updates)")
    def post(self, request):
        data = SpecInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            study = services.study_create(spec=data.validated_data["spec"], owner=request.user)
        except (SpecError, services.StudyError) as exc:
            raise _spec_refused(exc) from exc
        return Response(StudySerializer(study).data, status=status.HTTP_201_CREATED)


class StudyDetailView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=StudySerializer, summary="One study with its spec")
    def get(self, request, slug):
        return Response(StudySerializer(_study(request, slug)).data)

    @extend_schema(request=SpecInSerializer, responses=StudySerializer, summary="Replace the spec (same slug)")
    def put(self, request, slug):
        study = _study(request, slug)
        data = SpecInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            study = services.study_update(study=study, spec=data.validated_data["spec"], by=request.user)
        except (SpecError, services.StudyError) as exc:
            raise _spec_refused(exc) from exc
        return Response(StudySerializer(study).data)

    @extend_schema(responses={204: None, 409: FieldErrorsOut},
                   summary="Delete a study that has no participants (owner only; 409 when it has some)")
    def delete(self, request, slug):
        try:
            services.study_delete(study=_study(request, slug), by=request.user)
        except services.StudyError as exc:
            raise Conflict({"detail": str(exc)}) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class StudyShareView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(request=ShareIn, responses={204: None}, summary="Give another researcher access (owner only)")
    def post(self, request, slug):
        study = _study(request, slug)
        data = ShareIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.study_share(study=study, username=data.validated_data["username"], by=request.user)
        except ShareError as exc:
            raise ValidationError({"username": str(exc)}) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class StudyUnshareView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(request=None, responses={204: None},
                   summary="Take access back from a collaborator (owner only; 404 when it is not shared with them)")
    def delete(self, request, slug, username):
        try:
            services.study_unshare(study=_study(request, slug), username=username, by=request.user)
        except ShareError as exc:
            raise NotFound(str(exc)) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class StudyResponsesView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(request=ResponsesInSerializer, responses=CountSerializer, summary="Import or upsert responses")
    def post(self, request, slug):
        study = _study(request, slug)
        data = ResponsesInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            if data.validated_data.get("jsonl"):
                stored = services.responses_import(study=study, lines=data.validated_data["jsonl"].splitlines(),
                                                   source="request")
            else:
                stored = services.responses_store(study=study, system_name=data.validated_data["system"],
                                                  rows=data.validated_data["rows"])
        except (services.StudyError, KeyError) as exc:
            raise ValidationError({"responses": str(exc)}) from exc
        return Response({"stored": stored, "missing": len(services.responses_missing(study=study))})


class StudyProgressView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=ProgressSerializer, summary="Participants by stage, comparisons done, capacity")
    def get(self, request, slug):
        return Response(ProgressSerializer(selectors.study_progress(study=_study(request, slug))).data)


class StudyOpenView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(request=None, responses=StudySerializer, summary="Open (checks every response exists)")
    def post(self, request, slug):
        try:
            study = services.study_open(study=_study(request, slug))
        except services.StudyError as exc:
            raise ValidationError({"responses": str(exc)}) from exc
        return Response(StudySerializer(study).data)


class StudyCloseView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(request=None, responses=StudySerializer, summary="Close the recruitment link")
    def post(self, request, slug):
        return Response(StudySerializer(services.study_close(study=_study(request, slug))).data)


# Participant endpoints (blinded) ------------------------------------------------------------------------


class SlotSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="opaque, per participant and slot; send it back with the answers")
    position = serializers.IntegerField()
    total = serializers.IntegerField()
    context = serializers.ListField(child=serializers.DictField())
    left_text = serializers.CharField()
    right_text = serializers.CharField()


class ParticipationSerializer(serializers.Serializer):
    stage = serializers.CharField()
    slot = SlotSerializer(allow_null=True)
    warned = serializers.BooleanField()
    completion_code = serializers.CharField(allow_blank=True)
    redirect_url = serializers.CharField(allow_blank=True)


class AnswerSerializer(serializers.Serializer):
    criterion = TextField()
    side = serializers.ChoiceField(choices=["left", "right", "tie"])
    strength = serializers.IntegerField(required=False, allow_null=True)
    rationale = TextField(required=False, allow_blank=True, default="")


class JudgmentInSerializer(serializers.Serializer):
    slot = TextField()
    answers = AnswerSerializer(many=True)


def _participation(participant: Participant, slot, warned: bool = False) -> dict:
    done = participant.stage == Participant.Stage.DONE
    recruitment = participant.study.spec["recruitment"]
    return {
        "stage": participant.stage,
        "slot": asdict(selectors.slot_blind(slot=slot, total=participant.total)) if slot is not None else None,
        "warned": warned,
        "completion_code": recruitment["completion_code"] if done else "",
        "redirect_url": recruitment["redirect_url"] if done else "",
    }


class ParticipationView(APIView):
    """The participant's current slot. The token in the URL is the credential; no login, no cookies."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses=ParticipationSerializer, summary="Current slot (blinded)")
    def get(self, request, token):
        participant = selectors.participant_get_by_token(token=token)
        slot = services.slot_for_display(participant=participant)
        return Response(_participation(participant, slot))


class JudgmentSubmitView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=JudgmentInSerializer, responses=ParticipationSerializer,
                   summary="Answer the current slot; returns the next (blinded). A repeat stores nothing.")
    def post(self, request, token):
        participant, slots = services.judgment_context_fetch(token=token)
        if participant is None:
            raise NotFound("no such participation")
        data = JudgmentInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answers = {a["criterion"]: a for a in data.validated_data["answers"]}
        try:
            outcome = services.judgment_submit(participant=participant, token=data.validated_data["slot"],
                                               answers=answers, slots=slots)
        except services.JudgmentInvalid as exc:
            raise ValidationError({"answers": exc.errors}) from exc
        return Response(_participation(participant, outcome.next_slot, outcome.warned))
