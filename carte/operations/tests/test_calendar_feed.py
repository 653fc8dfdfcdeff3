"""The calendar feed: a valid iCalendar document (parsed back with icalendar) holding one
all-day event per report the user has due (60 days ahead, and those overdue), with
stable UIDs; the secret is stored hashed; revoked, replaced or unknown secrets and
former members get 404; reading it stamps `last_used_at`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from icalendar import Calendar

from carte.core.clock import as_of
from carte.core.models import AuditEntry
from carte.operations.choices import Frequency, ReporterRole
from carte.operations.models import KPI, CalendarFeed
from carte.operations.services.feeds import calendar_feed_create, calendar_feed_revoke
from carte.operations.services.measurements import refresh_kpis
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import KPIFactory
from carte.organisations.models import Membership
from carte.organisations.services import hash_token

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 20, 9, tzinfo=dt.UTC)


def kpi(ops: Ops, name: str, frm: str, role: str = ReporterRole.OPERATIVE, **kw: Any) -> KPI:
    made: KPI = KPIFactory(
        service=kw.pop("service", ops.service),
        name=name,
        reporter_role=role,
        reporting_from=dt.date.fromisoformat(frm),
        **kw,
    )
    refresh_kpis([made])
    made.refresh_from_db()
    return made


def read(raw: str) -> Any:
    with as_of(NOW):
        return Client().get(f"/calendar/{raw}.ics")


def test_it_lists_the_user_s_reports_due_as_all_day_events(ops: Ops) -> None:
    overdue = kpi(ops, "Status packs on time", "2026-01-01")  # Jan due 5 Feb
    weekly = kpi(ops, "Risk register currency", "2026-03-16", frequency=Frequency.WEEKLY)
    kpi(ops, "Forecast accuracy", "2026-06-01")  # July 5: beyond 60 days
    kpi(ops, "Gate reviews on plan", "2026-01-01", role=ReporterRole.MANAGER)  # not mine
    kpi(ops, "Training satisfaction", "2026-01-01", service=ops.other_service)  # not mine
    with as_of(NOW):
        _, raw = calendar_feed_create(actor=ops.operative.actor)
    response = read(raw)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    assert calendar["VERSION"] == "2.0" and "Carte" in str(calendar["PRODID"])
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert list(events) == [
        f"kpi-{overdue.pk}-2026-01-01@carte",
        f"kpi-{weekly.pk}-2026-03-16@carte",
    ]
    jan = events[f"kpi-{overdue.pk}-2026-01-01@carte"]
    assert str(jan["SUMMARY"]) == "Report Status packs on time (REP) for Jan 2026"
    assert jan.decoded("DTSTART") == dt.date(2026, 2, 5)
    assert jan.decoded("DTEND") == dt.date(2026, 2, 6)
    assert str(jan["URL"]) == "http://127.0.0.1:8000/o/acme/operations/reports/enter/"
    assert "OVERDUE" in str(jan["DESCRIPTION"])
    week = events[f"kpi-{weekly.pk}-2026-03-16@carte"]
    assert str(week["SUMMARY"]) == "Report Risk register currency (REP) for 2026-W12"
    assert week.decoded("DTSTART") == dt.date(2026, 3, 27)  # Sunday 22 March + 5 days
    assert "OVERDUE" not in str(week["DESCRIPTION"])
    # Read again: the same events with the same UIDs (calendars update them in place).
    again = Calendar.from_ical(read(raw).content)
    assert [str(e["UID"]) for e in again.walk("VEVENT")] == list(events)


def test_the_secret_is_stored_hashed_and_reading_stamps_last_use(ops: Ops) -> None:
    with as_of(NOW):
        feed, raw = calendar_feed_create(actor=ops.manager.actor)
    assert raw.startswith("cal_") and len(raw) > 40
    stored = CalendarFeed.objects.get(pk=feed.pk)
    assert stored.token_hash == hash_token(raw) and raw not in stored.token_hash
    assert stored.created_at == NOW and stored.last_used_at is None
    assert AuditEntry.objects.filter(object_id=feed.pk, action="create").exists()
    assert read(raw).status_code == 200
    stored.refresh_from_db()
    assert stored.last_used_at is not None
    assert Calendar.from_ical(read(raw).content).walk("VEVENT") == []


def test_revoked_replaced_unknown_or_former_members_get_404(ops: Ops) -> None:
    first, old = calendar_feed_create(actor=ops.owner.actor)
    second, new = calendar_feed_create(actor=ops.owner.actor)
    first.refresh_from_db()
    assert first.revoked_at is not None and second.revoked_at is None
    assert read(old).status_code == 404
    assert read(new).status_code == 200
    assert read("cal_nothing-like-it").status_code == 404
    assert read(new[:-1]).status_code == 404
    Membership.objects.filter(user=ops.owner.user).update(archived_at=NOW)
    assert read(new).status_code == 404
    Membership.objects.filter(user=ops.owner.user).update(archived_at=None)
    calendar_feed_revoke(actor=ops.owner.actor, feed=second)
    assert read(new).status_code == 404


def test_nobody_revokes_another_user_s_feed(ops: Ops) -> None:
    from carte.core.errors import DomainError

    feed, raw = calendar_feed_create(actor=ops.owner.actor)
    with pytest.raises(DomainError) as caught:
        calendar_feed_revoke(actor=ops.director.actor, feed=feed)
    assert caught.value.code == "not_found"
    with pytest.raises(DomainError):
        calendar_feed_revoke(actor=ops.system, feed=feed)
    assert read(raw).status_code == 200


def test_one_user_has_one_live_feed_per_organisation(ops: Ops) -> None:
    from django.db import IntegrityError, transaction

    calendar_feed_create(actor=ops.owner.actor)
    calendar_feed_create(actor=ops.owner.actor)
    calendar_feed_create(actor=ops.manager.actor)
    assert CalendarFeed.objects.filter(revoked_at__isnull=True).count() == 2
    live = CalendarFeed.objects.get(user=ops.owner.user, revoked_at__isnull=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        CalendarFeed.objects.create(
            organisation=ops.org, user=ops.owner.user, token_hash="x" * 64, created_at=NOW
        )
    assert CalendarFeed.objects.get(user=ops.owner.user, revoked_at__isnull=True) == live
