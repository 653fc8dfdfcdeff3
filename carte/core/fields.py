"""Model fields Django does not have."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

SEP = ","


class MultiChoiceField(models.Field[list[str] | str, list[str]]):
    """A set of choices stored as ",a,b," in one text column.

    Portable (SQLite has no JSON `contains`) and filterable with `has_choice()`, which
    matches the delimited value exactly. The Python value is a sorted list of codes.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 200)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", list)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("default") is list:
            del kwargs["default"]
        if self.blank:
            kwargs.pop("blank", None)
        else:
            kwargs["blank"] = False  # this field defaults to blank=True, unlike Field
        if kwargs.get("max_length") == 200:
            del kwargs["max_length"]
        return name, path, args, kwargs

    def get_internal_type(self) -> str:
        return "CharField"  # a varchar(max_length) column

    def contribute_to_class(self, cls: Any, name: str, private_only: bool = False) -> None:
        super().contribute_to_class(cls, name, private_only=private_only)
        if self.choices is not None:
            # Django's `get_<name>_display()` looks the whole list up as one choice and,
            # finding none, answers the list as text ("['portfolio']"): a set's display is
            # its choices' labels instead.
            setattr(cls, f"get_{self.name}_display", _display_of(self))

    def labels(self, value: Any) -> list[str]:
        """The labels of the codes in `value`, in the stored order (an unknown code as it
        is)."""
        names = {str(k): str(v) for k, v in self.flatchoices}
        return [names.get(code, code) for code in self.to_python(value)]

    @staticmethod
    def _split(value: str) -> list[str]:
        return sorted(v for v in value.split(SEP) if v)

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> list[str]:
        return [] if not value else self._split(value)

    def to_python(self, value: Any) -> list[str]:
        if value is None or value == "":
            return []
        if isinstance(value, str):
            return self._split(value)
        return sorted({str(v) for v in value})

    def get_prep_value(self, value: Any) -> str:
        codes = self.to_python(value)
        return f"{SEP}{SEP.join(codes)}{SEP}" if codes else ""

    def validate(self, value: Any, model_instance: Any) -> None:
        codes = self.to_python(value)
        if not codes and not self.blank:
            raise ValidationError(self.error_messages["blank"], code="blank")
        allowed = {str(k) for k, _ in self.flatchoices}
        for code in codes:
            if code not in allowed:
                raise ValidationError(
                    f"{code!r} is not one of: {', '.join(sorted(allowed))}.", code="invalid_choice"
                )

    def value_to_string(self, obj: Any) -> str:
        return SEP.join(self.value_from_object(obj))

    def formfield(self, **kwargs: Any) -> Any:
        return forms.TypedMultipleChoiceField(
            choices=self.choices or [],
            required=not self.blank,
            label=kwargs.get("label", self.verbose_name.capitalize()),
            help_text=self.help_text,
            widget=forms.CheckboxSelectMultiple,
        )


def _display_of(field: MultiChoiceField) -> Any:
    def display(obj: models.Model) -> str:
        return ", ".join(field.labels(field.value_from_object(obj)))

    display.__doc__ = f"The labels of the chosen {field.verbose_name}, separated by commas."
    return display


def has_choice(field: str, code: str) -> Q:
    """Rows whose MultiChoiceField `field` includes `code`."""
    return Q(**{f"{field}__contains": f"{SEP}{code}{SEP}"})


def as_list(values: Iterable[str] | str | None) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        return [v.strip() for v in values.split(SEP) if v.strip()]
    return list(values)
