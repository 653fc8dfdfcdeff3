"""Writes of allocations: some of a person's time, month by month, given to a service
(using a competence it needs) or to other work. One allocation is at most 1.0 FTE;
several that add up to more than a person has are not refused (it happens), they are
flagged wherever the load shows."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from django.db import transaction

from carte.capacity.choices import AllocationKind
from carte.capacity.models import Allocation
from carte.capacity.services.common import a_month, fte, in_order, live_person, note, only
from carte.catalogue.choices import Stage
from carte.catalogue.models import CompetenceNeed, Service
from carte.core.errors import DomainError
from carte.core.permissions import ADD, ARCHIVE, CHANGE, ActorLike, require
from carte.core.services import (
    archive_object,
    check_same_org,
    create_object,
    restore_object,
    update_object,
    validate,
)
from carte.organisations.models import Competence

FIELDS = ("person", "kind", "service", "work", "competence", "fte", "starts_on", "ends_on", "note")
# A service that takes no more allocations: it is over, or it never started.
ENDED = frozenset({Stage.CLOSED, Stage.REJECTED})


def _values(data: Mapping[str, Any]) -> dict[str, Any]:
    values = only(data, FIELDS, "an allocation")
    for name in ("starts_on", "ends_on"):
        if name in values:
            values[name] = a_month(name, values[name])
    if "fte" in values:
        values["fte"] = fte("fte", values["fte"], allow_zero=False)
    if "work" in values:
        values["work"] = note("work", values["work"], 200)
    if "note" in values:
        values["note"] = note("note", values["note"], 300)
    if values.get("kind") in (None, "") and "kind" in values:
        values["kind"] = AllocationKind.SERVICE
    return values


def _service(actor: ActorLike, service: Service) -> None:
    check_same_org(actor, service=service)
    if service.archived_at is not None:
        raise DomainError.field(
            "service", f"{service.code} is archived: allocate to a live service."
        )
    if service.stage in ENDED:
        raise DomainError.field(
            "service",
            f"{service.code} is {service.get_stage_display().lower()}: it takes no allocations.",
        )


def _needed(service: Service) -> dict[int, str]:
    """The competences the service needs (live needs), by id, with their names."""
    rows = (
        CompetenceNeed.objects.filter(service=service, archived_at__isnull=True)
        .values_list("competence_id", "competence__name")
        .order_by("competence__name")
    )
    return dict(rows)


def _competence(actor: ActorLike, allocation: Allocation, competence: Competence | None) -> None:
    if competence is None:
        if allocation.kind == AllocationKind.SERVICE and allocation.service is not None:
            needed = _needed(allocation.service)
            if needed:
                raise DomainError.field(
                    "competence",
                    f"Say which competence this time is for: {allocation.service.code} needs "
                    f"{', '.join(needed.values())}.",
                )
        return
    check_same_org(actor, competence=competence)
    if competence.archived_at is not None:
        raise DomainError.field("competence", f"“{competence}” is archived.")
    if allocation.kind == AllocationKind.SERVICE and allocation.service is not None:
        needed = _needed(allocation.service)
        if competence.pk not in needed:
            listed = ", ".join(needed.values()) if needed else "no competence"
            raise DomainError.field(
                "competence",
                f"{allocation.service.code} does not need “{competence}”: it needs {listed}.",
            )


def _check(actor: ActorLike, allocation: Allocation, *, changed: set[str]) -> None:
    """Every rule across rows, each refused on its field, before anything is written."""
    if "person" in changed:
        live_person(actor, allocation.person)
    if allocation.kind not in AllocationKind.values:
        raise DomainError.field(
            "kind",
            "Choose what the time is for: "
            + ", ".join(str(label) for label in AllocationKind.labels)
            + ".",
        )
    if allocation.kind == AllocationKind.SERVICE:
        if allocation.service is None:
            raise DomainError.field("service", "Name the service this time goes to.")
        if changed & {"service", "kind"}:
            _service(actor, allocation.service)
        if allocation.work:
            allocation.work = ""
    else:
        if allocation.service is not None:
            raise DomainError.field("service", "Other work names no service: leave it empty.")
        if not allocation.work:
            raise DomainError.field("work", "Say what the work is (the project, the training...).")
    if changed & {"competence", "service", "kind"}:
        _competence(actor, allocation, allocation.competence)
    in_order(allocation.starts_on, allocation.ends_on, "ends_on")
    validate(allocation)


@transaction.atomic
def allocation_create(*, actor: ActorLike, data: Mapping[str, Any]) -> Allocation:
    """Allocate some of a person's time, from a month to a month, to a service (with the
    competence used, one the service needs) or to other work. A keeper allocates anyone
    anywhere; a service's Owner or Manager to their own service."""
    require(actor, ADD, Allocation)
    values = _values(data)
    for name in ("person", "fte", "starts_on", "ends_on"):
        if values.get(name) is None:
            raise DomainError.field(name, "This field is required.")
    values.setdefault("kind", AllocationKind.SERVICE)
    allocation = Allocation(organisation=actor.organisation, **values)
    _check(actor, allocation, changed=set(FIELDS))
    require(actor, ADD, allocation)
    return create_object(actor, allocation)


@transaction.atomic
def allocation_update(
    *, actor: ActorLike, allocation: Allocation, data: Mapping[str, Any]
) -> Allocation:
    """Change an allocation: its months, FTE, competence, or what it is for."""
    require(actor, CHANGE, allocation)
    values = _values(data)
    probe = copy.copy(allocation)
    for name, value in values.items():
        setattr(probe, name, value)
    changed = {name for name in values if getattr(probe, name) != getattr(allocation, name)}
    _check(actor, probe, changed=changed)
    require(actor, CHANGE, probe)  # a Manager cannot move it to a service not theirs
    if probe.work != allocation.work:
        values["work"] = probe.work
    return update_object(actor, allocation, values)


@transaction.atomic
def allocation_archive(*, actor: ActorLike, allocation: Allocation) -> Allocation:
    """End an allocation recorded in error or given up: it no longer counts."""
    require(actor, ARCHIVE, allocation)
    return archive_object(actor, allocation)


@transaction.atomic
def allocation_restore(*, actor: ActorLike, allocation: Allocation) -> Allocation:
    """Count an archived allocation again, if its person and service still take it."""
    require(actor, ARCHIVE, allocation)
    _check(actor, allocation, changed={"person", "service", "kind"})
    return restore_object(actor, allocation)
