"""The board: all live services by stage, with counts, filters and each one's age in its
stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    OuterRef,
    Subquery,
    Window,
)
from django.db.models.expressions import OrderBy
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from carte.catalogue.choices import ServiceRoleKind, Stage
from carte.catalogue.models import Category, Service, ServiceRole
from carte.core.permissions import VIEW, require
from carte.lifecycle import machine
from carte.lifecycle.filters import BoardFilter
from carte.lifecycle.models import LifecycleEvent
from carte.lifecycle.selectors.panel import MAIN_PATH, age_label
from carte.organisations.actor import Actor
from carte.organisations.models import PMO, Person

BOARD_STAGES: tuple[str, ...] = (*MAIN_PATH, Stage.DEFERRED, Stage.REJECTED)
# Cards per column: the oldest in their stage first; a column filtered alone shows more.
COLUMN_LIMIT = 20
SINGLE_COLUMN_LIMIT = 1000


@dataclass
class BoardColumn:
    stage: str
    label: str
    count: int
    cards: list[dict[str, Any]]

    @property
    def more(self) -> int:
        return self.count - len(self.cards)


@dataclass
class Board:
    columns: list[BoardColumn]
    total: int
    due_for_closure: int
    options: dict[str, list[tuple[int, str]]]
    # The services due for closure, by name (at most `DUE_SHOWN`), and the threshold of
    # days past which a service waiting in a stage is flagged (`machine.stuck_days`).
    due: list[dict[str, Any]] = field(default_factory=list)
    stuck_days: int = 0

    @property
    def due_more(self) -> int:
        return self.due_for_closure - len(self.due)


DUE_SHOWN = 10


def board(actor: Actor, filters: BoardFilter | None = None) -> Board:
    """All live services by stage (columns with counts), each card with its age in the
    stage; temporary services past their end date flagged. The database counts the
    columns and ranks each column's services (ROW_NUMBER over the stage), so only the
    cards on show are read, whatever the number of services."""
    require(actor, VIEW, LifecycleEvent)
    filters = filters or BoardFilter.model_validate({})
    today = timezone.localdate()
    limit = SINGLE_COLUMN_LIMIT if filters.stage else COLUMN_LIMIT
    stages = (filters.stage,) if filters.stage else BOARD_STAGES
    chosen = filters.filter(
        Service.objects.filter(organisation_id=actor.organisation.pk, stage__in=stages)
    )
    counts = dict(
        chosen.order_by().values_list("stage").annotate(n=Count("id")).values_list("stage", "n")
    )
    due_q = machine.due_for_closure_q(today)
    due = chosen.filter(due_q).count()
    due_rows: list[dict[str, Any]] = (
        [
            dict(row)
            for row in chosen.filter(due_q)
            .order_by("end_date", "code", "id")
            .values("id", "code", "name")[:DUE_SHOWN]
        ]
        if due
        else []
    )
    owner = ServiceRole.objects.filter(
        service=OuterRef("pk"), role=ServiceRoleKind.OWNER, archived_at__isnull=True
    ).values("person__name")[:1]
    ranked = (
        chosen.annotate(since=Coalesce("stage_changed_at", "created_at"))
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("stage")],
                order_by=[
                    OrderBy(F(o.lstrip("-")), descending=o.startswith("-"))
                    for o in filters.order_by()
                ],
            )
        )
        .filter(rank__lte=limit)
        .annotate(
            owner_name=Subquery(owner), due=ExpressionWrapper(due_q, output_field=BooleanField())
        )
        .order_by("stage", "rank")
        .values(
            "id",
            "code",
            "name",
            "stage",
            "since",
            "is_temporary",
            "end_date",
            "category__name",
            "owner_name",
            "due",
        )
    )
    now = timezone.now()
    threshold = machine.stuck_days()
    columns = {s: BoardColumn(s, Stage(s).label, counts.get(s, 0), []) for s in stages}
    for row in ranked:
        days = (now - row["since"]).days if row["since"] else 0
        columns[row["stage"]].cards.append(
            {
                "id": row["id"],
                "code": row["code"],
                "name": row["name"],
                "category": row["category__name"],
                "owner": row["owner_name"] or "",
                "age": age_label(row["since"], now),
                "temporary": row["is_temporary"],
                "end_date": row["end_date"],
                "due": bool(row["due"]),
                "days": days,
                "stuck": row["stage"] in machine.PASSING_STAGES and days > threshold,
            }
        )
    return Board(
        columns=list(columns.values()),
        total=sum(c.count for c in columns.values()),
        due_for_closure=due,
        options=board_options(actor),
        due=due_rows,
        stuck_days=threshold,
    )


def board_options(actor: Actor) -> dict[str, list[tuple[int, str]]]:
    """The choices of the board's filters: PMOs, people who own a live service, categories."""
    org = actor.organisation.pk
    owners = (
        Person.objects.filter(
            organisation_id=org,
            service_roles__role=ServiceRoleKind.OWNER,
            service_roles__archived_at__isnull=True,
            service_roles__service__archived_at__isnull=True,
        )
        .distinct()
        .order_by("name", "id")
        .values_list("pk", "name")
    )
    return {
        "pmo": list(
            PMO.objects.filter(organisation_id=org, archived_at__isnull=True)
            .order_by("name", "id")
            .values_list("pk", "name")
        ),
        "owner": list(owners),
        "category": list(
            Category.objects.filter(organisation_id=org, archived_at__isnull=True)
            .order_by("position", "id")
            .values_list("pk", "name")
        ),
    }
