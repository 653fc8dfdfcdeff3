"""The operations lists' filters, shared by the pages and the API: each reads from a
page's query string (`FromQuery`) or is declared as the API's query parameters."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, Literal

from django.db.models import F, Q
from ninja import Field, FilterSchema, Schema

from carte.core.clock import today
from carte.core.listing import FromQuery, ListFilter
from carte.operations.choices import (
    OPEN_IMPROVEMENTS,
    ChangeState,
    ImprovementStatus,
    ItemKind,
    NoticeKind,
)

QUEUE_ORDER = ("queue_rank", "queue_at", "id")  # see selectors.changes._queue_annotate


class ReportsDueFilter(FromQuery, Schema):
    """Which due reports to list: only overdue ones, only mine (the KPIs I report), one
    service, one delivering PMO; read from the page's query string like every list's."""

    overdue: bool = Field(False, description="Only reports past their due date.")
    mine: bool = Field(False, description="Only the KPIs the caller reports.")
    service: int | None = Field(None, description="One service (id).")
    pmo: int | None = Field(None, description="Services delivered by this PMO (id).")


class InboxFilter(FromQuery, FilterSchema):
    """The inbox's filters, shared by the page and the API."""

    kind: NoticeKind | None = Field(None, description="Only notices of this kind.")
    unread: bool | None = Field(None, description="true: only unread; false: only read.")
    ordering: Literal["unread", "newest"] = Field(
        "unread", description="unread: unread first, then newest; newest: newest first."
    )

    def filter_unread(self, value: bool | None) -> Q:
        return Q() if value is None else Q(read_at__isnull=value)

    def filter_ordering(self, value: str) -> Q:
        return Q()  # applied by order_by()

    def order_by(self) -> list[Any]:
        newest = ["-created_at", "-id"]
        if self.ordering == "newest":
            return newest
        return ["read_rank", *newest]


class BreachFilter(FromQuery, Schema):
    """Filters of the breaches list (page and API)."""

    service: int | None = Field(default=None, description="Only this service's breaches (its id).")
    customer_group: int | None = Field(default=None, description="Only this customer group's.")
    since: dt.date | None = Field(
        default=None, description="Only periods starting on or after this day."
    )


class HeatmapFilter(FromQuery, Schema):
    """Filters of the heat map (page and API)."""

    category: int | None = Field(
        default=None, description="Only services of this category (its id)."
    )
    pmo: int | None = Field(default=None, description="Only services this PMO delivers (its id).")
    status: Literal["red", "amber", "green", "none"] | None = Field(
        default=None,
        description=(
            "Only services with this status (none: no KPI reported yet). A service takes "
            "the worst status of its KPIs; a KPI is red when its latest value misses a "
            "service level agreed on it."
        ),
    )
    attention: bool = Field(
        default=False, description="Only services whose status is red or amber."
    )


class ItemFilter(ListFilter):
    """A service's risks and issues: by kind, open or closed, level, words in the title."""

    q: str | None = Field(None, description="Words in the title.")
    kind: ItemKind | None = Field(None, description="risk or issue.")
    state: Literal["open", "closed", "all"] = Field(
        "open", description="Open items (the default), closed ones, or both."
    )
    level: int | None = Field(
        None,
        ge=1,
        le=3,
        description="1 service operations, 2 delivery management, 3 service ownership.",
    )
    ordering: str | None = Field(
        None, description="score (highest first by default), level, title, raised."
    )

    ORDERING: ClassVar[dict[str, str]] = {
        "-score": "score",
        "level": "level",
        "title": "title",
        "raised": "created_at",
    }

    def filter_q(self, value: str | None) -> Q:
        return Q(title__icontains=value) if value else Q()

    def filter_state(self, value: str) -> Q:
        return Q() if value == "all" else Q(status=value)

    def order_by(self) -> list[str]:
        key = self.ordering or "-score"
        if key in ("-score", "score"):
            sign = "-" if key == "-score" else ""
            return [f"{sign}score", f"{sign}id"]
        return super().order_by()


