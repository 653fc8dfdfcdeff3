"""API endpoints to export and import the whole catalogue (`/api/v1/orgs/{org}/catalogue/`),
and to draw the catalogue document as a PDF.

Export answers the file itself. Import takes a multipart `file`: a dry run answers the
report at once (what would be created, changed and removed per table) or a 422 problem
listing every problem with its table, row and column; an import answers 202 with its
job (`Location`), whose report says what was written or, when the job failed, every
problem (nothing is written then). The PDF is a job too (202).

No `from __future__ import annotations`: django-ninja reads these annotations at runtime.
"""

import json
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from ninja import Field, File, Router, Schema
from ninja.files import UploadedFile
from ninja.params.functions import Query as QueryParam

from carte.catalogue import tasks
from carte.catalogue.models import Service
from carte.catalogue.transfer.export import CONTENT_TYPES
from carte.catalogue.transfer.importer import Problem, Report, import_catalogue, too_large_message
from carte.catalogue.views_transfer import content_too_large, export_response, max_bytes
from carte.core.api import PROBLEM_TYPE_BASE
from carte.core.errors import INVALID, TITLES
from carte.core.jobs import check_file_size, file_too_large
from carte.core.jobs.api import (
    ACCEPTED_DOC,
    PROBLEM_CONTENT,
    JobOut,
    accepted,
    import_responses,
    wants_dry_run,
)
from carte.core.permissions import ADD, require
from carte.organisations.access import api_actor

router = Router()

CATALOGUE = "/orgs/{org}/catalogue"
TAG = "Catalogue export and import"


class TableCounts(Schema):
    """How many rows of one table are (or would be) created, changed and removed."""

    created: int
    changed: int
    removed: int


class ImportReportOut(Schema):
    """What an import did, or what a dry run would do."""

    dry_run: bool
    applied: bool = Field(..., description="True when the changes were written.")
    tables: dict[str, TableCounts] = Field(
        ..., description="Per table with something to do: the counts."
    )
    created: dict[str, list[str]] = Field(..., description="Per table: the rows created.")
    changed: dict[str, list[str]] = Field(..., description="Per table: the rows changed.")
    removed: dict[str, list[str]] = Field(..., description="Per table: the rows removed.")


class ProblemRow(Schema):
    """One thing wrong with the file, and where."""

    table: str
    row: int | None
    column: str | None
    message: str


def report_out(report: Report) -> dict[str, Any]:
    """The report as the API shows it."""
    return report.data()


def _problem_row(p: Problem) -> dict[str, Any]:
    return {"table": p.table, "row": p.row, "column": p.column, "message": p.message}


def problems_response(request: HttpRequest, report: Report) -> HttpResponse:
    """A 422 problem+json naming every problem: `problems` with table/row/column, and
    `errors.file` with the same as lines, like every other validation problem."""
    count = len(report.errors)
    body = {
        "type": PROBLEM_TYPE_BASE + INVALID,
        "title": TITLES[INVALID],
        "status": 422,
        "detail": f"{count} problem{'s' if count != 1 else ''} in the file: nothing was written.",
        "instance": request.path,
        "errors": {"file": [str(p) for p in report.errors]},
        "problems": [_problem_row(p) for p in report.errors],
    }
    return HttpResponse(json.dumps(body), status=422, content_type="application/problem+json")


# Each format with its own media type: JSON is an object (its tables), YAML text, the
# .xlsx and the .zip of CSV files binary.
_FILE_SCHEMAS: dict[str, dict[str, Any]] = {
    "xlsx": {"type": "string", "format": "binary"},
    "csv": {"type": "string", "format": "binary"},
    "json": {"type": "object", "description": "The catalogue's tables, each a list of rows."},
    "yaml": {"type": "string", "description": "The same tables as the JSON, in YAML."},
}
_FILE_CONTENT = {CONTENT_TYPES[fmt]: {"schema": schema} for fmt, schema in _FILE_SCHEMAS.items()}


@router.get(
    CATALOGUE + "/export",
    tags=[TAG],
    summary="Export the catalogue",
    operation_id="catalogue_export",
    openapi_extra={
        "responses": {
            200: {"description": "The catalogue file.", "content": _FILE_CONTENT},
            403: {"description": "Customers may not export.", "content": PROBLEM_CONTENT},
        }
    },
)
def catalogue_export(
    request: HttpRequest,
    org: str,
    fmt: Literal["xlsx", "csv", "json", "yaml"] = QueryParam(
        "xlsx", alias="format", description="xlsx, csv (a .zip of CSV files), json or yaml."
    ),
) -> HttpResponseBase:
    """The live catalogue as a file named `<org>-catalogue.<ext>` (PMO side only)."""
    actor = api_actor(request, org)
    return export_response(actor, fmt)


@router.post(
    CATALOGUE + "/import",
    response={200: ImportReportOut, 202: JobOut},
    tags=[TAG],
    summary="Import a catalogue file",
    operation_id="catalogue_import",
    openapi_extra=import_responses(
        "The file has problems (each with table, row and column); nothing was written."
    ),
)
def catalogue_import(
    request: HttpRequest,
    response: HttpResponse,
    org: str,
    file: File[UploadedFile],
    dry_run: bool = False,
) -> Any:
    """With `dry_run` (query or form field): check the file and answer the report (200)
    or its problems (422), writing nothing. Without: 202 and the import's job, which
    writes it all or nothing; its report, once over, lists what changed or the problems.

    Services are matched by code; their parts are made to match the file. Needs the
    right to add services (Director, PMO Managers, admins).
    """
    actor = api_actor(request, org)
    require(actor, ADD, Service)
    limit = max_bytes()
    if content_too_large(request, limit):
        raise file_too_large(too_large_message(limit))
    check_file_size(file, limit, too_large_message(limit))
    if not wants_dry_run(request, dry_run):
        job = tasks.import_start(actor=actor, upload=file, name=file.name or "", max_bytes=limit)
        return accepted(job, response)
    report = import_catalogue(actor, file, name=file.name, dry_run=True, max_bytes=limit)
    if not report.ok:
        return problems_response(request, report)
    return report_out(report)


@router.post(
    CATALOGUE + "/document/pdf",
    response={202: JobOut},
    tags=[TAG],
    summary="Draw the catalogue document as a PDF",
    operation_id="catalogue_pdf",
    openapi_extra={"responses": {202: ACCEPTED_DOC}},
)
def catalogue_pdf(request: HttpRequest, response: HttpResponse, org: str) -> Any:
    """The printable catalogue as a PDF, as the caller sees it (customers: what is
    published to them): 202 and the job; its `result` is the file once drawn."""
    actor = api_actor(request, org)
    return accepted(tasks.pdf_start(actor=actor), response)
