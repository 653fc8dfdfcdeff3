"""What `carte notify` does: the sweeps that find what is due, and the e-mails.

`notify_due()` records a notice (through `notices.notify_many`, keyed, so once however
often it runs) for each KPI report due within three days, each report overdue, each
service level missed lately (one per breach, whatever the number of customer groups that
agreed the level) and each decision waiting in the lifecycle (a proposal for the
Directors, a pilot ready for the Owner's sign-off, a closure for the Owner's approval:
the lifecycle may not call operations, so the sweep finds them). Escalations, changes
and improvements waiting for a decision are recorded when they happen, by the services
that make them. `deliver()` then e-mails every notice not yet e-mailed: each is claimed
with a conditional UPDATE before it is sent, so two machines running at once never send
the same one; a notice whose sending fails is released for the next run.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.template.loader import render_to_string
from django.urls import reverse

from carte.catalogue.choices import ServiceRoleKind
from carte.core.clock import now, today
from carte.core.errors import not_found
from carte.lifecycle.selectors.waiting import (
    closures_waiting,
    proposals_waiting,
    sign_offs_waiting,
)
from carte.operations import periods
from carte.operations.choices import NoticeKind
from carte.operations.models import Notice, ServiceLevelTarget
from carte.operations.selectors.due import reports_due
from carte.operations.selectors.levels import missed_levels
from carte.operations.selectors.notices import org_role_users, role_users, unsent
from carte.operations.services import notices
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole
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
    decisions: int = 0

    @property
    def total(self) -> int:
        return self.due + self.overdue + self.level_missed + self.decisions

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.due + other.due,
            self.overdue + other.overdue,
            self.level_missed + other.level_missed,
            self.decisions + other.decisions,
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


def _and(names: list[str]) -> str:
    """ "A", "A and B", "A, B and C"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def level_key(kpi_id: int, level_id: int | None, period: dt.date | str) -> str:
    """What a service-level breach is about: one KPI missing one level (or the level any
    customer group agreed without naming one) for one period, whatever the number of
    customer groups that agreed it."""
    day = period.isoformat() if isinstance(period, dt.date) else period
    return f"level_missed:kpi:{kpi_id}:level:{level_id or 'any'}:{day}"


def _level_drafts(organisation: Organisation, on: dt.date) -> list[notices.Draft]:
    """One notice per breach: the targets of a KPI at one level, missed for one period,
    make one notice naming every customer group that agreed them."""
    rows = missed_levels(organisation, on)
    levels = dict(
        ServiceLevelTarget.objects.filter(
            pk__in={r["kpi__level_targets__id"] for r in rows}
        ).values_list("pk", "level_id")
    )
    breaches: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        level = levels.get(row["kpi__level_targets__id"])
        breaches.setdefault(level_key(row["kpi_id"], level, row["period"]), []).append(row)
    people = role_users(organisation, (r["kpi__service_id"] for r in rows), BOSSES)
    drafts = []
    for key, group in breaches.items():
        row = group[0]
        service_id = row["kpi__service_id"]
        unit = row["kpi__unit"]
        space = "" if unit in ("%", "") else " "
        period = periods.label(row["period"], row["kpi__frequency"])
        value = f"{_number(row['value'])}{space}{unit}"
        aims: dict[str, list[str]] = {}
        for each in sorted(group, key=lambda r: r["kpi__level_targets__customer_group__name"]):
            aim = f"{_number(each['kpi__level_targets__target'])}{space}{unit}"
            aims.setdefault(aim, []).append(each["kpi__level_targets__customer_group__name"])
        agreed = "; ".join(f"the {aim} agreed with {_and(names)}" for aim, names in aims.items())
        groups = sum(len(names) for names in aims.values())
        whom = "the customer group" if groups == 1 else "the customer groups"
        drafts.append(
            notices.Draft(
                [
                    *people.get((service_id, ServiceRoleKind.MANAGER), []),
                    *people.get((service_id, ServiceRoleKind.OWNER), []),
                ],
                kind=NoticeKind.LEVEL_MISSED,
                key=key,
                title=(
                    f"Service level missed ({row['kpi__service__code']}, {period}): "
                    f"{row['kpi__level_targets__statement']}"
                ),
                body=(
                    f"{row['kpi__name']} was {value} for {period}, against {agreed}. "
                    "Record the breach in the service review and agree any recovery action "
                    f"with {whom}."
                ),
                url=service_path(organisation, service_id),
            )
        )
    return drafts


def _decision_drafts(organisation: Organisation) -> list[notices.Draft]:
    """The decisions waiting for someone: each proposal for the organisation's Directors,
    each pilot ready for sign-off and each closure for the service's Owners. Keyed by the
    proposal's or the closure's time (a service proposed again is a new decision) and by
    the pilot's result."""
    drafts = []
    proposals = proposals_waiting(organisation)
    directors = org_role_users(organisation, OrgRole.DIRECTOR) if proposals else []
    for service in proposals:
        since = service.stage_changed_at or service.created_at
        drafts.append(
            notices.Draft(
                directors,
                kind=NoticeKind.DECISION,
                key=f"decision:proposal:{service.pk}:{since.isoformat()}",
                title=f"The proposal to set up {service.name} waits for your decision",
                body=(
                    f"{service.name} is proposed. Approve its set-up, defer it or reject it "
                    "on its Lifecycle tab."
                    + (f"\n\nIntended outcome: {service.outcome}" if service.outcome else "")
                )[:2000],
                url=reverse("lifecycle:service", args=[organisation.slug, service.pk]),
            )
        )
    pilots = sign_offs_waiting(organisation)
    owners = role_users(organisation, (p.service_id for p in pilots), [ServiceRoleKind.OWNER])
    for pilot in pilots:
        service = pilot.service
        assert pilot.result_at is not None  # selected so
        drafts.append(
            notices.Draft(
                owners.get((service.pk, ServiceRoleKind.OWNER), []),
                kind=NoticeKind.DECISION,
                key=f"decision:sign_off:pilot:{pilot.pk}:{pilot.result_at.isoformat()}",
                title=f"The pilot of {service.name} waits for your sign-off",
                body=(
                    f"Pilot {pilot.number} of {service.name} is ready for sign-off. Sign it "
                    "off, or send it back for another iteration, on its Lifecycle tab."
                ),
                url=reverse("lifecycle:service", args=[organisation.slug, service.pk]),
            )
        )
    closing = closures_waiting(organisation)
    owners = role_users(organisation, (s.pk for s in closing), [ServiceRoleKind.OWNER])
    for service in closing:
        since = service.stage_changed_at or service.created_at
        drafts.append(
            notices.Draft(
                owners.get((service.pk, ServiceRoleKind.OWNER), []),
                kind=NoticeKind.DECISION,
                key=f"decision:closure:{service.pk}:{since.isoformat()}",
                title=f"The closure of {service.name} waits for your approval",
                body=(
                    f"{service.name} is closing. Once its artefacts are decided, approve the "
                    "closure on its Lifecycle tab: the checklist there says what is missing."
                ),
                url=reverse("lifecycle:service", args=[organisation.slug, service.pk]),
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
        decisions=notices.notify_many(
            organisation=organisation, drafts=_decision_drafts(organisation)
        ),
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
