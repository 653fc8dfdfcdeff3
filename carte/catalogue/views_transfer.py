"""Pages for exporting and importing the whole catalogue (`/o/<org>/catalogue/transfer/`).

The engine is `carte.catalogue.transfer`; these views only check who may do what,
refuse files over the engine's limit before reading them, and show its report. A dry run
answers at once; an import runs in the background (`catalogue.tasks.import_start`) and
the page goes to its job. The import form posts with htmx when JavaScript runs (a dry
run's report replaces a result box and `upload.js` shows the upload's progress), and as
a plain form otherwise.
"""

from __future__ import annotations

import tempfile
from typing import Any, cast

from django import forms
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods

from carte.catalogue import selectors, tasks
from carte.catalogue.models import Service
from carte.catalogue.transfer import importer
from carte.catalogue.transfer.export import CONTENT_TYPES, FORMATS, export_catalogue, export_name
from carte.catalogue.transfer.importer import Report, import_catalogue, too_large_message
from carte.core.errors import FORBIDDEN, NOT_FOUND, TOO_LARGE, DomainError
from carte.core.forms import CarteForm
from carte.core.jobs.views import job_url
from carte.core.permissions import ADD, can, require
from carte.core.views import done, is_htmx
from carte.organisations.access import org_view
from carte.organisations.actor import Actor

# Multipart framing around the file (boundaries, headers, the other fields): a request
# may be this much larger than the file it carries before it is refused unread.
MULTIPART_SLACK = 64 * 1024
FORMAT_LABELS = {
    "xlsx": "Excel workbook (.xlsx)",
    "csv": "CSV files (.zip)",
    "json": "JSON",
    "yaml": "YAML",
}


def max_bytes() -> int:
    """The largest file accepted: the engine's limit, read when asked (tests lower it)."""
    return importer.MAX_BYTES


def content_too_large(request: HttpRequest, limit: int) -> bool:
    """Whether the request declares a body larger than a file of `limit` bytes can need."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > limit + MULTIPART_SLACK


def export_filename(actor: Actor, fmt: str) -> str:
    """`<org>-catalogue.<ext>`, the name a download is saved under."""
    return export_name(actor, fmt)


def export_response(actor: Actor, fmt: str) -> FileResponse:
    """The export as a download, spooled through a temporary file, not held in memory.

    Only PMO staff, viewers and admins may export: the file is the live catalogue, with
    unpublished services, which customers do not see.
    """
    if not selectors.sees_everything(actor):
        raise DomainError("Only the PMO's side may export the catalogue.", code=FORBIDDEN)
    if fmt not in FORMATS:
        raise DomainError(f"No export format {fmt!r}.", code=NOT_FOUND)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    try:
        export_catalogue(actor, fmt, spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=export_filename(actor, fmt),
        content_type=CONTENT_TYPES[fmt],
    )


class ImportForm(CarteForm):
    """The file to import and whether only to check it."""

    file = forms.FileField(
        label="Catalogue file",
        help_text="An .xlsx workbook, a .zip of CSV files, a .json or a .yaml file, as exported.",
        widget=forms.FileInput(attrs={"accept": ".xlsx,.zip,.json,.yaml,.yml"}),
    )
    dry_run = forms.BooleanField(
        label="Dry run: check the file and show what would change, write nothing",
        required=False,
        initial=True,
    )


def report_context(report: Report) -> dict[str, Any]:
    """What the result partial shows of a report."""
    counts = report.counts()
    return {
        "report": report,
        "problems": report.errors,
        "counts": counts,
        "total": {
            key: sum(n[key] for n in counts.values()) for key in ("created", "changed", "removed")
        },
        "details": [
            (
                table,
                report.created.get(table, []),
                report.changed.get(table, []),
                report.removed.get(table, []),
            )
            for table in counts
        ],
    }


def _page(request: HttpRequest, actor: Actor, **extra: Any) -> dict[str, Any]:
    org = actor.organisation.slug
    limit = max_bytes()
    return {
        "exports": [(fmt, FORMAT_LABELS[fmt], export_filename(actor, fmt)) for fmt in FORMATS],
        "org_slug": org,
        "can_import": can(actor, ADD, Service),
        "max_bytes": limit,
        "max_mb": round(limit / (1024 * 1024), 1),
        "form": extra.pop("form", None) or ImportForm(actor=actor),
        **extra,
    }


def _render(request: HttpRequest, actor: Actor, status: int = 200, **extra: Any) -> HttpResponse:
    """The result partial for htmx, the whole page otherwise."""
    context = _page(request, actor, **extra)
    template = "catalogue/_transfer_result.html" if is_htmx(request) else "catalogue/transfer.html"
    return render(request, template, context, status=status)


@org_view
@require_GET
def transfer(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Export links for every format and, for those who may add services, the import form."""
    if not selectors.sees_everything(actor):
        raise DomainError("Only the PMO's side may export the catalogue.", code=FORBIDDEN)
    return render(request, "catalogue/transfer.html", _page(request, actor))


@org_view
@require_GET
def transfer_export(request: HttpRequest, actor: Actor, fmt: str) -> HttpResponse:
    """Download the catalogue in one format."""
    # A streamed response, which `org_view`'s signature (HttpResponse) does not name.
    return cast(HttpResponse, export_response(actor, fmt))


@org_view
@require_http_methods(["GET", "POST"])
def transfer_import(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Check a file (dry run: the report, here and now) or import it (a background job:
    the page goes to the job's, which shows the report when the import is over).

    A dry run answers 200 with the report or 422 with its problems; a file or form that is
    wrong is 422, a request over the limit 413 (refused before its body is read here).
    """
    require(actor, ADD, Service)
    if request.method == "GET":
        return render(request, "catalogue/transfer.html", _page(request, actor))
    limit = max_bytes()
    if content_too_large(request, limit):
        return _render(request, actor, 413, refusal=too_large_message(limit))
    form = ImportForm(request.POST, request.FILES, actor=actor)
    if not form.is_valid():
        return _render(request, actor, 422, form=form)
    upload = form.cleaned_data["file"]
    if upload.size is not None and upload.size > limit:
        form.add_error("file", too_large_message(limit))
        return _render(request, actor, 413, form=form)
    try:
        if not form.cleaned_data["dry_run"]:
            job = tasks.import_start(actor=actor, upload=upload, name=upload.name, max_bytes=limit)
            return done(
                request, job_url(actor, job), "The import runs in the background: follow it here."
            )
        report = import_catalogue(actor, upload, name=upload.name, dry_run=True, max_bytes=limit)
    except DomainError as exc:
        if exc.code in (FORBIDDEN, NOT_FOUND):
            raise
        form.show(exc)
        return _render(request, actor, 413 if exc.code == TOO_LARGE else 422, form=form)
    status = 200 if report.ok else 422
    # After a clean dry run the box is offered unticked: the next step is the import.
    if report.ok and report.dry_run:
        form = ImportForm(initial={"dry_run": False}, actor=actor)
    return _render(request, actor, status, form=form, **report_context(report))


def transfer_urls() -> list[Any]:
    """URL patterns of the export and import pages."""
    return [
        path("catalogue/transfer/", transfer, name="catalogue_transfer"),
        path(
            "catalogue/transfer/export/<slug:fmt>/",
            transfer_export,
            name="catalogue_export",
        ),
        path("catalogue/transfer/import/", transfer_import, name="catalogue_import"),
    ]
