"""The inbox and calendar-feed API: own notices only, filters, pagination, mark read,
the calendar address returned once; anyone else's notice 404, an outsider 404 on every
operation, bounded queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from carte.conftest import Persona
from carte.core.clock import as_of
from carte.core.testing import assert_constant_queries, assert_problem
from carte.operations.choices import NoticeKind
from carte.operations.models import CalendarFeed, Notice
from carte.operations.services import notices
from carte.operations.tests.conftest import Ops
from carte.organisations.models import User
from carte.organisations.services import hash_token
from carte.organisations.testing import Operation, api_operations, outsider_failures, outsider_paths

pytestmark = pytest.mark.django_db

API = "/api/v1/orgs/acme"


def tell(ops: Ops, user: User, n: int, kind: str = NoticeKind.ESCALATED) -> Notice:
    with as_of(dt.datetime(2026, 6, 1, 9, n % 60, tzinfo=dt.UTC)):
        notices.notify(
            organisation=ops.org,
            users=[user],
            kind=kind,
            key=f"test:{n}",
            title=f"Notice {n}",
            body="The benefits tracker shows a shortfall.",
            url="/o/acme/operations/escalations/",
        )
    return Notice.objects.get(recipient=user, key=f"test:{n}")


def test_it_lists_my_notices_unread_first_with_filters_and_pages(ops: Ops) -> None:
    tell(ops, ops.manager.user, 1, NoticeKind.DECISION)
    read = tell(ops, ops.manager.user, 2)
    tell(ops, ops.manager.user, 3)
    tell(ops, ops.owner.user, 4)
    Notice.objects.filter(pk=read.pk).update(read_at=dt.datetime(2026, 6, 2, tzinfo=dt.UTC))
    api = ops.manager.api
    body = api.get(f"{API}/inbox").json()
    assert body["count"] == 3
    assert [n["title"] for n in body["items"]] == ["Notice 3", "Notice 1", "Notice 2"]
    first = body["items"][0]
    assert first["unread"] is True and first["read_at"] is None and first["emailed"] is False
    assert first["kind"] == "escalated" and first["kind_label"] == "Escalated to you"
    assert first["url"] == "http://127.0.0.1:8000/o/acme/operations/escalations/"
    newest = api.get(f"{API}/inbox", ordering="newest", page_size=2).json()
    assert [n["title"] for n in newest["items"]] == ["Notice 3", "Notice 2"]
    assert newest["count"] == 3
    assert [n["title"] for n in api.get(f"{API}/inbox", kind="decision").json()["items"]] == [
        "Notice 1"
    ]
    assert [n["title"] for n in api.get(f"{API}/inbox", unread="false").json()["items"]] == [
        "Notice 2"
    ]
    assert api.get(f"{API}/inbox/unread-count").json() == {"unread": 2}
    bad = api.get(f"{API}/inbox", kind="gossip")
    assert_problem(bad, 422, "kind")


def test_it_marks_one_and_all_read_and_never_another_user_s(ops: Ops) -> None:
    mine = tell(ops, ops.manager.user, 1)
    tell(ops, ops.manager.user, 2)
    theirs = tell(ops, ops.owner.user, 3)
    api = ops.manager.api
    response = api.post(f"{API}/inbox/{mine.pk}/read")
    assert response.status_code == 200
    assert response.json()["unread"] is False and response.json()["read_at"]
    assert_problem(api.post(f"{API}/inbox/{theirs.pk}/read"), 404)
    assert_problem(ops.director.api.post(f"{API}/inbox/{theirs.pk}/read"), 404)
    assert_problem(api.post(f"{API}/inbox/999999/read"), 404)
    assert api.post(f"{API}/inbox/read-all").json() == {"marked": 1}
    assert api.post(f"{API}/inbox/read-all").json() == {"marked": 0}
    assert Notice.objects.get(pk=theirs.pk).read_at is None


def test_it_makes_a_calendar_address_once_and_revokes_it(ops: Ops, client: Any) -> None:
    api = ops.operative.api
    assert api.get(f"{API}/calendar-feed").json() == {
        "active": False,
        "created_at": None,
        "last_used_at": None,
    }
    made = api.post(f"{API}/calendar-feed")
    assert made.status_code == 201
    address = made.json()["url"]
    assert address.startswith("http://127.0.0.1:8000/calendar/cal_")
    raw = address.rsplit("/", 1)[1].removesuffix(".ics")
    feed = CalendarFeed.objects.get()
    assert feed.token_hash == hash_token(raw)
    state = api.get(f"{API}/calendar-feed").json()
    assert state["active"] is True and "url" not in state
    assert client.get(f"/calendar/{raw}.ics").status_code == 200
    second = api.post(f"{API}/calendar-feed").json()["url"]
    assert second != address
    assert client.get(f"/calendar/{raw}.ics").status_code == 404  # the old one stopped
    assert api.post(f"{API}/calendar-feed/revoke").json()["active"] is False
    assert_problem(api.post(f"{API}/calendar-feed/revoke"), 404)
    assert not CalendarFeed.objects.filter(revoked_at__isnull=True).exists()


def inbox_operations(client: Any) -> list[Operation]:
    return api_operations(
        client,
        lambda _, op: op["operationId"].startswith(("operations_inbox", "operations_calendar")),
    )


def test_it_answers_404_to_an_outsider_on_every_inbox_operation(
    ops: Ops, outsider: Persona, client: Any, other_org: Any
) -> None:
    notice = tell(ops, ops.manager.user, 1)
    ops.manager.api.post(f"{API}/calendar-feed")
    feed = CalendarFeed.objects.get()
    operations = inbox_operations(client)
    assert {o["operationId"] for _, _, o in operations} == {
        "operations_inbox_list",
        "operations_inbox_unread_count",
        "operations_inbox_read",
        "operations_inbox_read_all",
        "operations_calendar_feed_retrieve",
        "operations_calendar_feed_create",
        "operations_calendar_feed_revoke",
    }
    calls = [
        (method, path, None)
        for method, template, _ in operations
        for path in outsider_paths(template, {"{id}": notice}, ops.org.slug, other_org.slug)
    ]
    assert outsider_failures(outsider.api, calls) == []
    notice.refresh_from_db()
    feed.refresh_from_db()
    assert notice.read_at is None and feed.revoked_at is None
    assert CalendarFeed.objects.count() == 1


def test_the_inbox_list_makes_the_same_queries_at_3_and_60_notices(ops: Ops) -> None:
    for n in range(3):
        tell(ops, ops.manager.user, n)

    def grow() -> None:
        for n in range(3, 60):
            tell(ops, ops.manager.user, n)

    assert_constant_queries(lambda: ops.manager.api.get(f"{API}/inbox", page_size=100), grow)
