"""Capacity's long work, as a job (`core.jobs`): the import of a workbook of people's
assessments, availability and allocations (`importing`).

`import_start` checks what can be checked at once (the right to record all four kinds,
the file's size and kind) and records the job; `capacity_import` is the task function a
worker runs, or the command line in its own process (`carte capacity import`). The work
acts as whoever started it, with the rights they hold when it runs
(`organisations.jobs.actor_of`).
"""

from __future__ import annotations

from typing import Any

from django.core.files import File
from django_tasks import task

from carte.capacity.importing import MAX_BYTES, import_capacity
from carte.capacity.models import Allocation, Assessment, Availability, AvailabilityException
from carte.core.errors import DomainError
from carte.core.jobs import (
    Outcome,
    Progress,
    check_file_size,
    import_job_start,
    is_dry_run,
    register_kind,
    run_job,
)
from carte.core.models import Job
from carte.core.permissions import ADD, require
from carte.core.tabular import too_large_message
from carte.organisations.actor import Actor
from carte.organisations.jobs import actor_of

IMPORT = register_kind(
    "capacity.import",
    title="Capacity import",
    report_template="capacity/_import_job_report.html",
)
TOO_LARGE_MESSAGE = too_large_message(MAX_BYTES)


def import_start(
    *,
    actor: Actor,
    upload: File[Any],
    name: str,
    dry_run: bool = False,
    background: bool = True,
) -> Job:
    """Start writing the assessments, availability and allocations of an .xlsx workbook,
    all or nothing (see `importing`), or checking them (`dry_run`). Refused at once: no
    right to record them, a file too large or not .xlsx by its name. `background=False`:
    recorded for the caller to run (`core.jobs.run_here`)."""
    for model in (Assessment, Availability, AvailabilityException, Allocation):
        require(actor, ADD, model)
    check_file_size(upload, MAX_BYTES, TOO_LARGE_MESSAGE)
    if not name.lower().endswith(".xlsx"):
        raise DomainError.field("file", "Give an .xlsx workbook.")
    return import_job_start(
        actor=actor,
        kind=IMPORT,
        task=capacity_import,
        upload=upload,
        name=name,
        what="Capacity",
        dry_run=dry_run,
        background=background,
    )


@task()
def capacity_import(job_id: int) -> None:
    """Write the rows of the job's workbook, all or none, keeping the report."""
    run_job(job_id, _import)


def _import(job: Job, progress: Progress) -> Outcome:
    actor = actor_of(job)
    progress(0, 0, "Reading the workbook")
    with job.input_file.open("rb") as source:
        report = import_capacity(
            actor=actor, source=source, dry_run=is_dry_run(job), progress=progress
        )
    if report.total_problems:
        count = report.total_problems
        return Outcome(
            report=report.data(),
            error=f"{count:,} problem{'s' if count != 1 else ''} in the workbook: "
            "nothing was recorded.",
        )
    return Outcome(report=report.data())
