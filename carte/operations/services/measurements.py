"""Recording KPI measurements (M-17): the one write path for a value entered in a page,
a row of an imported file and a row pushed through the API.

`measurements_record()` takes readings for one or many KPIs and writes all of them or
none: every reading is checked first (the period fits the KPI's frequency, is not
before its first period nor yet to start, the value is a number in the KPI's range, no
period twice), then the rows are inserted together (COPY on PostgreSQL) and each touched
KPI's latest value and next due date are refreshed. A value for a period that has one
already is refused unless the caller asks to correct it; a correction keeps the earlier
value as a `MeasurementCorrection`. Two writers of the same period at the same moment
both find it free; the unique constraint lets one insert and the other is refused as a
conflict (409), having written nothing.

Problems are reported row by row in `DomainError.extra["rows"]`: `{"row", "field",
"message"}` with the row number the caller gave (a file's line, a payload's index).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any, TypedDict

from django.db import connections, router, transaction
from django.db.models import OuterRef, Subquery
from django.db.models.base import ModelState
from django.utils import timezone

from carte.core import audit, text
from carte.core.bulk import insert_many
from carte.core.clock import now, today
from carte.core.errors import DomainError, forbidden
from carte.core.models import AuditAction
from carte.core.permissions import can
from carte.core.services import race_lost
from carte.operations import periods
from carte.operations.choices import Frequency, Source
from carte.operations.models import KPI, Measurement, MeasurementCorrection
from carte.operations.permissions import REPORT
from carte.organisations.actor import Actor

MAX_ROWS = 10_000  # per API request (issue 5); files may hold more
MAX_REPORTED = 200  # problems listed in one refusal; the count says how many in all
LIMIT = Decimal("1e14")  # what the value column holds (18 digits, 4 after the point)
COMMENT_LIMIT = 2000  # characters in a reading's comment


class RowProblem(TypedDict):
    row: int
    field: str
    message: str


@dataclass(frozen=True)
class Reading:
    """One value to record: `row` says where it came from, for the error report."""

    kpi: KPI
    period: dt.date | str | None
    value: Decimal | int | float | str | None
    comment: str = ""
    row: int = 0


def parse_value(raw: Decimal | int | float | str | None) -> Decimal:
    """A finite number, written with a point ("12.5"); raises ValueError with the reason."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise ValueError("Give a value.")
    if isinstance(raw, bool):
        raise ValueError("The value must be a number.")
    try:
        value = Decimal(str(raw).strip()) if not isinstance(raw, Decimal) else raw
    except InvalidOperation:
        raise ValueError(f"{str(raw)[:40]!r} is not a number.") from None
    if not value.is_finite():
        raise ValueError("The value must be a finite number.")
    if abs(value) >= LIMIT:
        raise ValueError("The value is too large.")
    exponent = value.as_tuple().exponent
    return value.quantize(Decimal("0.0001")) if exponent < -4 else value  # type: ignore[operator]


def parse_period(raw: dt.date | str | None) -> dt.date:
    """An ISO date (YYYY-MM-DD); raises ValueError with the reason."""
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if raw is None or not str(raw).strip():
        raise ValueError("Give the period (its first day, YYYY-MM-DD).")
    try:
        return dt.date.fromisoformat(str(raw).strip())
    except ValueError:
        raise ValueError(f"{str(raw)[:40]!r} is not a date written YYYY-MM-DD.") from None


def check_period(kpi: KPI, period: dt.date, *, on: dt.date | None = None) -> str | None:
    """Why `period` cannot be reported for `kpi`, or None when it can."""
    start = periods.start_of(period, kpi.frequency)
    if start != period:
        return (
            f"{period.isoformat()} does not start a {Frequency(kpi.frequency).label.lower()} "
            f"period; that period starts on {start.isoformat()}."
        )
    first = periods.start_of(kpi.reporting_from, kpi.frequency)
    if period < first:
        return f"This KPI is reported from {first.isoformat()}."
    if period > (on or today()):
        return "This period has not started yet."
    return None


def check_value(kpi: KPI, value: Decimal) -> str | None:
    if kpi.minimum is not None and value < kpi.minimum:
        return f"The value cannot be below {kpi.minimum.normalize():f}."
    if kpi.maximum is not None and value > kpi.maximum:
        return f"The value cannot be above {kpi.maximum.normalize():f}."
    return None


