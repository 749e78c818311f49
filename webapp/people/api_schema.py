"""The OpenAPI schema's rules every API view shares, so no view has to repeat them in its ``@extend_schema``.

An operation is documented with the refusals it can give besides its own answers: 400 with the field-keyed errors
when it reads a body or a query, 415 when it reads a body, 401 and 403 when a role is required, 404 when its path
names an object. A view's own declaration of one of those codes wins. A view that parses JSON is documented with
JSON bodies only: the form encodings DRF also parses cannot carry a null or a nested object, so the schema would
promise what they cannot send (they still work)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import AllowAny

from webapp.people.api_fields import DetailOut, FieldErrorsOut

# what DRF puts under each field: a message, a list of messages, or (nested input) an object or list of objects
FIELD_MESSAGES = {"oneOf": [{"type": "string"}, {"type": "array", "items": {}}, {"type": "object"}]}


class ResonanceAutoSchema(AutoSchema):
    def map_parsers(self):
        media_types = super().map_parsers()
        return ["application/json"] if "application/json" in media_types else media_types

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, body in self._refusals().items():
            if code not in responses:
                responses[code] = self._get_response_for_code(body, code, direction=direction)
        return responses

    def _refusals(self) -> dict:
        refusals = {}
        if self._reads_body() or self._reads_query():
            refusals["400"] = FieldErrorsOut
        if self._reads_body():
            refusals["415"] = DetailOut  # a body in a media type the view does not parse
        if any(not isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            if self.view.get_authenticators():
                refusals["401"] = DetailOut
            refusals["403"] = DetailOut
        if "{" in self.path:
            refusals["404"] = DetailOut
        return refusals

    def _reads_query(self) -> bool:
        return any(parameter.get("in") == "query" for parameter in self._get_parameters())

    def _reads_body(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None


class FieldErrorsExtension(OpenApiSerializerExtension):
    """A ``FieldErrorsOut`` is an object keyed by the fields at fault; its declared fields are the keys it names."""

    target_class = FieldErrorsOut
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema.pop("required", None)
        schema["additionalProperties"] = FIELD_MESSAGES
        return schema
