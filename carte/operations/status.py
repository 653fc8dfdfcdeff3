"""One rule for red, amber and green (issue 13), used wherever a status is shown: the heat
map, a service's Operations tab and its summary in the API, the home page's counts.

A KPI's status is its latest value's RAG against the KPI's own thresholds, except that a
latest value missing a service level agreed on the KPI makes it red: the inbox calls that
a breach, so no page may call it green. A service's status is the worst of its live KPIs';
a KPI with no report yet does not count, and a service with none reported has no status
("No report yet"). An overdue report is flagged on its own, not folded in.

The rule is written here twice, side by side: in Python (`kpi_status`, `service_status`),
which also gives the reasons people read, and in SQL (`kpi_rank_sql`, `ranked_sql`), which
sorts, filters and counts services over every page of the heat map.
`tests/test_status_rule.py` checks that the two agree.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from carte.catalogue.models import Service
from carte.core import rawsql
from carte.operations import periods
from carte.operations.choices import Direction, Rag
from carte.operations.models import KPI, Measurement, ServiceLevelTarget
from carte.organisations.models import CustomerGroup

RED, AMBER, GREEN, NONE = Rag.RED.value, Rag.AMBER.value, Rag.GREEN.value, ""
RANK = {NONE: 0, GREEN: 1, AMBER: 2, RED: 3}
BY_RANK = {rank: rag for rag, rank in RANK.items()}
LABELS = {RED: "Red", AMBER: "Amber", GREEN: "Green", NONE: "No report yet"}
# The heat map's `status` filter: its values, as people choose them, and their ranks.
FILTERS = {"red": RANK[RED], "amber": RANK[AMBER], "green": RANK[GREEN], "none": RANK[NONE]}
FILTER_LABELS = (
    ("red", "Red"),
    ("amber", "Amber"),
    ("green", "Green"),
    ("none", "No report yet"),
)

RULE = (
    "How a status is set: a KPI is green, amber or red by its latest value against its "
    "thresholds, and red when that value misses a service level agreed on it; a service "
    "takes the worst status of its KPIs."
)
COMMENT_CHARS = 200  # of a value's comment quoted as a reason
GROUPS_NAMED = 3  # customer groups named in one reason, then "and N more"


def number(value: Decimal | None, unit: str = "") -> str:
    """A value as people write it: no trailing zeros, no exponent ("95", "4.5 days")."""
    if value is None:
        return ""
    text = f"{value.normalize():f}"
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def meets(direction: str, value: Decimal, target: Decimal) -> bool:
    """Does `value` reach `target` in the direction given (`KPI.meets`, without a KPI)?"""
    return value >= target if direction == Direction.HIGHER else value <= target


def _side(direction: str) -> str:
    return "at least" if direction == Direction.HIGHER else "at most"


def _quote(comment: str) -> str:
    text = " ".join(comment.split())
    if len(text) > COMMENT_CHARS:
        text = text[: COMMENT_CHARS - 1].rstrip() + "…"
    return f"“{text}”"


@dataclass(frozen=True)
class Miss:
    """A service level that the KPI's latest value misses."""

    group: str
    target_text: str  # "at least 95%"


class _Rated:
    """What a status is read by: its rank (worst first) and its label."""

    rag: str

    @property
    def rank(self) -> int:
        return RANK[self.rag]

    @property
    def label(self) -> str:
        return LABELS[self.rag]


@dataclass(frozen=True)
class KpiStatus(_Rated):
    """A KPI's status under the rule, and what it rests on."""

    name: str
    rag: str  # red, amber, green or "" (no report yet)
    own: str  # the RAG against the KPI's thresholds alone
    value_text: str
    period_label: str
    comment: str
    misses: tuple[Miss, ...]

    @property
    def note(self) -> str:
        """Why, in a few words, unless green: "misses 3 service levels", "red on its
        thresholds"."""
        if len(self.misses) == 1:
            return f"misses the level agreed with {self.misses[0].group}"
        if self.misses:
            return f"misses {len(self.misses)} service levels"
        if self.rag in (RED, AMBER):
            return f"{LABELS[self.rag].lower()} on its thresholds"
        return ""

    @property
    def reason(self) -> str:
        """Why the KPI has its status, in one sentence: the value, the levels it misses or
        its thresholds, and the reporter's comment."""
        if not self.rag:
            return f"{self.name}: no report yet."
        head = f"{self.name} was {self.value_text} in {self.period_label}"
        if self.misses:
            named = [f"{m.group} ({m.target_text})" for m in self.misses[:GROUPS_NAMED]]
            more = len(self.misses) - len(named)
            if more:
                named.append(f"{more} more group{'s' if more > 1 else ''}")
            groups = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
            levels = "service level" if len(self.misses) == 1 else "service levels"
            text = f"{head}, missing the {levels} agreed with {groups}."
        else:
            text = f"{head}: {LABELS[self.own].lower()} against its thresholds."
        return f"{text} Comment: {_quote(self.comment)}" if self.comment else text


