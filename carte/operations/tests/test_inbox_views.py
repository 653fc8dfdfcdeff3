"""The inbox pages: only the user's own notices, unread first and marked by text, filters,
following a link marks it read, mark one or all read, the Calendar section; another
user's notice and every page for an outsider are 404; bounded queries."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse

from carte.conftest import Persona
from carte.core.clock import as_of
from carte.core.testing import assert_constant_queries
from carte.operations.choices import NoticeKind
from carte.operations.models import CalendarFeed, Notice
from carte.operations.services import notices
from carte.operations.tests.conftest import Ops
from carte.organisations.models import User

pytestmark = pytest.mark.django_db


def url(name: str, *args: Any, org: str = "acme") -> str:
    return reverse(f"operations:{name}", args=[org, *args])


def tell(
    ops: Ops,
    user: User,
    n: int,
    kind: str = NoticeKind.ESCALATED,
    moment: dt.datetime | None = None,
    link: str = "/o/acme/operations/escalations/",
) -> Notice:
    with as_of(moment or dt.datetime(2026, 6, 1, 9, n % 60, tzinfo=dt.UTC)):
        notices.notify(
            organisation=ops.org,
            users=[user],
            kind=kind,
            key=f"test:{kind}:{n}",
            title=f"Notice {n}: the RAID log of programme {n} needs your call",
            body="Supplier slippage threatens the gate review.",
            url=link,
        )
    return Notice.objects.get(recipient=user, key=f"test:{kind}:{n}")


def titles(content: bytes) -> list[str]:
    found = re.findall(
        r'data-testid="notice-title">\s*(?:<a [^>]+>)?(Notice \d+):', content.decode()
    )
    return [f"{t}:" for t in found]


def test_it_lists_only_my_notices_unread_first_and_says_which_are_unread(ops: Ops) -> None:
    old = tell(ops, ops.manager.user, 1)
    tell(ops, ops.manager.user, 2)
    newest_read = tell(ops, ops.manager.user, 3)
    tell(ops, ops.owner.user, 4)  # someone else's
    Notice.objects.filter(pk=newest_read.pk).update(read_at=dt.datetime(2026, 6, 2, tzinfo=dt.UTC))
    response = ops.manager.client.get(url("inbox"))
    assert response.status_code == 200
    page = response.content.decode()
    assert [t.split(":")[0] for t in titles(response.content)] == [
        "Notice 2",
        "Notice 1",
        "Notice 3",
    ]
    assert "2 unread notices" in page
    assert page.count(">Unread</span>") == 2 and page.count(">Read</span>") == 1
    assert url("inbox_open", old.pk) in page
    newest = ops.manager.client.get(url("inbox"), {"ordering": "newest"})
    assert [t.split(":")[0] for t in titles(newest.content)] == ["Notice 3", "Notice 2", "Notice 1"]


def test_it_filters_by_kind_and_read_state_and_answers_htmx_with_the_list(ops: Ops) -> None:
    tell(ops, ops.manager.user, 1, kind=NoticeKind.DECISION)
    read = tell(ops, ops.manager.user, 2)
    tell(ops, ops.manager.user, 3)
    Notice.objects.filter(pk=read.pk).update(read_at=dt.datetime(2026, 6, 2, tzinfo=dt.UTC))
    client = ops.manager.client
    decisions = client.get(url("inbox"), {"kind": "decision"})
    assert [t.split(":")[0] for t in titles(decisions.content)] == ["Notice 1"]
    unread = client.get(url("inbox"), {"unread": "true", "kind": "escalated"})
    assert [t.split(":")[0] for t in titles(unread.content)] == ["Notice 3"]
    partial = client.get(url("inbox"), {"unread": "false"}, headers={"HX-Request": "true"})
    assert [t.split(":")[0] for t in titles(partial.content)] == ["Notice 2"]
    assert b"<html" not in partial.content
    bad = client.get(url("inbox"), {"kind": "gossip"})
    assert bad.status_code == 200
    assert b"kind:" in bad.content and len(titles(bad.content)) == 3


def test_following_a_notice_marks_it_read_and_goes_to_its_page(ops: Ops) -> None:
    notice = tell(ops, ops.manager.user, 1)
    response = ops.manager.client.get(url("inbox_open", notice.pk))
    assert response.status_code == 302
    assert response["Location"] == "/o/acme/operations/escalations/"
    notice.refresh_from_db()
    assert notice.read_at is not None
    elsewhere = tell(ops, ops.manager.user, 2, link="https://evil.example/phish")
    response = ops.manager.client.get(url("inbox_open", elsewhere.pk))
    assert response["Location"] == url("inbox")


def test_mark_one_read_with_htmx_and_mark_all_read(ops: Ops) -> None:
    first = tell(ops, ops.manager.user, 1)
    tell(ops, ops.manager.user, 2)
    theirs = tell(ops, ops.owner.user, 3)
    client = ops.manager.client
    swapped = client.post(url("inbox_read", first.pk), headers={"HX-Request": "true"})
    assert swapped.status_code == 200
    assert b">Read</span>" in swapped.content and b"Mark read" not in swapped.content
    first.refresh_from_db()
    assert first.read_at is not None
    response = client.post(url("inbox_read_all"))
    assert response.status_code == 302
    assert not Notice.objects.filter(recipient=ops.manager.user, read_at__isnull=True).exists()
    assert Notice.objects.get(pk=theirs.pk).read_at is None
    assert b"Nothing unread" in client.get(url("inbox")).content


def test_another_user_s_notice_is_404_and_untouched(ops: Ops) -> None:
    theirs = tell(ops, ops.owner.user, 1)
    for name in ("inbox_open", "inbox_read"):
        assert ops.manager.client.get(url(name, theirs.pk)).status_code == 404
        assert ops.manager.client.post(url(name, theirs.pk)).status_code == 404
    assert ops.director.client.get(url("inbox_open", theirs.pk)).status_code == 404
    assert Notice.objects.get(pk=theirs.pk).read_at is None


def test_the_calendar_section_makes_shows_once_and_revokes_an_address(ops: Ops) -> None:
    client = ops.operative.client
    assert b"You have no calendar address." in client.get(url("inbox")).content
    made = client.post(url("calendar_create"), headers={"HX-Request": "true"})
    assert made.status_code == 200
    address = re.search(rb'data-testid="calendar-url">([^<]+)<', made.content)
    assert address is not None
    link = address.group(1).decode()
    assert link.startswith("http://127.0.0.1:8000/calendar/cal_") and link.endswith(".ics")
    feed = CalendarFeed.objects.get()
    assert feed.user == ops.operative.user and feed.revoked_at is None
    page = client.get(url("inbox")).content
    assert link.encode() not in page  # shown once
    assert b"Your calendar address is live" in page
    # Without htmx the whole page comes back, with the address.
    again = client.post(url("calendar_create"))
    assert again.status_code == 200 and b'data-testid="calendar-url"' in again.content
    assert CalendarFeed.objects.filter(revoked_at__isnull=True).count() == 1
    response = client.post(url("calendar_revoke"))
    assert response.status_code == 302
    assert not CalendarFeed.objects.filter(revoked_at__isnull=True).exists()
    assert client.post(url("calendar_revoke")).status_code == 404


def test_anonymous_visitors_are_sent_to_the_login(ops: Ops) -> None:
    from django.test import Client

    response = Client().get(url("inbox"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_another_organisation_gets_404_on_every_inbox_page(
    ops: Ops, outsider: Persona, other_org: Any
) -> None:
    from carte.operations.views.inbox import urlpatterns

    notice = tell(ops, ops.manager.user, 1)
    feed_count = CalendarFeed.objects.count()
    assert {p.name for p in urlpatterns} >= {"inbox", "inbox_open", "calendar_create"}
    for pattern in urlpatterns:
        kwargs = {"notice": notice.pk} if "notice" in pattern.pattern.converters else {}
        for slug in (ops.org.slug, other_org.slug) if kwargs else (ops.org.slug,):
            path = reverse(f"operations:{pattern.name}", kwargs={"org": slug, **kwargs})
            assert outsider.client.get(path).status_code == 404, path
            assert outsider.client.post(path).status_code == 404, path
    notice.refresh_from_db()
    assert notice.read_at is None
    assert CalendarFeed.objects.count() == feed_count


def test_the_inbox_page_makes_the_same_queries_at_3_and_60_notices(ops: Ops) -> None:
    for n in range(3):
        tell(ops, ops.manager.user, n)
    ops.manager.client.post(url("calendar_create"))

    def grow() -> None:
        for n in range(3, 60):
            tell(ops, ops.manager.user, n, kind=NoticeKind.DECISION if n % 2 else "escalated")

    assert_constant_queries(lambda: ops.manager.client.get(url("inbox")), grow)


def test_every_page_of_the_organisation_links_the_inbox_with_the_unread_count(ops: Ops) -> None:
    home = reverse("org_home", args=[ops.org.slug])
    link = re.compile(r'data-testid="inbox-link"[^>]*>Inbox(.*?)</a>')
    found = link.search(ops.manager.client.get(home).content.decode())
    assert found is not None and found.group(1) == ""
    tell(ops, ops.manager.user, 1)
    tell(ops, ops.manager.user, 2)
    found = link.search(ops.manager.client.get(home).content.decode())
    assert found is not None and '>2<span class="visually-hidden"> unread</span>' in found.group(1)
    assert b'data-testid="inbox-link"' not in ops.manager.client.get(reverse("tokens")).content
