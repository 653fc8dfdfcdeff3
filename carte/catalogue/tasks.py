"""The catalogue's long work, run in the background (`core.jobs`): the catalogue as a PDF,
the import of a catalogue file and its export.

Each has a service that starts it (`pdf_start`, `import_start`, `export_start`: who may,
what is obviously wrong, then the job) and a task function a worker runs (or the command
line, in its own process). The work acts as whoever started it, with the rights they hold
when it runs (`organisations.jobs.actor_of`).
"""

from __future__ import annotations

import tempfile
from typing import Any

from django.core.files import File
from django_tasks import task

from carte.catalogue import document, selectors
from carte.catalogue.models import Service
from carte.catalogue.transfer import importer
from carte.catalogue.transfer.export import CONTENT_TYPES, FORMATS, export_catalogue, export_name
from carte.core.errors import FORBIDDEN, DomainError
from carte.core.jobs import (
    Outcome,
    Progress,
    check_file_size,
    import_job_start,
    is_dry_run,
    job_start,
    register_kind,
    run_job,
)
from carte.core.models import Job
from carte.core.permissions import ADD, require
from carte.organisations.actor import Actor
from carte.organisations.jobs import actor_of

PDF = register_kind("catalogue.pdf", title="The catalogue as PDF")
IMPORT = register_kind(
    "catalogue.import",
    title="Catalogue import",
    report_template="catalogue/_import_job_report.html",
)
EXPORT = register_kind("catalogue.export", title="Catalogue export")


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'s' if n != 1 else ''}"


# ---------------------------------------------------------------- the PDF


def pdf_start(*, actor: Actor) -> Job:
    """Start drawing the catalogue document as a PDF, as the actor sees it (customers:
    what is published to them)."""
    return job_start(actor=actor, kind=PDF, label="The catalogue as PDF", task=catalogue_pdf)


@task()
def catalogue_pdf(job_id: int) -> None:
    """Draw the catalogue document as a PDF, kept for whoever asked for it."""
    run_job(job_id, _pdf)


def _pdf(job: Job, progress: Progress) -> Outcome:
    actor = actor_of(job)
    progress(0, 2, "Reading the catalogue")
    context = document.document_context(actor)
    progress(1, 2, f"Drawing {_plural(context['count'], 'service')} as PDF")
    pdf = document.render_pdf(context)
    progress(2, 2, "Drawn")
    return Outcome(
        content=pdf, filename=document.pdf_filename(actor), content_type="application/pdf"
    )


# ---------------------------------------------------------------- import


def import_start(
    *,
    actor: Actor,
    upload: File[Any],
    name: str,
    max_bytes: int | None = None,
    dry_run: bool = False,
    background: bool = True,
) -> Job:
    """Start importing a catalogue file (all or nothing; see `transfer.importer`), or
    checking it (`dry_run`). Refused at once: the right to add services missing, a file
    too large or that cannot be a catalogue by its name. Everything else is checked by
    the job, which writes nothing when anything is wrong. `background=False`: recorded
    for the caller to run (`core.jobs.run_here`)."""
    require(actor, ADD, Service)
    limit = importer.MAX_BYTES if max_bytes is None else max_bytes
    check_file_size(upload, limit, importer.too_large_message(limit))
    head = upload.read(8)
    upload.seek(0)
    importer.check_file(name, head)
    return import_job_start(
        actor=actor,
        kind=IMPORT,
        task=catalogue_import,
        upload=upload,
        name=name,
        what="Catalogue",
        dry_run=dry_run,
        background=background,
    )


@task()
def catalogue_import(job_id: int) -> None:
    """Import the job's file into the catalogue, all or nothing, keeping the report."""
    run_job(job_id, _import)


def _import(job: Job, progress: Progress) -> Outcome:
    actor = actor_of(job)

    def step(done: int, total: int) -> None:
        if total:
            progress(done, total, f"Writing {_plural(total, 'row')}")
        else:
            progress(done, 0, f"Reading the file: {_plural(done, 'row')}")

    progress(0, 0, "Reading the file")
    with job.input_file.open("rb") as source:
        report = importer.import_catalogue(
            actor,
            source,
            name=job.input_name,
            dry_run=is_dry_run(job),
            progress=step,
            max_bytes=importer.MAX_BYTES,
        )
    data = report.data()
    if not report.ok:
        count = len(report.errors)
        return Outcome(
            report=data,
            error=f"{_plural(count, 'problem')} in the file: nothing was written.",
        )
    return Outcome(report=data)


# ---------------------------------------------------------------- export


def export_start(*, actor: Actor, fmt: str, background: bool = True) -> Job:
    """Start writing the live catalogue as a file (PMO side only: it holds unpublished
    services, which customers do not see)."""
    if not selectors.sees_everything(actor):
        raise DomainError("Only the PMO's side may export the catalogue.", code=FORBIDDEN)
    if fmt not in FORMATS:
        raise DomainError.field("format", f"Choose one of: {', '.join(FORMATS)}.")
    return job_start(
        actor=actor,
        kind=EXPORT,
        label=f"Catalogue export ({fmt})",
        task=catalogue_export,
        params={"format": fmt},
        background=background,
    )


@task()
def catalogue_export(job_id: int) -> None:
    """Write the catalogue in the job's format, kept for whoever asked for it."""
    run_job(job_id, _export)


def _export(job: Job, progress: Progress) -> Outcome:
    actor = actor_of(job)
    fmt = str(job.params.get("format", ""))
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - the job closes it once kept
    try:
        export_catalogue(
            actor, fmt, spool, progress=lambda d, t: progress(d, t, "Writing the tables")
        )
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return Outcome(content=spool, filename=export_name(actor, fmt), content_type=CONTENT_TYPES[fmt])
