"""Who may do what in running a service: the workflow steps and each record's rules."""

from __future__ import annotations

from carte.catalogue.permissions import (
    SERVICE_PART,
    contributor_or_customer,
    is_service_owner,
    may_edit_service,
    staff_or_customer,
    works_on_service,
)
from carte.core.permissions import ADD, ARCHIVE, CHANGE, VIEW, Access, Action
from carte.organisations.permissions import STAFF_SIDE

# Record a KPI measurement: the service's team.
REPORT = Action("operations.report", works_on_service, "Only the service's team reports it.")
# Move a risk or issue between levels (services check the level).
ESCALATE = Action("operations.escalate", works_on_service)
# Decide changes, items, improvements: the Service Owner.
OWNER_DECIDES = Action(
    "operations.owner_decides", is_service_owner, "Only the Service Owner decides this."
)
# Implement an approved change: delivery management.
IMPLEMENT = Action("operations.implement", may_edit_service)

STAFF_RECORD: Access = {VIEW: STAFF_SIDE}
KPI: Access = {**SERVICE_PART, VIEW: STAFF_SIDE}
LEVEL_TARGET: Access = {**SERVICE_PART, VIEW: staff_or_customer}
RISK_ISSUE: Access = {
    VIEW: STAFF_SIDE,
    ADD: works_on_service,
    CHANGE: works_on_service,
    ARCHIVE: may_edit_service,
}
ITEM_ACTION: Access = {
    VIEW: STAFF_SIDE,
    ADD: works_on_service,
    CHANGE: works_on_service,
    ARCHIVE: works_on_service,
}
CHANGE_REQUEST: Access = {
    VIEW: STAFF_SIDE,
    ADD: contributor_or_customer,
    CHANGE: works_on_service,
    ARCHIVE: may_edit_service,
}
IMPROVEMENT: Access = {**SERVICE_PART, VIEW: STAFF_SIDE}
FEEDBACK: Access = {VIEW: STAFF_SIDE, ADD: contributor_or_customer}
