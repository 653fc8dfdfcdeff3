"""The organisation's heat map: its running services, worst first, each with its status and
its KPIs' statuses (the one rule of `carte.operations.status`), the reasons, and the counts
of services by status and of KPIs by status and overdue.

The heat map reads the KPI rows: each KPI carries its latest period, value and RAG and
its next due date (kept by the measurement services), so no aggregate over the
measurements is needed; the service levels agreed on the page's KPIs and their latest
comments are read for the reasons.

It is the page leadership opens first and it must stay within twice the time its SQL
takes (issue 5). Compiling its statements through the ORM cost more CPU than PostgreSQL
spends running them, so they are written once per filter combination from the models'
metadata (`carte.core.rawsql`, as the API's token lookup is): one statement for the counts
(services and their KPIs by status) and the page of services, so the status rule runs
once over the organisation (a second one only for a page past the end), one for their
KPIs, one for the reasons (`status.evidence`), and one for the filters' choices.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple, cast

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import ManyToManyField, Model

from carte.catalogue.choices import Stage
from carte.catalogue.models import Category, Service
from carte.core import rawsql
from carte.core.clock import today
from carte.core.listing import MAX_PAGE, page_number
from carte.core.permissions import VIEW, require
from carte.operations import periods, status
from carte.operations.choices import Rag
from carte.operations.filters import HeatmapFilter
from carte.operations.models import KPI
from carte.operations.status import RANK, KpiStatus, ServiceStatus
from carte.organisations.actor import Actor
from carte.organisations.models import PMO

HEATMAP_PAGE = 50
# Services read per statement for a download of the whole heat map: their KPIs' ids are
# parameters, which every database limits (SQLite to 32,766).
EXPORT_PAGE = 500
ATTENTION = frozenset({RANK[Rag.RED], RANK[Rag.AMBER]})
EVERY_RANK = frozenset(RANK.values())
NO_RANK = -1  # matches no service: the filters asked for two statuses at once


class Cell(NamedTuple):
    """One KPI of a heat map row: its latest report, its status under the rule (with the
    reason) and whether the next report is late."""

    id: int
    name: str
    unit: str
    rag: str  # the status under the rule; "" before the first report
    value: Decimal | None
    period: dt.date | None
    period_label: str
    next_due: dt.date | None
    overdue: bool
    status: KpiStatus


@dataclass
class HeatmapRow:
    id: int
    code: str
    name: str
    category: str
    cells: list[Cell | None] = field(default_factory=list)
    status: ServiceStatus = field(default_factory=lambda: status.service_status(()))


@dataclass
class Heatmap:
    page: Page[Any]
    rows: list[HeatmapRow]
    width: int
    totals: dict[str, int]  # KPIs of the services kept, by status, and overdue
    services: dict[str, int]  # services kept by every filter but the status, by status

    @property
    def count(self) -> int:
        return int(self.page.paginator.count)


# ---------------------------------------------------------------- the statements


class _Shape(NamedTuple):
    """Which filters a statement applies: each combination is written once."""

    category: bool
    pmo: bool
    ranks: int  # how many statuses the services may have; 0: any


def _where(shape: _Shape) -> str:
    """The running, live services of one organisation that the filters but the status keep
    (alias `s`). Parameters: organisation, stage, then category and PMO as the shape asks."""
    S, col = Service, rawsql.column
    conditions = [
        f"s.{col(S, 'organisation')} = %s",
        f"s.{col(S, 'stage')} = %s",
        f"s.{col(S, 'archived_at')} IS NULL",
    ]
    if shape.category:
        conditions.append(f"s.{col(S, 'category')} = %s")
    if shape.pmo:
        pmos = cast("ManyToManyField[Any, Any]", Service._meta.get_field("delivering_pmos"))
        through = cast("type[Model]", pmos.remote_field.through)
        quote = connection.ops.quote_name
        conditions.append(
            f"EXISTS (SELECT 1 FROM {rawsql.table(through)} d "  # noqa: S608 - names from metadata
            f"WHERE d.{quote(pmos.m2m_column_name())} = s.{col(S, 'id')} "
            f"AND d.{quote(pmos.m2m_reverse_name())} = %s)"
        )
    return " AND ".join(conditions)


# The KPI columns a cell is made of, in the order the page statement selects them.
_CELL_FIELDS = (
    "id",
    "name",
    "unit",
    "frequency",
    "direction",
    "latest_rag",
    "latest_value",
    "latest_period",
    "next_due",
)


@functools.cache
def _page_sql(shape: _Shape) -> str:
    """The counts and a page of the services in one statement, so the ranking
    (`status.ranked_sql`) runs once. Rows of kind 0: a status's rank, its number of
    services and their live KPIs by rank (3 .. 0) and overdue, over every filter but the
    status. Rows of kind 1: the page's services, worst status first, then by code (`n`
    gives the order), each with its status's rank. Every row has the same columns (kind,
    rank, a number or the service's id, five numbers or the order, code, name,
    category). Parameters: the ranking's, the services' conditions, the ranks kept, then
    the page's size and offset."""
    S, C, col = Service, Category, rawsql.column
    where = _where(shape)
    kept = f"WHERE r IN ({', '.join(['%s'] * shape.ranks)}) " if shape.ranks else ""
    sums = ", ".join(f"SUM({name})" for name in ("n3", "n2", "n1", "n0", "late"))
    return (
        f"{status.ranked_sql(where)}, "  # noqa: S608 - names from metadata
        f"shown AS (SELECT s.{col(S, 'id')} AS id, s.{col(S, 'code')} AS code, "
        f"s.{col(S, 'name')} AS name, s.{col(S, 'category')} AS category, "
        "COALESCE(ranked.r, 0) AS r, COALESCE(ranked.n3, 0) AS n3, "
        "COALESCE(ranked.n2, 0) AS n2, COALESCE(ranked.n1, 0) AS n1, "
        "COALESCE(ranked.n0, 0) AS n0, COALESCE(ranked.late, 0) AS late "
        f"FROM {rawsql.table(S)} s LEFT JOIN ranked ON ranked.sid = s.{col(S, 'id')} "
        f"WHERE {where}) "
        f"SELECT 0, r, COUNT(*), {sums}, NULL, NULL, NULL FROM shown GROUP BY r "
        "UNION ALL SELECT * FROM (SELECT 1, p.r, p.id, "
        "ROW_NUMBER() OVER (ORDER BY p.r DESC, p.code, p.id), 0, 0, 0, 0, "
        f"p.code, p.name, c.{col(C, 'name')} FROM shown p JOIN {rawsql.table(C)} c "
        f"ON c.{col(C, 'id')} = p.category {kept}"
        "ORDER BY p.r DESC, p.code, p.id LIMIT %s OFFSET %s) page"
    )


