"""Notices: what a user is told in their inbox and by e-mail (issue 5, "Notifications").

`notify()` records a notice for each recipient once per `key`: the key names the thing
the notice is about ("escalated:item:12:level:3", "kpi_overdue:kpi:7:2026-03-01"), and a
unique constraint on (recipient, key) makes a second call, from a retry, a second cron run
or another machine, a no-op. E-mails are sent later by `carte notify`, which claims each
unsent notice with a conditional UPDATE before sending it, so each goes out once.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from carte.operations.models import Notice
from carte.organisations.models import Organisation, User


def notify(
    *,
    organisation: Organisation,
    users: Iterable[User | None],
    kind: str,
    key: str,
    title: str,
    body: str = "",
    url: str = "",
) -> int:
    """Record the notice for each user (None and repeats skipped) unless they have it
    already; returns how many were new."""
    recipients = {u.pk: u for u in users if u is not None}
    if not recipients:
        return 0
    existing = set(
        Notice.objects.filter(recipient_id__in=recipients, key=key).values_list(
            "recipient_id", flat=True
        )
    )
    now = timezone.now()
    fresh = [
        Notice(
            organisation=organisation,
            recipient=user,
            kind=kind,
            key=key[:200],
            title=title[:300],
            body=body,
            url=url[:300],
            created_at=now,
        )
        for pk, user in recipients.items()
        if pk not in existing
    ]
    # ignore_conflicts: another process may have recorded the same notice meanwhile.
    Notice.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)
