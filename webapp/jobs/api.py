"""REST API for jobs of every registered kind (researchers only), mounted at /api/jobs/.

A launch names the kind, at most one target by its registered name (``"project": slug``) and the
kind's own fields; it answers at once with the queued job (or the job already failed with "the job
queue is not reachable: ..."); follow it with GET /api/jobs/{id}/. A refusal is a 400 whose keys
are the fields at fault, each with its messages (``{"kind": ["kind: ..."]}``).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.jobs import selectors, services
from webapp.jobs.errors import JobError
from webapp.jobs.models import Job
from webapp.jobs.registry import job_kinds, target_for_model, targets
from webapp.people.api_fields import DetailOut, FieldErrorsOut, TextField
from webapp.people.roles import IsResearcher


def refusal_body(exc: JobError) -> dict:
    """A refused launch or change as the API says it: the error under its top field (``non_field_errors`` when it
    names none)."""
    return {exc.top_field or "non_field_errors": [str(exc)]}


def refusal(exc: JobError) -> ValidationError:
    """The 400 for a refused launch or change (``refusal_body``)."""
    return ValidationError(refusal_body(exc))


class JobSerializer(serializers.ModelSerializer):
    target_type = serializers.CharField(source="target_name", read_only=True)
    target = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None, allow_null=True)
    percent = serializers.FloatField(read_only=True)
    seconds = serializers.FloatField(read_only=True, allow_null=True)
    described = serializers.DictField(read_only=True, help_text="what the kind says about it: with, note")

    class Meta:
        model = Job
        fields = ["id", "kind", "queue", "status", "target_type", "target", "described", "params", "done", "total",
                  "percent", "error", "result", "cancel_requested", "attempts", "created_by", "created_at",
                  "started_at", "finished_at", "seconds"]
        read_only_fields = fields

    def get_target(self, job: Job) -> str | None:
        return str(job.target) if job.target is not None else None


class LaunchInSerializer(serializers.Serializer):
    kind = TextField(help_text="a registered kind of job (GET /api/jobs/kinds/)")


class KindSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    queue = serializers.CharField()
    targets = serializers.ListField(child=serializers.CharField())


class JobListView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=JobSerializer(many=True), summary="Jobs you launched or whose target you may see")
    def get(self, request):
        return Response(JobSerializer(selectors.jobs_for_user(user=request.user)[:500], many=True).data)

    @extend_schema(request=LaunchInSerializer, responses={201: JobSerializer, 404: DetailOut},
                   summary="Launch a job of any registered kind, on the kind's queue",
                   description="404 when the target it names is not one you can see.")
    def post(self, request):
        data = LaunchInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = {key: value for key, value in request.data.items() if key != "kind"}
        try:
            target = selectors.job_target_for_user(user=request.user, data=fields)
            job = services.job_launch(kind=data.validated_data["kind"], created_by=request.user, target=target,
                                      data={key: value for key, value in fields.items() if key not in targets()})
        except JobError as exc:
            raise refusal(exc) from exc
        job.refresh_from_db()  # the enqueue ran on commit and may have marked it failed
        return Response(JobSerializer(job).data, status=status.HTTP_201_CREATED)


class KindListView(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=KindSerializer(many=True), summary="The kinds of job the apps registered")
    def get(self, request):
        rows = [{"name": kind.name, "label": kind.label, "queue": kind.queue,
                 "targets": [target_for_model(model).name for model in kind.targets if target_for_model(model)]}
                for kind in sorted(job_kinds().values(), key=lambda kind: kind.name)]
        return Response(KindSerializer(rows, many=True).data)


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

    @extend_schema(request=None, responses={200: JobSerializer, 409: FieldErrorsOut},
                   summary="Re-queue a failed or cancelled job (409 while it is queued, running or done)")
    def post(self, request, pk):
        job = selectors.job_get_for_user(user=request.user, pk=pk)
        try:
            services.job_requeue(job=job)
        except JobError as exc:  # the job's state forbids it, not the request's shape
            return Response(refusal_body(exc), status=status.HTTP_409_CONFLICT)
        job.refresh_from_db()
        return Response(JobSerializer(job).data)
