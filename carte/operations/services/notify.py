"""What `carte notify` does: the sweeps that find what is due, and the e-mails.

`notify_due()` records a notice (through `notices.notify_many`, keyed, so once however
often it runs) for each KPI report due within three days, each report overdue and each
service level missed lately. Escalations and decisions are recorded when they happen, by
the services that make them. `deliver()` then e-mails every notice not yet e-mailed:
each is claimed with a conditional UPDATE before it is sent, so two machines running at
once never send the same one; a notice whose sending fails is released for the next run.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.template.loader import render_to_string
from django.urls import reverse

from carte.catalogue.choices import ServiceRoleKind
from carte.core.clock import now, today
from carte.core.errors import not_found
from carte.operations import periods
from carte.operations.choices import NoticeKind
from carte.operations.models import Notice
from carte.operations.selectors.due import reports_due
from carte.operations.selectors.levels import missed_levels
from carte.operations.selectors.notices import role_users, unsent
from carte.operations.services import notices
from carte.organisations.actor import Actor
from carte.organisations.models import Organisation

log = logging.getLogger(__name__)

DUE_SOON = dt.timedelta(days=3)  # "due soon": a reminder three days ahead
BOSSES = (ServiceRoleKind.MANAGER, ServiceRoleKind.OWNER)


@dataclass
class Counts:
    """How many notices a sweep recorded, by what they are about."""

    due: int = 0
    overdue: int = 0
    level_missed: int = 0

    @property
    def total(self) -> int:
        return self.due + self.overdue + self.level_missed

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.due + other.due,
            self.overdue + other.overdue,
            self.level_missed + other.level_missed,
        )


# ---------------------------------------------------------------- links


def entry_path(organisation: Organisation) -> str:
    """The page where a user enters the reports they have due."""
    return reverse("operations:reports_enter", args=[organisation.slug])


def service_path(organisation: Organisation, service_id: int) -> str:
    """A service's Operations tab."""
    return reverse("operations:service", args=[organisation.slug, service_id])


def absolute(path: str) -> str:
    """An address to put in an e-mail or a calendar: `CARTE_BASE_URL` + the path."""
    if path.startswith(("http://", "https://")):
        return path
    return settings.CARTE_BASE_URL.rstrip("/") + "/" + path.lstrip("/")


# ---------------------------------------------------------------- the sweeps


def _on_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _report_drafts(
    organisation: Organisation, on: dt.date
) -> tuple[list[notices.Draft], list[notices.Draft]]:
    """Notices of reports due within three days, and of reports overdue."""
    actor = Actor.for_system(organisation)
    kpis = list(reports_due(actor=actor, user=None, until=on + DUE_SOON))
    people = role_users(
        organisation,
        (k.service_id for k in kpis),
        {*(k.reporter_role for k in kpis), ServiceRoleKind.MANAGER},
    )
    url = entry_path(organisation)
    due, overdue = [], []
    for kpi in kpis:
        if kpi.next_due is None or kpi.next_period is None:
            continue
        period = periods.label(kpi.next_period, kpi.frequency)
        what = f"{kpi.name} ({kpi.service.code}) for {period}"
        reporters = people.get((kpi.service_id, kpi.reporter_role), [])
        if kpi.next_due >= on:
            days = (kpi.next_due - on).days
            when = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
            due.append(
                notices.Draft(
                    reporters,
                    kind=NoticeKind.KPI_DUE,
                    key=f"kpi_due:kpi:{kpi.pk}:{kpi.next_period.isoformat()}",
                    title=f"Report due {when}: {what}",
                    body=(
                        f"The {period} value of {kpi.name} on {kpi.service.name} is due on "
                        f"{_on_date(kpi.next_due)}. Enter it on your reports page; the "
                        "portfolio status pack reads it from there."
                    ),
                    url=url,
                )
            )
            continue
        late = (on - kpi.next_due).days
        managers = people.get((kpi.service_id, ServiceRoleKind.MANAGER), [])
        overdue.append(
            notices.Draft(
                [*reporters, *managers],
                kind=NoticeKind.KPI_OVERDUE,
                key=f"kpi_overdue:kpi:{kpi.pk}:{kpi.next_period.isoformat()}",
                title=f"Report overdue: {what}",
                body=(
                    f"The {period} value of {kpi.name} on {kpi.service.name} was due on "
                    f"{_on_date(kpi.next_due)}, {late} day{'s' if late != 1 else ''} ago. "
                    "Until it is entered the service's dashboard shows the last value only."
                ),
                url=url,
            )
        )
    return due, overdue


