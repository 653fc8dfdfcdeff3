"""Reads of people's capacity records: assessments, availability, allocations, a
person's load, the over-allocated people and a service's staffing.

Who sees what (`capacity.permissions`): a keeper (the Director, PMO Managers, admins) sees
everyone's records; a contributor their own and those of the people allocated to the
services they own or manage; customers and viewers none (a person's pages are 404 to
them). Every read runs a fixed number of queries whatever the data size.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from carte.capacity import permissions as perms
from carte.capacity.filters import AllocationFilter, AssessmentFilter, ExceptionFilter
from carte.capacity.models import Allocation, Assessment, Availability, AvailabilityException
from carte.capacity.months import add_months, days_inside, label, month_of, months_between
from carte.catalogue.choices import Stage
from carte.catalogue.models import CompetenceNeed, Service, ServiceRole
from carte.catalogue.permissions import managed_service_ids, may_edit_service
from carte.core.clock import today
from carte.core.errors import not_found
from carte.core.listing import get_for
from carte.core.permissions import VIEW, ActorLike, Right
from carte.operations.permissions import own_person_ids
from carte.organisations.models import Competence, Person
from carte.organisations.permissions import CONTRIBUTORS

# A person with no contract recorded is counted as working full time.
# Without a recorded contract a person gives no capacity: anyone the PMO works with is a
# Person, a customer's contact too. The grid counts the same way.
DEFAULT_FTE = Decimal(0)
LOAD_MONTHS = 12  # the months a person's load and a service's staffing show by default
ZERO = Decimal(0)
HUNDREDTH = Decimal("0.01")


# ---------------------------------------------------------------- who sees whom


def visible_person_ids(actor: ActorLike) -> frozenset[int] | None:
    """The people whose records the actor sees; None for everyone (a keeper)."""
    if actor.system or actor.roles & perms.KEEPERS:
        return None
    if not actor.roles & CONTRIBUTORS:
        return frozenset()
    return own_person_ids(actor) | perms.managed_people_ids(actor)


def _scoped(actor: ActorLike, rows: QuerySet[Any]) -> QuerySet[Any]:
    """The organisation's rows about the people the actor sees."""
    rows = rows.filter(organisation_id=actor.organisation.pk)
    ids = visible_person_ids(actor)
    return rows if ids is None else rows.filter(person_id__in=ids)


def person_for(*, actor: ActorLike, pk: int | str) -> Person:
    """A person whose capacity records the actor sees; 404 otherwise (missing, another
    organisation's, or not the actor's to see)."""
    person = get_for(actor, Person.objects.select_related("pmo"), pk)
    if not perms.sees_person_records(actor, person):
        raise not_found("person")
    return person


def own_person(actor: ActorLike) -> Person | None:
    """The actor's own live person in the organisation, if any."""
    ids = own_person_ids(actor)
    if not ids:
        return None
    return Person.objects.filter(pk__in=ids, archived_at__isnull=True).order_by("pk").first()


# ---------------------------------------------------------------- assessments


def counting_assessments(actor: ActorLike) -> QuerySet[Assessment]:
    """The organisation's live assessments that set a level: by someone else, or
    self-assessments once confirmed."""
    return Assessment.objects.filter(
        organisation_id=actor.organisation.pk, archived_at__isnull=True
    ).filter(Q(self_assessed=False) | Q(confirmed_at__isnull=False))


def latest_levels(actor: ActorLike, person_ids: Iterable[int] | None) -> dict[int, dict[int, int]]:
    """Each person's level per competence, `{person_id: {competence_id: level}}`: of the
    assessments that count, the latest (by day, then the last recorded). `None` reads
    every person of the organisation. One query.

    It is not filtered by who sees what: the aggregate grid reads everyone's levels
    (people are not named there); a page that names a person checks first that the actor
    may see them."""
    rows = counting_assessments(actor)
    if person_ids is not None:
        rows = rows.filter(person_id__in=list(person_ids))
    latest = (
        rows.order_by()
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("person_id"), F("competence_id")],
                order_by=[F("assessed_on").desc(), F("id").desc()],
            )
        )
        .filter(rank=1)
        .values_list("person_id", "competence_id", "level")
    )
    levels: dict[int, dict[int, int]] = {}
    for person_id, competence_id, level in latest:
        levels.setdefault(person_id, {})[competence_id] = level
    return levels


