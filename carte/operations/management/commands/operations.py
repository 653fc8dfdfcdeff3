"""`carte operations import-measurements FILE --org SLUG [--dry-run]`: record the KPI
values of a CSV or .xlsx file (columns service, kpi, period, value, comment), all or
nothing, acting as the system in the organisation, through the same task function as
the background job (`operations.tasks`), run here with a progress bar. Any problem lists
the first ones on stderr, writes nothing and exits with code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from carte.core.errors import DomainError
from carte.core.jobs import run_here
from carte.core.jobs.console import progress_bar
from carte.core.models import JobStatus
from carte.operations import tasks
from carte.operations.importing import Problem
from carte.organisations.actor import Actor
from carte.organisations.models import Organisation

SHOWN = 20


def refuse(message: str) -> CommandError:
    return CommandError(message, returncode=2)


class Command(BaseCommand):
    help = "Running services: import KPI values from a file (all or nothing)."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import-measurements", help="Record the KPI values of a file.")
        imp.add_argument("file", help="A .csv or .xlsx file.")
        imp.add_argument("--org", required=True, help="The organisation (slug).")
        imp.add_argument("--dry-run", action="store_true", help="Check and report; write nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organisation.objects.filter(slug=options["org"]).first()
        if org is None:
            raise refuse(f"No organisation {options['org']!r}.")
        path = Path(options["file"])
        if not path.is_file():
            raise refuse(f"No file {str(path)!r}.")
        try:
            with path.open("rb") as source:
                job = tasks.import_start(
                    actor=Actor.for_system(org),
                    upload=File(source, name=path.name),
                    name=path.name,
                    dry_run=options["dry_run"],
                    background=False,
                )
        except DomainError as exc:
            raise refuse(exc.one_line()) from exc
        with progress_bar():
            job = run_here(job, tasks.measurements_import)
        report = job.report or {}
        problems = report.get("problems") or []
        if problems:
            for problem in problems[:SHOWN]:
                self.stderr.write(str(Problem(**problem)))
            total = int(report.get("total_problems", len(problems)))
            if total > SHOWN:
                self.stderr.write(f"... and {total - SHOWN} more.")
            raise refuse(f"Import refused: {total} problem(s); nothing was recorded.")
        if job.status != JobStatus.DONE:
            raise refuse(job.error)
        verb = "would record" if report["dry_run"] else "recorded"
        note = " (dry run: nothing was written)" if report["dry_run"] else ""
        self.stdout.write(
            f"{report['rows']} rows read; {verb} {report['recorded']} values of "
            f"{report['kpis']} KPIs{note}."
        )
