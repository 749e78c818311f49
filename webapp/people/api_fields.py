"""Serializer fields and shapes that several apps' APIs share: strict text input, the regroup rules, the share
body, and the error bodies every API answers with (see webapp.people.api_schema)."""

from rest_framework import serializers

from webapp.people.regroup import regroup_parse


class TextField(serializers.CharField):
    """A string input that is a string: DRF's CharField would store ``123`` or ``true`` as text, where the schema
    (``type: string``) says such a request is refused."""

    default_error_messages = {"not_text": "must be text, not {kind}"}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_text", kind=type(data).__name__)
        return super().to_internal_value(data)


class RegroupField(serializers.CharField):
    """The ``regroup`` query parameter of the reports, parsed into rules; a bad rule is a 400 naming it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 1000)
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault(
            "help_text",
            "relabel attributes first: 'age_band=45' (under 45 / 45 and over); 'country=UK|IE:British Isles'",
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> dict:
        try:
            return regroup_parse(super().to_internal_value(data))
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None


class ShareIn(serializers.Serializer):
    """The body of a share request: the researcher who gets access."""

    username = TextField(help_text="the researcher to share with")


class DetailOut(serializers.Serializer):
    """A refusal of the whole request: not signed in (401), not allowed (403), no such object (404)."""

    detail = serializers.CharField()


class FieldErrorsOut(serializers.Serializer):
    """A 400 (or 409): each key names the request field at fault (``non_field_errors`` when none does, ``detail``
    for the request as a whole) and holds its messages, as DRF's validation writes them. Subclasses name the keys
    their views use."""

    detail = serializers.CharField(required=False, help_text="the request as a whole, when no one field is at fault")
    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)
