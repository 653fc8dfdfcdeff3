"""`carte demo [--reset]`: load the demo organisations."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from carte.core.errors import DomainError
from carte.organisations.demo import DEMO_PASSWORD, load_demo


class Command(BaseCommand):
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
