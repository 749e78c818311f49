"""REST API for the model registry and what model jobs produced (researchers only), mounted at /api/ml/.

Writes go through ``ml.services``; reads and access checks through ``ml.selectors``. Generation,
scoring and training jobs are launched, followed, cancelled and retried through the jobs API
(``/api/jobs/``, ``webapp.jobs.api``); training also at ``POST /api/ml/train/``.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from ml import selectors, services
from ml.models import ModelKind, ModelVersion
from webapp.people.api_fields import TextField
from webapp.people.roles import IsResearcher


class ModelVersionSerializer(serializers.ModelSerializer):
    registered_by = serializers.CharField(source="registered_by.username", read_only=True, default=None,
                                          allow_null=True)
    parent = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = ModelVersion
        fields = ["id", "name", "kind", "path", "base", "parent", "export", "training_settings", "metrics",
                  "registered_by", "is_active", "created_at", "promoted_at"]
        read_only_fields = fields


class RegisterInSerializer(serializers.Serializer):
    name = TextField(max_length=120)
    kind = serializers.ChoiceField(choices=ModelKind.choices)
    path = TextField(max_length=1000, help_text="the model folder on the workers")
    base = TextField(max_length=200, required=False, default="")
    parent = serializers.PrimaryKeyRelatedField(queryset=ModelVersion.objects.all(), required=False, allow_null=True)
    export = TextField(max_length=500, required=False, default="")
    training_settings = serializers.DictField(required=False, default=dict)
    metrics = serializers.DictField(required=False, default=dict)
    activate = serializers.BooleanField(required=False, default=False)


class ScoreRowSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="the system name (study) or 'items' (project)")
    n = serializers.IntegerField()
    means = serializers.DictField(child=serializers.FloatField(allow_null=True))


class ScoreTableSerializer(serializers.Serializer):
    dimensions = serializers.ListField(child=serializers.CharField())
    rows = ScoreRowSerializer(many=True)


class HumanAgreementOut(serializers.Serializer):
    dimensions = serializers.DictField(
        child=serializers.DictField(),
        help_text="{dimension: the model's agreement with the humans, the humans' own, the items of largest "
        "disagreement}; empty for a job that is not a scoring job on a project with labels")


class ModelListView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=ModelVersionSerializer(many=True), summary="Registered model versions")
    def get(self, request):
        return Response(ModelVersionSerializer(selectors.model_versions_for_user(user=request.user), many=True).data)

    @extend_schema(request=RegisterInSerializer, responses={201: ModelVersionSerializer},
                   summary="Register a model folder (refused with the reason when it is not loadable)")
    def post(self, request):
        data = RegisterInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            version = services.model_version_register(registered_by=request.user, by=request.user,
                                                      **data.validated_data)
        except services.RegistryError as exc:
            raise ValidationError({exc.field if exc.field in data.fields else "non_field_errors": [str(exc)]}) from exc
        return Response(ModelVersionSerializer(version).data, status=status.HTTP_201_CREATED)


class ModelDetailView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=ModelVersionSerializer, summary="One model version")
    def get(self, request, pk):
        return Response(ModelVersionSerializer(selectors.model_version_get_for_user(user=request.user, pk=pk)).data)


class ModelPromoteView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(request=None, responses=ModelVersionSerializer, summary="Make it the active version of its kind")
    def post(self, request, pk):
        version = selectors.model_version_get_for_user(user=request.user, pk=pk)
        return Response(ModelVersionSerializer(services.model_version_promote(version=version, by=request.user)).data)


class JobScoresView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=ScoreTableSerializer, summary="Mean score per dimension for each system (or the items)")
    def get(self, request, pk):
        job = selectors.model_job_get_for_user(user=request.user, pk=pk)
        return Response(ScoreTableSerializer(selectors.job_score_table(job=job)).data)


class JobHumanAgreementView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=HumanAgreementOut,
                   summary="The model's agreement with the project's annotators per dimension, beside theirs")
    def get(self, request, pk):
        job = selectors.model_job_get_for_user(user=request.user, pk=pk)
        return Response({"dimensions": selectors.job_human_agreement(job=job)})
