"""`carte notify [--org SLUG] [--dry-run] [--limit N]`: find what is due (KPI reports due
soon or overdue, service levels missed, decisions waiting) and record each notice once,
then e-mail every notice not yet e-mailed. Meant for cron or a systemd timer, every few
minutes: running it twice, or on two machines at once, records and sends each notice once.

With `--dry-run` nothing is recorded nor sent: it says what would be. Bad input prints one
line and exits with code 2.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from carte.operations.selectors.notices import unsent
from carte.operations.services import notify
from carte.organisations.models import Organisation


def refuse(message: str) -> CommandError:
    return CommandError(message, returncode=2)


class Command(BaseCommand):
    help = "Record the notices of what is due and e-mail those not yet sent."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--org", help="Only this organisation (slug); all by default.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would be done; change nothing."
        )
        parser.add_argument("--limit", type=int, help="Send at most this many e-mails.")

    def handle(self, *args: Any, **options: Any) -> None:
        limit = options.get("limit")
        if limit is not None and limit < 0:
            raise refuse("--limit must be 0 or more.")
        organisations = Organisation.objects.order_by("slug")
        slug = options.get("org")
        if slug:
            organisations = organisations.filter(slug=slug)
            if not organisations.exists():
                raise refuse(f"No organisation {slug!r}.")
        dry = bool(options.get("dry_run"))
        total = notify.Counts()
        pending = 0
        for org in organisations:
            with transaction.atomic():
                counts = notify.notify_due(organisation=org)
                if dry:
                    pending += unsent(org).count()
                    transaction.set_rollback(True)
            total += counts
            self.stdout.write(
                f"{org.slug}: {'would record' if dry else 'recorded'} {counts.total} "
                f"notice{'s' if counts.total != 1 else ''} ({counts.due} due soon, "
                f"{counts.overdue} overdue, {counts.level_missed} service levels missed, "
                f"{counts.decisions} decisions waiting)"
            )
        if dry:
            if limit is not None:
                pending = min(pending, limit)
            self.stdout.write(f"would e-mail {pending} notice{'s' if pending != 1 else ''}")
            return
        target = organisations.first() if slug else None
        try:
            sent = notify.deliver(organisation=target, limit=limit)
        except OSError as exc:
            raise CommandError(f"Could not reach the mail server: {exc}", returncode=1) from exc
        self.stdout.write(f"e-mailed {sent} notice{'s' if sent != 1 else ''}")
