"""Template helpers of the catalogue pages."""

from __future__ import annotations

from django import template

from carte.catalogue.choices import Rationale, Scope

register = template.Library()

_CHOICES = {"rationale": dict(Rationale.choices), "scopes": dict(Scope.choices)}


@register.filter
def choice_label(code: str, field: str) -> str:
    """The label of a multi-choice code: "control" -> "Control needed"."""
    return str(_CHOICES.get(field, {}).get(code, code))


@register.filter
def get_label(labels: dict[str, str], code: str) -> str:
    """A code's label from a mapping of choices, or the code itself."""
    return str(labels.get(code, code))
