"""Template helpers for lists (sort links, query strings) and for what people read:
audit values, amounts of money, dates and the names of people who acted."""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django import template
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.utils import formats
from django.utils.text import capfirst

from carte.core import audit

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
def audit_value(value: Any, field: str = "") -> str:
    """A recorded before/after value as people read it (see `audit.display_value`); give
    the field's name when the model is not known, so its codes still read as labels."""
    return audit.display_value(None, field, value)


@register.simple_tag
def change_value(value: Any, field: str, source: Any) -> str:
    """A recorded before/after value of `field` of `source` (an object, its model or a
    ContentType) as people read it: labels, dates, grouped numbers, names."""
    model = source.model_class() if isinstance(source, ContentType) else source
    if model is not None and not isinstance(model, type):
        model = type(model)
    return audit.display_value(model, field, value)


@register.filter
def label(code: Any, field: str) -> str:
    """The label of a choice code, the field named as "app.model.field":
    `{{ r|label:"organisations.membershiprole.role" }}` -> "PMO manager"."""
    app_label, model_name, name = field.split(".")
    return audit.display_value(apps.get_model(app_label, model_name), name, code)


@register.filter
def display(value: Any) -> Any:
    """A value of a detail page or list cell: a dash for nothing, lists and choice codes
    as labels, dates as people write them."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        codes = audit.known_codes()
        return ", ".join(codes.get(str(v), str(v)) for v in value) or "—"
    if isinstance(value, dt.date):
        return audit.people_date(value)
    return value


# Currencies whose sign people write before the amount; any other shows its ISO code after
# it ("1,200.00 CHF"), which every reader understands.
_CURRENCY_SIGNS = {"EUR": "€", "GBP": "£", "USD": "$", "JPY": "¥", "INR": "₹"}


def format_money(amount: Any, currency: str = "") -> str:
    """An amount of money as people write it: "€1,360.00" (the locale's separators, two
    decimals, the sign of the currency or its code); a dash for none. Python code that
    builds text (the catalogue's cards) uses this too, so amounts read alike everywhere."""
    if amount is None or amount == "":
        return "—"
    try:
        number = decimal.Decimal(str(amount))
    except (decimal.InvalidOperation, ValueError):
        return str(amount)
    digits = str(
        formats.number_format(abs(number), decimal_pos=2, use_l10n=True, force_grouping=True)
    )
    minus = "-" if number < 0 else ""
    sign = _CURRENCY_SIGNS.get(currency.upper()) if currency else None
    if sign:
        return f"{minus}{sign}{digits}"
    return f"{minus}{digits} {currency}".rstrip()


@register.filter
def money(amount: Any, currency: str = "") -> str:
    """`{{ service.price|money:service.currency }}` -> "€510.00"."""
    return format_money(amount, currency or "")


@register.filter
def when(value: Any) -> str:
    """A date or a moment as people write them: "7 Dec 2026", "7 Dec 2026 14:05" (local
    time); ISO text is read first. A dash for none."""
    if value is None or value == "":
        return "—"
    return audit.people_date(value)


@register.simple_tag
def actor_names(entries: Iterable[Any]) -> dict[int, str]:
    """The names of the people who made the given entries (audit entries, lifecycle
    events: anything with `actor_id`), fetched in one query for the whole page."""
    from django.contrib.auth import get_user_model

    ids = {int(e.actor_id) for e in entries if getattr(e, "actor_id", None) is not None}
    if not ids:
        return {}
    return {u.pk: str(u) for u in get_user_model()._default_manager.filter(pk__in=ids)}


@register.filter
def who(entry: Any, names: dict[int, str] | None = None) -> str:
    """Who made an entry, by name: from `actor_names` when given, else the recorded label
    (a login since removed keeps the label it had). A mark the label carries ("(demo
    data)", from `clock.loading`) stays beside the name; Carte's own work reads "Carte"."""
    label = str(getattr(entry, "actor_label", "") or "")
    mark = _MARK.search(label)
    suffix = mark.group(0) if mark else ""
    bare = label[: len(label) - len(suffix)]
    actor_id = getattr(entry, "actor_id", None)
    if names and actor_id in names:
        return names[actor_id] + suffix
    # Carte itself (the demo loader, imports, scheduled work) records "system".
    return ("Carte" if bare in ("", "system") else bare) + suffix


_MARK = re.compile(r" \([^()]*\)$")


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
