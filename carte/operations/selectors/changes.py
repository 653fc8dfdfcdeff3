"""Reads of change requests, improvements and feedback: a service's lists, the
organisation's change-request queue (and register), a requester's own requests ("My
requests"), satisfaction over time and the Operations tab's section. Every function takes
the actor; single rows are fetched with `get_for`.

The staff read every change request and feedback; anyone else only their own
(`permissions.staff_or_own`), through `my_changes`, `my_feedback` and `my_change_get`, and
a change request's story as `change_story` tells it to them: who moved it by name, and
only the decision's note (the other notes are the team's to one another)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    DateTimeField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, NullIf, TruncMonth
from django.utils import timezone
from django.utils.safestring import SafeString

from carte.catalogue import selectors as catalogue_selectors
from carte.catalogue.models import Service, ServiceCustomer
from carte.catalogue.permissions import managed_service_ids, owned_service_ids
from carte.core.clock import today
from carte.core.errors import forbidden, not_found
from carte.core.listing import get_for
from carte.core.permissions import VIEW, can
from carte.operations.charts import sparkline
from carte.operations.choices import OPEN_IMPROVEMENTS, ChangeState
from carte.operations.filters import QUEUE_ORDER, ChangeFilter, ImprovementFilter
from carte.operations.models import ChangeEvent, ChangeRequest, Feedback, Improvement
from carte.operations.permissions import own_person_ids
from carte.organisations.actor import Actor
from carte.organisations.models import Person

OPEN_STATES = (ChangeState.DRAFT, ChangeState.SUBMITTED, ChangeState.APPROVED)
QUEUE_STATES = (ChangeState.SUBMITTED, ChangeState.APPROVED)
DECIDED_STATES = (ChangeState.APPROVED, ChangeState.REJECTED)
SECTION_ROWS = 5  # rows of each list the Operations tab shows; the pages show the rest


def _require_view(actor: Actor, model: type[Any]) -> None:
    if not can(actor, VIEW, model):
        raise forbidden(f"You are not allowed to see {model._meta.verbose_name_plural}.")


def service_for(actor: Actor, pk: int | str) -> Service:
    """The service of a page or endpoint: 404 if missing or another organisation's."""
    return catalogue_selectors.service_for(
        actor=actor, pk=pk, related=("category", "current_version")
    )


def feedback_customers(actor: Actor, service: Service) -> list[Person]:
    """The live people of the customer groups the service serves (its live SIPOC
    customers): those on whose behalf the PMO records feedback."""
    groups = ServiceCustomer.objects.filter(service=service, archived_at__isnull=True)
    return list(
        Person.objects.filter(
            organisation_id=actor.organisation.pk,
            archived_at__isnull=True,
            customer_group_id__in=groups.values("customer_group_id"),
        )
        .select_related("customer_group")
        .order_by("name", "id")
    )


def _changes(actor: Actor) -> QuerySet[ChangeRequest]:
    return ChangeRequest.objects.filter(organisation_id=actor.organisation.pk).select_related(
        "service", "raised_by", "version", "version_before"
    )


def _waiting_for(actor: Actor) -> Q:
    return Q(state=ChangeState.SUBMITTED, service_id__in=owned_service_ids(actor)) | Q(
        state=ChangeState.APPROVED, service_id__in=managed_service_ids(actor)
    )


def _queue_annotate(qs: QuerySet[ChangeRequest]) -> QuerySet[ChangeRequest]:
    return qs.annotate(
        queue_rank=Case(
            When(state=ChangeState.SUBMITTED, then=Value(0)),
            When(state=ChangeState.APPROVED, then=Value(1)),
            When(state=ChangeState.DRAFT, then=Value(2)),
            default=Value(3),
            output_field=IntegerField(),
        ),
        queue_at=Coalesce("decided_at", "submitted_at", "created_at", output_field=DateTimeField()),
    )


def changes_for_service(
    *, actor: Actor, service: Service, filters: ChangeFilter | None = None
) -> QuerySet[ChangeRequest]:
    """A service's change requests, open ones first (as the queue orders them)."""
    _require_view(actor, ChangeRequest)
    filters = filters or ChangeFilter.model_validate({})
    qs = _queue_annotate(_changes(actor).filter(service=service))
    if filters.mine:
        qs = qs.filter(_waiting_for(actor))
    return filters.apply(qs)