class EscalationFilter(ListFilter):
    """The organisation's open items at delivery management and service ownership."""

    q: str | None = Field(None, description="Words in the title.")
    service: int | None = Field(None, description="A service's id.")
    level: int | None = Field(None, ge=2, le=3, description="2 or 3; both by default.")
    mine: bool | None = Field(
        None, description="Only the items at the level the caller answers for."
    )
    ordering: str | None = Field(
        None, description="level (highest first by default), score, since, service."
    )

    ORDERING: ClassVar[dict[str, str]] = {
        "-level": "level",
        "score": "score",
        "since": "level_since",
        "service": "service__code",
    }

    def filter_q(self, value: str | None) -> Q:
        return Q(title__icontains=value) if value else Q()

    def filter_service(self, value: int | None) -> Q:
        return Q(service_id=value) if value else Q()

    def filter_mine(self, value: bool | None) -> Q:
        return Q()  # needs the actor: applied by `escalations()`

    def order_by(self) -> list[str]:
        key = self.ordering or "-level"
        if key in ("-level", "level"):
            sign = "-" if key == "-level" else ""
            return [f"{sign}level", "-score", "id"]
        return super().order_by()


class ChangeFilter(ListFilter):
    """A service's change requests, or the organisation's queue: by state, service, text,
    and "waiting for me" (submitted on a service I own, approved on one I manage)."""

    q: str | None = Field(None, description="Search in the title and description.")
    state: ChangeState | None = Field(
        None,
        description="Only this state; the queue shows submitted and approved ones by default.",
    )
    service: int | None = Field(None, description="Only this service (id).")
    mine: bool = Field(False, description="Only the changes waiting for the caller.")
    every: bool = Field(
        False, description="Every state, not only what waits: the organisation's register."
    )

    # "queue": submitted first (oldest first), then approved (oldest decision first).
    ORDERING: ClassVar[dict[str, str]] = {
        "queue": "queue_rank",
        "number": "number",
        "submitted": "submitted_at",
        "decided": "decided_at",
        "updated": "updated_at",
    }

    def filter_q(self, value: str | None) -> Q:
        return Q() if not value else Q(title__icontains=value) | Q(description__icontains=value)

    def filter_state(self, value: str | None) -> Q:
        return Q() if not value else Q(state=value)

    def filter_service(self, value: int | None) -> Q:
        return Q() if value is None else Q(service_id=value)

    def filter_mine(self, value: bool) -> Q:
        return Q()  # needs the actor: applied by the selectors

    def filter_every(self, value: bool) -> Q:
        return Q()  # widens the queue's default states: applied by the selector

    def order_by(self) -> list[str]:
        key = self.ordering or next(iter(self.ORDERING))
        if key.removeprefix("-") == "queue":
            return list(QUEUE_ORDER)
        return super().order_by()


class ImprovementFilter(ListFilter):
    q: str | None = Field(None, description="Search in the idea and its benefit.")
    improvement_status: ImprovementStatus | None = Field(
        None, description="Only this status of the improvement."
    )
    open: bool = Field(False, description="Only ideas, in progress and awaiting agreement.")

    ORDERING: ClassVar[dict[str, str]] = {"updated": "updated_at", "title": "title"}

    def filter_q(self, value: str | None) -> Q:
        return (
            Q() if not value else Q(title__icontains=value) | Q(expected_benefit__icontains=value)
        )

    def filter_improvement_status(self, value: str | None) -> Q:
        return Q() if not value else Q(status=value)

    def filter_open(self, value: bool) -> Q:
        return Q(status__in=OPEN_IMPROVEMENTS) if value else Q()

    def order_by(self) -> list[str]:
        if not self.ordering:
            return ["-updated_at", "-id"]
        return super().order_by()


# A person chosen in a register's owner filter: their id, or "mine", the caller's own.
Owner = int | Literal["mine"]
OWNER_HELP = "A person's id, or mine: the caller's own (as a person of the organisation)."


