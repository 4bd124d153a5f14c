"""The schema's operations declare their error answers, one shared shape (`api.errors`)."""

from drf_spectacular.openapi import AutoSchema
from rest_framework import permissions, serializers


class ErrorSerializer(serializers.Serializer):
    """Every refusal: a translated message and a stable code (and, for bad input, `errors`)."""

    message = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.DictField(
        required=False, help_text="For invalid input (code `invalid`): the messages per field."
    )


WRITES = {"POST", "PUT", "PATCH", "DELETE"}


class MarketplaceAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        open_to_all = all(
            isinstance(permission, permissions.AllowAny)
            or (
                isinstance(permission, permissions.IsAuthenticatedOrReadOnly)
                and self.method not in WRITES
            )
            for permission in self.view.get_permissions()
        )
        codes = []
        if self.method in WRITES:
            codes.append("400")  # invalid input, or a rule refused it
        if not open_to_all:
            codes += ["401", "403"]
        if "{" in self.path:
            codes.append("404")  # absent, hidden, or someone else's
        for code in codes:
            responses.setdefault(code, self._get_response_for_code(ErrorSerializer, code))
        return responses
