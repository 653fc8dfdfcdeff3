"""`carte catalogue export --org SLUG --format xlsx|csv|json|yaml [--out FILE]` and
`carte catalogue import FILE --org SLUG [--dry-run]`.

Both act as the system in the organisation (`Actor.for_system`) and run the same task
functions as the background jobs (`catalogue.tasks`), here, with a progress bar; each is
recorded as a job of the organisation. An import with any problem writes nothing, lists
the first problems and exits with code 2.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django_tasks.base import Task

from carte.catalogue import tasks
from carte.catalogue.transfer.export import EXTENSIONS, FORMATS
from carte.catalogue.transfer.importer import Problem
from carte.core.errors import DomainError
from carte.core.jobs import run_here
from carte.core.jobs.console import progress_bar
from carte.core.models import Job, JobStatus
from carte.organisations.actor import Actor
from carte.organisations.models import Organisation

SHOWN_ERRORS = 20


class Command(BaseCommand):
    help = "Export the catalogue of an organisation, or import one (all or nothing)."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="Write the catalogue to a file or stdout.")
        export.add_argument("--org", required=True, help="The organisation (slug).")
        export.add_argument("--format", required=True, choices=FORMATS)
        export.add_argument("--out", help="The file to write (default: standard output).")
        imp = sub.add_parser("import", help="Read a catalogue file into an organisation.")
        imp.add_argument("file")
        imp.add_argument("--org", required=True, help="The organisation (slug).")
        imp.add_argument("--dry-run", action="store_true", help="Check and report; write nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organisation.objects.filter(slug=options["org"]).first()
        if org is None:
            raise CommandError(f"No organisation {options['org']!r}.", returncode=2)
        actor = Actor.for_system(org)
        try:
            if options["action"] == "export":
                self._export(actor, options["format"], options.get("out"))
            else:
                self._import(actor, Path(options["file"]), dry_run=options["dry_run"])
        except DomainError as exc:
            raise CommandError(exc.one_line(), returncode=2) from exc

    def _export(self, actor: Actor, fmt: str, out: str | None) -> None:
        job = tasks.export_start(actor=actor, fmt=fmt, background=False)
        job = self._run(job, tasks.catalogue_export)
        with job.result_file.open("rb") as result:
            if out is None:
                shutil.copyfileobj(result, sys.stdout.buffer)
                sys.stdout.buffer.flush()
                return
            path = Path(out)
            try:
                with path.open("wb") as handle:
                    shutil.copyfileobj(result, handle)
            except OSError as exc:
                raise CommandError(f"Cannot write {out}: {exc.strerror}.", returncode=2) from exc
        if path.suffix.lstrip(".") != EXTENSIONS[fmt]:
            self.stderr.write(f"Note: a {fmt} export is usually named *.{EXTENSIONS[fmt]}.")
        self.stderr.write(f"Catalogue of {actor.organisation.slug} written to {out}.")

    def _import(self, actor: Actor, path: Path, *, dry_run: bool) -> None:
        if not path.is_file():
            raise CommandError(f"No file {path}.", returncode=2)
        with path.open("rb") as handle:
            job = tasks.import_start(
                actor=actor,
                upload=File(handle, name=path.name),
                name=path.name,
                dry_run=dry_run,
                background=False,
            )
        job = self._run(job, tasks.catalogue_import)
        self._print(job)

    def _run(self, job: Job, task: Task[..., Any]) -> Job:
        """Run the job here, through its task function, with a progress bar."""
        with progress_bar():
            job = run_here(job, task)
        if job.status != JobStatus.DONE and not (job.report and job.report.get("problems")):
            raise CommandError(job.error, returncode=2)
        return job

    def _print(self, job: Job) -> None:
        report = job.report or {}
        problems = report.get("problems") or []
        if problems:
            for problem in problems[:SHOWN_ERRORS]:
                self.stderr.write(str(Problem(**problem)))
            more = len(problems) - SHOWN_ERRORS
            if more > 0:
                self.stderr.write(f"... and {more} more.")
            raise CommandError(
                f"Import refused: {len(problems)} problem(s); nothing was written.",
                returncode=2,
            )
        lines = [
            f"{table}: {n['created']} created, {n['changed']} changed, {n['removed']} removed"
            for table, n in report.get("tables", {}).items()
        ] or ["Nothing to change."]
        for line in lines:
            self.stdout.write(line)
        if report.get("dry_run"):
            self.stdout.write("Dry run: nothing was written.")
        else:
            self.stdout.write("Imported.")
