"""The command line's view of a job it runs in its own process: a progress bar (rich) fed
by the job's progress reports, the same ones a page shows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from carte.core.jobs.services import watching
from carte.core.models import Job


@contextmanager
def progress_bar(console: Console | None = None) -> Iterator[None]:
    """Draw the progress of the jobs run inside the block on standard error (a moving bar
    while the total is not known)."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console or Console(stderr=True)) as bar:
        task = bar.add_task("Starting", total=None)

        def show(job: Job) -> None:
            bar.update(
                task,
                description=job.progress_message or job.label,
                completed=job.progress_done,
                total=job.progress_total or None,
            )

        with watching(show):
            yield
