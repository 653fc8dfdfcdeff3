"""Demand against supply (issue 14): the grid of competences x months, a cell's detail,
and "can we take this on?".

What is read, in a fixed number of queries whatever the size:
- demand: the live needs (`catalogue.CompetenceNeed`) of live services at the stages that
  take people (running, transition, closing, and the set-up stages at their own needs),
  every month of the range alike; the needs of proposed services separately, as "if
  admitted";
- supply: the live people with a contract (`Availability`): its FTE in the months it
  covers (pro rata in the months it starts or ends), the lowest exception's in the months
  one covers (leave, secondment, part-time), less their allocations to other work than
  services (a project, BAU, training); a person without a contract is not counted;
- levels: each person's latest assessment that counts (`records.latest_levels`).
The coverage itself is `capacity.coverage`: each person's time counted once across every
competence. With a PMO chosen, both sides are that PMO's: its people, and the services it
delivers.

Who sees what (`capacity.permissions`): the numbers are everyone's (`GRID`); people are
named only to whom may see their records (`records.visible_person_ids`: keepers all of
them; contributors their own and those allocated to services they manage), the others
counted; services are named to the PMO's side (customers see counts).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db.models import BooleanField, Case, QuerySet, Sum, Value, When

from carte.capacity import coverage
from carte.capacity.choices import AllocationKind
from carte.capacity.models import Allocation, Availability, AvailabilityException
from carte.capacity.months import add_months, days_inside, label, month_of, months_between
from carte.capacity.selectors.records import latest_levels, visible_person_ids
from carte.catalogue.choices import Stage
from carte.catalogue.models import CompetenceNeed, Service
from carte.core.clock import today
from carte.core.errors import DomainError, not_found
from carte.core.permissions import ActorLike
from carte.organisations.choices import CompetenceLevel
from carte.organisations.models import PMO, Competence, Person
from carte.organisations.permissions import STAFF_SIDE

# The stages whose needs are demand now, and the stage whose needs are "if admitted".
DEMAND_STAGES = (
    Stage.APPROVED_FOR_SETUP,
    Stage.DESIGN,
    Stage.PILOT,
    Stage.SIGNED_OFF,
    Stage.TRANSITION,
    Stage.RUNNING,
    Stage.CLOSING,
)
PROPOSED = Stage.PROPOSED
DEFAULT_MONTHS = 12
MOST_MONTHS = 36
MONTH_TEXT = re.compile(r"^\d{4}-\d{2}$")


# ---------------------------------------------------------------- the range and filters


@dataclass(frozen=True)
class GridQuery:
    """The months asked for (first and last, both included) and the filters."""

    first: dt.date
    last: dt.date
    pmo: int | None = None
    competence: int | None = None

    @property
    def months(self) -> list[dt.date]:
        return list(months_between(self.first, self.last))


def _month(text: str) -> dt.date:
    if not MONTH_TEXT.match(text):
        raise ValueError(text)
    return month_of(dt.date.fromisoformat(text + "-01"))


def parse_range(start: str | None, end: str | None) -> tuple[dt.date, dt.date]:
    """The months from `start` to `end` ("YYYY-MM"); by default the next 12 from this
    month (or 12 from `start`). 422 on the field for a month not written YYYY-MM, an end
    before the start or more than 36 months."""
    errors: dict[str, list[str]] = {}
    first = last = None
    if start:
        try:
            first = _month(start)
        except ValueError:
            errors["from"] = ["Give a month as YYYY-MM, such as 2027-01."]
    if end:
        try:
            last = _month(end)
        except ValueError:
            errors["to"] = ["Give a month as YYYY-MM, such as 2027-12."]
    if errors:
        raise DomainError("Give months as YYYY-MM.", errors=errors)
    if first is None:
        first = month_of(today()) if last is None else add_months(last, 1 - DEFAULT_MONTHS)
    if last is None:
        last = add_months(first, DEFAULT_MONTHS - 1)
    if last < first:
        raise DomainError.field("to", "The last month comes before the first.")
    count = (last.year - first.year) * 12 + last.month - first.month + 1
    if count > MOST_MONTHS:
        raise DomainError.field("to", f"Ask for at most {MOST_MONTHS} months at a time.")
    return first, last


def grid_query(
    actor: ActorLike,
    *,
    start: str | None = None,
    end: str | None = None,
    pmo: str | int | None = None,
    competence: str | int | None = None,
) -> GridQuery:
    """The grid's question from what a page or the API was given; a `DomainError` (422)
    naming each field in error: a bad month, a PMO or competence not the organisation's."""
    errors: dict[str, list[str]] = {}
    try:
        first, last = parse_range(start, end)
    except DomainError as exc:
        errors.update(exc.errors)
        first, last = parse_range(None, None)
    pmo_id = _own_id(PMO, actor, pmo, "pmo", "Choose one of the organisation's PMOs.", errors)
    competence_id = _own_id(
        Competence,
        actor,
        competence,
        "competence",
        "Choose a competence of the organisation's framework.",
        errors,
    )
    if errors:
        raise DomainError("; ".join(m for ms in errors.values() for m in ms), errors=errors)
    return GridQuery(first, last, pmo_id, competence_id)


