"""Helpers shared by the API views."""

from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from marketplace.api.inputs import MAX_ID


def validated(serializer_class: type[serializers.Serializer], request: Request, **context):
    """The input serializer, validated (a 400 with every error otherwise)."""
    serializer = serializer_class(data=request.data, context={"request": request, **context})
    serializer.is_valid(raise_exception=True)
    return serializer


def get_scoped(queryset, **lookup):
    """One row of a queryset already scoped to the user: anyone else's is a 404, like absent."""
    for value in lookup.values():
        if isinstance(value, int) and not 0 < value <= MAX_ID:
            raise NotFound()
        if isinstance(value, str) and "\x00" in value:
            raise NotFound()  # PostgreSQL refuses NUL in text: no such row either way
    obj = queryset.filter(**lookup).first()
    if obj is None:
        raise NotFound()
    return obj
