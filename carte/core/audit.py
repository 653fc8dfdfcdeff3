"""Writing the audit trail: explicit, in the same transaction as the change it records.

Signals are not used on purpose: a change made by the CLI, an import or the demo loader
must be recorded exactly like one made through a page.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from carte.core.models import AuditAction, AuditEntry, TenantModel

if TYPE_CHECKING:
    from carte.core.permissions import Actor

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


def record(
    *,
    actor: Actor,
    obj: models.Model,
    action: AuditAction,
    changes: dict[str, dict[str, Any]],
    organisation_id: int | None = None,
) -> AuditEntry:
    org_id = organisation_id if organisation_id is not None else obj.organisation_id  # type: ignore[attr-defined]
    return AuditEntry.objects.create(
        organisation_id=org_id,
        at=timezone.now(),
        actor=actor.user,
        actor_label=actor.label,
        action=action,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=obj.pk,
        object_repr=str(obj)[:300],
        changes=changes,
    )
