"""Writes of people's availability: their contract (the share of full time they work,
from and until when) and the months it does not hold (leave, secondment, part-time)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from django.db import transaction

from carte.capacity.models import Availability, AvailabilityException
from carte.capacity.services.common import a_date, a_month, fte, in_order, live_person, note, only
from carte.core.errors import DomainError
from carte.core.permissions import ADD, ARCHIVE, CHANGE, ActorLike, require
from carte.core.services import archive_object, create_object, update_object, validate
from carte.organisations.models import Person

CONTRACT_FIELDS = ("contracted_fte", "starts_on", "leaves_on")
EXCEPTION_FIELDS = ("reason", "starts_on", "ends_on", "available_fte", "note")


def _contract_values(data: Mapping[str, Any]) -> dict[str, Any]:
    values = only(data, CONTRACT_FIELDS, "a contract")
    if "contracted_fte" in values:
        values["contracted_fte"] = fte("contracted_fte", values["contracted_fte"])
    for name in ("starts_on", "leaves_on"):
        if name in values:
            values[name] = a_date(name, values[name], required=False)
    return values


@transaction.atomic
def availability_set(*, actor: ActorLike, person: Person, data: Mapping[str, Any]) -> Availability:
    """Record a person's contract, or change the one recorded: the share of full time
    they work (0 to 1; a provider's operative too) and, if known, from and until when."""
    require(actor, ADD, Availability)
    current = (
        Availability.objects.select_for_update()
        .filter(organisation_id=actor.organisation.pk, person=person, archived_at__isnull=True)
        .first()
    )
    values = _contract_values(data)
    if current is None:
        live_person(actor, person)
        contract = Availability(organisation=actor.organisation, person=person, **values)
        in_order(contract.starts_on, contract.leaves_on, "leaves_on")
        require(actor, ADD, contract)
        return create_object(actor, contract)
    require(actor, CHANGE, current)
    current.person = person
    probe = copy.copy(current)
    for name, value in values.items():
        setattr(probe, name, value)
    in_order(probe.starts_on, probe.leaves_on, "leaves_on")
    validate(probe)
    return update_object(actor, current, values)


def _exception_values(data: Mapping[str, Any]) -> dict[str, Any]:
    values = only(data, EXCEPTION_FIELDS, "an exception")
    for name in ("starts_on", "ends_on"):
        if name in values:
            values[name] = a_month(name, values[name])
    if "available_fte" in values:
        values["available_fte"] = fte("available_fte", values["available_fte"])
    if "note" in values:
        values["note"] = note("note", values["note"], 300)
    return values


def _check_exception(exception: AvailabilityException) -> None:
    in_order(exception.starts_on, exception.ends_on, "ends_on")
    validate(exception)


@transaction.atomic
def exception_create(
    *, actor: ActorLike, person: Person, data: Mapping[str, Any]
) -> AvailabilityException:
    """Record months in which a person works another share of full time than their
    contract: leave (0 FTE), a secondment, part-time for a while. From a month to a month
    (any day given stands for its month)."""
    require(actor, ADD, AvailabilityException)
    live_person(actor, person)
    values = _exception_values(data)
    for name in ("reason", "starts_on", "ends_on", "available_fte"):
        if values.get(name) in (None, ""):
            raise DomainError.field(name, "This field is required.")
    exception = AvailabilityException(organisation=actor.organisation, person=person, **values)
    require(actor, ADD, exception)
    _check_exception(exception)
    return create_object(actor, exception)


@transaction.atomic
def exception_update(
    *, actor: ActorLike, exception: AvailabilityException, data: Mapping[str, Any]
) -> AvailabilityException:
    """Change an exception's months, reason or FTE."""
    require(actor, CHANGE, exception)
    values = _exception_values(data)
    probe = copy.copy(exception)
    for name, value in values.items():
        setattr(probe, name, value)
    _check_exception(probe)
    return update_object(actor, exception, values)


@transaction.atomic
def exception_archive(
    *, actor: ActorLike, exception: AvailabilityException
) -> AvailabilityException:
    """Withdraw an exception: the contract holds again for its months."""
    require(actor, ARCHIVE, exception)
    return archive_object(actor, exception)