def _number(value: object) -> str:
    text = f"{value:f}" if hasattr(value, "normalize") else str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _level_drafts(organisation: Organisation, on: dt.date) -> list[notices.Draft]:
    rows = missed_levels(organisation, on)
    people = role_users(organisation, (r["kpi__service_id"] for r in rows), BOSSES)
    drafts = []
    for row in rows:
        service_id = row["kpi__service_id"]
        unit = row["kpi__unit"]
        space = "" if unit in ("%", "") else " "
        period = periods.label(row["period"], row["kpi__frequency"])
        value = f"{_number(row['value'])}{space}{unit}"
        aim = f"{_number(row['kpi__level_targets__target'])}{space}{unit}"
        statement = row["kpi__level_targets__statement"]
        drafts.append(
            notices.Draft(
                [
                    *people.get((service_id, ServiceRoleKind.MANAGER), []),
                    *people.get((service_id, ServiceRoleKind.OWNER), []),
                ],
                kind=NoticeKind.LEVEL_MISSED,
                key=f"level_missed:target:{row['kpi__level_targets__id']}:{row['period']}",
                title=f"Service level missed ({row['kpi__service__code']}, {period}): {statement}",
                body=(
                    f"{row['kpi__name']} was {value} for {period}, against the {aim} agreed "
                    f"with {row['kpi__level_targets__customer_group__name']}. Record the "
                    "breach in the service review and agree any recovery action with the "
                    "customer group."
                ),
                url=service_path(organisation, service_id),
            )
        )
    return drafts


def notify_due(*, organisation: Organisation, on: dt.date | None = None) -> Counts:
    """Record the notices of reports due soon, reports overdue and service levels missed
    in the organisation as of `on` (today by default); those already recorded are not
    recorded again. Returns how many were new."""
    day = on or today()
    due, overdue = _report_drafts(organisation, day)
    levels = _level_drafts(organisation, day)
    return Counts(
        due=notices.notify_many(organisation=organisation, drafts=due),
        overdue=notices.notify_many(organisation=organisation, drafts=overdue),
        level_missed=notices.notify_many(organisation=organisation, drafts=levels),
    )


# ---------------------------------------------------------------- e-mail


def message_for(notice: Notice) -> EmailMessage:
    """The plain-text e-mail of a notice, with absolute links."""
    body = render_to_string(
        "operations/email/notice.txt",
        {
            "notice": notice,
            "kind": NoticeKind(notice.kind).label if notice.kind in NoticeKind else "",
            "organisation": notice.organisation,
            "recipient": notice.recipient,
            "link": absolute(notice.url) if notice.url else "",
            "inbox": absolute(reverse("operations:inbox", args=[notice.organisation.slug])),
        },
    )
    subject = f"[Carte · {notice.organisation.name}] {notice.title}"
    return EmailMessage(
        subject=" ".join(subject.split())[:250],
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notice.recipient.email],
    )


def deliver(*, organisation: Organisation | None = None, limit: int | None = None) -> int:
    """E-mail every notice not yet e-mailed (of one organisation, or all), at most `limit`;
    returns how many were sent. Runs outside a transaction: each claim must be seen by
    other processes at once."""
    candidates = unsent(organisation)
    if limit is not None:
        candidates = candidates[:limit]
    pending = list(candidates)
    if not pending:
        return 0
    sent = 0
    with get_connection() as connection:
        for notice in pending:
            claimed = Notice.objects.filter(pk=notice.pk, emailed_at__isnull=True).update(
                emailed_at=now()
            )
            if claimed != 1:
                continue  # another process has it
            try:
                message = message_for(notice)
                message.connection = connection
                message.send(fail_silently=False)
            except Exception:
                # Released for the next run; the others still go out.
                log.exception("Could not e-mail notice %s to %s", notice.pk, notice.recipient)
                Notice.objects.filter(pk=notice.pk).update(emailed_at=None)
                continue
            sent += 1
    return sent


# ---------------------------------------------------------------- the inbox


def _own(actor: Actor, notice: Notice) -> None:
    """A user touches only their own notices: anyone else's is "not found"."""
    if (
        actor.user is None
        or notice.recipient_id != actor.user.pk
        or notice.organisation_id != actor.organisation.pk
    ):
        raise not_found("notice")


def notice_mark_read(*, actor: Actor, notice: Notice) -> Notice:
    """Mark one of the user's notices read (a notice read already keeps its time)."""
    _own(actor, notice)
    if notice.read_at is None:
        moment = now()
        Notice.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=moment)
        notice.read_at = moment
    return notice


def notices_mark_all_read(*, actor: Actor) -> int:
    """Mark every unread notice of the user in this organisation read; returns how many."""
    if actor.user is None:
        return 0
    return Notice.objects.filter(
        recipient_id=actor.user.pk, organisation_id=actor.organisation.pk, read_at__isnull=True
    ).update(read_at=now())


def notices_settle(*, organisation: Organisation, read_before: dt.datetime) -> None:
    """Entering history (the demo): mark the organisation's notices as e-mailed, and those
    created before `read_before` as read, so a first `carte notify` does not e-mail months
    of past news."""
    moment = now()
    recorded = Notice.objects.filter(organisation_id=organisation.pk)
    recorded.filter(emailed_at__isnull=True).update(emailed_at=moment)
    recorded.filter(read_at__isnull=True, created_at__lt=read_before).update(read_at=moment)