def _own_id(
    model: type[PMO] | type[Competence],
    actor: ActorLike,
    value: str | int | None,
    name: str,
    message: str,
    errors: dict[str, list[str]],
) -> int | None:
    if value in (None, ""):
        return None
    try:
        pk = int(value)
    except (TypeError, ValueError):
        errors[name] = [message]
        return None
    exists = (
        0 < pk < 2**63
        and model.objects.filter(
            organisation_id=actor.organisation.pk, pk=pk, archived_at__isnull=True
        ).exists()
    )
    if not exists:
        errors[name] = [message]
        return None
    return pk


def filter_options(actor: ActorLike) -> dict[str, list[tuple[int, str]]]:
    """The organisation's live PMOs and competences, for the filters (two queries)."""
    org = actor.organisation.pk
    return {
        "pmos": list(
            PMO.objects.filter(organisation_id=org, archived_at__isnull=True)
            .order_by("name", "id")
            .values_list("id", "name")
        ),
        "competences": list(
            Competence.objects.filter(organisation_id=org, archived_at__isnull=True)
            .order_by("group", "name", "id")
            .values_list("id", "name")
        ),
    }


# ---------------------------------------------------------------- what is read


@dataclass(frozen=True)
class NeedRow:
    """A service's need, as the grid and a cell read it."""

    service_id: int
    code: str
    name: str
    stage: str
    competence_id: int
    level: int
    fte: Decimal

    @property
    def proposed(self) -> bool:
        return self.stage == PROPOSED

    @property
    def stage_label(self) -> str:
        return str(Stage(self.stage).label)

    @property
    def level_label(self) -> str:
        return str(CompetenceLevel(self.level).label)


@dataclass
class Universe:
    """Everything the grid, a cell and the fit compute from, read once: the needs summed
    per (competence, level) (of the services taking people now, and of the proposed
    ones), the people with their levels, and their free time month by month (a row per
    month, aligned with `staff`)."""

    months: list[dt.date]
    competences: dict[int, tuple[str, str]]  # id: (name, group)
    now: dict[tuple[int, int], Decimal]
    proposed: dict[tuple[int, int], Decimal]
    proposed_services: int
    staff: list[coverage.Staff]
    free: npt.NDArray[np.float64]

    def demand(self, proposed: bool = False) -> dict[tuple[int, int], Decimal]:
        """The needs of the services taking people, plus the proposed ones' with
        `proposed`."""
        if not proposed:
            return self.now
        total = dict(self.now)
        for key, amount in self.proposed.items():
            total[key] = total.get(key, Decimal(0)) + amount
        return total


def _month_share(month: dt.date, starts: dt.date | None, leaves: dt.date | None) -> float:
    """The share of `month` inside a contract's dates."""
    inside, days = days_inside(month, starts, leaves)
    return inside / days


def _needs(actor: ActorLike, pmo: int | None) -> QuerySet[CompetenceNeed]:
    """The live needs of live services at the stages that count (proposed included), of
    live competences; of the services a PMO delivers when one is given."""
    org = actor.organisation.pk
    rows = CompetenceNeed.objects.filter(
        organisation_id=org,
        archived_at__isnull=True,
        service__archived_at__isnull=True,
        service__stage__in=[*DEMAND_STAGES, PROPOSED],
        competence__archived_at__isnull=True,
        fte__gt=0,
    )
    if pmo is not None:
        rows = rows.filter(
            service__in=Service.objects.filter(organisation_id=org, delivering_pmos=pmo)
        )
    return rows


