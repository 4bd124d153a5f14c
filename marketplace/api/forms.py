"""Input serializers checked by the site's own forms: one definition of every shape.

A `FormSerializer` declares its fields for the OpenAPI schema, but the data it accepts is
whatever `form_class` accepts, with the same (translated) messages as the HTML page.
"""

from decimal import Decimal

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.fields import empty

SCALARS = (str, int, Decimal, bool)


def form_value(value):
    """A JSON value as a form would get it from a POST; None for anything else."""
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, SCALARS):
        return str(value)
    return None


class FormSerializer(serializers.Serializer):
    form_class: type[forms.BaseForm]
    # File fields: names whose values are uploads (multipart), several allowed.
    file_fields: tuple[str, ...] = ()
    # One value sent under several of the form's names (`password` -> password1, password2).
    aliases: dict[str, tuple[str, ...]] = {}
    # Fields the form does not have, checked by their serializer field instead.
    own_fields: tuple[str, ...] = ()

    def form_kwargs(self) -> dict:
        return self.context.get("form_kwargs", {})

    def form_value(self, name: str, value):
        return form_value(value)

    def own_form_values(self, own: dict) -> dict:
        """Form values made from the checked `own_fields` (for a form whose fields are not
        one per JSON name); none by default."""
        return {}

    def to_internal_value(self, data):
        if not hasattr(data, "items"):
            raise serializers.ValidationError(
                {"non_field_errors": [_("Send one JSON object (or a form).")]}
            )
        # PATCH: the stored values, overwritten by those sent.
        values, files, errors = dict(self.context.get("initial", {})), {}, {}
        own = {}
        for name in self.fields:
            if name in self.own_fields:
                self._own_value(name, data, own, errors)
                continue
            if name in self.file_fields:
                uploads = data.getlist(name) if hasattr(data, "getlist") else []
                uploads = [u for u in uploads if isinstance(u, UploadedFile)]
                if uploads:
                    files[name] = uploads if len(uploads) > 1 else uploads[0]
                continue
            if name not in data:
                if self.fields[name].default is not empty:
                    values[name] = form_value(self.fields[name].get_default())
                continue
            value = data[name]
            if value is None:
                continue
            converted = self.form_value(name, value)
            if converted is None:
                errors[name] = [_("Enter a single value, not a list or an object.")]
            else:
                values[name] = converted
        if errors:
            raise serializers.ValidationError(errors)
        for name, targets in self.aliases.items():
            if name in values:
                values.update(dict.fromkeys(targets, values.pop(name)))
        values.update(self.own_form_values(own))
        form = self.form = self.form_class(data=values, files=_multi(files), **self.form_kwargs())
        if not form.is_valid():
            raise serializers.ValidationError(
                {
                    "non_field_errors" if field == "__all__" else field: [str(m) for m in messages]
                    for field, messages in form.errors.items()
                }
            )
        return {**form.cleaned_data, **own}

    def _own_value(self, name: str, data, own: dict, errors: dict) -> None:
        field = self.fields[name]
        if name not in data:
            return
        if isinstance(field, serializers.ListField) and hasattr(data, "getlist"):
            value = data.getlist(name)
        else:
            value = data[name]
        try:
            own[name] = field.run_validation(value)
        except serializers.ValidationError as error:
            errors[name] = error.detail


def _multi(files: dict) -> MultiValueDict:
    return MultiValueDict(
        {name: value if isinstance(value, list) else [value] for name, value in files.items()}
    )