def _person_name(user_ref: str) -> Subquery:
    """The name of the person of the row's organisation who has the login `user_ref` (a
    live one first), for a column of people's names that never shows an e-mail."""
    people = Person.objects.filter(
        organisation_id=OuterRef("organisation_id"), user_id=OuterRef(user_ref)
    ).order_by(F("archived_at").asc(nulls_first=True), "-id")
    return Subquery(people.values("name")[:1], output_field=CharField())


def with_names(qs: QuerySet[ChangeRequest]) -> QuerySet[ChangeRequest]:
    """Each change request with `requester_name` (the person who raised it) and
    `decider_name` (the person who decided it, else their login's full name): names, never
    e-mail addresses, read in the rows' own query."""
    return qs.annotate(
        requester_name=F("raised_by__name"),
        decider_name=Coalesce(
            _person_name("decided_by_id"),
            NullIf(F("decided_by__full_name"), Value("")),
            output_field=CharField(),
        ),
    )


def change_queue(actor: Actor, filters: ChangeFilter | None = None) -> QuerySet[ChangeRequest]:
    """The organisation's change requests awaiting a decision (submitted, oldest first)
    then awaiting implementation (approved); `state` shows another state instead, `every`
    all of them (the register). Each
    row names its requester and decider (`with_names`)."""
    _require_view(actor, ChangeRequest)
    filters = filters or ChangeFilter.model_validate({})
    qs = with_names(_queue_annotate(_changes(actor)))
    if filters.state is None and not filters.every:
        qs = qs.filter(state__in=QUEUE_STATES)
    if filters.mine:
        qs = qs.filter(_waiting_for(actor))
    return filters.apply(qs)


def change_get(
    *, actor: Actor, pk: int | str, service: Service | None = None, action: str = VIEW
) -> ChangeRequest:
    """One change request (of `service` when given): 404 if missing or elsewhere."""
    qs = _changes(actor).select_related("item", "decided_by", "raised_by__customer_group")
    if service is not None:
        qs = qs.filter(service=service)
    return get_for(actor, qs, pk, action=action)


def my_changes(actor: Actor) -> QuerySet[ChangeRequest]:
    """The change requests the actor raised (any of their people in the organisation),
    newest first, archived ones too: whoever suggested a change follows it to the end."""
    return (
        ChangeRequest.objects.filter(
            organisation_id=actor.organisation.pk, raised_by_id__in=own_person_ids(actor)
        )
        .select_related("service")
        .order_by("-created_at", "-id")
    )


def my_change_get(*, actor: Actor, pk: int | str) -> ChangeRequest:
    """One change request the actor raised: 404 for anyone else's, whoever asks."""
    return get_for(actor, my_changes(actor), pk)


def my_feedback(actor: Actor) -> QuerySet[Feedback]:
    """The feedback the actor gave (or the PMO recorded in their name), newest first, with
    the change request a suggestion in it became."""
    return (
        Feedback.objects.filter(
            organisation_id=actor.organisation.pk, person_id__in=own_person_ids(actor)
        )
        .select_related("service", "person", "change_request")
        .order_by("-given_at", "-id")
    )


def shown_to(actor: Actor, change: ChangeRequest) -> ChangeRequest:
    """The change request as `actor` may read it: its requester, when not on the staff's
    side, does not see the staff's link to a risk or issue behind it. The row is only read
    after this (never saved)."""
    if not can(actor, VIEW, change):
        raise not_found("change request")
    if not actor.staff_side:
        change.item_id = None
    return change


@dataclass(frozen=True)
class StoryLine:
    """A move in a change request's story as people read it: "Submitted on 3 Dec 2026 by
    Cass Customer", with its note when the reader may see it. `actor_label` is what the
    API's events show (the recorded label for the staff, the name for anyone else)."""

    id: int
    from_state: str
    to_state: str
    title: str
    at: dt.datetime
    on: dt.date
    by: str
    note: str
    actor_label: str