def universe(actor: ActorLike, months: Sequence[dt.date], pmo: int | None = None) -> Universe:
    """Demand and supply of the organisation (or of one PMO) over `months`: seven
    queries whatever the numbers of people, services and rows."""
    org = actor.organisation.pk
    first, last = min(months), max(months)
    index = {m: i for i, m in enumerate(months)}
    last_day = last.replace(day=calendar.monthrange(last.year, last.month)[1])
    competences = {
        pk: (name, group)
        for pk, name, group in Competence.objects.filter(
            organisation_id=org, archived_at__isnull=True
        )
        .order_by("group", "name", "id")
        .values_list("id", "name", "group")
    }
    now: dict[tuple[int, int], Decimal] = {}
    proposed: dict[tuple[int, int], Decimal] = {}
    for competence_id, level, is_proposed, total in (
        _needs(actor, pmo)
        .annotate(
            is_proposed=Case(
                When(service__stage=PROPOSED, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by()
        .values("competence_id", "level", "is_proposed")
        .annotate(total=Sum("fte"))
        # One order whatever the database: the solver's answer (among equally good ones)
        # follows the order of its rows.
        .order_by("competence_id", "level", "is_proposed")
        .values_list("competence_id", "level", "is_proposed", "total")
    ):
        (proposed if is_proposed else now)[(competence_id, level)] = total
    proposed_services = (
        _needs(actor, pmo).filter(service__stage=PROPOSED).values("service_id").distinct().count()
        if proposed
        else 0
    )
    # People with a contract covering some of the months.
    scope: dict[str, Any] = {"organisation_id": org, "person__archived_at__isnull": True}
    if pmo is not None:
        scope["person__pmo_id"] = pmo
    contracts = list(
        Availability.objects.filter(**scope, archived_at__isnull=True)
        .exclude(starts_on__gt=last_day)
        .exclude(leaves_on__lt=first)
        .order_by("person_id")
        .values_list("person_id", "contracted_fte", "starts_on", "leaves_on")
    )
    ids = [row[0] for row in contracts]
    row_of = {pid: i for i, pid in enumerate(ids)}
    n, m = len(ids), len(months)
    base = np.repeat(np.array([float(c[1]) for c in contracts]).reshape(n, 1), m, axis=1)
    # Only the months a contract starts or ends in are cut, pro rata.
    share = np.ones((n, m))
    for row, (_, _, joins, leaves) in enumerate(contracts):
        if (joins and joins > first) or (leaves and leaves < last_day):
            share[row] = [_month_share(month, joins, leaves) for month in months]
    # An exception's FTE in the months it covers (the lowest, where two overlap).
    lowest = np.full((n, m), np.inf)
    for person_id, starts, ends, fte in (
        AvailabilityException.objects.filter(
            **scope, archived_at__isnull=True, starts_on__lte=last, ends_on__gte=first
        )
        .order_by()
        .values_list("person_id", "starts_on", "ends_on", "available_fte")
    ):
        found = row_of.get(person_id)
        if found is not None:
            a, b = index[max(month_of(starts), first)], index[min(month_of(ends), last)]
            lowest[found, a : b + 1] = np.minimum(lowest[found, a : b + 1], float(fte))
    has = np.where(np.isfinite(lowest), lowest, base) * share
    # Less the time given to other work than services.
    for person_id, fte, starts, ends in (
        Allocation.objects.filter(
            **scope, archived_at__isnull=True, starts_on__lte=last, ends_on__gte=first
        )
        .exclude(kind=AllocationKind.SERVICE)
        .order_by()
        .values_list("person_id", "fte", "starts_on", "ends_on")
    ):
        found = row_of.get(person_id)
        if found is not None:
            a, b = index[max(month_of(starts), first)], index[min(month_of(ends), last)]
            has[found, a : b + 1] -= float(fte)
    free = np.maximum(np.round(has, 2), 0.0).T.copy() if n else np.zeros((m, 0))
    levels = latest_levels(actor, None if pmo is None else ids)
    staff = [
        coverage.Staff(
            pid, {c: lv for c, lv in sorted(levels.get(pid, {}).items()) if c in competences}
        )
        for pid in ids
    ]
    return Universe(list(months), competences, now, proposed, proposed_services, staff, free)


def _cover(
    u: Universe, *, detail: bool = False
) -> tuple[list[coverage.MonthCover[Any]], list[coverage.MonthCover[Any]]]:
    """Each month as things stand, and with the proposed services admitted: one call, so
    both share one model (the proposed needs are nodes of both)."""
    n = len(u.months)
    now = [coverage.Month(("now", m), u.now, u.free[i]) for i, m in enumerate(u.months)]
    if not u.proposed:
        answers = coverage.cover(now, u.staff, detail=detail)
        return answers, answers
    admitted = u.demand(proposed=True)
    with_them = [
        coverage.Month(("admitted", m), admitted, u.free[i]) for i, m in enumerate(u.months)
    ]
    answers = coverage.cover([*now, *with_them], u.staff, detail=detail)
    return answers[:n], answers[n:]


# ---------------------------------------------------------------- the grid


@dataclass(frozen=True)
class Cell:
    """A competence in a month: demand, supply, covered and the shortfall; and, with the
    proposed services admitted, the demand and the shortfall then."""

    competence_id: int
    month: dt.date
    demand: float
    supply: float
    covered: float
    shortfall: float
    admitted_demand: float
    admitted_shortfall: float

    @property
    def label(self) -> str:
        return label(self.month)

    @property
    def gap(self) -> float:
        """Supply less demand (negative: short)."""
        return round(self.supply - self.demand, 2)

    @property
    def state(self) -> str:
        """short (some demand not covered), tight (covered, nothing to spare), ok, or
        none (nothing needed, nobody able)."""
        if self.shortfall > 0:
            return "short"
        if self.demand == 0 and self.supply == 0:
            return "none"
        if self.supply - self.demand < 0.25 and self.demand > 0:
            return "tight"
        return "ok"

    @property
    def admitted_extra(self) -> float:
        return round(self.admitted_demand - self.demand, 2)


@dataclass
class GridRow:
    competence_id: int
    name: str
    group: str
    cells: list[Cell]

    @property
    def short_months(self) -> int:
        return sum(1 for c in self.cells if c.shortfall > 0)


@dataclass
class Grid:
    query: GridQuery
    months: list[dt.date]
    rows: list[GridRow]
    proposed_services: int = 0
    people: int = 0

    @property
    def month_labels(self) -> list[str]:
        return [label(m) for m in self.months]

    @property
    def has_proposed(self) -> bool:
        return bool(self.proposed_services)


def grid(actor: ActorLike, query: GridQuery) -> Grid:
    """The grid of competences x months for the query (see the module's docstring)."""
    months = query.months
    u = universe(actor, months, query.pmo)
    now, admitted = _cover(u)
    rows = []
    for pk, (name, group) in u.competences.items():
        if query.competence is not None and pk != query.competence:
            continue
        cells = []
        for mi, month in enumerate(months):
            c = now[mi].competences.get(pk)
            a = admitted[mi].competences.get(pk)
            cells.append(
                Cell(
                    competence_id=pk,
                    month=month,
                    demand=c.demand if c else 0.0,
                    supply=c.supply if c else 0.0,
                    covered=c.covered if c else 0.0,
                    shortfall=c.shortfall if c else 0.0,
                    admitted_demand=a.demand if a else 0.0,
                    admitted_shortfall=a.shortfall if a else 0.0,
                )
            )
        rows.append(GridRow(pk, name, group, cells))
    return Grid(query, months, rows, u.proposed_services, len(u.staff))


# ---------------------------------------------------------------- a cell


@dataclass(frozen=True)
class Candidate:
    """Someone able to cover the competence that month: their level, what the
    assignment gives it of their time, and what they have left."""

    person_id: int
    name: str
    level: int
    covering: float
    spare: float

    @property
    def level_label(self) -> str:
        return str(CompetenceLevel(self.level).label)


@dataclass
class CellDetail:
    competence_id: int
    name: str
    cell: Cell
    services: list[NeedRow]  # empty when not to be named
    proposed: list[NeedRow]
    service_count: int
    people: list[Candidate]  # the named ones
    people_count: int  # all able
    unnamed: int  # able but not named to this actor
    spare_total: float
    names_services: bool


def cell(
    actor: ActorLike, *, competence: int, month: dt.date, pmo: int | None = None
) -> CellDetail:
    """A cell's detail: the services needing the competence that month (and the proposed
    ones), and the people who could cover it (named only to whom may see them)."""
    u = universe(actor, [month], pmo)
    if competence not in u.competences:
        raise not_found("competence")
    now_answers, admitted_answers = _cover(u, detail=True)
    now, admitted = now_answers[0], admitted_answers[0]
    c = now.competences.get(competence)
    a = admitted.competences.get(competence)
    the_cell = Cell(
        competence,
        month,
        c.demand if c else 0.0,
        c.supply if c else 0.0,
        c.covered if c else 0.0,
        c.shortfall if c else 0.0,
        a.demand if a else 0.0,
        a.shortfall if a else 0.0,
    )
    needing = [
        NeedRow(*row)
        for row in _needs(actor, pmo)
        .filter(competence_id=competence)
        .order_by("service__code", "id")
        .values_list(
            "service_id",
            "service__code",
            "service__name",
            "service__stage",
            "competence_id",
            "level",
            "fte",
        )
    ]
    lowest = min(
        (r.level for r in needing if not r.proposed),
        default=min((r.level for r in needing), default=1),
    )
    covering: dict[int, float] = defaultdict(float)
    for person_id, comp, amount in now.assignments or []:
        if comp == competence:
            covering[person_id] += amount
    spare = now.spare or {}
    able = [(s.id, s.levels[competence]) for s in u.staff if s.levels.get(competence, 0) >= lowest]
    visible = visible_person_ids(actor)
    named_ids = [pid for pid, _ in able if visible is None or pid in visible]
    names = (
        dict(Person.objects.filter(pk__in=named_ids).values_list("id", "name")) if named_ids else {}
    )
    level_of = dict(able)
    people = sorted(
        (
            Candidate(
                pid,
                names[pid],
                level_of[pid],
                round(covering.get(pid, 0.0), 2),
                round(spare.get(pid, 0.0), 2),
            )
            for pid in named_ids
            if pid in names
        ),
        key=lambda p: (-p.covering, -p.spare, p.name, p.person_id),
    )
    names_services = actor.system or bool(actor.roles & STAFF_SIDE)
    name, _ = u.competences[competence]
    return CellDetail(
        competence_id=competence,
        name=name,
        cell=the_cell,
        services=[r for r in needing if not r.proposed] if names_services else [],
        proposed=[r for r in needing if r.proposed] if names_services else [],
        service_count=len({r.service_id for r in needing if not r.proposed}),
        people=people,
        people_count=len(able),
        unnamed=len(able) - len(people),
        spare_total=round(sum(spare.get(pid, 0.0) for pid, _ in able), 2),
        names_services=names_services,
    )


# ---------------------------------------------------------------- can we take this on?


@dataclass(frozen=True)
class FitNeed:
    """A need to try: a competence at a level, for an FTE, over some months (None: every
    month asked)."""

    competence_id: int
    level: int
    fte: Decimal
    first: dt.date | None = None
    last: dt.date | None = None

    def applies(self, month: dt.date) -> bool:
        return (self.first is None or self.first <= month) and (
            self.last is None or month <= self.last
        )


@dataclass(frozen=True)
class Shortage:
    competence_id: int
    name: str
    short: float
    people: list[Candidate]  # with free time and the competence, named to whom may see
    people_count: int
    spare_total: float


@dataclass
class FitMonth:
    month: dt.date
    asked: float
    covered: float  # of what is asked, what fits without taking time from what runs
    shortages: list[Shortage]

    @property
    def fits(self) -> bool:
        return self.covered >= self.asked - 0.005

    @property
    def short(self) -> float:
        return round(max(self.asked - self.covered, 0.0), 2)

    @property
    def label(self) -> str:
        return label(self.month)


@dataclass
class Fit:
    months: list[FitMonth]
    needs: list[FitNeed]
    service: Service | None = None

    @property
    def fits(self) -> bool:
        return all(m.fits for m in self.months)

    @property
    def short_months(self) -> list[FitMonth]:
        return [m for m in self.months if not m.fits]


def proposed_services(actor: ActorLike) -> list[tuple[int, str]]:
    """The proposed services the actor may try (the PMO's side sees them), for a choice."""
    if not (actor.system or actor.roles & STAFF_SIDE):
        return []
    return [
        (pk, f"{code} {name}")
        for pk, code, name in Service.objects.filter(
            organisation_id=actor.organisation.pk, archived_at__isnull=True, stage=PROPOSED
        )
        .order_by("code", "id")
        .values_list("id", "code", "name")
    ]


def service_needs(actor: ActorLike, service_id: int) -> tuple[Service, list[FitNeed]]:
    """A proposed (or any live) service's needs to try; 404 unless the actor's side sees
    the organisation's services and the service is theirs."""
    if not (actor.system or actor.roles & STAFF_SIDE):
        raise not_found("service")
    service = (
        Service.objects.filter(
            organisation_id=actor.organisation.pk, archived_at__isnull=True, pk=service_id
        )
        .only("id", "code", "name", "stage")
        .first()
    )
    if service is None:
        raise not_found("service")
    needs = [
        FitNeed(c, level, fte)
        for c, level, fte in CompetenceNeed.objects.filter(
            service=service, archived_at__isnull=True, competence__archived_at__isnull=True
        )
        .order_by("id")
        .values_list("competence_id", "level", "fte")
    ]
    return service, needs


def check_needs(actor: ActorLike, needs: Iterable[FitNeed]) -> list[FitNeed]:
    """The needs typed, checked: a competence of the organisation's framework, a level
    1 to 5, an FTE above 0 and at most 100, an end not before its start (422 naming the
    need, `needs.<i>.<field>`)."""
    needs = list(needs)
    errors: dict[str, list[str]] = {}
    if not needs:
        errors["needs"] = ["Give at least one need."]
    known = (
        set(
            Competence.objects.filter(
                organisation_id=actor.organisation.pk,
                archived_at__isnull=True,
                pk__in=[n.competence_id for n in needs if 0 < n.competence_id < 2**63],
            ).values_list("id", flat=True)
        )
        if needs
        else set()
    )
    for i, need in enumerate(needs):
        if need.competence_id not in known:
            errors[f"needs.{i}.competence"] = [
                "Choose a competence of the organisation's framework."
            ]
        if need.level not in CompetenceLevel.values:
            errors[f"needs.{i}.level"] = ["Choose a level from 1 to 5."]
        if not Decimal(0) < need.fte <= Decimal(100):
            errors[f"needs.{i}.fte"] = ["Give an FTE above 0 (0.5 is half time)."]
        if need.first and need.last and need.last < need.first:
            errors[f"needs.{i}.to"] = ["The last month comes before the first."]
    if errors:
        raise DomainError("; ".join(m for ms in errors.values() for m in ms), errors=errors)
    return needs


def _unallocated(
    actor: ActorLike, u: Universe, months: Sequence[dt.date], among: set[int]
) -> list[dict[int, float]]:
    """Each month, each person's time not allocated to anything, as the records say (their
    available time less every allocation, services' too): who has free time to name. The
    solver's spare time is one of many equally good answers, so it names nobody. One
    query, for the people `among` only."""
    ids = [s.id for s in u.staff if s.id in among]
    if not ids or not months:
        return [{} for _ in months]
    first, last = months[0], months[-1]
    row_of = {pid: j for j, pid in enumerate(ids)}
    index = {m: i for i, m in enumerate(months)}
    taken = np.zeros((len(months), len(ids)))
    for person_id, fte, starts, ends in (
        Allocation.objects.filter(
            organisation_id=actor.organisation.pk,
            person_id__in=ids,
            kind=AllocationKind.SERVICE,
            archived_at__isnull=True,
            starts_on__lte=last,
            ends_on__gte=first,
        )
        .order_by()
        .values_list("person_id", "fte", "starts_on", "ends_on")
    ):
        a, b = index[max(month_of(starts), first)], index[min(month_of(ends), last)]
        taken[a : b + 1, row_of[person_id]] += float(fte)
    columns = [k for k, s in enumerate(u.staff) if s.id in among]
    free = np.maximum(np.round(np.asarray(u.free)[:, columns] - taken, 2), 0.0)
    return [
        {pid: float(free[i, j]) for j, pid in enumerate(ids) if free[i, j] > 0}
        for i in range(len(months))
    ]


def fit(
    actor: ActorLike,
    needs: Sequence[FitNeed],
    query: GridQuery,
    *,
    service: Service | None = None,
) -> Fit:
    """Whether the needs fit, month by month, beside the demand of what runs now (the
    other proposals left out): the most of them coverable with people's free time, each
    person counted once, without taking time from what runs. A month they do not fit
    names the competences short by how much, and who has time left with the competence."""
    months = query.months
    u = universe(actor, months, query.pmo)
    base = u.demand()
    base_months = [coverage.Month(m, base, u.free[i]) for i, m in enumerate(months)]
    with_months = []
    asked: list[dict[tuple[int, int], Decimal]] = []
    for i, m in enumerate(months):
        extra: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
        for need in needs:
            if need.applies(m):
                extra[(need.competence_id, need.level)] += need.fte
        asked.append(dict(extra))
        total = dict(base)
        for key, amount in extra.items():
            total[key] = total.get(key, Decimal(0)) + amount
        with_months.append(coverage.Month(m, total, u.free[i]))
    # One call: both questions share the model (the needs tried are nodes of both).
    answers = coverage.cover([*base_months, *with_months], u.staff, spare=True)
    before, after = answers[: len(months)], answers[len(months) :]
    result: list[FitMonth] = []
    for i, month in enumerate(months):
        asked_total = round(float(sum(asked[i].values(), Decimal(0))), 2)
        gained = round(after[i].covered - before[i].covered, 2)
        result.append(FitMonth(month, asked_total, min(gained, asked_total), []))
    # Where it does not fit, each competence asked is tried on its own: what of it the
    # time left covers. (Several together may fit less than each alone.)
    alone: list[coverage.Month[tuple[int, int]]] = []
    for i, fm in enumerate(result):
        if fm.fits:
            continue
        for c in sorted({c for c, _ in asked[i]}):
            needs_c = dict(base)
            for (cc, level), amount in asked[i].items():
                if cc == c:
                    needs_c[(cc, level)] = needs_c.get((cc, level), Decimal(0)) + amount
            alone.append(coverage.Month((i, c), needs_c, u.free[i]))
    nodes = {key for m in with_months for key in m.needs}
    tried = coverage.cover(alone, u.staff, nodes=nodes) if alone else []
    visible = visible_person_ids(actor)
    level_of = {s.id: s.levels for s in u.staff}
    shorts: list[tuple[int, int, float, int]] = []  # month, competence, short, level
    for answer in tried:
        i, c = answer.key
        asked_c = float(sum((v for (cc, _), v in asked[i].items() if cc == c), Decimal(0)))
        short = round(asked_c - (answer.covered - before[i].covered), 2)
        if short > 0:
            shorts.append((i, c, short, min(lv for cc, lv in asked[i] if cc == c)))
    # Who has time is read only for the people able to cover what is short.
    able_ids = {
        pid
        for _, c, _, level in shorts
        for pid, held in level_of.items()
        if held.get(c, 0) >= level
    }
    left = _unallocated(actor, u, months, able_ids) if shorts else []
    pending: list[tuple[FitMonth, int, float, list[tuple[int, int]], dict[int, float]]] = []
    wanted: set[int] = set()
    for i, c, short, level in shorts:
        spare = left[i]
        able = [
            (pid, level_of[pid][c])
            for pid, time_left in spare.items()
            if time_left > 0 and level_of[pid].get(c, 0) >= level
        ]
        pending.append((result[i], c, short, able, spare))
        wanted.update(pid for pid, _ in able if visible is None or pid in visible)
    names = (
        dict(Person.objects.filter(pk__in=list(wanted)).values_list("id", "name")) if wanted else {}
    )
    for fm, c, short, able, spare in pending:
        named = sorted(
            (
                Candidate(pid, names[pid], lv, 0.0, round(spare.get(pid, 0.0), 2))
                for pid, lv in able
                if pid in names
            ),
            key=lambda p: (-p.spare, p.name, p.person_id),
        )
        fm.shortages.append(
            Shortage(
                c,
                u.competences.get(c, ("", ""))[0],
                short,
                named,
                len(able),
                round(sum(spare.get(pid, 0.0) for pid, _ in able), 2),
            )
        )
    return Fit(result, list(needs), service)
