"""Capacity API: the grid of demand against supply (`GET /orgs/{org}/capacity`) and "can
we take this on?" (`POST /orgs/{org}/capacity/fit`), read as the pages read them
(`selectors.grid`): numbers for every member, people named only to whom may see them.

No `from __future__ import annotations`: django-ninja reads these annotations at runtime.
"""

from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.params.functions import Query as QueryParam

from carte.capacity import permissions as perms
from carte.capacity.selectors import grid as selectors
from carte.core.errors import NOT_FOUND, DomainError, not_found
from carte.organisations.access import api_actor
from carte.organisations.actor import Actor

router = Router(tags=["Capacity"])

MONTH = "A month, YYYY-MM."


def _actor(request: HttpRequest, org: str) -> Actor:
    actor = api_actor(request, org)
    if not (actor.system or actor.roles & perms.GRID):
        raise not_found("organisation")
    return actor


class IfAdmittedOut(Schema):
    demand: float = Field(..., description="FTE needed with the proposed services admitted.")
    shortfall: float = Field(..., description="FTE short then.")


class GridCellOut(Schema):
    """A competence in a month, in FTE."""

    month: str = Field(..., description=MONTH)
    demand: float = Field(..., description="Needed by the services taking people.")
    supply: float = Field(
        ...,
        description=(
            "The time of the people able to cover it (at or above the level needed), each "
            "person's time counted once across all competences."
        ),
    )
    covered: float = Field(..., description="What of the demand people's time covers.")
    shortfall: float = Field(..., description="Demand not covered.")
    gap: float = Field(..., description="Supply less demand (negative: short).")
    state: Literal["short", "tight", "ok", "none"]
    if_admitted: IfAdmittedOut


class CompetenceBrief(Schema):
    id: int
    name: str


class GridRowOut(Schema):
    competence: CompetenceBrief
    group: str
    months: list[GridCellOut]


class GridOut(Schema):
    """The grid: each competence of the framework, month by month."""

    first_month: str = Field(..., description=MONTH)
    last_month: str = Field(..., description=MONTH)
    months: list[str]
    pmo: int | None = Field(..., description="The PMO filtered on: its people, its services.")
    people: int = Field(..., description="People with a contract counted in the supply.")
    proposed_services: int = Field(..., description="Proposed services counted 'if admitted'.")
    competences: list[GridRowOut]


def _month(value: Any) -> str:
    return f"{value:%Y-%m}"


def _grid_out(result: selectors.Grid) -> dict[str, Any]:
    return {
        "first_month": _month(result.query.first),
        "last_month": _month(result.query.last),
        "months": [_month(m) for m in result.months],
        "pmo": result.query.pmo,
        "people": result.people,
        "proposed_services": result.proposed_services,
        "competences": [
            {
                "competence": {"id": row.competence_id, "name": row.name},
                "group": row.group,
                "months": [
                    {
                        "month": _month(c.month),
                        "demand": c.demand,
                        "supply": c.supply,
                        "covered": c.covered,
                        "shortfall": c.shortfall,
                        "gap": c.gap,
                        "state": c.state,
                        "if_admitted": {
                            "demand": c.admitted_demand,
                            "shortfall": c.admitted_shortfall,
                        },
                    }
                    for c in row.cells
                ],
            }
            for row in result.rows
        ],
    }


@router.get(
    "/orgs/{org}/capacity",
    response=GridOut,
    summary="The capacity grid: demand against supply",
    operation_id="capacity_grid",
)
def capacity_grid(
    request: HttpRequest,
    org: str,
    start: str | None = QueryParam(None, alias="from", description=MONTH + " Default: this month."),
    end: str | None = QueryParam(
        None, alias="to", description=MONTH + " Default: 11 months after `from`; at most 36 months."
    ),
    competence: str | None = QueryParam(None, description="Only this competence (its id)."),
    pmo: str | None = QueryParam(
        None, description="Only this PMO (its id): its people and the services it delivers."
    ),
) -> Any:
    """Each competence, month by month: the demand of the services taking people (running,
    transition, closing and the set-up stages), the supply of the people able to cover it
    (each person's time counted once across all competences), what is covered and the
    shortfall; and what the proposed services would add if admitted. 422 for a month not
    written YYYY-MM, `to` before `from`, more than 36 months, or a PMO or competence not
    the organisation's."""
    actor = _actor(request, org)
    query = selectors.grid_query(actor, start=start, end=end, pmo=pmo, competence=competence)
    return _grid_out(selectors.grid(actor, query))


