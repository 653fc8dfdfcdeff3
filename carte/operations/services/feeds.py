"""Calendar feeds: a user's secret, revocable iCalendar address of the KPI reports they
have due (issue 5). The secret is shown once; only its SHA-256 is stored, like API tokens.
A user has at most one live feed per organisation: a new one revokes the old."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from carte.core import audit
from carte.core.clock import now
from carte.core.errors import DomainError, not_found
from carte.core.models import AuditAction
from carte.operations.models import CalendarFeed
from carte.organisations.actor import Actor
from carte.organisations.services import hash_token

TOKEN_PREFIX = "cal_"


def feed_path(raw_token: str) -> str:
    """The feed's address (a path; `notify.absolute` makes it whole)."""
    return reverse("operations_public:calendar_feed", args=[raw_token])


def _audit(actor: Actor, feed: CalendarFeed, before: str | None, after: str) -> None:
    audit.record(
        actor=actor,
        obj=feed,
        action=AuditAction.CREATE if before is None else AuditAction.ARCHIVE,
        changes={"calendar feed": {"before": before, "after": after}},
    )


@transaction.atomic
def calendar_feed_create(*, actor: Actor) -> tuple[CalendarFeed, str]:
    """A new secret address for the user's reports due; the one they had stops working.
    Returns the feed and the raw secret, which is never stored."""
    if actor.user is None:
        raise DomainError("Only a person has a calendar.", code="forbidden")
    moment = now()
    # Locks the user's live feed, so two clicks at once leave one live feed.
    for old in CalendarFeed.objects.select_for_update().filter(
        user_id=actor.user.pk, organisation_id=actor.organisation.pk, revoked_at__isnull=True
    ):
        old.revoked_at = moment
        old.save(update_fields=["revoked_at"])
        _audit(actor, old, "live", "revoked (replaced)")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(
        organisation=actor.organisation,
        user=actor.user,
        token_hash=hash_token(raw),
        created_at=moment,
    )
    _audit(actor, feed, None, "live")
    return feed, raw


@transaction.atomic
def calendar_feed_revoke(*, actor: Actor, feed: CalendarFeed) -> CalendarFeed:
    """Stop the feed's address working at once. Only its user may; anyone else's feed is
    "not found"."""
    if (
        actor.user is None
        or feed.user_id != actor.user.pk
        or feed.organisation_id != actor.organisation.pk
    ):
        raise not_found("calendar feed")
    if feed.revoked_at is None:
        feed.revoked_at = now()
        feed.save(update_fields=["revoked_at"])
        _audit(actor, feed, "live", "revoked")
    return feed


def calendar_feed_used(*, feed: CalendarFeed) -> None:
    """Note that a calendar program read the feed (its secret is the credential: there is
    no actor); shown beside the address so its owner sees whether it is in use."""
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