_MOVE_TITLES: dict[str, str] = {ChangeState.DRAFT: "Raised"}


def people_names(actor: Actor, user_ids: Iterable[int]) -> dict[int, str]:
    """The names of the given logins: their person's name in the organisation, else the
    login's full name; a login with neither is left out (never shown by e-mail). One
    query."""
    ids = {int(i) for i in user_ids}
    if not ids:
        return {}
    rows = (
        get_user_model()
        ._default_manager.filter(pk__in=ids)
        .annotate(
            person_name=Subquery(
                Person.objects.filter(organisation_id=actor.organisation.pk, user_id=OuterRef("pk"))
                .order_by(F("archived_at").asc(nulls_first=True), "-id")
                .values("name")[:1],
                output_field=CharField(),
            )
        )
        .values_list("pk", "person_name", "full_name")
    )
    return {pk: person or full for pk, person, full in rows if person or full}


def change_story(*, actor: Actor, change: ChangeRequest) -> list[StoryLine]:
    """A change request's story, oldest first, for whoever may see the request: the staff
    read every note; its requester reads the decision's note only, and every reader gets
    the people by name. Two queries."""
    if not can(actor, VIEW, change):
        raise not_found("change request")
    events = list(
        ChangeEvent.objects.filter(organisation_id=actor.organisation.pk, change=change).order_by(
            "at", "id"
        )
    )
    names = people_names(actor, (e.actor_id for e in events if e.actor_id is not None))
    staff = actor.staff_side
    lines = []
    for e in events:
        if e.actor_id is not None:
            by = names.get(e.actor_id, "a member of the organisation")
        else:
            by = "Carte" if e.actor_label in ("", "system") else "a former member"
        shown = staff or e.to_state in DECIDED_STATES
        lines.append(
            StoryLine(
                id=e.pk,
                from_state=e.from_state,
                to_state=e.to_state,
                title=_MOVE_TITLES.get(e.to_state, ChangeState(e.to_state).label),
                at=e.at,
                on=timezone.localtime(e.at).date(),
                by=by,
                note=e.note if shown else "",
                actor_label=e.actor_label if staff else by,
            )
        )
    return lines


def change_events(*, actor: Actor, change: ChangeRequest) -> QuerySet[ChangeEvent]:
    """A change request's story, oldest first."""
    _require_view(actor, ChangeEvent)
    return ChangeEvent.objects.filter(
        organisation_id=actor.organisation.pk, change=change
    ).order_by("at", "id")


def change_feedback(*, actor: Actor, change: ChangeRequest) -> list[Feedback]:
    """The feedback a change request came from, if any."""
    _require_view(actor, Feedback)
    return list(
        Feedback.objects.filter(organisation_id=actor.organisation.pk, change_request=change)
        .select_related("person", "customer_group")
        .order_by("-given_at", "-id")
    )


def improvements_for_service(
    *, actor: Actor, service: Service, filters: ImprovementFilter | None = None
) -> QuerySet[Improvement]:
    """The service's continuous-improvement log, latest activity first."""
    _require_view(actor, Improvement)
    filters = filters or ImprovementFilter.model_validate({})
    qs = Improvement.objects.filter(
        organisation_id=actor.organisation.pk, service=service
    ).select_related("raised_by", "agreed_by", "service")
    return filters.apply(qs)


def improvement_get(
    *, actor: Actor, pk: int | str, service: Service | None = None, action: str = VIEW
) -> Improvement:
    qs = Improvement.objects.select_related("service", "raised_by", "agreed_by")
    if service is not None:
        qs = qs.filter(service=service)
    return get_for(actor, qs, pk, action=action)


def feedback_for_service(*, actor: Actor, service: Service) -> QuerySet[Feedback]:
    """Every rating of the service, newest first (PMO staff only)."""
    _require_view(actor, Feedback)
    return (
        Feedback.objects.filter(organisation_id=actor.organisation.pk, service=service)
        .select_related("person", "customer_group", "change_request")
        .order_by("-given_at", "-id")
    )


def _month_starts(months: int, on: dt.date) -> list[dt.date]:
    first = on.replace(day=1)
    starts = []
    year, month = first.year, first.month
    for _ in range(months):
        starts.append(dt.date(year, month, 1))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(starts))


