"""API of each user's inbox and calendar feed (`/api/v1/orgs/{org}/inbox...`,
`.../calendar-feed`): the caller's own notices only; anyone else's notice is 404.

No `from __future__ import annotations`: django-ninja reads these annotations at runtime.
"""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from carte.core.api import paged
from carte.core.errors import not_found
from carte.operations.choices import NoticeKind
from carte.operations.filters import InboxFilter
from carte.operations.models import Notice
from carte.operations.selectors import inbox as selectors
from carte.operations.services import feeds
from carte.operations.services import notify as services
from carte.organisations.access import api_actor

router = Router(tags=["Inbox"])

INBOX = "/orgs/{org}/inbox"
FEED = "/orgs/{org}/calendar-feed"


class NoticeOut(Schema):
    id: int
    kind: NoticeKind
    kind_label: str
    title: str
    body: str
    url: str = Field(..., description="The page it is about (absolute), or empty.")
    created_at: datetime
    read_at: datetime | None
    unread: bool
    emailed: bool = Field(..., description="Whether it has been e-mailed.")

    @staticmethod
    def resolve_kind_label(obj: Notice) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_url(obj: Notice) -> str:
        return services.absolute(obj.url) if obj.url else ""

    @staticmethod
    def resolve_unread(obj: Notice) -> bool:
        return obj.read_at is None

    @staticmethod
    def resolve_emailed(obj: Notice) -> bool:
        return obj.emailed_at is not None


class UnreadOut(Schema):
    unread: int


class MarkedOut(Schema):
    marked: int = Field(..., description="How many notices were unread and are now read.")


class FeedOut(Schema):
    active: bool = Field(..., description="Whether the caller has a live calendar address.")
    created_at: datetime | None = None
    last_used_at: datetime | None = Field(None, description="When a calendar last read it.")


class FeedCreatedOut(Schema):
    url: str = Field(
        ...,
        description="The secret iCalendar address: shown this once, never again. Any "
        "address made before stops working.",
    )
    created_at: datetime


@router.get(
    INBOX,
    response=list[NoticeOut],
    summary="The caller's notices",
    operation_id="operations_inbox_list",
)
@paged
def inbox_list(request: HttpRequest, org: str, filters: Query[InboxFilter]) -> Any:
    """The caller's notices in this organisation, unread first then newest (or newest
    first with `ordering=newest`), filtered by kind or by read state."""
    actor = api_actor(request, org)
    return selectors.inbox(actor, filters)


@router.get(
    INBOX + "/unread-count",
    response=UnreadOut,
    summary="How many of the caller's notices are unread",
    operation_id="operations_inbox_unread_count",
)
def inbox_unread(request: HttpRequest, org: str) -> Any:
    return {"unread": selectors.unread_count(api_actor(request, org))}


@router.post(
    INBOX + "/{int:id}/read",
    response=NoticeOut,
    summary="Mark one notice read",
    operation_id="operations_inbox_read",
)
def inbox_read(request: HttpRequest, org: str, id: int) -> Any:
    """Only the caller's own notices; anyone else's is 404. Marking a read notice again
    keeps the time it was first read."""
    actor = api_actor(request, org)
    return services.notice_mark_read(actor=actor, notice=selectors.notice_get(actor, id))


@router.post(
    INBOX + "/read-all",
    response=MarkedOut,
    summary="Mark all the caller's notices read",
    operation_id="operations_inbox_read_all",
)
def inbox_read_all(request: HttpRequest, org: str) -> Any:
    return {"marked": services.notices_mark_all_read(actor=api_actor(request, org))}


@router.get(
    FEED,
    response=FeedOut,
    summary="Whether the caller has a live calendar address",
    operation_id="operations_calendar_feed_retrieve",
)
def calendar_feed_retrieve(request: HttpRequest, org: str) -> Any:
    feed = selectors.calendar_feed_live(api_actor(request, org))
    if feed is None:
        return {"active": False}
    return {"active": True, "created_at": feed.created_at, "last_used_at": feed.last_used_at}


@router.post(
    FEED,
    response={201: FeedCreatedOut},
    summary="Make a new secret calendar address of the caller's reports due",
    operation_id="operations_calendar_feed_create",
)
def calendar_feed_create(request: HttpRequest, org: str) -> Any:
    """An iCalendar address (RFC 5545) listing the KPI reports the caller has due, one
    all-day event each, readable without a login. The address is returned this once."""
    feed, raw = feeds.calendar_feed_create(actor=api_actor(request, org))
    return Status(
        201, {"url": services.absolute(feeds.feed_path(raw)), "created_at": feed.created_at}
    )


@router.post(
    FEED + "/revoke",
    response=FeedOut,
    summary="Revoke the caller's calendar address",
    operation_id="operations_calendar_feed_revoke",
)
def calendar_feed_revoke(request: HttpRequest, org: str) -> Any:
    """The address stops working at once; 404 when there is none live."""
    actor = api_actor(request, org)
    feed = selectors.calendar_feed_live(actor)
    if feed is None:
        raise not_found("calendar feed")
    feeds.calendar_feed_revoke(actor=actor, feed=feed)
    return {"active": False}
