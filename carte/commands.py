"""`carte demo [--reset]` and `carte run`: the commands that span every app; `carte login
activate|deactivate EMAIL`, about a login, which spans organisations.

They are Django commands (arguments, `--help`, one-line errors with exit code 2, as
every other `carte` command), but not any app's management commands: loading the demo
calls every app's loader (`carte.demo`), which no app may import, so they live here, at
the project level, and `carte.cli` runs them by name.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from carte.core.errors import DomainError
from carte.core.jobs.worker import serve, worker_commands
from carte.demo import load_demo
from carte.organisations import services
from carte.organisations.demo import DEMO_PASSWORD, demo_logins
from carte.organisations.models import Organisation


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


COMMANDS: dict[str, type[BaseCommand]] = {
    "demo": DemoCommand,
    "run": RunCommand,
    "login": LoginCommand,
}


def run_command(name: str, argv: list[str]) -> int:
    """Run `carte NAME ARGV...` as Django runs a management command from the shell."""
    COMMANDS[name]().run_from_argv(["carte", name, *argv])
    return 0
