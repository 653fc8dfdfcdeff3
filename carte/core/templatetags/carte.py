"""Template helpers for lists: sort links, query strings, and readable audit values."""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django import template
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst

register = template.Library()


@register.simple_tag
def with_query(query: str, **changes: Any) -> str:
    """The current query string with some parameters replaced (None removes one)."""
    params = dict(parse_qsl(query, keep_blank_values=False))
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "?" + urlencode(params) if params else "?"


@register.simple_tag
def sort_query(query: str, ordering: str, key: str) -> str:
    """Clicking a header sorts by it; clicking it again reverses the order."""
    new = f"-{key}" if ordering == key else key
    return with_query(query, ordering=new, page=None)


@register.simple_tag
def sort_state(ordering: str, key: str) -> str:
    if ordering == key:
        return "ascending"
    if ordering == f"-{key}":
        return "descending"
    return "none"


@register.filter
def audit_value(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


@register.filter
def display(value: Any) -> Any:
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return value


@register.filter
def field_label(name: str, source: Any) -> str:
    """The readable label of a recorded field: the model field's verbose name.

    `source` is the object, its model, or a ContentType (activity page). Recorded names
    that are not model fields (a member's roles, "archived") are tidied up.
    """
    model = source.model_class() if isinstance(source, ContentType) else source
    label: Any = name.replace("_", " ")
    if model is not None:
        with contextlib.suppress(FieldDoesNotExist):
            label = getattr(model._meta.get_field(name), "verbose_name", label)
    return capfirst(str(label))


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def attr_str(obj: Any, name: str) -> str:
    """An attribute as it appears in a query string (enum values, booleans, ids)."""
    value = getattr(obj, name, None)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(getattr(value, "value", value))