def assessment_list(
    *, actor: ActorLike, person: Person, filters: AssessmentFilter | None = None
) -> QuerySet[Assessment]:
    """A person's assessments, history included, with the competence, who assessed and
    who confirmed."""
    rows = _scoped(actor, Assessment.objects.filter(person=person)).select_related(
        "person", "competence", "assessed_by", "confirmed_by"
    )
    return (filters or AssessmentFilter.model_validate({})).apply(rows)


def assessment_get(
    *, actor: ActorLike, person: Person, pk: int | str, action: Right = VIEW
) -> Assessment:
    """One of the person's assessments (404 for another's or another organisation's)."""
    rows = Assessment.objects.filter(person=person).select_related(
        "person", "competence", "assessed_by", "confirmed_by"
    )
    return get_for(actor, rows, pk, action=action)


# ---------------------------------------------------------------- availability


def contract_of(*, actor: ActorLike, person: Person) -> Availability | None:
    """The person's live contract, if recorded (the actor must see the person)."""
    return (
        _scoped(actor, Availability.objects.filter(person=person, archived_at__isnull=True))
        .order_by("id")
        .first()
    )


def exception_list(
    *, actor: ActorLike, person: Person, filters: ExceptionFilter | None = None
) -> QuerySet[AvailabilityException]:
    """The person's availability exceptions (live ones by default), first months first."""
    rows = _scoped(actor, AvailabilityException.objects.filter(person=person))
    return (filters or ExceptionFilter.model_validate({})).apply(rows)


def exception_get(
    *, actor: ActorLike, person: Person, pk: int | str, action: Right = VIEW
) -> AvailabilityException:
    rows = AvailabilityException.objects.filter(person=person).select_related("person")
    return get_for(actor, rows, pk, action=action)


def _covered(contract: Availability | None, month: dt.date) -> Decimal:
    """The share of `month` inside the contract's dates (1 when it has none)."""
    if contract is None:
        return Decimal(1)
    inside, days = days_inside(month, contract.starts_on, contract.leaves_on)
    return Decimal(inside) / Decimal(days)


def monthly_available(
    contract: Availability | None,
    exceptions: Iterable[AvailabilityException],
    months: Sequence[dt.date],
) -> dict[dt.date, Decimal]:
    """The FTE a person has each month: the contract's (none when none is recorded),
    the lowest exception's in the months one covers, pro rata in the months they start
    or leave."""
    base = contract.contracted_fte if contract is not None else DEFAULT_FTE
    lowest: dict[dt.date, Decimal] = {}
    wanted = set(months)
    for exception in exceptions:
        for month in months_between(exception.starts_on, exception.ends_on):
            if month in wanted:
                lowest[month] = min(
                    lowest.get(month, exception.available_fte), exception.available_fte
                )
    return {
        month: (lowest.get(month, base) * _covered(contract, month)).quantize(HUNDREDTH)
        for month in months
    }


def monthly_allocated(
    allocations: Iterable[Allocation | tuple[Decimal, dt.date, dt.date]],
    months: Sequence[dt.date],
) -> dict[dt.date, Decimal]:
    """The FTE allocated each month: the sum of the allocations covering it."""
    total = dict.fromkeys(months, ZERO)
    for row in allocations:
        fte, start, end = (
            (row.fte, row.starts_on, row.ends_on) if isinstance(row, Allocation) else row
        )
        for month in months:
            if start <= month <= end:
                total[month] += fte
    return total


