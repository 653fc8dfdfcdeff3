"""API of the organisation's registers (`/api/v1/orgs/{org}/...`): every risk and issue of
every service and level (`risks-issues`, beside the items' own paths), and every action on
them (`actions`), paged and filtered as the pages are (`RiskRegisterFilter`,
`ActionRegisterFilter`). The staff's records: a customer is refused (403).

No `from __future__ import annotations`: django-ninja reads these annotations at runtime.
"""

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from carte.core.api import paged
from carte.core.clock import today
from carte.lifecycle.api import ServiceBrief
from carte.operations.api.items import PersonBrief
from carte.operations.choices import ActionPurpose, ItemKind, ItemStatus
from carte.operations.filters import ActionRegisterFilter, RiskRegisterFilter
from carte.operations.models import ItemAction, RiskIssue
from carte.operations.selectors import registers as selectors
from carte.organisations.access import api_actor

router = Router()

TAG = "Risks and issues"


class RegisterItemOut(Schema):
    """A row of the risk and issue register."""

    id: int
    service: ServiceBrief
    kind: ItemKind
    kind_label: str
    title: str
    level: Literal[1, 2, 3] = Field(
        ..., description="1 service operations, 2 delivery management, 3 service ownership."
    )
    level_label: str
    status: ItemStatus
    status_label: str
    score: int = Field(..., description="Probability times impact, 1 to 25.")
    probability: int
    impact: int
    owner: PersonBrief | None
    next_action_due: date | None = Field(
        ..., description="The due date of its next open action (null: none open)."
    )
    archived: bool
    created_at: datetime = Field(..., description="When it was raised.")

    @staticmethod
    def resolve_kind_label(obj: RiskIssue) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_level_label(obj: RiskIssue) -> str:
        return obj.get_level_display()

    @staticmethod
    def resolve_status_label(obj: RiskIssue) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_next_action_due(obj: RiskIssue) -> date | None:
        due: date | None = getattr(obj, "next_due", None)
        return due

    @staticmethod
    def resolve_archived(obj: RiskIssue) -> bool:
        return obj.archived_at is not None


class RegisterItemBrief(Schema):
    id: int
    kind: ItemKind
    title: str


class RegisterActionOut(Schema):
    """A row of the action register: an action, its risk or issue and that one's service."""

    id: int
    description: str
    purpose: ActionPurpose
    item: RegisterItemBrief
    service: ServiceBrief
    owner: PersonBrief
    due_date: date
    done_at: datetime | None
    done: bool
    overdue: bool = Field(..., description="Open and past its due date.")

    @staticmethod
    def resolve_service(obj: ItemAction) -> Any:
        return obj.item.service

    @staticmethod
    def resolve_done(obj: ItemAction) -> bool:
        return obj.done_at is not None

    @staticmethod
    def resolve_overdue(obj: ItemAction) -> bool:
        return obj.done_at is None and obj.due_date < today()


@router.get(
    "/orgs/{org}/risks-issues",
    response=list[RegisterItemOut],
    tags=[TAG],
    summary="The organisation's risk and issue register",
    operation_id="operations_risk_register_list",
)
@paged
def risk_register_list(request: HttpRequest, org: str, filters: Query[RiskRegisterFilter]) -> Any:
    """Every risk and issue of the organisation's live services, at every level: open
    ones by default (`state`), worst score first (`ordering`), with the due date of each
    one's next open action; `owner=mine`: the caller's own. A service's register alone is
    `GET /services/{id}/risks-issues`."""
    actor = api_actor(request, org)
    return selectors.risk_register(actor, filters)


@router.get(
    "/orgs/{org}/actions",
    response=list[RegisterActionOut],
    tags=[TAG],
    summary="The organisation's actions on risks and issues",
    operation_id="operations_action_register_list",
)
@paged
def action_register_list(
    request: HttpRequest, org: str, filters: Query[ActionRegisterFilter]
) -> Any:
    """Every action on the organisation's live risks and issues: open ones by default
    (`state`), soonest due first; `overdue=true`: only those past their due date;
    `owner=mine`: the caller's own."""
    actor = api_actor(request, org)
    return selectors.action_register(actor, filters)