def kpi_status(
    *,
    name: str,
    own: str,
    value: Decimal | None,
    unit: str,
    direction: str,
    period_label: str,
    comment: str = "",
    targets: Iterable[tuple[str, Decimal]] = (),
) -> KpiStatus:
    """The rule for one KPI: its latest value's RAG (`own`), red if that value misses one of
    the live service levels agreed on it (`targets`: customer group, target)."""
    misses: tuple[Miss, ...] = ()
    if value is not None:
        misses = tuple(
            Miss(group, f"{_side(direction)} {number(target, unit)}")
            for group, target in targets
            if not meets(direction, value, target)
        )
    rag = RED if misses else (own or NONE)
    return KpiStatus(
        name=name,
        rag=rag,
        own=own or NONE,
        value_text=number(value, unit),
        period_label=period_label,
        comment=comment if rag else "",
        misses=misses,
    )


@dataclass(frozen=True)
class ServiceStatus(_Rated):
    """A service's status under the rule: the worst of its KPIs', with the reasons."""

    rag: str
    kpis: tuple[KpiStatus, ...]

    @property
    def reasons(self) -> list[str]:
        """The reasons of the KPIs that set the status (those at the worst one)."""
        if self.rag == GREEN:
            reported = sum(1 for k in self.kpis if k.rag)
            return [
                f"All {reported} reported KPI{'s' if reported > 1 else ''} green, "
                "no service level missed."
            ]
        if not self.rag:
            return ["No KPI reported yet." if self.kpis else "No KPI defined yet."]
        return [k.reason for k in self.kpis if k.rag == self.rag]

    @property
    def reason(self) -> str:
        return " ".join(self.reasons)

    @property
    def summary(self) -> str:
        """The status in figures: "2 of 4 KPIs red"."""
        if not self.kpis:
            return "No KPI defined yet"
        if not self.rag:
            return "No KPI reported yet"
        worst = sum(1 for k in self.kpis if k.rag == self.rag)
        total = len(self.kpis)
        kpis = "KPI" if total == 1 else "KPIs"
        if worst == total:
            return f"{'The' if total == 1 else 'All'} {total} {kpis} {self.rag}"
        return f"{worst} of {total} {kpis} {self.rag}"


def service_status(kpis: Iterable[KpiStatus]) -> ServiceStatus:
    """The rule for a service: the worst status of its KPIs, the KPIs worst first."""
    ordered = tuple(sorted(kpis, key=lambda k: -k.rank))
    return ServiceStatus(BY_RANK[ordered[0].rank if ordered else 0], ordered)


# ---------------------------------------------------------------- the rule in SQL


def kpi_rank_sql(k: str, lv: str) -> tuple[str, list[Any]]:
    """`kpi_status` for a KPI row aliased `k` joined to its row of `levels_sql` aliased
    `lv`, as its rank (3 red .. 0 no report yet), and the parameters, in order. A value
    misses one of the levels when it misses the strictest: below the highest target when
    higher is better, above the lowest when lower is."""
    value, rag = (
        f"{k}.{rawsql.column(KPI, 'latest_value')}",
        f"{k}.{rawsql.column(KPI, 'latest_rag')}",
    )
    direction = f"{k}.{rawsql.column(KPI, 'direction')}"
    sql = (
        f"CASE WHEN ({direction} = %s AND {value} < {lv}.hi) "
        f"OR ({direction} = %s AND {value} > {lv}.lo) THEN {RANK[RED]} "
        f"WHEN {rag} = %s THEN {RANK[RED]} WHEN {rag} = %s THEN {RANK[AMBER]} "
        f"WHEN {rag} = %s THEN {RANK[GREEN]} ELSE {RANK[NONE]} END"
    )
    return sql, [Direction.HIGHER.value, Direction.LOWER.value, RED, AMBER, GREEN]


def levels_sql() -> str:
    """A derived table (kpi, hi, lo): the highest and lowest target of the live service
    levels agreed on each KPI of an organisation. Parameter: the organisation."""
    T, col = ServiceLevelTarget, rawsql.column
    return (
        f"(SELECT t.{col(T, 'kpi')} AS kpi, MAX(t.{col(T, 'target')}) AS hi, "  # noqa: S608
        f"MIN(t.{col(T, 'target')}) AS lo FROM {rawsql.table(T)} t "
        f"WHERE t.{col(T, 'organisation')} = %s AND t.{col(T, 'archived_at')} IS NULL "
        f"GROUP BY t.{col(T, 'kpi')})"
    )


