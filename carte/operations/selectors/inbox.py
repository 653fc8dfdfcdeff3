"""Reads of the inbox and the calendar feed: a user sees only their own notices in the
organisation they are working in; another user's notice is "not found"."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, Exists, IntegerField, OuterRef, QuerySet, Value, When

from carte.core.clock import today
from carte.core.errors import not_found
from carte.operations.filters import InboxFilter
from carte.operations.models import KPI, CalendarFeed, Notice
from carte.operations.selectors.due import reports_due
from carte.organisations.actor import Actor
from carte.organisations.models import Membership

CALENDAR_HORIZON = dt.timedelta(days=60)  # reports shown ahead in the calendar feed


def own_notices(actor: Actor) -> QuerySet[Notice]:
    """The acting user's notices in the acting organisation (none for the system)."""
    if actor.user is None:
        return Notice.objects.none()
    return Notice.objects.filter(recipient_id=actor.user.pk, organisation_id=actor.organisation.pk)


def inbox(actor: Actor, filters: InboxFilter | None = None) -> QuerySet[Notice]:
    """The user's notices, filtered and ordered (unread first by default)."""
    filters = filters or InboxFilter.model_validate({})
    qs = filters.filter(own_notices(actor)).annotate(
        read_rank=Case(
            When(read_at__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
    )
    return qs.order_by(*filters.order_by())


def unread_count(actor: Actor) -> int:
    return own_notices(actor).filter(read_at__isnull=True).count()


def notice_get(actor: Actor, pk: int | str) -> Notice:
    """One of the user's own notices; 404 for anyone else's and for a missing one."""
    try:
        return own_notices(actor).get(pk=int(pk))
    except (Notice.DoesNotExist, ValueError, TypeError) as exc:
        raise not_found("notice") from exc


def calendar_feed_live(actor: Actor) -> CalendarFeed | None:
    """The user's live calendar feed in this organisation, if they have one."""
    if actor.user is None:
        return None
    return CalendarFeed.objects.filter(
        user_id=actor.user.pk, organisation_id=actor.organisation.pk, revoked_at__isnull=True
    ).first()


def feed_by_hash(token_hash: str) -> CalendarFeed | None:
    """The live feed a secret opens, with its user and organisation, if the user is still
    an active member; None otherwise."""
    member = Membership.objects.filter(
        user_id=OuterRef("user_id"),
        organisation_id=OuterRef("organisation_id"),
        archived_at__isnull=True,
    )
    return (
        CalendarFeed.objects.filter(
            token_hash=token_hash, revoked_at__isnull=True, user__is_active=True
        )
        .filter(Exists(member))
        .select_related("user", "organisation")
        .first()
    )


def calendar_reports(feed: CalendarFeed, on: dt.date | None = None) -> list[KPI]:
    """The reports the feed's user has due within 60 days, and those overdue."""
    day = on or today()
    actor = Actor.for_system(feed.organisation)
    return list(reports_due(actor=actor, user=feed.user, until=day + CALENDAR_HORIZON))
