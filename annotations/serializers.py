"""Input and output shapes of the researcher API. Serializers validate and shape; they never write."""

from django.conf import settings
from rest_framework import serializers

from annotations.models import Project
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
    file = serializers.FileField(help_text="at most RESONANCE_MAX_UPLOAD_BYTES (50 MiB unless configured)")
    format = TextField(required=False, allow_blank=True,
                       help_text="Import format; detected from the file name and header when left out.")

    def validate_file(self, upload):
        limit = settings.RESONANCE_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise serializers.ValidationError(
                f"{upload.name} is {upload.size / 2**20:.1f} MiB; an import file may be at most {limit / 2**20:.1f} MiB")
        return upload


class LabelFileIn(FileIn):
    same_annotators_as = serializers.SlugField(
        required=False, allow_blank=True,
        help_text="Slug of one of your projects whose annotators the file's ids are (default: this project's own).")


class CountOut(serializers.Serializer):
    imported = serializers.IntegerField()


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
