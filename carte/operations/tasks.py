"""Running a service's long work, in the background (`core.jobs`): the import of a file
of KPI values.

`import_start` checks what can be checked at once (the right to report, the file's size
and kind) and starts the job; `measurements_import` is the task function a worker runs
(or the command line, in its own process). The work acts as whoever started it, with the
rights they hold when it runs (`organisations.jobs.actor_of`).
"""

from __future__ import annotations

from typing import Any

from django.core.files import File
from django_tasks import task

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
from carte.core.permissions import VIEW, require
from carte.core.tabular import too_large_message
from carte.operations.importing import MAX_BYTES, format_of, import_measurements
from carte.operations.models import KPI
from carte.organisations.actor import Actor
from carte.organisations.jobs import actor_of

IMPORT = register_kind(
    "operations.import_measurements",
    title="KPI values import",
    report_template="operations/_import_job_report.html",
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
    """Start recording the KPI values of a CSV or .xlsx file, all or nothing (see
    `importing`), or checking them (`dry_run`). Refused at once: no right to KPIs, a file
    too large or not CSV or .xlsx by its name; the job checks every row and records
    nothing if one is wrong. `background=False`: recorded for the caller to run
    (`core.jobs.run_here`)."""
    require(actor, VIEW, KPI)
    check_file_size(upload, MAX_BYTES, TOO_LARGE_MESSAGE)
    format_of(name)
    return import_job_start(
        actor=actor,
        kind=IMPORT,
        task=measurements_import,
        upload=upload,
        name=name,
        what="KPI values",
        dry_run=dry_run,
        background=background,
    )


@task()
def measurements_import(job_id: int) -> None:
    """Record the KPI values of the job's file, all or none, keeping the report."""
    run_job(job_id, _import)


def _import(job: Job, progress: Progress) -> Outcome:
    actor = actor_of(job)
    progress(0, 0, "Reading the file")
    with job.input_file.open("rb") as source:
        report = import_measurements(
            actor=actor,
            source=source,
            name=job.input_name,
            dry_run=is_dry_run(job),
            progress=progress,
        )
    if report.problems:
        count = report.total_problems
        return Outcome(
            report=report.data(),
            error=f"{count:,} problem{'s' if count != 1 else ''} in the file: "
            "nothing was recorded.",
        )
    return Outcome(report=report.data())
