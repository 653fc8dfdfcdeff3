"""The sweeps of `carte notify` (reports due soon and overdue, service levels missed),
the e-mails (each sent once, released on failure) and marking notices read."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMessage

from carte.core.clock import as_of
from carte.core.errors import DomainError
from carte.operations.choices import Direction, NoticeKind, ReporterRole
from carte.operations.models import KPI, Notice, ServiceLevelTarget
from carte.operations.services import notices
from carte.operations.services.measurements import Reading, measurements_record, refresh_kpis
from carte.operations.services.notify import (
    Counts,
    deliver,
    level_key,
    notice_mark_read,
    notices_mark_all_read,
    notify_due,
)
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import KPIFactory

pytestmark = pytest.mark.django_db

RECORDED = dt.datetime(2026, 5, 10, 9, tzinfo=dt.UTC)  # Jan..Apr reported: May due 5 June


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=9, tzinfo=dt.UTC)


def reported_kpi(ops: Ops, role: str = ReporterRole.OPERATIVE, **kw: Any) -> KPI:
    """A monthly KPI of the running service with January to April reported."""
    values = kw.pop("values", None) or ["96", "97", "95", "98"]
    kpi: KPI = KPIFactory(service=ops.service, reporter_role=role, **kw)
    with as_of(RECORDED):
        measurements_record(
            actor=ops.system,
            readings=[
                Reading(kpi, f"2026-0{m}-01", v, row=m) for m, v in enumerate(values, start=1)
            ],
        )
    kpi.refresh_from_db()
    assert kpi.next_due == dt.date(2026, 6, 5)
    return kpi


def notices_of(kind: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for n in Notice.objects.filter(kind=kind).select_related("recipient").order_by("key", "id"):
        found.setdefault(n.key, []).append(n.recipient.email)
    return {k: sorted(v) for k, v in found.items()}


# ---------------------------------------------------------------- reports due


def test_it_tells_the_reporters_three_days_before_a_report_falls_due(ops: Ops) -> None:
    kpi = reported_kpi(ops)
    with as_of(at("2026-06-01")):  # four days before: not yet
        assert notify_due(organisation=ops.org) == Counts()
    with as_of(at("2026-06-02")):
        counts = notify_due(organisation=ops.org)
    assert counts == Counts(due=1)
    assert notices_of(NoticeKind.KPI_DUE) == {
        f"kpi_due:kpi:{kpi.pk}:2026-05-01": ["operative@acme.example"]
    }
    notice = Notice.objects.get()
    assert notice.title == f"Report due in 3 days: {kpi.name} (REP) for May 2026"
    assert "due on 5 June 2026" in notice.body
    assert notice.url == "/o/acme/operations/reports/enter/"
    assert notice.created_at == at("2026-06-02")
    assert notice.organisation == ops.org and notice.emailed_at is None


def test_it_tells_the_reporters_and_the_managers_of_a_report_overdue(ops: Ops) -> None:
    kpi = reported_kpi(ops)
    with as_of(at("2026-06-08")):
        counts = notify_due(organisation=ops.org)
    assert counts == Counts(overdue=2)
    assert notices_of(NoticeKind.KPI_OVERDUE) == {
        f"kpi_overdue:kpi:{kpi.pk}:2026-05-01": [
            "manager@acme.example",
            "operative@acme.example",
        ]
    }
    assert "3 days ago" in Notice.objects.first().body  # type: ignore[union-attr]
    assert not Notice.objects.filter(kind=NoticeKind.KPI_DUE).exists()


def test_it_tells_the_role_that_reports_the_kpi_once_however_often_it_runs(ops: Ops) -> None:
    manager_kpi = reported_kpi(ops, role=ReporterRole.MANAGER)
    with as_of(at("2026-06-03")):
        assert notify_due(organisation=ops.org) == Counts(due=1)
        assert notify_due(organisation=ops.org) == Counts()
    with as_of(at("2026-06-10")):
        # A manager reporting their own KPI is told once, not twice.
        assert notify_due(organisation=ops.org) == Counts(overdue=1)
        assert notify_due(organisation=ops.org, on=dt.date(2026, 6, 11)) == Counts()
    assert notices_of(NoticeKind.KPI_DUE) == {
        f"kpi_due:kpi:{manager_kpi.pk}:2026-05-01": ["manager@acme.example"]
    }
    assert Notice.objects.count() == 2


def test_the_next_period_is_a_new_notice(ops: Ops) -> None:
    kpi = reported_kpi(ops)
    with as_of(at("2026-06-03")):
        notify_due(organisation=ops.org)
    with as_of(at("2026-06-04")):
        measurements_record(actor=ops.operative.actor, readings=[Reading(kpi, "2026-05-01", 97)])
    with as_of(at("2026-07-04")):
        assert notify_due(organisation=ops.org) == Counts(due=1)
    assert sorted(notices_of(NoticeKind.KPI_DUE)) == [
        f"kpi_due:kpi:{kpi.pk}:2026-05-01",
        f"kpi_due:kpi:{kpi.pk}:2026-06-01",
    ]


def test_it_tells_nobody_about_archived_kpis_other_services_or_people_without_a_login(
    ops: Ops,
) -> None:
    archived = reported_kpi(ops)
    KPI.objects.filter(pk=archived.pk).update(archived_at=RECORDED)
    # The other service has nobody in its roles; a KPI of another organisation is not swept.
    other = KPIFactory(service=ops.other_service, reporting_from=dt.date(2026, 5, 1))
    foreign = KPIFactory(reporting_from=dt.date(2026, 5, 1))
    refresh_kpis([other, foreign])
    ops.operative_person.user = None
    ops.operative_person.save(update_fields=["user"])
    reported_kpi(ops)  # reported by the operative, who has no login now
    with as_of(at("2026-06-08")):
        counts = notify_due(organisation=ops.org)
    assert counts == Counts(overdue=1)  # the manager only
    assert list(Notice.objects.values_list("recipient__email", flat=True)) == [
        "manager@acme.example"
    ]


# ---------------------------------------------------------------- service levels missed


def target(
    ops: Ops, kpi: KPI, aim: str, statement: str = "", *, basic: bool = False
) -> ServiceLevelTarget:
    return ServiceLevelTarget.objects.create(
        organisation=ops.org,
        service=ops.service,
        customer_group=ops.group,
        level=None if basic else ops.level,
        kpi=kpi,
        statement=statement or f"At least {aim}% of status packs issued on time",
        target=Decimal(aim),
    )


def test_it_tells_the_managers_and_the_owner_of_a_service_level_missed(ops: Ops) -> None:
    # February's miss is history by now (its report fell due on 5 March); March's report
    # fell due on 5 April, within 35 days, and April's is the latest.
    kpi = reported_kpi(ops, values=["96", "91", "93", "92.5"])
    missed = target(ops, kpi, "95")
    target(ops, kpi, "90", "Nine in ten packs on time", basic=True)  # met every month
    with as_of(at("2026-05-10")):
        counts = notify_due(organisation=ops.org)
        assert notify_due(organisation=ops.org) == Counts()
    assert counts.level_missed == 4  # March and April, two people each
    both = ["manager@acme.example", "owner@acme.example"]
    assert notices_of(NoticeKind.LEVEL_MISSED) == {
        level_key(missed.kpi_id, missed.level_id, "2026-03-01"): both,
        level_key(missed.kpi_id, missed.level_id, "2026-04-01"): both,
    }
    april = Notice.objects.filter(key__endswith="2026-04-01").first()
    assert april is not None
    assert april.title == (
        "Service level missed (REP, Apr 2026): At least 95% of status packs issued on time"
    )
    assert f"{kpi.name} was 92.5% for Apr 2026, against the 95% agreed with Finance" in (april.body)
    assert april.url == f"/o/acme/catalogue/services/{ops.service.pk}/operations/"


def test_a_history_loaded_at_once_alerts_only_about_the_latest_period(ops: Ops) -> None:
    kpi = reported_kpi(ops, values=["80", "80", "80", "80"])
    sla = target(ops, kpi, "95")
    with as_of(at("2026-05-25")):  # March fell due on 5 April: more than 35 days ago
        assert notify_due(organisation=ops.org).level_missed == 2
    assert list(notices_of(NoticeKind.LEVEL_MISSED)) == [
        level_key(sla.kpi_id, sla.level_id, "2026-04-01")
    ]


def test_lower_is_better_misses_above_the_target_and_old_values_are_left(ops: Ops) -> None:
    kpi = reported_kpi(
        ops,
        values=["4", "6", "5", "7"],
        direction=Direction.LOWER,
        target=Decimal(5),
        amber=Decimal(7),
        red=Decimal(9),
        unit="days",
    )
    sla = target(ops, kpi, "5", "Change requests answered within 5 days")
    with as_of(at("2026-06-20")):  # recorded 41 days before: too old to tell
        assert notify_due(organisation=ops.org).level_missed == 0
    with as_of(at("2026-05-12")):
        notify_due(organisation=ops.org)
    assert list(notices_of(NoticeKind.LEVEL_MISSED)) == [
        level_key(sla.kpi_id, sla.level_id, "2026-04-01")
    ]
    missed = Notice.objects.filter(kind=NoticeKind.LEVEL_MISSED).first()
    assert missed is not None
    assert "was 7 days for Apr 2026, against the 5 days" in missed.body


def test_an_archived_target_is_not_missed(ops: Ops) -> None:
    kpi = reported_kpi(ops, values=["80", "80", "80", "80"])
    sla = target(ops, kpi, "95")
    ServiceLevelTarget.objects.filter(pk=sla.pk).update(archived_at=RECORDED)
    with as_of(at("2026-05-12")):
        assert notify_due(organisation=ops.org).level_missed == 0


# ---------------------------------------------------------------- e-mail


def escalate(ops: Ops, *users: Any, key: str = "escalated:item:1:event:1") -> None:
    """What the risks helper does when an item reaches a level."""
    notices.notify(
        organisation=ops.org,
        users=users,
        kind=NoticeKind.ESCALATED,
        key=key,
        title="Escalated to you: supplier late with the portfolio data feed",
        body="Two monthly packs at risk; needs delivery management's call.",
        url="/o/acme/operations/escalations/",
    )


def test_it_e_mails_each_notice_once_with_absolute_links(ops: Ops, settings: Any) -> None:
    settings.CARTE_BASE_URL = "https://carte.example.org"
    settings.DEFAULT_FROM_EMAIL = "pmo@example.org"
    escalate(ops, ops.manager.user, ops.owner.user)
    assert deliver() == 2
    assert deliver() == 0
    assert sorted(m.to[0] for m in mail.outbox) == ["manager@acme.example", "owner@acme.example"]
    message = mail.outbox[0]
    assert message.subject == (
        "[Carte · Acme Group] Escalated to you: supplier late with the portfolio data feed"
    )
    assert message.from_email == "pmo@example.org"
    assert "Two monthly packs at risk" in message.body
    assert "Open it: https://carte.example.org/o/acme/operations/escalations/" in message.body
    assert "https://carte.example.org/o/acme/operations/inbox/" in message.body
    assert not Notice.objects.filter(emailed_at__isnull=True).exists()


def test_it_e_mails_only_active_users_with_an_address_and_up_to_the_limit(ops: Ops) -> None:
    ops.owner.user.is_active = False
    ops.owner.user.save(update_fields=["is_active"])
    escalate(ops, ops.owner.user, ops.manager.user, ops.operative.user, ops.director.user)
    assert deliver(limit=2) == 2
    assert deliver(organisation=ops.outsider.organisation) == 0
    assert deliver(organisation=ops.org) == 1
    assert len(mail.outbox) == 3
    assert Notice.objects.get(recipient=ops.owner.user).emailed_at is None


def test_a_failed_e_mail_is_released_and_the_others_still_go(
    ops: Ops, monkeypatch: pytest.MonkeyPatch
) -> None:
    escalate(ops, ops.manager.user, ops.owner.user, ops.operative.user)
    real = EmailMessage.send

    def flaky(self: EmailMessage, fail_silently: bool = False) -> int:
        if self.to == ["owner@acme.example"]:
            raise ConnectionResetError("the relay hung up")
        return real(self, fail_silently)

    monkeypatch.setattr(EmailMessage, "send", flaky)
    assert deliver() == 2
    assert Notice.objects.get(recipient=ops.owner.user).emailed_at is None
    assert Notice.objects.filter(emailed_at__isnull=False).count() == 2
    monkeypatch.setattr(EmailMessage, "send", real)
    assert deliver() == 1
    assert sorted(m.to[0] for m in mail.outbox) == [
        "manager@acme.example",
        "operative@acme.example",
        "owner@acme.example",
    ]


def test_a_notice_claimed_by_another_process_is_not_sent_again(
    ops: Ops, monkeypatch: pytest.MonkeyPatch
) -> None:
    escalate(ops, ops.manager.user, ops.owner.user)
    from carte.operations.services import notify

    real = notify.message_for

    def the_other_machine_got_there_first(notice: Notice) -> EmailMessage:
        # While this process sends the first, another claims the second.
        Notice.objects.filter(recipient=ops.owner.user).update(emailed_at=RECORDED)
        return real(notice)

    monkeypatch.setattr(notify, "message_for", the_other_machine_got_there_first)
    assert deliver() == 1
    assert [m.to for m in mail.outbox] == [["manager@acme.example"]]


# ---------------------------------------------------------------- read


def test_a_user_marks_their_own_notices_read_and_nobody_else_s(ops: Ops) -> None:
    escalate(ops, ops.manager.user, ops.owner.user)
    escalate(ops, ops.manager.user, key="escalated:item:2:event:5")
    mine = Notice.objects.filter(recipient=ops.manager.user).order_by("id")
    theirs = Notice.objects.get(recipient=ops.owner.user)
    with as_of(at("2026-06-01")):
        read = notice_mark_read(actor=ops.manager.actor, notice=mine[0])
    assert read.read_at == at("2026-06-01")
    with as_of(at("2026-06-02")):
        notice_mark_read(actor=ops.manager.actor, notice=mine[0])  # keeps the first time
    assert Notice.objects.get(pk=read.pk).read_at == at("2026-06-01")
    with pytest.raises(DomainError) as caught:
        notice_mark_read(actor=ops.manager.actor, notice=theirs)
    assert caught.value.code == "not_found"
    with pytest.raises(DomainError):
        notice_mark_read(actor=ops.director.actor, notice=theirs)
    assert Notice.objects.get(pk=theirs.pk).read_at is None
    assert notices_mark_all_read(actor=ops.manager.actor) == 1
    assert notices_mark_all_read(actor=ops.manager.actor) == 0
    assert Notice.objects.get(pk=theirs.pk).read_at is None
    assert notices_mark_all_read(actor=ops.system) == 0


def test_notify_records_each_key_once_per_user(ops: Ops) -> None:
    escalate(ops, ops.manager.user, None, ops.manager.user)
    escalate(ops, ops.manager.user, ops.owner.user)
    assert sorted(Notice.objects.values_list("recipient__email", flat=True)) == [
        "manager@acme.example",
        "owner@acme.example",
    ]
