"""What the capacity writes share: the refusals of bad input, each naming its field, made
before anything is written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from carte.capacity.months import month_of
from carte.core.errors import DomainError
from carte.core.permissions import ActorLike
from carte.core.services import check_same_org
from carte.core.text import BadText, accept
from carte.organisations.models import Person

ZERO, ONE = Decimal(0), Decimal(1)


def only(data: Mapping[str, Any], allowed: tuple[str, ...], what: str) -> dict[str, Any]:
    """`data` as a dict, refusing a field that cannot be set on `what`."""
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise DomainError.field(unknown[0], f"This field cannot be set on {what}.")
    return dict(data)


def fte(field: str, value: Any, *, allow_zero: bool = True) -> Decimal:
    """A share of full time: 0 to 1 (above 0 when `allow_zero` is false), to the
    hundredth; anything else refused on `field`."""
    if value is None or value == "":
        raise DomainError.field(field, "This field is required.")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise DomainError.field(field, "Enter a number from 0 to 1, such as 0.5.") from None
    if not number.is_finite():
        raise DomainError.field(field, "Enter a number from 0 to 1, such as 0.5.")
    if number < ZERO:
        raise DomainError.field(field, "FTE cannot be below 0.")
    if number > ONE:
        raise DomainError.field(
            field, "FTE cannot be above 1 (full time): one person works at most 1.0 FTE."
        )
    if not allow_zero and number == ZERO:
        raise DomainError.field(field, "Allocate more than 0 FTE.")
    if number != number.quantize(Decimal("0.01")):
        raise DomainError.field(field, "Give FTE to the hundredth at most, such as 0.25.")
    return number.quantize(Decimal("0.01"))


def a_date(field: str, value: Any, *, required: bool = True) -> dt.date | None:
    """A date (or an ISO text of one), refused on `field` otherwise."""
    if value is None or value == "":
        if required:
            raise DomainError.field(field, "This field is required.")
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise DomainError.field(field, "Enter a date, such as 2027-01-31.") from None


def a_month(field: str, value: Any) -> dt.date:
    """A month, as the date of its first day, from any day of it (or "YYYY-MM")."""
    if isinstance(value, str) and len(value.strip()) == 7:
        value = value.strip() + "-01"
    day = a_date(field, value)
    assert day is not None
    return month_of(day)


def in_order(start: dt.date | None, end: dt.date | None, field: str) -> None:
    """Refuse an end before the start, on the end's field."""
    if start is not None and end is not None and end < start:
        raise DomainError.field(field, "The end comes before the start.")


def note(field: str, value: Any, limit: int) -> str:
    """An optional short text, as Carte accepts text (`core.text`)."""
    from carte.core.services import clean_text

    return clean_text(field, value, required=False, limit=limit)


def long_text(field: str, value: Any) -> str:
    typed = "" if value is None else str(value).strip()
    try:
        return accept(typed)
    except BadText as exc:
        raise DomainError.field(field, str(exc)) from None


def live_person(actor: ActorLike, person: Person | None, field: str = "person") -> Person:
    """A person of the actor's organisation, not archived."""
    if person is None:
        raise DomainError.field(field, "This field is required.")
    refs: dict[str, Any] = {field: person}
    check_same_org(actor, **refs)
    if person.archived_at is not None:
        raise DomainError.field(
            field, f"{person.name} is archived: nothing more is recorded for them."
        )
    return person
