"""The organisation's heat map: its running services x their KPIs, each cell the KPI's
latest RAG and period, with the counts of red, amber, green, unreported and overdue KPIs.

The heat map reads the KPI rows only: each KPI carries its latest period, value and RAG
and its next due date (kept by the measurement services), so no aggregate over the
measurements is needed.

It is the page leadership opens first and it must stay within twice the time its SQL
takes (issue 5). Compiling its statements through the ORM cost more CPU than PostgreSQL
spends running them, so they are written once per filter combination from the models'
metadata (`carte.core.rawsql`, as the API's token lookup is): one statement for the page
of services (the total carried by a window count), one for their KPIs, one for the
counts, and one for the filters' choices.
"""

from __future__ import annotations

import datetime as dt
import functools
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
from carte.operations import periods
from carte.operations.choices import Rag
from carte.operations.filters import HeatmapFilter
from carte.operations.models import KPI
from carte.organisations.actor import Actor
from carte.organisations.models import PMO

HEATMAP_PAGE = 50
ATTENTION = (Rag.RED, Rag.AMBER)


class Cell(NamedTuple):
    """One KPI of a heat map row: its latest report and whether the next one is late."""

    id: int
    name: str
    unit: str
    rag: str  # "" before the first report
    value: Decimal | None
    period: dt.date | None
    period_label: str
    next_due: dt.date | None
    overdue: bool


@dataclass
class HeatmapRow:
    id: int
    code: str
    name: str
    category: str
    cells: list[Cell | None] = field(default_factory=list)


@dataclass
class Heatmap:
    page: Page[Any]
    rows: list[HeatmapRow]
    width: int
    totals: dict[str, int]

    @property
    def count(self) -> int:
        return int(self.page.paginator.count)


# ---------------------------------------------------------------- the statements


class _Shape(NamedTuple):
    """Which filters a statement applies: each combination is written once."""

    category: bool
    pmo: bool
    attention: bool


def _where(shape: _Shape) -> str:
    """The running, live services of one organisation that the filters keep (alias `s`).
    Parameters: organisation, stage, then category, PMO and the two attention RAGs as
    the shape asks."""
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
    if shape.attention:
        conditions.append(
            f"EXISTS (SELECT 1 FROM {rawsql.table(KPI)} a "  # noqa: S608 - names from metadata
            f"WHERE a.{col(KPI, 'service')} = s.{col(S, 'id')} "
            f"AND a.{col(KPI, 'archived_at')} IS NULL AND a.{col(KPI, 'latest_rag')} IN (%s, %s))"
        )
    return " AND ".join(conditions)


# The KPI columns a cell is made of, in the order the page statement selects them.
_CELL_FIELDS = (
    "id",
    "name",
    "unit",
    "frequency",
    "latest_rag",
    "latest_value",
    "latest_period",
    "next_due",
)


