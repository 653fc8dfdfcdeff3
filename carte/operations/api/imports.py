"""API of the import of a file of KPI values (`POST /api/v1/orgs/{org}/measurements/import`):
a dry run answers its report at once; an import answers 202 with its job, which records
every value or none and keeps the report. Rows pushed as JSON (`POST .../measurements`,
10,000 a request) stay synchronous: see `kpis`.

No `from __future__ import annotations`: django-ninja reads these annotations at runtime.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import File, Router, Schema
from ninja.files import UploadedFile

from carte.core.errors import DomainError
from carte.core.jobs import check_file_size
from carte.core.jobs.api import JobOut, accepted, import_responses, wants_dry_run
from carte.operations import tasks
from carte.operations.importing import MAX_BYTES, import_measurements
from carte.operations.permissions import require_reporter
from carte.organisations.access import api_actor

router = Router()

TAG = "KPIs"


class ImportCheckOut(Schema):
    """What importing the file would record (a dry run: nothing was written)."""

    dry_run: bool
    rows: int
    recorded: int
    kpis: int


@router.post(
    "/orgs/{org}/measurements/import",
    response={200: ImportCheckOut, 202: JobOut},
    tags=[TAG],
    summary="Import a CSV or .xlsx file of KPI values",
    operation_id="operations_measurements_import",
    openapi_extra=import_responses(
        "A dry run found problems: `rows`, each {row, field, message}; nothing was written."
    ),
)
def measurements_import(
    request: HttpRequest,
    response: HttpResponse,
    org: str,
    file: File[UploadedFile],
    dry_run: bool = False,
) -> Any:
    """Columns `service` (code), `kpi` (name), `period` (YYYY-MM-DD), `value` and
    optionally `comment`. With `dry_run` (query or form field): check the file, 200 with
    what it would record or 422 with its problems. Without: 202 and the import's job; its
    report, once over, says what was recorded or lists the problems (nothing recorded)."""
    actor = api_actor(request, org)
    require_reporter(actor)  # before the file is read
    name = file.name or ""
    check_file_size(file, MAX_BYTES, tasks.TOO_LARGE_MESSAGE)
    if not wants_dry_run(request, dry_run):
        return accepted(tasks.import_start(actor=actor, upload=file, name=name), response)
    report = import_measurements(actor=actor, source=file, name=name, dry_run=True)
    if report.problems:
        first = report.problems[0]
        raise DomainError(
            f"{report.total_problems} problem{'s' if report.total_problems != 1 else ''} "
            f"found; nothing would be recorded. The first: {first}",
            extra={
                "rows": [
                    {"row": p.row, "field": p.column, "message": p.message} for p in report.problems
                ],
                "problems": report.total_problems,
            },
        )
    return report.data()