@functools.cache
def _kpis_sql(services: int) -> str:
    """The live KPIs of a page's services (as many parameters as `services`), in each
    service's order."""
    col = rawsql.column
    return (
        f"SELECT k.{col(KPI, 'service')}, "  # noqa: S608 - names from metadata
        + ", ".join(f"k.{col(KPI, name)}" for name in _CELL_FIELDS)
        + f" FROM {rawsql.table(KPI)} k WHERE k.{col(KPI, 'service')} IN ("
        + ", ".join(["%s"] * services)
        + f") AND k.{col(KPI, 'archived_at')} IS NULL "
        f"ORDER BY k.{col(KPI, 'service')}, k.{col(KPI, 'position')}, k.{col(KPI, 'name')}, "
        f"k.{col(KPI, 'id')}"
    )


@functools.cache
def _reader() -> rawsql.Reader:
    """Converts the KPI statement's columns as the ORM would."""
    return rawsql.Reader([None] + [(KPI, name) for name in _CELL_FIELDS])


@functools.cache
def _options_sql() -> str:
    """The organisation's live categories (in menu order) then its live PMOs (by name)."""
    C, P, col = Category, PMO, rawsql.column
    return (
        f"SELECT 0 AS kind, c.{col(C, 'position')} AS position, c.{col(C, 'name')} AS name, "  # noqa: S608
        f"c.{col(C, 'id')} AS id FROM {rawsql.table(C)} c "
        f"WHERE c.{col(C, 'organisation')} = %s AND c.{col(C, 'archived_at')} IS NULL "
        f"UNION ALL SELECT 1, 0, p.{col(P, 'name')}, p.{col(P, 'id')} FROM {rawsql.table(P)} p "
        f"WHERE p.{col(P, 'organisation')} = %s AND p.{col(P, 'archived_at')} IS NULL "
        "ORDER BY kind, position, name, id"
    )


