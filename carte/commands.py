"""`carte demo [--reset]` and `carte run`: the commands that span every app; `carte login
activate|deactivate EMAIL`, about a login, which spans organisations; `carte capacity
import|show`, people's capacity (the capacity app's import and grid).

They are Django commands (arguments, `--help`, one-line errors with exit code 2, as
every other `carte` command), but not any app's management commands: loading the demo
calls every app's loader (`carte.demo`), which no app may import, so they live here, at
the project level, and `carte.cli` runs them by name.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.table import Table

from carte.capacity import tasks as capacity_tasks
from carte.capacity.importing import Problem as CapacityProblem
from carte.capacity.selectors import grid as capacity_grid
from carte.core.errors import DomainError
from carte.core.jobs import run_here
from carte.core.jobs.console import progress_bar
from carte.core.jobs.worker import serve, worker_commands
from carte.core.models import JobStatus
from carte.demo import load_demo
from carte.organisations import services
from carte.organisations.actor import Actor
from carte.organisations.demo import DEMO_PASSWORD, demo_logins
from carte.organisations.models import PMO, Competence, Organisation


class DemoCommand(BaseCommand):
    help = "Load the demo organisations (northwind, riverside) with their logins."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--reset", action="store_true", help="Remove the demo data first.")
        parser.add_argument("--force", action="store_true", help="Allow in production mode.")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION and not options["force"]:
            raise CommandError(
                "Refusing to load demo data in production mode; add --force if you mean it.",
                returncode=2,
            )
        try:
            created = load_demo(reset=options["reset"])
        except DomainError as exc:
            raise CommandError(exc.one_line(), returncode=2) from exc
        if created:
            self.stdout.write(
                self.style.SUCCESS(f"Demo loaded. Password for every demo login: {DEMO_PASSWORD}")
            )
        else:
            self.stdout.write("The demo organisations are already there (use --reset to reload).")


class RunCommand(BaseCommand):
    help = "Migrate, load the demo when the database is empty, and serve on 127.0.0.1:$PORT."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "3"))
        )
        parser.add_argument(
            "--task-workers",
            type=int,
            default=int(os.environ.get("CARTE_TASK_WORKERS", "1")),
            help="Background workers beside the server (database backend; 0: none here).",
        )
        parser.add_argument("--no-serve", action="store_true", help="Prepare only; do not serve.")

    def handle(self, *args: Any, **options: Any) -> None:
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        if settings.PRODUCTION:
            call_command("collectstatic", interactive=False, verbosity=0)
        if not Organisation.objects.exists() and not settings.PRODUCTION:
            self.stdout.write("Empty database: loading the demo organisations...")
            call_command(DemoCommand())
        address = f"http://{options['host']}:{options['port']}"
        self.stdout.write(self.style.SUCCESS(f"Carte is serving on {address}"))
        if not settings.PRODUCTION:
            self.stdout.write(f"Demo logins (password {DEMO_PASSWORD!r}):")
            for email in demo_logins():
                self.stdout.write(f"  {email}")
        if options["no_serve"]:
            return
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        server = [
            gunicorn,
            "carte.wsgi:application",
            "--bind",
            f"{options['host']}:{options['port']}",
            "--workers",
            str(options["workers"]),
            "--access-logfile",
            "-",
            "--forwarded-allow-ips",
            "127.0.0.1",
        ]
        # Long work (imports, documents) runs in workers beside the server, stopped with it.
        workers = worker_commands(options["task_workers"])
        if workers:
            self.stdout.write(f"Background work: {len(workers)} worker(s) beside the server.")
        sys.stdout.flush()
        sys.exit(serve(server, workers))


class LoginCommand(BaseCommand):
    help = (
        "Deactivate a login (it can no longer log in or use its API tokens, in any "
        "organisation) or activate it again."
    )

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for action, text in (
            ("deactivate", "Keep the login out: no log-in, no API token."),
            ("activate", "Let a deactivated login in again."),
        ):
            sub.add_parser(action, help=text).add_argument("email")

    def handle(self, *args: Any, **options: Any) -> None:
        active = options["action"] == "activate"
        try:
            user, changed = services.login_set_active(email=options["email"], active=active)
        except DomainError as exc:
            raise CommandError(exc.one_line(), returncode=2) from exc
        state = "active" if active else "deactivated"
        if not changed:
            self.stdout.write(f"The login {user.email} is already {state}.")
        elif active:
            self.stdout.write(self.style.SUCCESS(f"The login {user.email} is active again."))
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"The login {user.email} is deactivated: it can no longer log in or "
                    "use its API tokens."
                )
            )


def _refuse(message: str) -> CommandError:
    return CommandError(message, returncode=2)


class CapacityCommand(BaseCommand):
    help = (
        "People's capacity: import assessments, availability and allocations from an "
        ".xlsx workbook (all or nothing), or show the grid of competences by month."
    )
    SHOWN = 20

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser(
            "import",
            help="Record the assessments, availability and allocations of a workbook.",
        )
        imp.add_argument(
            "file",
            help="An .xlsx workbook with sheets Assessments, Availability, Exceptions, "
            "Allocations.",
        )
        imp.add_argument("--org", required=True, help="The organisation (slug).")
        imp.add_argument("--dry-run", action="store_true", help="Check and report; write nothing.")
        show = sub.add_parser("show", help="The capacity grid: competences by month.")
        show.add_argument("--org", required=True, help="The organisation (slug).")
        show.add_argument("--from", dest="start", help="The first month, YYYY-MM (default: now).")
        show.add_argument("--to", dest="end", help="The last month, YYYY-MM (default: 12 months).")
        show.add_argument("--competence", help="One competence of the framework, by name.")
        show.add_argument("--pmo", help="One PMO's people and services, by name.")
        show.add_argument(
            "--detail", action="store_true", help="Show demand and supply under each cell."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organisation.objects.filter(slug=options["org"]).first()
        if org is None:
            raise _refuse(f"No organisation {options['org']!r}.")
        actor = Actor.for_system(org)
        try:
            if options["action"] == "import":
                self._import(actor, Path(options["file"]), dry_run=options["dry_run"])
            else:
                self._show(actor, options)
        except DomainError as exc:
            raise _refuse(exc.one_line()) from exc

    # ------------------------------------------------------------ import

    def _import(self, actor: Actor, path: Path, *, dry_run: bool) -> None:
        if not path.is_file():
            raise _refuse(f"No file {str(path)!r}.")
        with path.open("rb") as source:
            job = capacity_tasks.import_start(
                actor=actor,
                upload=File(source, name=path.name),
                name=path.name,
                dry_run=dry_run,
                background=False,
            )
        with progress_bar():
            job = run_here(job, capacity_tasks.capacity_import)
        report = job.report or {}
        problems = report.get("problems") or []
        if problems:
            for problem in problems[: self.SHOWN]:
                self.stderr.write(str(CapacityProblem(**problem)))
            total = int(report.get("total_problems", len(problems)))
            if total > self.SHOWN:
                self.stderr.write(f"... and {total - self.SHOWN} more.")
            raise _refuse(f"Import refused: {total} problem(s); nothing was recorded.")
        if job.status != JobStatus.DONE:
            raise _refuse(job.error)
        rows: dict[str, int] = report.get("rows", {})
        written: dict[str, int] = report.get("written", {})
        verb = "would record" if report.get("dry_run") else "recorded"
        for sheet, count in rows.items():
            self.stdout.write(f"{sheet}: {count} rows read, {verb} {written.get(sheet, 0)}.")
        if report.get("dry_run"):
            self.stdout.write("Dry run: nothing was written.")
        else:
            self.stdout.write(self.style.SUCCESS("Imported."))

    # ------------------------------------------------------------ show

    def _named(
        self, model: type[PMO] | type[Competence], actor: Actor, name: str | None
    ) -> int | None:
        if not name:
            return None
        found = list(
            model.objects.filter(
                organisation_id=actor.organisation.pk,
                archived_at__isnull=True,
                name__iexact=name.strip(),
            ).values_list("pk", flat=True)[:2]
        )
        if len(found) != 1:
            what = "PMO" if model is PMO else "competence"
            raise _refuse(f"No {what} {name!r} in {actor.organisation.name}.")
        return found[0]

    def _show(self, actor: Actor, options: dict[str, Any]) -> None:
        query = capacity_grid.grid_query(
            actor,
            start=options.get("start"),
            end=options.get("end"),
            pmo=self._named(PMO, actor, options.get("pmo")),
            competence=self._named(Competence, actor, options.get("competence")),
        )
        result = capacity_grid.grid(actor, query)
        detail = bool(options.get("detail"))
        months = result.month_labels
        table = Table(
            title=f"Capacity of {actor.organisation.name}, {months[0]} to {months[-1]}",
            caption=(
                'FTE. "short N": N FTE of demand no one can cover; "ok": covered'
                + ("; under each: needed / available." if detail else ".")
            ),
        )
        table.add_column("Competence", no_wrap=True)
        for month in months:
            table.add_column(month, justify="right", no_wrap=not detail)
        for row in result.rows:
            cells = []
            for cell in row.cells:
                if cell.shortfall > 0:
                    text = f"[bold red]short {cell.shortfall:g}[/]"
                elif cell.state == "none":
                    text = "-"
                else:
                    text = "ok"
                if detail:
                    text += f"\n{cell.demand:g} / {cell.supply:g}"
                cells.append(text)
            table.add_row(row.name, *cells)
        width = max(shutil.get_terminal_size((120, 24)).columns, 28 + 14 * len(months))
        buffer = io.StringIO()
        console = Console(
            file=buffer, width=width, force_terminal=self.stdout.isatty(), highlight=False
        )
        console.print(table)
        if not result.rows:
            console.print("The framework has no competences yet.")
        if result.has_proposed:
            console.print(
                f"{result.proposed_services} proposed service(s) are not counted "
                '(see the grid page for "if admitted").'
            )
        self.stdout.write(buffer.getvalue(), ending="")


COMMANDS: dict[str, type[BaseCommand]] = {
    "demo": DemoCommand,
    "run": RunCommand,
    "login": LoginCommand,
    "capacity": CapacityCommand,
}


def run_command(name: str, argv: list[str]) -> int:
    """Run `carte NAME ARGV...` as Django runs a management command from the shell."""
    COMMANDS[name]().run_from_argv(["carte", name, *argv])
    return 0