class FitNeedIn(Schema):
    competence: int = Field(..., description="A competence of the framework (its id).")
    level: int = Field(..., description="The level needed, 1 (awareness) to 5 (authority).")
    fte: Decimal = Field(..., description="FTE needed each month, above 0 (0.5: half time).")
    start: str | None = Field(None, alias="from", description=MONTH + " Default: `from`.")
    end: str | None = Field(None, alias="to", description=MONTH + " Default: `to`.")


class FitIn(Schema):
    """What to try: a service (its needs) or needs typed, over some months."""

    service: int | None = Field(None, description="A service whose needs to try (its id).")
    needs: list[FitNeedIn] = Field(default_factory=list)
    start: str | None = Field(None, alias="from", description=MONTH + " Default: this month.")
    end: str | None = Field(None, alias="to", description=MONTH + " Default: 12 months.")
    pmo: int | None = Field(None, description="Only this PMO's people and services.")


class PersonFree(Schema):
    id: int
    name: str
    free: float = Field(..., description="FTE not given to any need that month.")


class ShortageOut(Schema):
    competence: CompetenceBrief
    short: float
    people_with_time: int = Field(
        ..., description="People at the level needed with time left (all, named or not)."
    )
    time_left: float = Field(..., description="Their time left, FTE.")
    people: list[PersonFree] = Field(
        ..., description="Those of them the caller may see (keepers: all; others: fewer)."
    )


class FitMonthOut(Schema):
    month: str = Field(..., description=MONTH)
    fits: bool
    asked: float
    covered: float = Field(..., description="Of what is asked, what fits beside what runs.")
    short: float
    shortages: list[ShortageOut]


class ServiceBriefOut(Schema):
    id: int
    code: str
    name: str


class FitOut(Schema):
    fits: bool = Field(..., description="It fits every month.")
    service: ServiceBriefOut | None
    months: list[FitMonthOut]


@router.post(
    "/orgs/{org}/capacity/fit",
    response=FitOut,
    summary="Can we take this on?",
    operation_id="capacity_fit",
    # A question, not a write: every member may ask, so a bad body is theirs to correct.
    openapi_extra={"x-carte-writes": False},
)
def capacity_fit(request: HttpRequest, org: str, payload: FitIn) -> Any:
    """Whether a service's needs (`service`) or the needs given (`needs`) fit, month by
    month, beside the demand of what runs now (other proposals left out): the most of them
    people's free time covers, each person counted once. A month that does not fit names
    the competences short by how much and who has time left with them. Nothing is
    written. 422 for a bad month, level or FTE, or a competence or service not the
    organisation's."""
    actor = _actor(request, org)
    query = selectors.grid_query(actor, start=payload.start, end=payload.end, pmo=payload.pmo)
    service = None
    if payload.service is not None:
        try:
            service, needs = selectors.service_needs(actor, payload.service)
        except DomainError as exc:
            if exc.code != NOT_FOUND:
                raise
            raise DomainError.field("service", "No service with this id here.") from exc
    else:
        needs, errors = [], {}
        for i, need in enumerate(payload.needs):
            try:
                first, last = selectors.parse_range(need.start or need.end, need.end or need.start)
            except DomainError as exc:
                for name, messages in exc.errors.items():
                    errors[f"needs.{i}.{name}"] = messages
                continue
            bounded = bool(need.start or need.end)
            needs.append(
                selectors.FitNeed(
                    need.competence,
                    need.level,
                    need.fte,
                    first if need.start else None,
                    last if need.end else None,
                )
                if bounded
                else selectors.FitNeed(need.competence, need.level, need.fte)
            )
        if errors:
            raise DomainError("Give months as YYYY-MM.", errors=errors)
        needs = selectors.check_needs(actor, needs)
    result = selectors.fit(actor, needs, query, service=service)
    return {
        "fits": result.fits,
        "service": (
            {"id": service.pk, "code": service.code, "name": service.name} if service else None
        ),
        "months": [
            {
                "month": _month(m.month),
                "fits": m.fits,
                "asked": m.asked,
                "covered": m.covered,
                "short": m.short,
                "shortages": [
                    {
                        "competence": {"id": s.competence_id, "name": s.name},
                        "short": s.short,
                        "people_with_time": s.people_count,
                        "time_left": s.spare_total,
                        "people": [
                            {"id": p.person_id, "name": p.name, "free": p.spare} for p in s.people
                        ],
                    }
                    for s in m.shortages
                ],
            }
            for m in result.months
        ],
    }