@functools.cache
def _page_sql(shape: _Shape) -> str:
    """A page of the services (by code), each row carrying the number of services in all
    pages. Parameters: the services' conditions, then the page's size and offset."""
    S, C, col = Service, Category, rawsql.column
    return (
        f"SELECT s.{col(S, 'id')}, s.{col(S, 'code')}, s.{col(S, 'name')}, "  # noqa: S608
        f"c.{col(C, 'name')}, COUNT(*) OVER () "
        f"FROM {rawsql.table(S)} s JOIN {rawsql.table(C)} c "
        f"ON c.{col(C, 'id')} = s.{col(S, 'category')} "
        f"WHERE {_where(shape)} ORDER BY s.{col(S, 'code')}, s.{col(S, 'id')} LIMIT %s OFFSET %s"
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
def _count_sql(shape: _Shape) -> str:
    return f"SELECT COUNT(*) FROM {rawsql.table(Service)} s WHERE {_where(shape)}"  # noqa: S608


@functools.cache
def _totals_sql(shape: _Shape) -> str:
    """The KPIs of every service the filters keep, counted by RAG and overdue. Parameters:
    red, amber, green, "" (unreported), the day, then the services' conditions."""
    col = rawsql.column
    rag, due = f"k.{col(KPI, 'latest_rag')}", f"k.{col(KPI, 'next_due')}"
    counts = ", ".join(
        [f"COUNT(CASE WHEN {rag} = %s THEN 1 END)"] * 4
        + [f"COUNT(CASE WHEN {due} < %s THEN 1 END)"]
    )
    return (
        f"SELECT {counts} FROM {rawsql.table(KPI)} k "  # noqa: S608 - names from metadata
        f"JOIN {rawsql.table(Service)} s ON s.{col(Service, 'id')} = k.{col(KPI, 'service')} "
        f"WHERE k.{col(KPI, 'archived_at')} IS NULL AND {_where(shape)}"
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


def _conditions(actor: Actor, filters: HeatmapFilter) -> tuple[_Shape, list[Any]]:
    shape = _Shape(filters.category is not None, filters.pmo is not None, filters.attention)
    params: list[Any] = [actor.organisation.pk, Stage.RUNNING.value]
    if shape.category:
        params.append(filters.category)
    if shape.pmo:
        params.append(filters.pmo)
    if shape.attention:
        params.extend(r.value for r in ATTENTION)
    return shape, params


def _rows(services: list[Any], kpis: list[Any], on: dt.date) -> list[HeatmapRow]:
    """The page's services, each with the cells of its KPIs."""
    rows = {sid: HeatmapRow(sid, code, name, category) for sid, code, name, category, _ in services}
    labels: dict[tuple[dt.date, str], str] = {}  # a page names few distinct periods
    for sid, kid, name, unit, frequency, rag, value, period, due in kpis:
        label = ""
        if period is not None:
            label = labels.get((period, frequency), "")
            if not label:
                label = labels[(period, frequency)] = periods.label(period, frequency)
        overdue = due is not None and due < on
        rows[sid].cells.append(Cell(kid, name, unit, rag or "", value, period, label, due, overdue))
    return list(rows.values())


def heatmap(
    actor: Actor,
    filters: HeatmapFilter | None = None,
    page: str | int | None = None,
    size: int = HEATMAP_PAGE,
) -> Heatmap:
    """A page of running services (by code) with their live KPIs' latest RAG, period
    and overdue mark, and the counts of red, amber, green, unreported and overdue KPIs
    over every service the filters keep. A bad or too large page number gives the page
    Django's paginator would (the first, or the last)."""
    require(actor, VIEW, KPI)
    shape, params = _conditions(actor, filters or HeatmapFilter())
    on = today()

    def fetch_page(number: int) -> tuple[list[HeatmapRow], int]:
        services = rawsql.fetch(_page_sql(shape), [*params, size, (number - 1) * size])
        if not services:
            return [], 0
        ids = [row[0] for row in services]
        kpis = _reader().rows(rawsql.fetch(_kpis_sql(len(ids)), ids))
        return _rows(services, kpis, on), services[0][4]

    asked = page_number(page)
    number = asked if isinstance(asked, int) else 0
    rows, count = fetch_page(number) if 1 <= number <= MAX_PAGE else ([], 0)
    if not rows and number != 1:
        # Past the end, or no number at all: count, then take the page the paginator picks.
        count = rawsql.fetch(_count_sql(shape), params)[0][0]
        number = Paginator(range(count), size).get_page(asked).number
        rows = fetch_page(number)[0] if count else []
    paginator: Paginator[Any] = Paginator(range(count), size)
    width = max((len(r.cells) for r in rows), default=0)
    for row in rows:
        row.cells.extend([None] * (width - len(row.cells)))
    red, amber, green, unreported, overdue = rawsql.fetch(
        _totals_sql(shape),
        [Rag.RED.value, Rag.AMBER.value, Rag.GREEN.value, "", _adapt_date(on), *params],
    )[0]
    totals = {
        "red": red,
        "amber": amber,
        "green": green,
        "unreported": unreported,
        "overdue": overdue,
    }
    page_of: Page[Any] = Page(rows, number, paginator)
    return Heatmap(page=page_of, rows=rows, width=width, totals=totals)


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