def _refuse(problems: list[RowProblem], total: int) -> DomainError:
    shown = problems[:MAX_REPORTED]
    first = shown[0]
    where = f"row {first['row']}, {first['field']}" if total > 1 else first["field"]
    message = (
        f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found; nothing was "
        f"recorded. The first: {where}: {first['message']}"
    )
    errors: dict[str, list[str]] = {}
    if total == 1:
        for p in problems:
            errors.setdefault(p["field"], []).append(p["message"])
    return DomainError(message, errors=errors, extra={"rows": shown, "problems": len(problems)})


@transaction.atomic
def measurements_record(
    *,
    actor: Actor,
    readings: Sequence[Reading],
    source: str = Source.ENTERED,
    correct: bool = False,
    reason: str = "",
    limit: int | None = None,
    dry_run: bool = False,
) -> list[Measurement]:
    """Record every reading or none (see the module's docstring). With `correct`, a
    reading for a period that has a value replaces it, keeping the earlier one. With
    `dry_run`, check everything, write nothing and return no rows."""
    if limit is not None and len(readings) > limit:
        raise DomainError(
            f"{len(readings):,} rows is more than the {limit:,} one request may hold; "
            "split them into several requests.",
            code="too_large",
        )
    if not readings:
        raise DomainError("There is nothing to record.")
    kpis = {r.kpi.pk: r.kpi for r in readings}
    for kpi in kpis.values():
        if kpi.organisation_id != actor.organisation.pk:
            raise DomainError.field("kpi", "No such KPI in this organisation.")
        if not can(actor, REPORT, kpi):
            raise forbidden(f"You are not allowed to report {kpi.name}.")
    on = today()
    problems: list[RowProblem] = []
    parsed: list[tuple[Reading, dt.date, Decimal]] = []
    seen: dict[tuple[int, dt.date], int] = {}
    # A file repeats the same few periods and KPIs: each check is worked out once.
    period_checks: dict[tuple[str, dt.date, dt.date], str | None] = {}
    for reading in readings:
        kpi, row = reading.kpi, reading.row
        if kpi.archived_at is not None:
            problems.append({"row": row, "field": "kpi", "message": "This KPI is archived."})
            continue
        try:
            period = parse_period(reading.period)
        except ValueError as exc:
            problems.append({"row": row, "field": "period", "message": str(exc)})
            period = None
        try:
            value = parse_value(reading.value)
        except ValueError as exc:
            problems.append({"row": row, "field": "value", "message": str(exc)})
            value = None
        if reading.comment:
            try:
                comment = text.accept(reading.comment, limit=COMMENT_LIMIT)
            except text.BadText as exc:
                problems.append({"row": row, "field": "comment", "message": str(exc)})
                value = None
            else:
                if comment != reading.comment:
                    reading = replace(reading, comment=comment)
        if period is not None:
            key = (kpi.frequency, kpi.reporting_from, period)
            if key in period_checks:
                why = period_checks[key]
            else:
                why = period_checks[key] = check_period(kpi, period, on=on)
            if why:
                problems.append({"row": row, "field": "period", "message": why})
            elif (kpi.id, period) in seen:
                problems.append(
                    {
                        "row": row,
                        "field": "period",
                        "message": f"Row {seen[(kpi.id, period)]} already gives {kpi.name} "
                        f"for {period.isoformat()}.",
                    }
                )
            else:
                seen[(kpi.id, period)] = row
        if value is not None and (
            (kpi.minimum is not None and value < kpi.minimum)
            or (kpi.maximum is not None and value > kpi.maximum)
        ):
            problems.append({"row": row, "field": "value", "message": str(check_value(kpi, value))})
        if period is not None and value is not None:
            parsed.append((reading, period, value))
    existing = _existing(kpis.keys(), [p for _, p, _ in parsed], lock=correct)
    if not correct:
        for reading, period, _ in parsed:
            if (reading.kpi.id, period) in existing:
                problems.append(
                    {
                        "row": reading.row,
                        "field": "period",
                        "message": f"{reading.kpi.name} already has a value for "
                        f"{periods.label(period, reading.kpi.frequency)}; correct it instead.",
                    }
                )
    if problems:
        problems.sort(key=lambda p: p["row"])
        raise _refuse(problems, len(readings))
    if dry_run:
        return []
    moment = now()
    user = actor.user
    fresh: list[Measurement] = []
    replaced: list[tuple[Measurement, Reading, Decimal]] = []
    written = timezone.now()  # created_at/updated_at: when the row was written
    org_id, user_id = actor.organisation.pk, user.pk if user is not None else None
    set_kpi = Measurement.kpi.field.set_cached_value
    new = Measurement.__new__
    for reading, period, value in parsed:
        kpi = reading.kpi
        kpi_id = kpi.id
        old = existing.get((kpi_id, period))
        if old is not None:
            replaced.append((old, reading, value))
            continue
        # Built from its values directly: Model.__init__ (and its foreign-key setters)
        # would cost more than everything else here for 100,000 rows.
        m = new(Measurement)
        m.__dict__.update(
            zip(
                _FIELDS,
                (
                    None,
                    org_id,
                    written,
                    written,
                    None,
                    kpi_id,
                    period,
                    value,
                    kpi.rag_of(value),
                    reading.comment,
                    source,
                    user_id,
                    moment,
                ),
                strict=True,
            )
        )
        m._state = ModelState()
        set_kpi(m, kpi)
        fresh.append(m)
    with race_lost(_raced(parsed)):
        insert_many(Measurement, fresh)
    if replaced:
        _correct(actor, replaced, source=source, reason=reason, moment=moment)
    counts: dict[int, int] = defaultdict(int)
    for reading, _, _ in parsed:
        counts[reading.kpi.id] += 1
    refresh_kpis(list(kpis.values()))
    audit.record_many(
        actor=actor,
        action=AuditAction.UPDATE,
        entries=(
            (
                kpi,
                {
                    "measurements": {
                        "before": None,
                        "after": f"{counts[pk]} {'corrected' if correct else 'recorded'} "
                        f"({Source(source).label.lower()})",
                    }
                },
            )
            for pk, kpi in kpis.items()
        ),
    )
    by_key = {(m.kpi_id, m.period): m for m in fresh}
    by_key.update({(m.kpi_id, m.period): m for m, _, _ in replaced})
    return [by_key[(r.kpi.pk, p)] for r, p, _ in parsed]


