"""API of KPIs and measurements (M-17) under /api/v1/orgs/{org}/...: a service's KPIs
(list, create, retrieve, change, archive, restore), a KPI's measurements (list with their
corrections, record or correct one), the bulk push of up to 10,000 values in one
all-or-nothing request, and the reports due.

Every write goes through `carte.operations.services`. A bulk row naming a KPI that is not
the organisation's is a problem on that row (the KPI's existence is never revealed).

No `from __future__ import annotations`: django-ninja reads these annotations at runtime.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import BaseModel, ConfigDict

from carte.catalogue.api import STAFF_SERVICE_PARENT
from carte.catalogue.selectors import Audience, service_for
from carte.core.api import CrudSpec, Stamped, StatusFilter, Strict, crud_routes, no_nulls, paged
from carte.core.bulk import gc_paused
from carte.core.errors import DomainError
from carte.core.permissions import require
from carte.lifecycle.api import ServiceBrief
from carte.operations import filters, periods
from carte.operations.choices import Direction, Frequency, Rag, ReporterRole, Source
from carte.operations.importing import record_rows
from carte.operations.models import KPI, Measurement, MeasurementCorrection
from carte.operations.permissions import REPORT, require_reporter
from carte.operations.selectors import kpis as selectors
from carte.operations.selectors.due import is_overdue
from carte.operations.services import kpis as services
from carte.operations.services.measurements import (
    MAX_ROWS,
    Reading,
    RowProblem,
    measurement_record,
)
from carte.organisations.access import api_actor
from carte.organisations.actor import Actor

router = Router()

SERVICE = "/orgs/{org}/services/{int:id}"
KPI_PATH = SERVICE + "/kpis/{int:kpi_id}"
TAG = "KPIs"


# ---------------------------------------------------------------- schemas


class KPIOut(Stamped):
    service_id: int
    name: str
    definition: str
    unit: str
    direction: Direction
    target: Decimal
    amber: Decimal
    red: Decimal
    minimum: Decimal | None
    maximum: Decimal | None
    frequency: Frequency
    grace_days: int
    reporter_role: ReporterRole
    outcome: str
    reporting_from: date
    position: int
    latest_period: date | None = Field(..., description="The latest period reported.")
    latest_value: Decimal | None
    latest_rag: Rag | None
    next_period: date | None = Field(..., description="The next period to report.")
    next_due: date | None = Field(..., description="When the next report is due.")
    overdue: bool

    @staticmethod
    def resolve_latest_rag(obj: KPI) -> str | None:
        return obj.latest_rag or None

    @staticmethod
    def resolve_overdue(obj: KPI) -> bool:
        return obj.archived_at is None and is_overdue(obj)


class KPIIn(Strict):
    name: str
    definition: str
    unit: str = ""
    direction: Direction
    target: Decimal
    amber: Decimal = Field(..., description="Past this value (worse side) the RAG is amber.")
    red: Decimal = Field(..., description="Past this value (worse side) the RAG is red.")
    minimum: Decimal | None = Field(None, description="0 by default for a '%' unit.")
    maximum: Decimal | None = Field(None, description="100 by default for a '%' unit.")
    frequency: Frequency
    grace_days: int = Field(5, ge=0, le=90, description="Days after a period to report it.")
    reporter_role: ReporterRole = ReporterRole.MANAGER
    outcome: str = ""
    reporting_from: date = Field(..., description="The first period to report.")
    position: int | None = Field(None, ge=0)


REQUIRED = (
    "name",
    "definition",
    "unit",
    "direction",
    "target",
    "amber",
    "red",
    "frequency",
    "grace_days",
    "reporter_role",
    "outcome",
    "reporting_from",
    "position",
)


class CorrectionOut(Schema):
    value: Decimal
    comment: str
    source: Source
    recorded_at: datetime
    recorded_by: str | None
    replaced_at: datetime
    replaced_by: str | None
    reason: str

    @staticmethod
    def resolve_recorded_by(obj: MeasurementCorrection) -> str | None:
        return obj.recorded_by.email if obj.recorded_by else None

    @staticmethod
    def resolve_replaced_by(obj: MeasurementCorrection) -> str | None:
        return obj.replaced_by.email if obj.replaced_by else None


class MeasurementOut(Schema):
    id: int
    kpi_id: int
    period: date
    label: str = Field(..., description="How people name the period: 2026-W07, Mar 2026.")
    value: Decimal
    rag: Rag
    comment: str
    source: Source
    recorded_at: datetime
    recorded_by: str | None
    corrections: list[CorrectionOut] = Field(..., description="Earlier values, latest first.")

    @staticmethod
    def resolve_label(obj: Measurement) -> str:
        return periods.label(obj.period, obj.kpi.frequency)

    @staticmethod
    def resolve_recorded_by(obj: Measurement) -> str | None:
        return obj.recorded_by.email if obj.recorded_by else None

    @staticmethod
    def resolve_corrections(obj: Measurement) -> list[Any]:
        return list(obj.corrections.all())


class MeasurementIn(Strict):
    period: str = Field(..., description="The first day of the period, YYYY-MM-DD.")
    value: str | int | float = Field(..., description="A number, written with a point.")
    comment: str = ""
    correct: bool = Field(False, description="Replace the period's value, keeping the old one.")
    reason: str = Field("", description="Why it is corrected (kept with the earlier value).")


# A plain pydantic model rather than a ninja `Schema` (as `Strict` is), which first wraps
# each row in its getter for ORM objects: for 10,000 rows, a third of a push.
class BulkRow(BaseModel):
    """One value: the KPI, the period, the value and an optional comment."""

    model_config = ConfigDict(extra="forbid")

    kpi: int = Field(..., description="The KPI's id.")
    period: str = Field(..., description="The first day of the period, YYYY-MM-DD.")
    value: str | int | float
    comment: str = ""


class BulkIn(Strict):
    rows: list[BulkRow] = Field(..., description=f"Up to {MAX_ROWS:,} rows, all or none.")


class BulkOut(Schema):
    recorded: int
    kpis: int


class ReportDueOut(Schema):
    kpi: int
    name: str
    service: ServiceBrief
    reporter_role: ReporterRole
    period: date | None
    label: str
    due: date | None
    overdue: bool
    latest_rag: Rag | None

    @staticmethod
    def resolve_kpi(obj: KPI) -> int:
        return obj.pk

    @staticmethod
    def resolve_period(obj: KPI) -> date | None:
        return obj.next_period

    @staticmethod
    def resolve_label(obj: KPI) -> str:
        return periods.label(obj.next_period, obj.frequency) if obj.next_period else ""

    @staticmethod
    def resolve_due(obj: KPI) -> date | None:
        return obj.next_due

    @staticmethod
    def resolve_overdue(obj: KPI) -> bool:
        return is_overdue(obj)

    @staticmethod
    def resolve_latest_rag(obj: KPI) -> str | None:
        return obj.latest_rag or None


# ---------------------------------------------------------------- KPIs


def _kpi_data(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """A null position means "last" on creation; the other fields may not be null."""
    if data.get("position", 0) is None:
        del data["position"]
    return no_nulls(data, REQUIRED)


def _kpi(request: HttpRequest, org: str, id: int, kpi_id: int) -> Any:
    actor = api_actor(request, org)
    service = service_for(actor=actor, pk=id, audience=Audience.STAFF)
    return actor, selectors.kpi_get(actor=actor, service=service, pk=kpi_id)


crud_routes(
    router,
    CrudSpec(
        path="kpis",
        model=KPI,
        tag=TAG,
        noun="KPI",
        out=KPIOut,
        create_in=KPIIn,
        filters=StatusFilter,
        parent=STAFF_SERVICE_PARENT,
        list_selector=lambda *, actor, service, filters: selectors.kpis_of(
            actor=actor, service=service, status=filters.status
        ),
        get_selector=selectors.kpi_get,
        create=services.kpi_create,
        update=services.kpi_update,
        archive=services.kpi_archive,
        restore=services.kpi_restore,
        obj_arg="kpi",
        resolve=_kpi_data,
        operation="operations_kpis",
        child="kpi_id",
    ),
)


# ---------------------------------------------------------------- measurements


@router.get(
    KPI_PATH + "/measurements",
    response=list[MeasurementOut],
    tags=[TAG],
    summary="List a KPI's measurements",
    operation_id="operations_measurements_list",
)
@paged
def measurements_list(request: HttpRequest, org: str, id: int, kpi_id: int) -> Any:
    """Newest period first, each with its earlier values (corrections)."""
    actor, kpi = _kpi(request, org, id, kpi_id)
    return selectors.measurements_of(actor=actor, kpi=kpi).select_related("kpi")


@router.post(
    KPI_PATH + "/measurements",
    response={201: MeasurementOut},
    tags=[TAG],
    summary="Record (or correct) a KPI's value for a period",
    operation_id="operations_measurements_create",
)
def measurements_create(
    request: HttpRequest, org: str, id: int, kpi_id: int, payload: MeasurementIn
) -> Any:
    """A period with a value already is refused (422) unless `correct` is set."""
    actor, kpi = _kpi(request, org, id, kpi_id)
    require(actor, REPORT, kpi)
    measurement = measurement_record(
        actor=actor,
        kpi=kpi,
        period=payload.period,
        value=payload.value,
        comment=payload.comment,
        source=Source.API,
        correct=payload.correct,
        reason=payload.reason,
    )
    return Status(201, selectors.measurement_get(actor=actor, kpi=kpi, pk=measurement.pk))


@router.post(
    "/orgs/{org}/measurements",
    response={201: BulkOut},
    tags=[TAG],
    summary=f"Push up to {MAX_ROWS:,} values at once",
    operation_id="operations_measurements_bulk",
)
def measurements_bulk(request: HttpRequest, org: str, payload: BulkIn) -> Any:
    """All or nothing. Over the limit: 413. Any problem: 422 with `rows`, each
    `{row, field, message}`, rows numbered from 1 in the order sent."""
    actor = api_actor(request, org)
    require_reporter(actor)
    rows = payload.rows
    if len(rows) > MAX_ROWS:
        raise DomainError(
            f"{len(rows):,} rows is more than the {MAX_ROWS:,} one request may hold; "
            "split them into several requests.",
            code="too_large",
        )
    if not rows:
        raise DomainError.field("rows", "Send at least one row.")
    with gc_paused():
        recorded = _record_pushed(actor, rows)
    return Status(201, {"recorded": len(recorded), "kpis": len({m.kpi_id for m in recorded})})


def _record_pushed(actor: Actor, rows: list[BulkRow]) -> list[Measurement]:
    """The pushed rows resolved to the organisation's KPIs and recorded, all or none."""
    ids = {r.kpi for r in rows}
    kpis = {k.pk: k for k in KPI.objects.filter(organisation_id=actor.organisation.pk, pk__in=ids)}
    readings: list[Reading] = []
    unresolved: list[RowProblem] = []
    for number, row in enumerate(rows, start=1):
        kpi = kpis.get(row.kpi)
        if kpi is None:
            unresolved.append(
                {"row": number, "field": "kpi", "message": f"No KPI with id {row.kpi} here."}
            )
            continue
        readings.append(Reading(kpi, row.period, row.value, row.comment, row=number))
    return record_rows(actor=actor, readings=readings, problems=unresolved, source=Source.API)


# ---------------------------------------------------------------- reports due


@router.get(
    "/orgs/{org}/reports-due",
    response=list[ReportDueOut],
    tags=[TAG],
    summary="List the KPI reports due within a week or overdue",
    operation_id="operations_reports_due_list",
)
@paged
def reports_due_list(
    request: HttpRequest, org: str, filters: Query[filters.ReportsDueFilter]
) -> Any:
    """Overdue first (oldest due date first); `mine=true`: the KPIs the caller reports."""
    actor = api_actor(request, org)
    return selectors.reports_due_list(actor=actor, filters=filters)
