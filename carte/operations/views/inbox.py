"""Each user's inbox under /o/<org>/operations/inbox/: their notices (unread first), a
notice's link (following it marks it read), mark one or all read, and the Calendar
section that creates, shows once and revokes their calendar feed. The feed itself,
`/calendar/<secret>.ics`, needs no login: the secret is the credential (`urls_public`)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from carte.core.views import is_htmx, page_size
from carte.operations import ical
from carte.operations.choices import NoticeKind
from carte.operations.filters import InboxFilter
from carte.operations.selectors import inbox as selectors
from carte.operations.services import feeds
from carte.operations.services import notify as services
from carte.organisations.access import org_view
from carte.organisations.actor import Actor
from carte.organisations.services import hash_token

P = "operations/inbox"


def inbox_url(actor: Actor) -> str:
    return reverse("operations:inbox", args=[actor.organisation.slug])


def _calendar(actor: Actor, raw: str | None = None) -> dict[str, Any]:
    """The Calendar section: the live feed, and its address when it has just been made."""
    return {
        "feed": selectors.calendar_feed_live(actor),
        "feed_url": services.absolute(feeds.feed_path(raw)) if raw else "",
    }


def _inbox_page(request: HttpRequest, actor: Actor, raw: str | None = None) -> HttpResponse:
    filters, filter_errors = InboxFilter.from_query(request.GET.dict())
    page = Paginator(selectors.inbox(actor, filters), page_size(request)).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "filters": filters,
        "filter_errors": filter_errors,
        "kinds": NoticeKind.choices,
        "query": query.urlencode(),
        "unread": selectors.unread_count(actor),
        "calendar": _calendar(actor, raw),
    }
    if is_htmx(request) and raw is None:
        return render(request, "operations/inbox_results.html", context)
    return render(request, "operations/inbox.html", context)


@org_view
@require_GET
def inbox(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The user's notices, unread first (or newest first), filtered by kind or unread."""
    return _inbox_page(request, actor)


@org_view
def notice_open(request: HttpRequest, actor: Actor, notice: int) -> HttpResponse:
    """Follow a notice's link, marking it read."""
    mine = selectors.notice_get(actor, notice)  # first: anyone else's is 404, whatever the method
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    found = services.notice_mark_read(actor=actor, notice=mine)
    target = found.url
    if not target or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = inbox_url(actor)
    return HttpResponseRedirect(target)


@org_view
def notice_read(request: HttpRequest, actor: Actor, notice: int) -> HttpResponse:
    """Mark one notice read; htmx swaps the notice in place."""
    mine = selectors.notice_get(actor, notice)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    found = services.notice_mark_read(actor=actor, notice=mine)
    if is_htmx(request):
        return render(request, "operations/inbox_notice.html", {"notice": found})
    return HttpResponseRedirect(inbox_url(actor))


@org_view
@require_POST
def notices_read_all(request: HttpRequest, actor: Actor) -> HttpResponse:
    marked = services.notices_mark_all_read(actor=actor)
    messages.success(
        request,
        f"{marked} notice{'s' if marked != 1 else ''} marked read."
        if marked
        else "Nothing was unread.",
    )
    return HttpResponseRedirect(inbox_url(actor))


@org_view
@require_POST
def calendar_create(request: HttpRequest, actor: Actor) -> HttpResponse:
    """A new calendar address, shown this once (the old one stops working)."""
    _, raw = feeds.calendar_feed_create(actor=actor)
    if is_htmx(request):
        return render(
            request, "operations/calendar_section.html", {"calendar": _calendar(actor, raw)}
        )
    return _inbox_page(request, actor, raw)


@org_view
@require_POST
def calendar_revoke(request: HttpRequest, actor: Actor) -> HttpResponse:
    feed = selectors.calendar_feed_live(actor)
    if feed is None:
        raise Http404("No calendar feed to revoke.")
    feeds.calendar_feed_revoke(actor=actor, feed=feed)
    if is_htmx(request):
        return render(request, "operations/calendar_section.html", {"calendar": _calendar(actor)})
    messages.success(request, "Your calendar address no longer works.")
    return HttpResponseRedirect(inbox_url(actor))


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The iCalendar document of the reports a user has due; no login, the secret in the
    address is the credential. An unknown or revoked secret is 404."""
    feed = selectors.feed_by_hash(hash_token(token))
    if feed is None:
        raise Http404("No such calendar.")
    feeds.calendar_feed_used(feed=feed)
    entry = services.absolute(services.entry_path(feed.organisation))
    body = ical.reports_calendar(
        organisation=feed.organisation,
        feed_id=feed.pk,
        kpis=selectors.calendar_reports(feed),
        entry_url=entry,
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="carte-reports.ics"'
    response["Cache-Control"] = "private, max-age=900"
    return response


urlpatterns: list[URLPattern] = [
    path(f"{P}/", inbox, name="inbox"),
    path(f"{P}/read-all/", notices_read_all, name="inbox_read_all"),
    path(f"{P}/<id:notice>/open/", notice_open, name="inbox_open"),
    path(f"{P}/<id:notice>/read/", notice_read, name="inbox_read"),
    path(f"{P}/calendar/new/", calendar_create, name="calendar_create"),
    path(f"{P}/calendar/revoke/", calendar_revoke, name="calendar_revoke"),
]
