"""Writing the audit trail: explicit, in the same transaction as the change it records.

Signals are not used on purpose: a change made by the CLI, an import or the demo loader
must be recorded exactly like one made through a page.
"""

from __future__ import annotations

import ast
import datetime as dt
import decimal
import functools
import re
import uuid
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import connections, models, router
from django.db.models import QuerySet
from django.utils import formats, timezone

from carte.core import clock
from carte.core.bulk import copy_rows
from carte.core.models import AuditAction, AuditEntry, TenantModel
from carte.core.permissions import VIEW, ActorLike, can

Snapshot = dict[str, Any]


def _plain(value: Any) -> Any:
    """A JSON-safe, human-readable form of a field value."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, models.Model):
        return str(value)
    return str(value)


def audited_fields(obj: TenantModel) -> list[models.Field[Any, Any]]:
    return [
        f
        for f in obj._meta.concrete_fields
        if f.name not in obj.AUDIT_EXCLUDE and f.name != "archived_at"
    ]


def snapshot(obj: TenantModel, extra: Snapshot | None = None) -> Snapshot:
    """Field name -> readable value; foreign keys as the related object's name."""
    data: Snapshot = {}
    for field in audited_fields(obj):
        if isinstance(field, models.ForeignKey):
            data[field.name] = (
                _plain(getattr(obj, field.name))
                if getattr(obj, field.attname) is not None
                else None
            )
        else:
            data[field.name] = _plain(getattr(obj, field.attname))
    if extra:
        data.update({k: _plain(v) for k, v in extra.items()})
    return data


def diff(before: Snapshot, after: Snapshot) -> dict[str, dict[str, Any]]:
    keys = list(dict.fromkeys([*before, *after]))
    return {
        k: {"before": before.get(k), "after": after.get(k)}
        for k in keys
        if before.get(k) != after.get(k)
    }


def entry_at() -> dt.datetime:
    """When an audit entry says it was written: now; while a story is loaded
    (`clock.loading`), the story's moment (`clock.as_of`), never later than now."""
    if clock.loading_mark() is None:
        return timezone.now()
    return min(clock.now(), timezone.now())


def entry_label(actor: ActorLike) -> str:
    """Who an audit entry says wrote it, marked when a story is loaded (`clock.loading`)."""
    mark = clock.loading_mark()
    if mark is None:
        return actor.label
    suffix = f" ({mark})"
    limit = AuditEntry._meta.get_field("actor_label").max_length or 200
    return actor.label[: limit - len(suffix)] + suffix


def record(
    *,
    actor: ActorLike,
    obj: models.Model,
    action: AuditAction,
    changes: dict[str, dict[str, Any]],
    organisation_id: int | None = None,
) -> AuditEntry:
    org_id = organisation_id if organisation_id is not None else obj.organisation_id  # type: ignore[attr-defined]
    return AuditEntry.objects.create(
        organisation_id=org_id,
        at=entry_at(),
        actor=actor.user,
        actor_label=entry_label(actor),
        action=action,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=obj.pk,
        object_repr=str(obj)[:300],
        changes=changes,
    )


def record_many(
    *,
    actor: ActorLike,
    action: AuditAction,
    entries: Iterable[tuple[models.Model, dict[str, dict[str, Any]]]],
    batch_size: int = 500,
) -> int:
    """`record` for many objects at once (bulk writes): the same entries, written together
    and bearing the same time. On PostgreSQL they are streamed with COPY (about six times
    faster than `bulk_create`, whose per-value work dominated large imports); elsewhere
    inserted with `bulk_create`. Returns how many were written."""
    at = entry_at()
    content_types: dict[type[models.Model], int] = {}
    user_id = actor.user.pk if actor.user is not None else None
    label, code = entry_label(actor), str(action)
    rows = []
    for obj, changes in entries:
        model = type(obj)
        if model not in content_types:
            content_types[model] = ContentType.objects.get_for_model(
                obj, for_concrete_model=True
            ).pk
        rows.append(
            (
                obj.organisation_id,  # type: ignore[attr-defined]
                at,
                user_id,
                label,
                code,
                content_types[model],
                obj.pk,
                str(obj)[:300],
                changes,
            )
        )
    db = connections[router.db_for_write(AuditEntry)]  # the wrapper itself, not the proxy
    if db.vendor == "postgresql":
        _copy_entries(db, rows)
    else:
        AuditEntry.objects.bulk_create(
            [AuditEntry(**dict(zip(_COLUMNS, row, strict=True))) for row in rows],
            batch_size=batch_size,
        )
    return len(rows)


# AuditEntry's fields in the order record_many's rows give them (attnames for relations).
_COLUMNS = (
    "organisation_id",
    "at",
    "actor_id",
    "actor_label",
    "action",
    "content_type_id",
    "object_id",
    "object_repr",
    "changes",
)


