"""Notices: what a user is told in their inbox and by e-mail (issue 5, "Notifications").

`notify()` records a notice for each recipient once per `key`: the key names the thing
the notice is about ("escalated:item:12:level:3", "kpi_overdue:kpi:7:2026-03-01"), and a
unique constraint on (recipient, key) makes a second call, from a retry, a second cron run
or another machine, a no-op. E-mails are sent later by `carte notify`, which claims each
unsent notice with a conditional UPDATE before sending it, so each goes out once.

`notify_many()` is the same for many keys at once (the sweeps of `carte notify`): one
query to find what exists, one insert for the rest. Who to tell about a service is read by
`selectors.notices.role_users`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from carte.core.clock import now
from carte.operations.models import Notice
from carte.organisations.models import Organisation, User

BATCH = 500  # keys looked up per query (SQLite allows a limited number of parameters)


@dataclass(frozen=True)
class Draft:
    """One notice to record for some users, unless they have it already."""

    users: Sequence[User | None]
    kind: str
    key: str
    title: str
    body: str = ""
    url: str = ""


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
    return notify_many(
        organisation=organisation,
        drafts=[Draft(list(users), kind=kind, key=key, title=title, body=body, url=url)],
    )


def notify_many(*, organisation: Organisation, drafts: Sequence[Draft]) -> int:
    """`notify()` for many notices: those a recipient has already (same key) are skipped;
    returns how many were new."""
    wanted: dict[tuple[int, str], tuple[User, Draft]] = {}
    for draft in drafts:
        for user in draft.users:
            if user is not None:
                wanted.setdefault((user.pk, draft.key[:200]), (user, draft))
    if not wanted:
        return 0
    keys = sorted({key for _, key in wanted})
    existing: set[tuple[int, str]] = set()
    for start in range(0, len(keys), BATCH):
        existing.update(
            Notice.objects.filter(key__in=keys[start : start + BATCH]).values_list(
                "recipient_id", "key"
            )
        )
    moment = now()
    fresh = [
        Notice(
            organisation=organisation,
            recipient=user,
            kind=draft.kind,
            key=key,
            title=" ".join(draft.title.split())[:300],
            body=draft.body,
            url=draft.url[:300],
            created_at=moment,
        )
        for (pk, key), (user, draft) in wanted.items()
        if (pk, key) not in existing
    ]
    # ignore_conflicts: another process may have recorded the same notice meanwhile.
    Notice.objects.bulk_create(fresh, ignore_conflicts=True, batch_size=BATCH)
    return len(fresh)
