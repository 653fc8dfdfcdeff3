"""`carte run`: migrate, load the demo into an empty database, then serve with gunicorn."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from carte.organisations.demo import DEMO_PASSWORD, demo_logins
from carte.organisations.models import Organisation


class Command(BaseCommand):
    help = "Migrate, load the demo when the database is empty, and serve on 127.0.0.1:$PORT."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "3"))
        )
        parser.add_argument("--no-serve", action="store_true", help="Prepare only; do not serve.")

    def handle(self, *args: Any, **options: Any) -> None:
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        if settings.PRODUCTION:
            call_command("collectstatic", interactive=False, verbosity=0)
        if not Organisation.objects.exists() and not settings.PRODUCTION:
            self.stdout.write("Empty database: loading the demo organisations...")
            call_command("demo")
        address = f"http://{options['host']}:{options['port']}"
        self.stdout.write(self.style.SUCCESS(f"Carte is serving on {address}"))
        if not settings.PRODUCTION:
            self.stdout.write(f"Demo logins (password {DEMO_PASSWORD!r}):")
            for email in demo_logins():
                self.stdout.write(f"  {email}")
        if options["no_serve"]:
            return
        sys.stdout.flush()
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        os.execv(  # noqa: S606 - replaces this process with the server, arguments are ours
            gunicorn,
            [
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
            ],
        )