def _copy_entries(db: Any, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    opts = AuditEntry._meta
    by_attname = {f.attname: f for f in opts.concrete_fields}
    changes = by_attname["changes"]
    # Values as `bulk_create` prepares them: only the JSON needs it (a Jsonb wrapper).
    copy_rows(
        db,
        opts.db_table,
        [str(by_attname[n].column) for n in _COLUMNS],
        ((*row[:-1], changes.get_db_prep_save(row[-1], db)) for row in rows),
    )


def history(*, actor: ActorLike, obj: TenantModel) -> QuerySet[AuditEntry]:
    """The History tab: every recorded change to one object, newest first (nothing for an
    actor who may not read the trail)."""
    if not can(actor, VIEW, AuditEntry):
        return AuditEntry.objects.none()
    return AuditEntry.objects.filter(
        organisation_id=actor.organisation.pk,
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
    ).order_by("-at", "-id")


# Showing the trail. What is recorded stays what the code wrote (codes, ISO times, plain
# numbers: exports and the API read it); what a person reads is made of labels, dates as
# people write them and grouped numbers, decided here for every page that shows changes.

_ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?$"
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_FORMAT = "j M Y H:i"
_DATE_FORMAT = "j M Y"


def people_date(value: Any) -> str:
    """A date or a moment as people write them ("7 Dec 2026", "7 Dec 2026 14:05", local
    time); an ISO string is read first. Anything else comes back as text."""
    if isinstance(value, str):
        text = value.strip()
        try:
            if _ISO_DATE.match(text):
                value = dt.date.fromisoformat(text)
            elif _ISO_DATETIME.match(text):
                value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return str(formats.date_format(value, _DATETIME_FORMAT))
    if isinstance(value, dt.date):
        return str(formats.date_format(value, _DATE_FORMAT))
    return "" if value is None else str(value)


def grouped_number(value: Any, decimal_pos: int | None = None) -> str:
    """A number with the locale's thousands separator ("1,360.00"); text that is no
    number comes back as it is."""
    try:
        number = decimal.Decimal(str(value))
    except (decimal.InvalidOperation, ValueError):
        return str(value)
    return str(
        formats.number_format(number, decimal_pos=decimal_pos, use_l10n=True, force_grouping=True)
    )


@functools.cache
def known_codes() -> dict[str, str]:
    """Every choice code of every model with the one label it has everywhere (a code two
    vocabularies label differently is left out: it cannot be told without its field)."""
    labels: dict[str, set[str]] = {}
    for model in apps.get_models():
        for field in model._meta.get_fields():
            for code, label in getattr(field, "flatchoices", None) or ():
                if isinstance(code, str) and code:
                    labels.setdefault(code, set()).add(str(label))
    return {code: next(iter(names)) for code, names in labels.items() if len(names) == 1}


def _choices_of(model: type[models.Model] | None, name: str) -> tuple[Any, dict[str, str]]:
    """The model field a recorded name stands for (None when it is none) and the labels of
    its codes: its own choices, or those of the one choice field of a related model (a
    membership's roles are rows of MembershipRole)."""
    if model is None:
        return None, {}
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None, {}
    choices = getattr(field, "flatchoices", None)
    if not choices and field.is_relation and field.related_model is not None:
        related = field.related_model
        if isinstance(related, type):
            fields = [f for f in related._meta.get_fields() if getattr(f, "flatchoices", None)]
            choices = getattr(fields[0], "flatchoices", None) if len(fields) == 1 else None
    return field, {str(k): str(v) for k, v in choices or ()}


def _readable_text(text: str) -> str:
    """Values recorded as the text of a small mapping ("{'pmo': 'Transformation PMO',
    'person': 'Imran Shah'}") show their values only."""
    if text.startswith("{") and text.endswith("}"):
        try:
            mapping = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
        if isinstance(mapping, dict):
            return " · ".join(str(v) for v in mapping.values() if v not in (None, ""))
    return text


def display_value(model: type[models.Model] | None, name: str, value: Any) -> str:
    """How one recorded before/after value reads on a page: the label of a choice code
    (each label of a list), a date as people write it, a grouped number, yes/no, a
    dash for nothing. Related objects were recorded by name already."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    field, labels = _choices_of(model, name)
    fallback = known_codes()
    if isinstance(value, list | tuple):
        shown = [
            display_value(model, name, v)
            if isinstance(v, list)
            else _one(v, field, labels, fallback)
            for v in value
        ]
        return ", ".join(shown) or "—"
    return _one(value, field, labels, fallback)


def _one(value: Any, field: Any, labels: dict[str, str], fallback: dict[str, str]) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    key = str(value)
    if labels:
        return labels.get(key, key)
    if isinstance(field, models.DateTimeField | models.DateField):
        return people_date(value)
    if isinstance(field, models.DecimalField | models.FloatField):
        return grouped_number(value)
    if isinstance(value, int) and isinstance(field, models.ForeignKey):
        return _related_name(field, value)
    if isinstance(value, str):
        if field is None and (_ISO_DATETIME.match(value) or _ISO_DATE.match(value)):
            return people_date(value)
        if field is None or not isinstance(field, models.CharField | models.TextField):
            # not a field (an extra of the record) or a relation: a code there reads as its
            # label when the code has one label in all of Carte
            return fallback.get(value, _readable_text(value))
        return _readable_text(value)
    return key


def _related_name(field: models.ForeignKey[Any, Any], pk: int) -> str:
    """The name of the object an id recorded for a relation stands for (an older kind of
    record kept ids), or a plain "#id" when that object is gone."""
    related = field.related_model
    if isinstance(related, type):
        found = related._base_manager.filter(pk=pk).first()
        if found is not None:
            return str(found)
    return f"#{pk}"