def available_by_month(
    actor: ActorLike, person_ids: Iterable[int] | None, months: Sequence[dt.date]
) -> dict[int, dict[dt.date, Decimal]]:
    """`monthly_available` for many people at once (None: every live person of the
    organisation), in three queries. Not filtered by who sees what (the grid's supply is
    an aggregate); a page naming people checks them first."""
    org = actor.organisation.pk
    people = Person.objects.filter(organisation_id=org, archived_at__isnull=True)
    if person_ids is not None:
        people = people.filter(pk__in=list(person_ids))
    ids = list(people.values_list("pk", flat=True))
    if not ids or not months:
        return {}
    first, last = min(months), max(months)
    contracts = {
        c.person_id: c
        for c in Availability.objects.filter(
            organisation_id=org, person_id__in=ids, archived_at__isnull=True
        )
    }
    exceptions: dict[int, list[AvailabilityException]] = defaultdict(list)
    for e in AvailabilityException.objects.filter(
        organisation_id=org,
        person_id__in=ids,
        archived_at__isnull=True,
        starts_on__lte=last,
        ends_on__gte=first,
    ):
        exceptions[e.person_id].append(e)
    return {pid: monthly_available(contracts.get(pid), exceptions[pid], months) for pid in ids}


def next_months(count: int = LOAD_MONTHS, start: dt.date | None = None) -> list[dt.date]:
    """`count` months from `start`'s (this month by default)."""
    first = month_of(start or today())
    return [add_months(first, n) for n in range(count)]


# ---------------------------------------------------------------- allocations


def allocation_list(
    *, actor: ActorLike, filters: AllocationFilter | None = None
) -> QuerySet[Allocation]:
    """The allocations of the people the actor sees, with person, service and competence;
    404 to customers and viewers, who see none."""
    if not perms.sees_person_records(actor, Allocation):
        raise not_found("list")
    rows = _scoped(actor, Allocation.objects.all()).select_related(
        "person", "service", "competence"
    )
    return (filters or AllocationFilter.model_validate({})).apply(rows)


def allocation_get(*, actor: ActorLike, pk: int | str, action: Right = VIEW) -> Allocation:
    """One allocation the actor may see (404 otherwise)."""
    rows = Allocation.objects.select_related("person", "service", "competence")
    return get_for(actor, rows, pk, action=action)


@dataclass(frozen=True)
class MonthLoad:
    """One month of a person's load."""

    month: dt.date
    available: Decimal
    allocated: Decimal

    @property
    def label(self) -> str:
        return label(self.month)

    @property
    def over(self) -> bool:
        return self.allocated > self.available

    @property
    def excess(self) -> Decimal:
        return max(self.allocated - self.available, ZERO)

    @property
    def free(self) -> Decimal:
        return max(self.available - self.allocated, ZERO)


@dataclass
class PersonLoad:
    """A person's load, month by month: available FTE against allocated FTE."""

    person: Person
    months: list[MonthLoad]
    contract: Availability | None = None
    exceptions: list[AvailabilityException] = field(default_factory=list)
    allocations: list[Allocation] = field(default_factory=list)

    @property
    def over_months(self) -> list[MonthLoad]:
        return [m for m in self.months if m.over]


def person_load(
    actor: ActorLike,
    person: Person,
    months: Sequence[dt.date],
    *,
    contract: Availability | None = None,
    exceptions: Sequence[AvailabilityException] | None = None,
    allocations: Sequence[Allocation] | None = None,
) -> PersonLoad:
    """The person's available and allocated FTE each of `months`, over-allocated months
    flagged. Rows the caller has already read (the person's page) are reused; the others
    are read in one query each."""
    if not perms.sees_person_records(actor, person):
        raise not_found("person")
    if contract is None and exceptions is None:
        contract = contract_of(actor=actor, person=person)
    if exceptions is None:
        exceptions = list(exception_list(actor=actor, person=person))
    live_exceptions = [e for e in exceptions if e.archived_at is None]
    if allocations is None:
        allocations = list(
            allocation_list(
                actor=actor, filters=AllocationFilter.model_validate({"person": person.pk})
            )
        )
    live_allocations = [a for a in allocations if a.archived_at is None]
    available = monthly_available(contract, live_exceptions, months)
    allocated = monthly_allocated(live_allocations, months)
    return PersonLoad(
        person=person,
        months=[MonthLoad(m, available[m], allocated[m]) for m in months],
        contract=contract,
        exceptions=live_exceptions,
        allocations=live_allocations,
    )


