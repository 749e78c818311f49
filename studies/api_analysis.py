"""REST API for a study's analysis and exports (researchers with access to the study only).

Routed by ``studies.api_urls``, under ``/api/studies/``:

* ``GET <slug>/report/``: the report of :mod:`studies.analysis.report` (``comparisons``,
  ``bradley_terry``, ``position_bias`` and more); ``?bootstrap=`` resamples (0–5000, default 1000);
  ``?correction=holm|bh`` adjusts the participant-group tests (Holm by default);
  ``?regroup=age_band=45`` relabels participant attributes first (see :mod:`webapp.people.regroup`).
* ``GET <slug>/plan/?win_rate=0.6&icc=0.1``: participants needed (see :mod:`studies.analysis.planning`);
  the report takes the same parameters for its ``planning`` section.
* ``GET <slug>/export/?kind=raw|dpo``: the JSON Lines export of :mod:`studies.export`, streamed;
  the spec hash and the filters travel in ``X-Spec-Hash`` and ``X-Export-Filters`` headers.
  (``kind``, not ``format``: DRF reads a ``format`` query parameter as the renderer to use.)
"""

from __future__ import annotations

import json

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from studies import selectors
from studies.analysis.clustered import CORRECTIONS, DEFAULT_CORRECTION
from studies.analysis.load import study_plan_for, study_report_for
from studies.analysis.planning import DEFAULTS
from studies.export import FORMATS, export_filters, export_lines
from webapp.people.api_fields import RegroupField
from webapp.people.roles import IsResearcher


class ReportOptionsSerializer(serializers.Serializer):
    bootstrap = serializers.IntegerField(min_value=0, max_value=5000, default=1000)
    seed = serializers.IntegerField(default=0, min_value=0, max_value=2**32 - 1, help_text="random seed of the bootstrap")
    include_ended = serializers.BooleanField(default=False)
    correction = serializers.ChoiceField(
        choices=sorted(CORRECTIONS), default=DEFAULT_CORRECTION,
        help_text="multiplicity correction of the participant-group tests: holm (default) or bh",
    )
    regroup = RegroupField()


class PlanQuerySerializer(serializers.Serializer):
    win_rate = serializers.FloatField(min_value=0.501, max_value=0.999, default=DEFAULTS["win_rate"],
                                      help_text="the win rate to detect (the better system's share)")
    icc = serializers.FloatField(min_value=0.0, max_value=1.0, default=DEFAULTS["icc"],
                                 help_text="assumed correlation of one participant's judgments")
    alpha = serializers.FloatField(min_value=0.0001, max_value=0.5, default=DEFAULTS["alpha"])
    power = serializers.FloatField(min_value=0.5, max_value=0.999, default=DEFAULTS["power"])


class PlanOutSerializer(serializers.Serializer):
    win_rate = serializers.FloatField()
    icc = serializers.FloatField()
    alpha = serializers.FloatField()
    power = serializers.FloatField()
    system_pairs = serializers.IntegerField()
    judgments_per_pair_per_participant = serializers.FloatField()
    design_effect = serializers.FloatField()
    independent_judgments = serializers.IntegerField(help_text="per pair, were every judgment independent")
    judgments = serializers.IntegerField(help_text="per pair, with the design effect")
    participants = serializers.IntegerField()


class ReportQuerySerializer(ReportOptionsSerializer, PlanQuerySerializer):
    """The report's options and the planning target its ``planning`` section checks."""


class ExportQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=FORMATS, default="dpo")
    criterion = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, default=list, help_text="keep these criteria"
    )
    include_ended = serializers.BooleanField(default=False)
    exclude_one_sided = serializers.BooleanField(default=False)
    with_attributes = serializers.BooleanField(default=False)
    per_judgment = serializers.BooleanField(default=False)


class ComparisonSerializer(serializers.Serializer):
    criterion = serializers.CharField()
    system_a = serializers.CharField()
    system_b = serializers.CharField()
    wins_a = serializers.IntegerField()
    wins_b = serializers.IntegerField()
    ties = serializers.IntegerField()
    win_rate_a = serializers.FloatField(allow_null=True)
    win_rate_a_ci = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    win_rate_a_ci_clustered = serializers.ListField(
        child=serializers.FloatField(), allow_null=True,
        help_text="interval with the participant as the unit (Wilson at the effective n)",
    )
    design_effect = serializers.FloatField(allow_null=True)
    p_value = serializers.FloatField(allow_null=True)


class ReportOutSerializer(serializers.Serializer):
    """Documents the stable keys; the response carries the whole report dict as computed."""

    comparisons = ComparisonSerializer(many=True)
    bradley_terry = serializers.DictField(help_text="{system: {strength, ci, wins, losses}}")
    position_bias = serializers.DictField(help_text="{left_share, p_value, by_participant, ...}")


def _query(serializer_class, request) -> dict:
    data = {key: request.query_params.get(key) for key in request.query_params if key != "criterion"}
    if "criterion" in request.query_params:
        data["criterion"] = request.query_params.getlist("criterion")
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class StudyReportView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(
        parameters=[ReportQuerySerializer],
        responses=ReportOutSerializer,
        summary="Preference analysis of a study",
    )
    def get(self, request, slug: str):
        study = selectors.study_get_for_user(user=request.user, slug=slug)
        query = _query(ReportQuerySerializer, request)
        try:
            report = study_report_for(
                study,
                include_ended=query["include_ended"],
                n_bootstrap=query["bootstrap"],
                seed=query["seed"],
                correction=query["correction"],
                regroup=query["regroup"],
                planning={name: query[name] for name in DEFAULTS},
            )
        except ValueError as error:
            raise serializers.ValidationError({"regroup": [str(error)]}) from None
        return Response(report)


class StudyPlanView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(parameters=[PlanQuerySerializer], responses=PlanOutSerializer,
                   summary="Participants a study needs for a win rate (power with the design effect)")
    def get(self, request, slug: str):
        study = selectors.study_get_for_user(user=request.user, slug=slug)
        query = _query(PlanQuerySerializer, request)
        return Response(study_plan_for(study, **query))


class StudyExportView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(
        parameters=[
            ExportQuerySerializer,
            OpenApiParameter("X-Spec-Hash", OpenApiTypes.STR, OpenApiParameter.HEADER, response=[200], required=True,
                             description="the hash of the spec the judgments were made under"),
            OpenApiParameter("X-Export-Filters", OpenApiTypes.STR, OpenApiParameter.HEADER, response=[200],
                             required=True, description="the filters applied, as a JSON object"),
        ],
        responses={(200, "application/jsonl"): OpenApiTypes.STR},
        summary="Judgments as raw JSONL or DPO preference pairs (streamed)",
    )
    def get(self, request, slug: str):
        study = selectors.study_get_for_user(user=request.user, slug=slug)
        query = _query(ExportQuerySerializer, request)
        filters = export_filters(
            study,
            criteria=query["criterion"],
            include_ended=query["include_ended"],
            exclude_one_sided=query["exclude_one_sided"],
            with_attributes=query["with_attributes"],
            per_judgment=query["per_judgment"],
        )
        return export_response(study, format=query["kind"], filters=filters)


def export_response(study, *, format: str, filters: dict) -> StreamingHttpResponse:
    """The export as a streamed JSONL download (shared by the API and the results page)."""
    response = StreamingHttpResponse(
        export_lines(study, format=format, filters=filters), content_type="application/jsonl; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-{format}.jsonl"'
    response["X-Spec-Hash"] = study.spec_hash
    response["X-Export-Filters"] = json.dumps(filters, ensure_ascii=True)
    return response