def ranked_sql(scope: str) -> str:
    """`service_status` over many services at once: a `WITH` clause defining
    `ranked(sid, r, n0, n1, n2, n3, late)`, each service's rank (the highest of its live
    KPIs' ranks) and its live KPIs counted by rank (n0 .. n3) and overdue (next report due
    before a day), over the services `s` meeting `scope`. A service without a live KPI has
    no row (rank 0). Parameters: the rule's, the organisation, the scope's, then the day."""
    col = rawsql.column
    rank = kpi_rank_sql("k", "lv")[0]
    counts = ", ".join(
        f"COUNT(CASE WHEN r = {n} THEN 1 END) AS n{n}" for n in sorted(RANK.values())
    )
    return (
        f"WITH kr AS (SELECT k.{col(KPI, 'service')} AS sid, {rank} AS r, "  # noqa: S608
        f"k.{col(KPI, 'next_due')} AS due FROM {rawsql.table(KPI)} k "
        f"JOIN {rawsql.table(Service)} s ON s.{col(Service, 'id')} = k.{col(KPI, 'service')} "
        f"LEFT JOIN {levels_sql()} lv ON lv.kpi = k.{col(KPI, 'id')} "
        f"WHERE k.{col(KPI, 'archived_at')} IS NULL AND {scope}), "
        f"ranked AS (SELECT sid, MAX(r) AS r, {counts}, "
        "COUNT(CASE WHEN due < %s THEN 1 END) AS late FROM kr GROUP BY sid) "
    )


# ---------------------------------------------------------------- what the reasons need


@functools.cache
def _evidence_sql(kpis: int) -> str:
    """The service levels agreed on some KPIs (kind 0: customer group, target), then their
    latest values' comments (kind 1), by KPI, each with whether it is live: filtered in
    Python, since a condition on `archived_at` leads SQLite to its index on that column
    instead of the KPIs'. Parameters: the KPIs' ids, again, and the empty text."""
    T, G, M, col = ServiceLevelTarget, CustomerGroup, Measurement, rawsql.column
    ids = ", ".join(["%s"] * kpis)
    return (
        f"SELECT t.{col(T, 'kpi')}, 0, g.{col(G, 'name')}, t.{col(T, 'target')}, "  # noqa: S608
        f"t.{col(T, 'id')}, t.{col(T, 'archived_at')} IS NULL "
        f"FROM {rawsql.table(T)} t JOIN {rawsql.table(G)} g "
        f"ON g.{col(G, 'id')} = t.{col(T, 'customer_group')} WHERE t.{col(T, 'kpi')} IN ({ids}) "
        f"UNION ALL SELECT m.{col(M, 'kpi')}, 1, m.{col(M, 'comment')}, NULL, m.{col(M, 'id')}, "
        f"m.{col(M, 'archived_at')} IS NULL FROM {rawsql.table(M)} m "
        f"JOIN {rawsql.table(KPI)} k ON k.{col(KPI, 'id')} = m.{col(M, 'kpi')} "
        f"AND k.{col(KPI, 'latest_period')} = m.{col(M, 'period')} "
        f"WHERE m.{col(M, 'kpi')} IN ({ids}) AND m.{col(M, 'comment')} <> %s "
        "ORDER BY 1, 2, 3, 5"
    )


@functools.cache
def _evidence_reader() -> rawsql.Reader:
    return rawsql.Reader([None, None, None, (ServiceLevelTarget, "target"), None, None])


@dataclass(frozen=True)
class Evidence:
    """What the reasons of some KPIs rest on besides the KPI rows: the live service levels
    agreed on each (customer group, target) and the comment of each one's latest value."""

    targets: dict[int, list[tuple[str, Decimal]]]
    comments: dict[int, str]


def evidence(kpi_ids: Sequence[int]) -> Evidence:
    """The service levels and latest comments of these KPIs: one statement, whatever
    their number (none without KPIs)."""
    ids = list(dict.fromkeys(kpi_ids))
    targets: dict[int, list[tuple[str, Decimal]]] = {}
    comments: dict[int, str] = {}
    if ids:
        rows = rawsql.fetch(_evidence_sql(len(ids)), [*ids, *ids, ""])
        for kpi, kind, text, target, _, live in _evidence_reader().rows(rows):
            if not live:
                continue
            if kind == 0:
                targets.setdefault(kpi, []).append((text, target))
            else:
                comments[kpi] = text
    return Evidence(targets, comments)


def statuses_of(kpis: Iterable[KPI], found: Evidence | None = None) -> dict[int, KpiStatus]:
    """The status of each KPI already loaded, by id (the evidence read if not given)."""
    kpis = list(kpis)
    found = found or evidence([k.pk for k in kpis])
    return {
        k.pk: kpi_status(
            name=k.name,
            own=k.latest_rag,
            value=k.latest_value,
            unit=k.unit,
            direction=k.direction,
            period_label=periods.label(k.latest_period, k.frequency) if k.latest_period else "",
            comment=found.comments.get(k.pk, ""),
            targets=found.targets.get(k.pk, ()),
        )
        for k in kpis
    }