@dataclass(frozen=True)
class OverAllocated:
    """A person whose allocations exceed their availability in some months."""

    person: Person
    months: list[MonthLoad]

    @property
    def worst(self) -> MonthLoad:
        return max(self.months, key=lambda m: (m.excess, -m.month.toordinal()))


def over_allocated(actor: ActorLike, months: Sequence[dt.date]) -> list[OverAllocated]:
    """The people the actor sees whose allocations exceed their availability in some of
    `months`, most over first: four queries whatever the numbers of people and rows."""
    if not months:
        return []
    first, last = min(months), max(months)
    rows = (
        _scoped(actor, Allocation.objects.all())
        .filter(archived_at__isnull=True, starts_on__lte=last, ends_on__gte=first)
        .values_list("person_id", "fte", "starts_on", "ends_on")
    )
    by_person: dict[int, list[tuple[Decimal, dt.date, dt.date]]] = defaultdict(list)
    for person_id, fte, start, end in rows:
        by_person[person_id].append((fte, start, end))
    if not by_person:
        return []
    allocated = {pid: monthly_allocated(r, months) for pid, r in by_person.items()}
    # Only those allocated some month at all can be over: their availability, then names.
    available = available_by_month(actor, list(by_person), months)
    found: dict[int, list[MonthLoad]] = {}
    for pid, per_month in allocated.items():
        has = available.get(pid)
        if has is None:  # archived since: not listed
            continue
        over = [MonthLoad(m, has[m], per_month[m]) for m in months if per_month[m] > has[m]]
        if over:
            found[pid] = over
    people = Person.objects.filter(pk__in=list(found)).select_related("pmo").in_bulk()
    result = [OverAllocated(people[pid], loads) for pid, loads in found.items() if pid in people]
    result.sort(key=lambda o: (-o.worst.excess, o.person.name, o.person.pk))
    return result


# ---------------------------------------------------------------- a service's staffing


def may_see_staffing(actor: ActorLike, service: Service) -> bool:
    """A service's staffing names its people: the keepers and the service's own Owner and
    Managers see it."""
    return bool(perms.keeps(actor, service)) or (
        bool(actor.roles & CONTRIBUTORS) and may_edit_service(actor, service)
    )


@dataclass(frozen=True)
class StaffingCell:
    month: dt.date
    needed: Decimal
    allocated: Decimal

    @property
    def gap(self) -> Decimal:
        return self.allocated - self.needed

    @property
    def short(self) -> bool:
        return self.allocated < self.needed


@dataclass
class StaffingRow:
    """One competence the service needs (or allocations naming no needed competence)."""

    name: str
    competence_id: int | None
    level: int | None
    level_label: str
    fte: Decimal
    cells: list[StaffingCell]
    people: list[tuple[Allocation, int | None]]  # each allocation, with the person's level

    @property
    def short_months(self) -> list[StaffingCell]:
        return [c for c in self.cells if c.short]


@dataclass
class RoleHolder:
    """Someone holding a role on the service, and the FTE allocated to it this month."""

    name: str
    role: str
    allocated: Decimal


@dataclass
class Staffing:
    service: Service
    months: list[dt.date]
    rows: list[StaffingRow]
    role_holders: list[RoleHolder] = field(default_factory=list)

    @property
    def month_labels(self) -> list[str]:
        return [label(m) for m in self.months]


