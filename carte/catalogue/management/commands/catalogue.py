"""`carte catalogue export --org SLUG --format xlsx|csv|json|yaml [--out FILE]` and
`carte catalogue import FILE --org SLUG [--dry-run]`.

Both act as the system in the organisation (`Actor.for_system`). An import with any
problem writes nothing, lists the first problems and exits with code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from carte.catalogue.transfer.export import EXTENSIONS, FORMATS, export_catalogue
from carte.catalogue.transfer.importer import Report, import_catalogue
from carte.core.errors import DomainError
from carte.organisations.actor import Actor
from carte.organisations.models import Organisation

SHOWN_ERRORS = 20
BAR_WIDTH = 30


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
        if out is None:
            export_catalogue(actor, fmt, sys.stdout.buffer)
            return
        path = Path(out)
        try:
            with path.open("wb") as handle:
                export_catalogue(actor, fmt, handle)
        except OSError as exc:
            raise CommandError(f"Cannot write {out}: {exc.strerror}.", returncode=2) from exc
        if path.suffix.lstrip(".") != EXTENSIONS[fmt]:
            self.stderr.write(f"Note: a {fmt} export is usually named *.{EXTENSIONS[fmt]}.")
        self.stderr.write(f"Catalogue of {actor.organisation.slug} written to {out}.")

    def _import(self, actor: Actor, path: Path, *, dry_run: bool) -> None:
        if not path.is_file():
            raise CommandError(f"No file {path}.", returncode=2)
        shown = [-1]

        def progress(done: int, total: int) -> None:
            # Redraw only when the bar moves: a line per row would flood a terminal.
            if total == 0:
                self.stderr.write(f"\rReading... {done} rows", ending="")
                return
            filled = done * BAR_WIDTH // total
            if filled != shown[0] or done == total:
                shown[0] = filled
                bar = "#" * filled + "." * (BAR_WIDTH - filled)
                self.stderr.write(f"\r[{bar}] {done}/{total}", ending="")
                if done == total:
                    self.stderr.write("")

        report = import_catalogue(actor, path, dry_run=dry_run, progress=progress)
        self._print(report)

    def _print(self, report: Report) -> None:
        if report.errors:
            for problem in report.errors[:SHOWN_ERRORS]:
                self.stderr.write(str(problem))
            more = len(report.errors) - SHOWN_ERRORS
            if more > 0:
                self.stderr.write(f"... and {more} more.")
            raise CommandError(
                f"Import refused: {len(report.errors)} problem(s); nothing was written.",
                returncode=2,
            )
        lines = report.summary() or ["Nothing to change."]
        for line in lines:
            self.stdout.write(line)
        if report.dry_run:
            self.stdout.write("Dry run: nothing was written.")
        else:
            self.stdout.write("Imported.")