def _raced(parsed: list[tuple[Reading, dt.date, Decimal]]) -> str:
    """What the losers of a race are told: the periods had no value when checked, and
    someone else recorded one before this write could (the unique constraint's
    refusal, a 409)."""
    if len(parsed) == 1:
        reading, period, _ = parsed[0]
        what = f"{reading.kpi.name} for {periods.label(period, reading.kpi.frequency)}"
        return (
            f"A value of {what} was recorded by someone else at the same moment; nothing "
            "was recorded. Reload to see it, and correct it if need be."
        )
    return (
        "Values for some of these periods were recorded by someone else at the same "
        "moment; nothing was recorded. Send the rows again to see which have a value now."
    )


_FIELDS = [f.attname for f in Measurement._meta.concrete_fields]
assert _FIELDS == [
    "id",
    "organisation_id",
    "created_at",
    "updated_at",
    "archived_at",
    "kpi_id",
    "period",
    "value",
    "rag",
    "comment",
    "source",
    "recorded_by_id",
    "recorded_at",
], "Measurement's fields changed: update measurements_record's positional values"


def _existing(
    kpi_ids: Iterable[int], wanted: list[dt.date], *, lock: bool = False
) -> dict[tuple[int, dt.date], Any]:
    """The stored measurements of these KPIs in the periods asked for, by (kpi, period);
    with `lock`, locked (and read once any other writer of them is done) so a correction
    keeps the value it really replaces."""
    if not wanted:
        return {}
    rows = Measurement.objects.filter(
        kpi_id__in=list(kpi_ids), period__gte=min(wanted), period__lte=max(wanted)
    )
    if lock:
        rows = rows.select_for_update()
    asked = set(wanted)
    return {(m.kpi_id, m.period): m for m in rows if m.period in asked}


