"""REST API for the model registry and jobs (researchers only), mounted at /api/ml/.

Writes go through ``ml.services``; reads and access checks through ``ml.selectors``. A launch
answers at once with the queued job (or the job already failed with "the job queue is not
reachable: ..."); follow it with GET /api/ml/jobs/{id}/.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from ml import selectors, services
from ml.models import Job, ModelKind, ModelVersion
from webapp.people.roles import IsResearcher


class ModelVersionSerializer(serializers.ModelSerializer):
    registered_by = serializers.CharField(source="registered_by.username", read_only=True, default=None)
    parent = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = ModelVersion
        fields = ["id", "name", "kind", "path", "base", "parent", "export", "training_settings", "metrics",
                  "registered_by", "is_active", "created_at", "promoted_at"]
        read_only_fields = fields


class RegisterInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=ModelKind.choices)
    path = serializers.CharField(max_length=1000, help_text="the model folder on the workers")
    base = serializers.CharField(max_length=200, required=False, default="")
    parent = serializers.PrimaryKeyRelatedField(queryset=ModelVersion.objects.all(), required=False, allow_null=True)
    export = serializers.CharField(max_length=500, required=False, default="")
    training_settings = serializers.DictField(required=False, default=dict)
    metrics = serializers.DictField(required=False, default=dict)
    activate = serializers.BooleanField(required=False, default=False)


class JobSerializer(serializers.ModelSerializer):
    model_version = serializers.CharField(source="model_version.name", read_only=True)
    model_version_id = serializers.IntegerField(read_only=True)
    study = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)
    percent = serializers.FloatField(read_only=True)
    seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Job
        fields = ["id", "kind", "status", "model_version", "model_version_id", "study", "system_name", "project",
                  "params", "done", "total", "percent", "error", "result", "cancel_requested", "attempts",
                  "created_by", "created_at", "started_at", "finished_at", "seconds"]
        read_only_fields = fields


class LaunchInSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Job.Kind.choices)
    model_version = serializers.PrimaryKeyRelatedField(queryset=ModelVersion.objects.all())
    study = serializers.SlugField(required=False, help_text="a study you own or share")
    system = serializers.CharField(required=False, default="", allow_blank=True,
                                   help_text="generation: the system to fill; scoring: only this system")
    project = serializers.SlugField(required=False, help_text="an annotation project you own or share")
    params = serializers.DictField(required=False, default=dict,
                                   help_text="generation: max_new_tokens, temperature, top_p, seed, batch_size, "
                                             "system_prompt; scoring: batch_size, combine, weights, dimensions")

    def validate(self, attrs):
        if bool(attrs.get("study")) == bool(attrs.get("project")):
            raise ValidationError("give either study or project")
        return attrs


class ScoreRowSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="the system name (study) or 'items' (project)")
    n = serializers.IntegerField()
    means = serializers.DictField(child=serializers.FloatField(allow_null=True))


class ScoreTableSerializer(serializers.Serializer):
    dimensions = serializers.ListField(child=serializers.CharField())
    rows = ScoreRowSerializer(many=True)


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
            field = str(exc).partition(": ")[0]
            raise ValidationError({field if field in data.fields else "non_field_errors": [str(exc)]}) from exc
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


class JobListView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=JobSerializer(many=True), summary="Jobs you launched or whose study/project you share")
    def get(self, request):
        return Response(JobSerializer(selectors.jobs_for_user(user=request.user)[:500], many=True).data)

    @extend_schema(request=LaunchInSerializer, responses={201: JobSerializer},
                   summary="Launch a generation or scoring job (queued on the gpu queue)")
    def post(self, request):
        data = LaunchInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        study, project = selectors.job_target_for_user(user=request.user, study=values.get("study"),
                                                       project=values.get("project"))
        try:
            job = services.job_launch(kind=values["kind"], model_version=values["model_version"],
                                      created_by=request.user, study=study, project=project,
                                      system_name=values["system"], params=values["params"])
        except services.JobError as exc:
            field = str(exc).partition(": ")[0].split(".")[0]
            raise ValidationError({field if field in data.fields else "non_field_errors": [str(exc)]}) from exc
        job.refresh_from_db()  # the enqueue ran on commit and may have marked it failed
        return Response(JobSerializer(job).data, status=status.HTTP_201_CREATED)


class JobDetailView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=JobSerializer, summary="One job with its progress")
    def get(self, request, pk):
        return Response(JobSerializer(selectors.job_get_for_user(user=request.user, pk=pk)).data)


class JobCancelView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(request=None, responses=JobSerializer, summary="Cancel (a running job stops after its batch)")
    def post(self, request, pk):
        job = selectors.job_get_for_user(user=request.user, pk=pk)
        return Response(JobSerializer(services.job_cancel(job=job)).data)


class JobRetryView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(request=None, responses=JobSerializer, summary="Re-queue a failed or cancelled job")
    def post(self, request, pk):
        job = selectors.job_get_for_user(user=request.user, pk=pk)
        try:
            services.job_requeue(job=job)
        except services.JobError as exc:
            raise ValidationError({"status": str(exc)}) from exc
        job.refresh_from_db()
        return Response(JobSerializer(job).data)


class JobScoresView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=ScoreTableSerializer, summary="Mean score per dimension for each system (or the items)")
    def get(self, request, pk):
        job = selectors.job_get_for_user(user=request.user, pk=pk)
        return Response(ScoreTableSerializer(selectors.job_score_table(job=job)).data)


class JobHumanAgreementView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses={200: dict},
                   summary="The model's agreement with the project's annotators per dimension, beside theirs")
    def get(self, request, pk):
        job = selectors.job_get_for_user(user=request.user, pk=pk)
        return Response({"dimensions": selectors.job_human_agreement(job=job)})