def _round(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def satisfaction(actor: Actor, service: Service, months: int = 12) -> list[dict[str, Any]]:
    """The average rating and number of ratings in each of the last `months` calendar
    months (this one included), oldest first; a month without ratings has average None.
    One aggregate query."""
    _require_view(actor, Feedback)
    months = max(1, min(months, 120))
    starts = _month_starts(months, today())
    since = timezone.make_aware(dt.datetime.combine(starts[0], dt.time.min))
    rows = (
        Feedback.objects.filter(
            organisation_id=actor.organisation.pk,
            service=service,
            archived_at__isnull=True,
            given_at__gte=since,
        )
        .annotate(month=TruncMonth("given_at"))
        .values("month")
        .annotate(average=Avg("rating"), count=Count("id"))
        .order_by("month")
    )
    found: dict[dt.date, tuple[Any, int]] = {}
    for row in rows:
        month = row["month"]
        if isinstance(month, dt.datetime):
            month = timezone.localtime(month).date() if timezone.is_aware(month) else month.date()
        found[month.replace(day=1)] = (row["average"], row["count"])
    return [
        {
            "month": start,
            "average": _round(found.get(start, (None, 0))[0]),
            "count": found.get(start, (None, 0))[1],
        }
        for start in starts
    ]


def overall(monthly: list[dict[str, Any]]) -> tuple[Decimal | None, int]:
    """The average over the months given, weighted by their number of ratings."""
    count = sum(m["count"] for m in monthly)
    if not count:
        return None, 0
    total = sum((m["average"] or 0) * m["count"] for m in monthly)
    return _round(Decimal(total) / count), count


def rating_rag(average: Decimal | None) -> str:
    """How a month's average reads at a glance: 4 and above green, 3 and above amber."""
    if average is None:
        return ""
    return "green" if average >= 4 else "amber" if average >= 3 else "red"


def satisfaction_sparkline(monthly: list[dict[str, Any]]) -> SafeString:
    """The monthly averages as a sparkline, each month's point in its colour."""
    return sparkline(
        [m["average"] for m in monthly],
        [rating_rag(m["average"]) for m in monthly],
        label="Average rating out of 5 per month, oldest first",
    )


def section(actor: Actor, service: Service) -> dict[str, Any]:
    """What the Operations tab shows of changes: open change requests (counts by state
    and the first few), open improvements, and satisfaction over the last 12 months."""
    _require_view(actor, ChangeRequest)
    counts = dict(
        ChangeRequest.objects.filter(
            organisation_id=actor.organisation.pk,
            service=service,
            archived_at__isnull=True,
            state__in=OPEN_STATES,
        )
        .values_list("state")
        .annotate(n=Count("id"))
        .order_by()
    )
    # Only what the section shows, without the lists' joins and filter machinery: the
    # tab is read often and must stay light (issue 5: 50 ms).
    mine = Q(organisation_id=actor.organisation.pk, service=service, archived_at__isnull=True)
    open_changes = list(
        _queue_annotate(ChangeRequest.objects.filter(mine, state__in=OPEN_STATES))
        .only("id", "number", "title", "state")
        .order_by(*QUEUE_ORDER)[:SECTION_ROWS]
    )
    improvements = list(
        Improvement.objects.filter(mine, status__in=OPEN_IMPROVEMENTS)
        .annotate(total=Window(Count("id")))
        .only("id", "title", "status")
        .order_by("-updated_at", "-id")[:SECTION_ROWS]
    )
    improvement_count = improvements[0].total if improvements else 0
    monthly = satisfaction(actor, service, 12)
    average, ratings = overall(monthly)
    return {
        "service": service,
        "change_counts": [(ChangeState(s).label, counts.get(s, 0), s) for s in OPEN_STATES],
        "open_change_total": sum(counts.values()),
        "open_changes": open_changes,
        "improvements": improvements,
        "improvement_total": improvement_count,
        "satisfaction": monthly,
        "satisfaction_average": average,
        "satisfaction_count": ratings,
        "sparkline": satisfaction_sparkline(monthly),
    }
