"""`carte operations import-measurements FILE --org SLUG [--dry-run]`: record the KPI
values of a CSV or .xlsx file (columns service, kpi, period, value, comment), all or
nothing, acting as the system in the organisation. Any problem lists the first ones on
stderr, writes nothing and exits with code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from carte.core.errors import DomainError
from carte.operations.importing import import_measurements
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
                report = import_measurements(
                    actor=Actor.for_system(org),
                    source=source,
                    name=path.name,
                    dry_run=options["dry_run"],
                )
        except DomainError as exc:
            raise refuse(exc.one_line()) from exc
        if report.problems:
            for problem in report.problems[:SHOWN]:
                self.stderr.write(str(problem))
            if report.total_problems > SHOWN:
                self.stderr.write(f"... and {report.total_problems - SHOWN} more.")
            raise refuse(
                f"Import refused: {report.total_problems} problem(s); nothing was recorded."
            )
        verb = "would record" if report.dry_run else "recorded"
        note = " (dry run: nothing was written)" if report.dry_run else ""
        self.stdout.write(
            f"{report.rows} rows read; {verb} {report.recorded} values of {report.kpis} KPIs{note}."
        )