# ---------------------------------------------------------------- the reads


def _ranks(filters: HeatmapFilter) -> tuple[int, ...]:
    """The statuses' ranks the filters keep; none when they keep every status."""
    kept = set(EVERY_RANK)
    if filters.status is not None:
        kept &= {status.FILTERS[filters.status]}
    if filters.attention:
        kept &= ATTENTION
    if kept == EVERY_RANK:
        return ()
    return tuple(sorted(kept)) or (NO_RANK,)


def _conditions(actor: Actor, filters: HeatmapFilter) -> tuple[_Shape, list[Any], list[Any]]:
    """The statements' shape, the services' conditions' parameters and the ranks kept."""
    ranks = _ranks(filters)
    shape = _Shape(filters.category is not None, filters.pmo is not None, len(ranks))
    params: list[Any] = [actor.organisation.pk, Stage.RUNNING.value]
    if shape.category:
        params.append(filters.category)
    if shape.pmo:
        params.append(filters.pmo)
    return shape, params, list(ranks)


def _rows(services: list[Any], kpis: list[Any], on: dt.date) -> list[HeatmapRow]:
    """The page's services, each with its status and the cells of its KPIs, worst first
    (in the service's order within a status)."""
    rows = {
        sid: HeatmapRow(sid, code, name, category) for sid, code, name, category, *_ in services
    }
    found = status.evidence([row[1] for row in kpis])
    labels: dict[tuple[dt.date, str], str] = {}  # a page names few distinct periods
    for sid, kid, name, unit, frequency, direction, rag, value, period, due in kpis:
        label = ""
        if period is not None:
            label = labels.get((period, frequency), "")
            if not label:
                label = labels[(period, frequency)] = periods.label(period, frequency)
        overdue = due is not None and due < on
        kpi = status.kpi_status(
            name=name,
            own=rag or "",
            value=value,
            unit=unit,
            direction=direction,
            period_label=label,
            comment=found.comments.get(kid, ""),
            targets=found.targets.get(kid, ()),
        )
        rows[sid].cells.append(
            Cell(kid, name, unit, kpi.rag, value, period, label, due, overdue, kpi)
        )
    for row in rows.values():
        row.cells.sort(key=lambda c: -c.status.rank if c else 0)
        row.status = status.service_status(c.status for c in row.cells if c)
    return list(rows.values())


def _ranking(params: list[Any], on: dt.date) -> list[Any]:
    """The parameters of `status.ranked_sql` over the services' conditions."""
    return [*status.kpi_rank_sql("k", "lv")[1], params[0], *params, _adapt_date(on)]


def _fetch(
    actor: Actor, filters: HeatmapFilter, on: dt.date, number: int, size: int
) -> tuple[dict[int, list[int]], list[Any]]:
    """Rank -> [services, KPIs red, amber, green, not reported, overdue] over every filter
    but the status, and page `number` of the services the filters keep (id, code, name,
    category, rank), in one statement."""
    shape, params, ranks = _conditions(actor, filters)
    rows = rawsql.fetch(
        _page_sql(shape), [*_ranking(params, on), *params, *ranks, size, (number - 1) * size]
    )
    counted: dict[int, list[int]] = {}
    services = []
    for kind, rank, first, *numbers, code, name, category in rows:
        if kind == 0:
            counted[int(rank)] = [int(first), *(int(n or 0) for n in numbers)]
        else:
            services.append((int(numbers[0]), int(first), code, name, category, int(rank)))
    services.sort()  # by `n`: a union keeps no order
    return counted, [row[1:] for row in services]