def _correct(
    actor: Actor,
    replaced: list[tuple[Measurement, Reading, Decimal]],
    *,
    source: str,
    reason: str,
    moment: dt.datetime,
) -> None:
    history = [
        MeasurementCorrection(
            organisation_id=actor.organisation.pk,
            measurement=old,
            value=old.value,
            comment=old.comment,
            source=old.source,
            recorded_by_id=old.recorded_by_id,
            recorded_at=old.recorded_at,
            replaced_at=moment,
            replaced_by=actor.user,
            reason=reason[:300],
        )
        for old, _, _ in replaced
    ]
    MeasurementCorrection.objects.bulk_create(history)
    for old, reading, value in replaced:
        old.value = value
        old.rag = reading.kpi.rag_of(value)
        old.comment = reading.comment
        old.source = source
        old.recorded_by = actor.user
        old.recorded_at = moment
        old.updated_at = timezone.now()  # bulk_update leaves auto_now fields as loaded
    Measurement.objects.bulk_update(
        [m for m, _, _ in replaced],
        ["value", "rag", "comment", "source", "recorded_by", "recorded_at", "updated_at"],
        batch_size=500,
    )


def measurement_record(
    *,
    actor: Actor,
    kpi: KPI,
    period: dt.date | str | None,
    value: Decimal | int | float | str | None,
    comment: str = "",
    source: str = Source.ENTERED,
    correct: bool = False,
    reason: str = "",
) -> Measurement:
    """Record (or, with `correct`, correct) one KPI's value for one period; errors name
    the field (`period`, `value`)."""
    (measurement,) = measurements_record(
        actor=actor,
        readings=[Reading(kpi, period, value, comment, row=1)],
        source=source,
        correct=correct,
        reason=reason,
    )
    return measurement


def next_report(kpi: KPI, latest: dt.date | None) -> tuple[dt.date, dt.date]:
    """The next period to report after `latest` (or the first one) and its due date."""
    first = periods.start_of(kpi.reporting_from, kpi.frequency)
    start = periods.following(latest, kpi.frequency) if latest else first
    return start, periods.due_on(start, kpi.frequency, kpi.grace_days)


def refresh_kpis(kpis: Sequence[KPI]) -> None:
    """Set each KPI's latest period, value and RAG and its next due report from its
    stored measurements (after a write, or a change of thresholds or frequency)."""
    if not kpis:
        return
    latest = Measurement.objects.filter(kpi=OuterRef("pk")).order_by("-period")
    rows = (
        KPI.objects.filter(pk__in=[k.pk for k in kpis])
        .annotate(
            last_period=Subquery(latest.values("period")[:1]),
            last_value=Subquery(latest.values("value")[:1]),
        )
        .values_list("pk", "last_period", "last_value")
    )
    found = {pk: (period, value) for pk, period, value in rows}
    changed = []
    for kpi in kpis:
        last_period, last_value = found.get(kpi.pk, (None, None))
        kpi.latest_period = last_period
        kpi.latest_value = last_value
        kpi.latest_rag = kpi.rag_of(last_value) if last_value is not None else ""
        kpi.next_period, kpi.next_due = next_report(kpi, last_period)
        changed.append(kpi)
    _update_kpis(changed)


def _update_kpis(kpis: list[KPI]) -> None:
    """Store the kept fields of many KPIs: on PostgreSQL one UPDATE from arrays (a
    `bulk_update` builds a CASE per row and field: seconds for thousands of KPIs)."""
    fields = ["latest_period", "latest_value", "latest_rag", "next_period", "next_due"]
    db = connections[router.db_for_write(KPI)]
    if db.vendor != "postgresql":
        KPI.objects.bulk_update(kpis, fields, batch_size=500)
        return
    with db.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {db.ops.quote_name(KPI._meta.db_table)} AS k
               SET latest_period = v.latest_period, latest_value = v.latest_value,
                   latest_rag = v.latest_rag, next_period = v.next_period,
                   next_due = v.next_due
              FROM unnest(%s::integer[], %s::date[], %s::numeric[], %s::text[], %s::date[],
                          %s::date[])
                   AS v(id, latest_period, latest_value, latest_rag, next_period, next_due)
             WHERE k.id = v.id
            """,  # noqa: S608 - the table's own name, quoted; values are parameters
            [
                [k.id for k in kpis],
                [k.latest_period for k in kpis],
                [k.latest_value for k in kpis],
                [k.latest_rag for k in kpis],
                [k.next_period for k in kpis],
                [k.next_due for k in kpis],
            ],
        )
