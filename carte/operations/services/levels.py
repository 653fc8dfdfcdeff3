"""Service-level targets (M-24): what a service promises each customer group, measured by
one of its KPIs ("95% of gate reviews held on the planned date", agreed with Finance).

The rules that span objects live here: the customer group must use the service (a live
SIPOC customer row), the KPI is the service's own and live, the level (optional) is one
of the service's live levels, and the target lies within the KPI's possible range. Which
side of the target is good follows the KPI's direction (at least the target when higher
is better, at most when lower is better), so a target never states its own direction.
Rights: whoever edits the service (`operations.serviceleveltarget` rules).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from carte.catalogue.models import Service, ServiceCustomer, ServiceLevel
from carte.core.errors import CONFLICT, DomainError
from carte.core.permissions import ADD, ARCHIVE, CHANGE, require
from carte.core.services import (
    archive_object,
    check_same_org,
    create_object,
    restore_object,
    update_object,
)
from carte.operations.models import KPI, ServiceLevelTarget
from carte.organisations.actor import Actor
from carte.organisations.models import CustomerGroup

FIELDS = ("customer_group", "level", "kpi", "statement", "target")
REQUIRED = ("customer_group", "kpi", "statement", "target")


def _target_value(raw: Any) -> Decimal:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise DomainError.field("target", "Give the target value.")
    if isinstance(raw, bool):
        raise DomainError.field("target", "The target must be a number.")
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
    except InvalidOperation:
        raise DomainError.field("target", f"{str(raw)[:40]!r} is not a number.") from None
    if not value.is_finite():
        raise DomainError.field("target", "The target must be a finite number.")
    return value


def _check(actor: Actor, service: Service, values: Mapping[str, Any]) -> dict[str, Any]:
    """Every rule that spans objects; returns the cleaned values (target as a Decimal).
    Each refusal names the field it is about."""
    if service.is_archived:
        raise DomainError("This service is archived.", code=CONFLICT)
    for name in REQUIRED:
        if values.get(name) in (None, ""):
            raise DomainError.field(name, "This field is required.")
    group: CustomerGroup = values["customer_group"]
    kpi: KPI = values["kpi"]
    level: ServiceLevel | None = values.get("level")
    check_same_org(actor, live=True, customer_group=group, kpi=kpi, level=level)
    if kpi.service_id != service.pk:
        raise DomainError.field("kpi", "Choose one of this service's own KPIs.")
    if level is not None and level.service_id != service.pk:
        raise DomainError.field("level", "Choose one of this service's levels.")
    uses = ServiceCustomer.objects.filter(
        service=service, customer_group=group, archived_at__isnull=True
    ).exists()
    if not uses:
        raise DomainError.field(
            "customer_group",
            f"{group} does not use this service: a service level is agreed with a customer "
            "group the service serves. Add the group to the service's customers (SIPOC) "
            "first.",
        )
    target = _target_value(values["target"])
    if kpi.minimum is not None and target < kpi.minimum:
        raise DomainError.field(
            "target", f"The target cannot be below {_plain(kpi.minimum)}, the KPI's lowest value."
        )
    if kpi.maximum is not None and target > kpi.maximum:
        raise DomainError.field(
            "target", f"The target cannot be above {_plain(kpi.maximum)}, the KPI's highest value."
        )
    statement = str(values["statement"]).strip()
    if not statement:
        raise DomainError.field("statement", "Write the level as it was agreed.")
    return {**values, "target": target, "statement": statement}


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _data(data: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(data) - set(FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise DomainError.field(name, "This field cannot be set here.")
    return dict(data)


@transaction.atomic
def level_target_create(
    *, actor: Actor, service: Service, data: Mapping[str, Any]
) -> ServiceLevelTarget:
    """Agree a service level with a customer group of the service, measured by a KPI."""
    require(
        actor, ADD, ServiceLevelTarget(organisation_id=service.organisation_id, service=service)
    )
    values = _check(actor, service, _data(data))
    target = ServiceLevelTarget(service=service, **values)
    return create_object(actor, target)


@transaction.atomic
def level_target_update(
    *, actor: Actor, target: ServiceLevelTarget, data: Mapping[str, Any]
) -> ServiceLevelTarget:
    """Change what `data` names (group, level, KPI, statement, target value); the target
    stays with its service."""
    require(actor, CHANGE, target)
    changes = _data(data)
    merged = {name: getattr(target, name) for name in FIELDS}
    merged.update(changes)
    values = _check(actor, target.service, merged)
    return update_object(actor, target, {k: values[k] for k in changes})


@transaction.atomic
def level_target_archive(*, actor: Actor, target: ServiceLevelTarget) -> ServiceLevelTarget:
    """Stop tracking a service level; it is kept, archived, with its history."""
    require(actor, ARCHIVE, target)
    return archive_object(actor, target)


@transaction.atomic
def level_target_restore(*, actor: Actor, target: ServiceLevelTarget) -> ServiceLevelTarget:
    """Track an archived service level again, if its group, KPI and level still hold."""
    require(actor, ARCHIVE, target)
    _check(actor, target.service, {name: getattr(target, name) for name in FIELDS})
    return restore_object(actor, target)
