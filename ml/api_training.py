"""REST API for training: launch a training job (POST /api/ml/train/) and read a version's lineage
(GET /api/ml/models/{id}/lineage/). Writes go through ``ml.services.training``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from ml import selectors
from ml.core.training.config import RECIPES
from ml.models import ModelVersion
from ml.selectors_training import version_lineage
from ml.services.training import train_job_launch
from webapp.jobs.api import JobSerializer, refusal
from webapp.jobs.errors import JobError
from webapp.people.api_fields import DetailOut
from webapp.people.roles import IsResearcher


class TrainInSerializer(serializers.Serializer):
    recipe = serializers.ChoiceField(choices=RECIPES)
    project = serializers.SlugField(required=False, help_text="reward-model, bi-encoder, sft: a project you can see")
    study = serializers.SlugField(required=False, help_text="dpo, preference-rm: a study you can see")
    base = serializers.PrimaryKeyRelatedField(queryset=ModelVersion.objects.all(), required=False, allow_null=True,
                                              help_text="the version to start from (default per recipe)")
    holdout_group = serializers.RegexField(r"^[\w-]+=.+$", required=False,
                                           help_text="ATTR=VALUE: test on this annotator group's labels only")
    params = serializers.DictField(required=False, default=dict, help_text="hyperparameter overrides")

    def validate(self, attrs):
        if bool(attrs.get("study")) == bool(attrs.get("project")):
            raise ValidationError("give either study or project")
        return attrs


class LineageStepSerializer(serializers.Serializer):
    """One version of a line; the training fields are null for a version not trained here."""

    name = serializers.CharField()
    kind = serializers.CharField()
    active = serializers.BooleanField()
    base = serializers.CharField(allow_blank=True)
    parent = serializers.CharField(allow_null=True, help_text="the parent version's name")
    export = serializers.CharField(allow_blank=True)
    trained_on = serializers.CharField(allow_blank=True)
    recipe = serializers.CharField(allow_null=True)
    split_sizes = serializers.DictField(allow_null=True, help_text="{train, validation, heldout}: rows in each split")
    metrics = serializers.DictField(allow_null=True, help_text="held-out metrics of this version")
    parent_metrics = serializers.DictField(allow_null=True, help_text="the parent's metrics on the same held-out set")
    created_at = serializers.DateTimeField()


class TrainLaunchView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(request=TrainInSerializer, responses={201: JobSerializer, 404: DetailOut},
                   summary="Launch a training job: the export is frozen now, the run goes to the gpu queue",
                   description="404 when the project or study it names is not one you can see.")
    def post(self, request):
        data = TrainInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        study, project = selectors.job_target_for_user(user=request.user, study=values.get("study"),
                                                       project=values.get("project"))
        group = tuple(values["holdout_group"].split("=", 1)) if values.get("holdout_group") else None
        try:
            job = train_job_launch(recipe=values["recipe"], created_by=request.user, project=project, study=study,
                                   base=values.get("base"), holdout_group=group, overrides=values["params"])
        except JobError as exc:
            raise refusal(exc) from exc
        job.refresh_from_db()
        return Response(JobSerializer(job).data, status=status.HTTP_201_CREATED)


class LineageView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=LineageStepSerializer(many=True),
                   summary="A version's line: itself, then each parent, with metrics")
    def get(self, request, pk):
        return Response(version_lineage(version=selectors.model_version_get_for_user(user=request.user, pk=pk)))
