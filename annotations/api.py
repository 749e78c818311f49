"""Researcher API for annotation projects: specs, item and label import, label export, progress, sharing.

Every view calls the same service as the page and the management command; none writes by itself."""

import re
import shutil
import tempfile
from pathlib import Path

from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import selectors, serializers
from annotations.importing.errors import ImportFormatError
from annotations.jobs_import import import_job_launch
from annotations.services import importing, projects
from annotations.services.exporting import labels_export
from annotations.services.import_uploads import upload_runs_inline
from annotations.spec import SpecError
from webapp.jobs.api import refusal
from webapp.jobs.errors import JobError
from webapp.people.api_fields import ShareIn
from webapp.people.roles import IsResearcher
from webapp.specs import SlugTaken


def _error(exc: Exception, code=status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({"detail": str(exc)}, status=code)


def _spec_error(exc: SpecError) -> Response:
    """400 naming the key (``where``), its line and every problem; 409 when a new project's slug is taken."""
    code = status.HTTP_409_CONFLICT if isinstance(exc, SlugTaken) else status.HTTP_400_BAD_REQUEST
    return Response({"detail": str(exc), "where": exc.path, "line": exc.line,
                     "problems": [{"path": p.path, "line": p.line, "message": p.message} for p in exc.problems]},
                    status=code)


class ResearcherView(APIView):
    permission_classes = [IsResearcher]

    def project(self, request, slug):
        return selectors.project_get_for_user(user=request.user, slug=slug)


class ProjectListView(ResearcherView):
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(responses=serializers.ProjectOut(many=True), summary="Projects you own or share")
    def get(self, request):
        rows = selectors.projects_for_user(user=request.user).select_related("owner")
        return Response(serializers.ProjectOut(rows, many=True).data)

    @extend_schema(request=serializers.ProjectSpecIn,
                   responses={201: serializers.ProjectDetailOut, 400: serializers.ErrorOut, 409: serializers.ErrorOut},
                   summary="Create a project from its spec (409 when the slug is taken; PUT updates)")
    def post(self, request):
        data = serializers.ProjectSpecIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            project = projects.project_create(spec_text=data.validated_data["spec"], owner=request.user)
        except SpecError as exc:
            return _spec_error(exc)
        return Response(serializers.ProjectDetailOut(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailView(ResearcherView):
    @extend_schema(responses=serializers.ProjectDetailOut, summary="One project with its normalised spec")
    def get(self, request, slug):
        return Response(serializers.ProjectDetailOut(self.project(request, slug)).data)

    @extend_schema(request=serializers.ProjectSpecIn, responses={200: serializers.ProjectDetailOut, 400: serializers.ErrorOut},
                   summary="Replace the project's spec (same slug)")
    def put(self, request, slug):
        project = self.project(request, slug)
        data = serializers.ProjectSpecIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            project = projects.project_update(project=project, spec_text=data.validated_data["spec"], by=request.user)
        except SpecError as exc:
            return _spec_error(exc)
        return Response(serializers.ProjectDetailOut(project).data)

    @extend_schema(responses={204: None, 409: serializers.ErrorOut},
                   summary="Delete a project that holds no labels (owner only; 409 when it holds some)")
    def delete(self, request, slug):
        try:
            projects.project_delete(project=self.project(request, slug), by=request.user)
        except projects.ProjectError as exc:
            return _error(exc, status.HTTP_409_CONFLICT)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProjectProgressView(ResearcherView):
    @extend_schema(responses=serializers.ProgressOut, summary="Items complete, labels, active annotators, median time")
    def get(self, request, slug):
        return Response(selectors.project_progress(project=self.project(request, slug)))


def _queued(job) -> Response:
    """202 with the import job that a file above ``RESONANCE_IMPORT_INLINE_BYTES`` went to."""
    job.refresh_from_db(fields=["status"])  # the enqueue ran on commit and may have marked it failed
    return Response({"job": job.pk, "status": job.status, "url": reverse("jobs:api_job_detail", args=[job.pk]),
                     "page": reverse("jobs:job_detail", args=[job.pk])}, status=status.HTTP_202_ACCEPTED)


class ItemImportView(ResearcherView):
    """Spools a small upload to disk and imports it in the request, all or nothing; a large one goes to a job."""

    parser_classes = [MultiPartParser]

    @extend_schema(request={"multipart/form-data": serializers.FileIn},
                   responses={201: serializers.CountOut, 202: serializers.ImportQueuedOut, 400: serializers.ErrorOut},
                   summary="Import items (JSONL, CSV, EmpatheticDialogues, EmpathicStories, EPITOME, turn CSV); all or "
                           "nothing; a file above RESONANCE_IMPORT_INLINE_BYTES answers 202 with its import job")
    def post(self, request, slug):
        project = self.project(request, slug)
        data = serializers.FileIn(data=request.data)
        data.is_valid(raise_exception=True)
        upload, fmt = data.validated_data["file"], data.validated_data.get("format") or None
        if not upload_runs_inline(upload):
            return _queued(_job_launched(project=project, created_by=request.user, upload=upload, what="items",
                                         fmt=fmt))
        with _spooled(upload) as path:
            try:
                count = importing.items_import(project=project, path_or_file=path, fmt=fmt)
            except ImportFormatError as exc:
                return _error(exc)
        return Response({"imported": count}, status=status.HTTP_201_CREATED)


class LabelImportView(ResearcherView):
    parser_classes = [MultiPartParser]

    @extend_schema(request={"multipart/form-data": serializers.LabelFileIn},
                   responses={201: serializers.LabelsImportedOut, 202: serializers.ImportQueuedOut,
                              400: serializers.ErrorOut},
                   summary="Import labels collected elsewhere (long CSV: item_id, annotator_id, dimension, value, ...); "
                           "a file above RESONANCE_IMPORT_INLINE_BYTES answers 202 with its import job")
    def post(self, request, slug):
        project = self.project(request, slug)
        data = serializers.LabelFileIn(data=request.data)
        data.is_valid(raise_exception=True)
        other = data.validated_data.get("same_annotators_as")
        # naming another project links identities, so it must be one this researcher may see
        source = selectors.project_get_for_user(user=request.user, slug=other) if other else None
        if not upload_runs_inline(data.validated_data["file"]):
            return _queued(_job_launched(project=project, created_by=request.user, upload=data.validated_data["file"],
                                         what="labels", fmt=data.validated_data.get("format") or None,
                                         same_annotators_as=source))
        with _spooled(data.validated_data["file"]) as path:
            try:
                imported = importing.labels_import(project=project, path_or_file=path,
                                                   fmt=data.validated_data.get("format") or None,
                                                   same_annotators_as=source)
            except ImportFormatError as exc:
                return _error(exc)
        return Response({"imported": int(imported), "attributes": imported.attributes},
                        status=status.HTTP_201_CREATED)


def _job_launched(**launch):
    """The queued import job; a refused launch (a format the kind does not know) is a 400 naming the field."""
    try:
        return import_job_launch(**launch)
    except JobError as exc:
        raise refusal(exc) from exc


class LabelExportView(ResearcherView):
    @extend_schema(
        parameters=[OpenApiParameter("format", enum=["jsonl", "csv"], default="jsonl"),
                    OpenApiParameter("aggregate", enum=["none", "mean", "median", "majority", "distribution", "weighted"],
                                     default="none")],
        responses={(200, "application/x-ndjson"): bytes, (200, "text/csv"): bytes, 400: serializers.ErrorOut},
        summary="Export labels (one row per label)")
    def get(self, request, slug):
        project = self.project(request, slug)
        fmt = request.query_params.get("format", "jsonl")
        if fmt not in {"jsonl", "csv"}:
            return _error(ValueError("format: must be jsonl or csv"))
        aggregate = request.query_params.get("aggregate", "none")
        handle = tempfile.NamedTemporaryFile(suffix=f".{fmt}", delete=False)  # noqa: SIM115 (streamed, then removed)
        handle.close()
        try:
            labels_export(project=project, out=handle.name, fmt=fmt, aggregate=aggregate)
        except ValueError as exc:
            Path(handle.name).unlink(missing_ok=True)
            return _error(exc)
        stream = open(handle.name, "rb")  # noqa: SIM115 (FileResponse closes it)
        Path(handle.name).unlink()  # the open handle keeps the data readable until the response is sent
        content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson; charset=utf-8"
        return FileResponse(stream, as_attachment=True, filename=f"{project.slug}-labels.{fmt}",
                            content_type=content_type)


class ProjectShareView(ResearcherView):
    @extend_schema(request=ShareIn, responses={204: None, 400: serializers.ErrorOut},
                   summary="Give another researcher access (owner only)")
    def post(self, request, slug):
        project = self.project(request, slug)
        data = ShareIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            projects.project_share(project=project, username=data.validated_data["username"], by=request.user)
        except projects.ShareError as exc:
            return _error(exc)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProjectUnshareView(ResearcherView):
    @extend_schema(request=None, responses={204: None},
                   summary="Take access back from a collaborator (owner only; 404 when it is not shared with them)")
    def delete(self, request, slug, username):
        try:
            projects.project_unshare(project=self.project(request, slug), username=username, by=request.user)
        except projects.ShareError as exc:
            return _error(exc, status.HTTP_404_NOT_FOUND)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _spooled:
    """Writes an upload to a temporary file so the streaming importers read it by path; removed afterwards."""

    def __init__(self, upload):
        self.upload = upload

    def __enter__(self) -> str:
        # under the upload's own name (in a private directory), so import errors name the file the researcher sent
        self.folder = Path(tempfile.mkdtemp(prefix="import-"))
        stem = re.sub(r"[^A-Za-z0-9._ -]", "_", Path(self.upload.name or "upload").name).lstrip(".") or "upload"
        path = self.folder / stem[-200:]
        with open(path, "wb") as handle:
            for chunk in self.upload.chunks():
                handle.write(chunk)
        self.path = str(path)
        return self.path

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