def service_staffing(
    actor: ActorLike, service: Service, months: Sequence[dt.date] | None = None
) -> Staffing:
    """The service's needs against its live allocations, per competence, month by month,
    with each allocated person's assessed level in the competence: three queries."""
    if not may_see_staffing(actor, service):
        raise not_found("service")
    months = list(months or next_months())
    first, last = min(months), max(months)
    needs = list(
        CompetenceNeed.objects.filter(service=service, archived_at__isnull=True)
        .select_related("competence")
        .order_by("competence__name", "id")
    )
    allocations = list(
        Allocation.objects.filter(
            organisation_id=actor.organisation.pk,
            service=service,
            archived_at__isnull=True,
            starts_on__lte=last,
            ends_on__gte=first,
        )
        .select_related("person", "competence")
        .order_by("person__name", "starts_on", "id")
    )
    levels = latest_levels(actor, {a.person_id for a in allocations})
    by_competence: dict[int | None, list[Allocation]] = defaultdict(list)
    needed_ids = {n.competence_id for n in needs}
    for allocation in allocations:
        key = allocation.competence_id if allocation.competence_id in needed_ids else None
        by_competence[key].append(allocation)
    rows: list[StaffingRow] = []
    seen: set[int] = set()
    for need in needs:
        cid = need.competence_id
        if cid in seen:  # two needs of one competence: their FTEs add up on one row
            row = next(r for r in rows if r.competence_id == cid)
            row.fte += need.fte
            row.cells = [StaffingCell(c.month, c.needed + need.fte, c.allocated) for c in row.cells]
            continue
        seen.add(cid)
        mine = by_competence.get(cid, [])
        allocated = monthly_allocated(mine, months)
        rows.append(
            StaffingRow(
                name=need.competence.name,
                competence_id=cid,
                level=need.level,
                level_label=need.get_level_display(),
                fte=need.fte,
                cells=[StaffingCell(m, need.fte, allocated[m]) for m in months],
                people=[(a, levels.get(a.person_id, {}).get(cid)) for a in mine],
            )
        )
    others = by_competence.get(None, [])
    if others:
        allocated = monthly_allocated(others, months)
        rows.append(
            StaffingRow(
                name="No needed competence named",
                competence_id=None,
                level=None,
                level_label="",
                fte=ZERO,
                cells=[StaffingCell(m, ZERO, allocated[m]) for m in months],
                people=[(a, None) for a in others],
            )
        )
    # The people holding a role on the service appear on it, allocated or not yet.
    first_month = [months[0]]
    by_person: dict[int, list[Allocation]] = defaultdict(list)
    for allocation in allocations:
        by_person[allocation.person_id].append(allocation)
    holders = [
        RoleHolder(
            role.person.name,
            role.get_role_display(),
            monthly_allocated(by_person.get(role.person_id, []), first_month)[months[0]],
        )
        for role in ServiceRole.objects.filter(
            service=service, archived_at__isnull=True, person__archived_at__isnull=True
        )
        .select_related("person")
        .order_by("role", "person__name", "id")
    ]
    return Staffing(service=service, months=months, rows=rows, role_holders=holders)


# ---------------------------------------------------------------- choices for forms


def competence_choices(*, actor: ActorLike) -> QuerySet[Competence]:
    """The framework's live competences, by group then name."""
    return Competence.objects.filter(
        organisation_id=actor.organisation.pk, archived_at__isnull=True
    ).order_by("group", "name", "id")


def allocatable_services(*, actor: ActorLike) -> QuerySet[Service]:
    """The services the actor may allocate people to: live ones that are not closed or
    rejected; a service's Owner or Manager only their own."""
    rows = Service.objects.filter(
        organisation_id=actor.organisation.pk, archived_at__isnull=True
    ).exclude(stage__in=[Stage.CLOSED, Stage.REJECTED])
    if not perms.keeps(actor, Service):
        rows = rows.filter(pk__in=managed_service_ids(actor))
    return rows.order_by("code", "id")


def people_choices(*, actor: ActorLike) -> QuerySet[Person]:
    """The organisation's live people, by name."""
    return Person.objects.filter(
        organisation_id=actor.organisation.pk, archived_at__isnull=True
    ).order_by("name", "id")


def service_choices(*, actor: ActorLike) -> QuerySet[Service]:
    """The organisation's live services by code (a list's filter)."""
    return (
        Service.objects.filter(organisation_id=actor.organisation.pk, archived_at__isnull=True)
        .only("pk", "code", "name", "stage")
        .order_by("code", "id")
    )
