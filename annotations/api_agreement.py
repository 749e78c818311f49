"""REST API of agreement, annotator quality, exclusions and re-queuing (researchers only); routed by
``annotations.api_urls``."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import selectors
from annotations.agreement.load import project_agreement_report, project_annotator_quality
from annotations.agreement.reliability import LEVELS
from annotations.models import Item
from annotations.services.quality import annotator_exclude, annotator_include, item_queue_more_labels
from webapp.people.api_fields import RegroupField, TextField
from webapp.people.roles import IsResearcher


class AgreementQuery(serializers.Serializer):
    by = serializers.ListField(child=serializers.CharField(max_length=64), required=False, default=list)
    bootstrap = serializers.IntegerField(min_value=0, max_value=10_000, default=1000)
    seed = serializers.IntegerField(default=0, min_value=0, max_value=2**32 - 1, help_text="random seed of the bootstrap")
    level = serializers.ChoiceField(choices=LEVELS, required=False, allow_null=True, default=None)
    kappa_weights = serializers.ChoiceField(choices=["linear", "quadratic"], default="quadratic")
    regroup = RegroupField()


class ExclusionInput(serializers.Serializer):
    reason = TextField(max_length=500, required=False, allow_blank=True, default="")


class AnnotatorQualityOut(serializers.Serializer):
    annotators = serializers.ListField(
        child=serializers.DictField(), help_text="one row per annotator: annotator, excluded, then a column per figure "
        "(agreement with gold and with the others per dimension, attention checks, seconds per item); null when unknown")


class ExclusionOut(serializers.Serializer):
    annotator = serializers.CharField(help_text="the annotator's pseudonym")
    excluded = serializers.BooleanField()
    since = serializers.DateTimeField()


class InclusionOut(serializers.Serializer):
    annotator = serializers.CharField(help_text="the annotator's pseudonym")
    excluded = serializers.BooleanField()
    revoked = serializers.IntegerField(help_text="active exclusions revoked (0 when there was none)")


class QueuedOut(serializers.Serializer):
    item = serializers.CharField(help_text="the item's external id")
    needed = serializers.IntegerField(help_text="labels the item now needs")


def _annotator(pseudonym):
    return get_object_or_404(get_user_model(), pseudonym=pseudonym)


def _jsonable(frame) -> list[dict]:
    # to_json turns NaN into null, which json.dumps of the dict records would not
    return json.loads(frame.to_json(orient="records"))


class AgreementView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(parameters=[AgreementQuery], responses={200: OpenApiTypes.OBJECT},
                   description="The agreement report per dimension (and per annotator group with `by`).")
    def get(self, request, slug):
        project = selectors.project_get_for_user(user=request.user, slug=slug)
        query = AgreementQuery(data={**request.query_params.dict(), "by": request.query_params.getlist("by")})
        query.is_valid(raise_exception=True)
        options = query.validated_data
        try:
            report = project_agreement_report(
                project=project, by=options["by"], n_bootstrap=options["bootstrap"], seed=options["seed"],
                level=options["level"], kappa_weights=options["kappa_weights"], regroup=options["regroup"],
            )
        except ValueError as error:
            raise serializers.ValidationError({"regroup": [str(error)]}) from None
        return Response(report)


class AnnotatorQualityView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=AnnotatorQualityOut)
    def get(self, request, slug):
        project = selectors.project_get_for_user(user=request.user, slug=slug)
        return Response({"annotators": _jsonable(project_annotator_quality(project=project))})


class AnnotatorExcludeView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(request=ExclusionInput, responses=ExclusionOut)
    def post(self, request, slug, pseudonym):
        project = selectors.project_get_for_user(user=request.user, slug=slug)
        payload = ExclusionInput(data=request.data)
        payload.is_valid(raise_exception=True)
        exclusion = annotator_exclude(
            project=project, annotator=_annotator(pseudonym), reason=payload.validated_data["reason"],
            created_by=request.user,
        )
        return Response({"annotator": pseudonym, "excluded": True, "since": exclusion.created_at})


class AnnotatorIncludeView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(request=None, responses=InclusionOut)
    def post(self, request, slug, pseudonym):
        project = selectors.project_get_for_user(user=request.user, slug=slug)
        revoked = annotator_include(project=project, annotator=_annotator(pseudonym))
        return Response({"annotator": pseudonym, "excluded": False, "revoked": revoked})


class ItemQueueView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(request=None, responses=QueuedOut)
    def post(self, request, slug, external_id):
        project = selectors.project_get_for_user(user=request.user, slug=slug)
        item = item_queue_more_labels(item=get_object_or_404(Item, project=project, external_id=external_id))
        return Response({"item": item.external_id, "needed": item.needed})