def _owner_q(value: Owner | None) -> Q:
    """An owner by id; "mine" needs the actor, so the selectors apply it."""
    return Q(owner_id=value) if isinstance(value, int) else Q()


class RiskRegisterFilter(ListFilter):
    """The organisation's risks and issues, every service and level: by kind, open or
    closed, level, service, owner and words in the title; worst score first by default."""

    q: str | None = Field(None, description="Words in the title.")
    kind: ItemKind | None = Field(None, description="risk or issue.")
    state: Literal["open", "closed", "all"] = Field(
        "open", description="Open items (the default), closed ones, or both."
    )
    level: int | None = Field(
        None,
        ge=1,
        le=3,
        description="1 service operations, 2 delivery management, 3 service ownership.",
    )
    service: int | None = Field(None, description="Only this service (id).")
    owner: Owner | None = Field(None, description=OWNER_HELP)
    ordering: str | None = Field(
        None,
        description=(
            "-score (worst first, the default), score, -raised (newest first), raised, "
            "level, service, title, owner, due (the next open action's due date); "
            "prefix with '-' to reverse."
        ),
    )

    ORDERING: ClassVar[dict[str, str]] = {
        "-score": "score",
        "raised": "created_at",
        "level": "level",
        "service": "service__code",
        "title": "title",
        "owner": "owner__name",
        "due": "next_due",
    }

    def filter_q(self, value: str | None) -> Q:
        return Q(title__icontains=value) if value else Q()

    def filter_state(self, value: str) -> Q:
        return Q() if value == "all" else Q(status=value)

    def filter_service(self, value: int | None) -> Q:
        return Q() if value is None else Q(service_id=value)

    def filter_owner(self, value: Owner | None) -> Q:
        return _owner_q(value)

    def order_by(self) -> list[Any]:
        key = self.ordering or "-score"
        name = key.removeprefix("-")
        sign = "-" if key.startswith("-") else ""
        if name == "score":
            # Worst first, then the highest level, then the newest.
            return [f"{sign}score", f"{sign}level", f"{sign}id"]
        if name == "due":
            # Items with no open action last, whichever way.
            due = F("next_due")
            return [due.desc(nulls_last=True) if sign else due.asc(nulls_last=True), "-score", "id"]
        return super().order_by()


class ActionRegisterFilter(ListFilter):
    """Every action of the organisation's risks and issues: by owner (or mine), open or
    done, overdue only, service and words; by due date (soonest first) by default."""

    q: str | None = Field(None, description="Words in the action or in its item's title.")
    owner: Owner | None = Field(None, description=OWNER_HELP)
    state: Literal["open", "done", "all"] = Field(
        "open", description="Open actions (the default), done ones, or both."
    )
    overdue: bool = Field(False, description="Only open actions past their due date.")
    service: int | None = Field(None, description="Only this service's (id).")
    ordering: str | None = Field(
        None,
        description=(
            "due (soonest first, the default), owner (by name, then due), service, item; "
            "prefix with '-' to reverse."
        ),
    )

    ORDERING: ClassVar[dict[str, str]] = {
        "due": "due_date",
        "owner": "owner__name",
        "service": "item__service__code",
        "item": "item__title",
    }

    def filter_q(self, value: str | None) -> Q:
        return Q(description__icontains=value) | Q(item__title__icontains=value) if value else Q()

    def filter_owner(self, value: Owner | None) -> Q:
        return _owner_q(value)

    def filter_state(self, value: str) -> Q:
        if value == "all":
            return Q()
        return Q(done_at__isnull=value == "open")

    def filter_overdue(self, value: bool) -> Q:
        return Q(done_at__isnull=True, due_date__lt=today()) if value else Q()

    def filter_service(self, value: int | None) -> Q:
        return Q() if value is None else Q(item__service_id=value)

    def order_by(self) -> list[Any]:
        key = self.ordering or "due"
        sign = "-" if key.startswith("-") else ""
        if key.removeprefix("-") == "owner":
            return [f"{sign}owner__name", f"{sign}due_date", f"{sign}id"]
        return super().order_by()
