"""Input and output shapes of the researcher API. Serializers validate and shape; they never write."""

from rest_framework import serializers

from annotations.models import Project
from annotations.services.import_uploads import upload_size_problem
from webapp.people.api_fields import FieldErrorsOut, TextField


class ProjectOut(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username")

    class Meta:
        model = Project
        fields = ["slug", "title", "kind", "overlap", "is_open", "owner", "spec_hash", "created_at"]


class ProjectDetailOut(ProjectOut):
    class Meta(ProjectOut.Meta):
        fields = [*ProjectOut.Meta.fields, "spec"]


class ProjectSpecIn(serializers.Serializer):
    spec = TextField(help_text="The project spec as YAML or JSON text.")


class FileIn(serializers.Serializer):
    file = serializers.FileField(help_text="at most RESONANCE_MAX_UPLOAD_BYTES (50 MiB unless configured); one above "
                                           "RESONANCE_IMPORT_INLINE_BYTES (2 MiB) is answered 202 with its import job")
    format = TextField(required=False, allow_blank=True,
                       help_text="Import format; detected from the file name and header when left out.")

    def validate_file(self, upload):
        problem = upload_size_problem(upload)
        if problem:
            raise serializers.ValidationError(problem)
        return upload


class LabelFileIn(FileIn):
    same_annotators_as = serializers.SlugField(
        required=False, allow_blank=True,
        help_text="Slug of one of your projects whose annotators the file's ids are (default: this project's own).")


class CountOut(serializers.Serializer):
    imported = serializers.IntegerField()


class ImportQueuedOut(serializers.Serializer):
    job = serializers.IntegerField(help_text="the import job's id")
    status = serializers.CharField()
    url = serializers.CharField(help_text="GET it for progress; its result is this endpoint's 201 body")
    page = serializers.CharField(help_text="the job's page, for a person")


class LabelsImportedOut(CountOut):
    attributes = serializers.ListField(child=serializers.CharField(),
                                       help_text="Annotator attribute columns recorded for this project")


class ProgressOut(serializers.Serializer):
    items = serializers.IntegerField()
    complete = serializers.IntegerField()
    labels = serializers.IntegerField()
    active_annotators = serializers.IntegerField()
    median_seconds = serializers.FloatField(allow_null=True)
    enrolled = serializers.IntegerField()


class SpecProblemOut(serializers.Serializer):
    path = serializers.CharField()
    line = serializers.IntegerField(allow_null=True)
    message = serializers.CharField()


class ErrorOut(FieldErrorsOut):
    """A refused spec names the key (``where``), its line and every problem; other refusals are field-keyed."""

    detail = serializers.CharField(required=False)
    where = serializers.CharField(required=False, help_text="a spec error's key path (slug when the slug is taken)")
    line = serializers.IntegerField(required=False, allow_null=True, help_text="its YAML line")
    problems = SpecProblemOut(many=True, required=False)