def status_counts(actor: Actor) -> dict[str, int]:
    """The organisation's running services by status (red, amber, green, none): what the
    heat map lists under `?status=`."""
    require(actor, VIEW, KPI)
    counted = _fetch(actor, HeatmapFilter(), today(), 1, 1)[0]
    return {name: counted.get(rank, [0])[0] for name, rank in status.FILTERS.items()}


def heatmap(
    actor: Actor,
    filters: HeatmapFilter | None = None,
    page: str | int | None = None,
    size: int = HEATMAP_PAGE,
) -> Heatmap:
    """A page of running services, worst status first, then by code, with their status
    and its reasons and their live KPIs' statuses (worst first), periods and overdue
    marks; the counts of KPIs by status and overdue over every service the filters keep,
    and of services by status over every filter but the status. A bad or too large page
    number gives the page Django's paginator would (the first, or the last)."""
    require(actor, VIEW, KPI)
    filters = filters or HeatmapFilter()
    ranks = _ranks(filters)
    on = today()
    asked = page_number(page)
    guess = asked if isinstance(asked, int) and 1 <= asked <= MAX_PAGE else 1
    counted, services = _fetch(actor, filters, on, guess, size)
    shown = [counted.get(r, [0] * 6) for r in (ranks or sorted(EVERY_RANK))]
    count = sum(row[0] for row in shown)
    paginator: Paginator[Any] = Paginator(range(count), size)
    number = paginator.get_page(asked).number
    if number != guess:  # past the end, or a number the paginator reads otherwise
        services = _fetch(actor, filters, on, number, size)[1]
    rows: list[HeatmapRow] = []
    if services:
        ids = [row[0] for row in services]
        rows = _rows(services, _reader().rows(rawsql.fetch(_kpis_sql(len(ids)), ids)), on)
    width = max((len(r.cells) for r in rows), default=0)
    for row in rows:
        row.cells.extend([None] * (width - len(row.cells)))
    names = ("red", "amber", "green", "unreported", "overdue")
    totals = {name: sum(row[i + 1] for row in shown) for i, name in enumerate(names)}
    page_of: Page[Any] = Page(rows, number, paginator)
    return Heatmap(
        page=page_of,
        rows=rows,
        width=width,
        totals=totals,
        services={name: counted.get(rank, [0])[0] for name, rank in status.FILTERS.items()},
    )


def every_row(actor: Actor, filters: HeatmapFilter | None = None) -> Iterator[HeatmapRow]:
    """Every service the filters keep, in the heat map's order, for a download: read
    `EXPORT_PAGE` services at a time (three statements each). A row's cells may end in
    `None`s (the page's width), as on the page."""
    number = 1
    while True:
        result = heatmap(actor, filters, page=number, size=EXPORT_PAGE)
        yield from result.rows
        if not result.page.has_next():
            return
        number += 1


def _adapt_date(day: dt.date) -> Any:
    """A date as the ORM hands it to the database (text on SQLite)."""
    return connection.ops.adapt_datefield_value(day)


def heatmap_filter_options(actor: Actor) -> dict[str, list[tuple[int, str]]]:
    """The organisation's live categories and PMOs, for the heat map's filters."""
    org = actor.organisation.pk
    rows = rawsql.fetch(_options_sql(), [org, org])
    return {
        "categories": [(pk, name) for kind, _, name, pk in rows if kind == 0],
        "pmos": [(pk, name) for kind, _, name, pk in rows if kind == 1],
    }
