"""Who may do what in running a service: the workflow steps and each record's rules."""

from __future__ import annotations

from typing import Any

from carte.catalogue.permissions import (
    SERVICE_EDITORS,
    SERVICE_PART,
    contributor_or_customer,
    is_service_owner,
    managed_service_ids,
    may_edit_service,
    operated_service_ids,
    staff_or_customer,
    works_on_service,
)
from carte.core.errors import forbidden
from carte.core.permissions import (
    ADD,
    ARCHIVE,
    CHANGE,
    VIEW,
    Access,
    Action,
    ActorLike,
    Predicate,
)
from carte.operations.choices import Level
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
# Who answers for a risk or issue at each level (M-18): whoever works on the service at
# service operations, delivery management at level 2, the service's own Owner at level 3.
# Moving an item out of a level (up, down, closed, reopened) is for the people of that level.
ANSWERS_AT: dict[int, Action] = {
    Level.OPERATIONS: Action("operations.answers_at_operations", works_on_service),
    Level.DELIVERY: Action("operations.answers_at_delivery", may_edit_service),
    Level.OWNERSHIP: Action("operations.answers_at_ownership", is_service_owner),
}


def own_person_ids(actor: Any) -> frozenset[int]:
    """The actor's own Person rows in the organisation (archived ones too: what they raised
    while they had one stays theirs), asked once per request."""
    if "own_person_ids" not in actor.cache:
        from carte.organisations.models import Person

        found: frozenset[int] = frozenset()
        if actor.user is not None:
            found = frozenset(
                Person.objects.filter(
                    organisation_id=actor.organisation.pk, user=actor.user
                ).values_list("pk", flat=True)
            )
        actor.cache["own_person_ids"] = found
    ids: frozenset[int] = actor.cache["own_person_ids"]
    return ids


def staff_or_own(person_field: str) -> Predicate:
    """The PMO side sees every row; anyone else only a row naming them in `person_field`
    (the customer who raised a change or gave feedback follows it, and nobody else's).
    Asked of the model (a list of them), it is the staff's: a customer's own rows are read
    through the selectors that keep to them."""

    def rule(actor: Any, target: Any) -> bool:
        if actor.roles & STAFF_SIDE:
            return True
        if isinstance(target, type):
            return False
        person_id = getattr(target, f"{person_field}_id", None)
        return person_id is not None and person_id in own_person_ids(actor)

    rule.__name__ = f"staff_or_own_{person_field}"
    rule.__doc__ = f"The PMO side, or the person named by `{person_field}`."
    return rule


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
# A change request and a feedback are the staff's, and their requester's to follow
# (issue 13, "a customer's view"); the rest of the organisation's are hidden (404).
CHANGE_REQUEST: Access = {
    VIEW: staff_or_own("raised_by"),
    ADD: contributor_or_customer,
    CHANGE: works_on_service,
    ARCHIVE: may_edit_service,
}
IMPROVEMENT: Access = {**SERVICE_PART, VIEW: STAFF_SIDE}
FEEDBACK: Access = {VIEW: staff_or_own("person"), ADD: contributor_or_customer}

# The workflow moves that need only the right to change the record (its ACCESS's change
# rule): putting a change request before the Owner, the Service Manager's moves of an
# improvement, a risk that happened becoming an issue.
SUBMIT_CHANGE = Action(
    "operations.submit_change",
    CHANGE_REQUEST[CHANGE],
    "You are not allowed to change this change request.",
)
MOVE_IMPROVEMENT = Action(
    "operations.move_improvement",
    IMPROVEMENT[CHANGE],
    "You are not allowed to change this improvement.",
)
MAKE_ISSUE = Action(
    "operations.make_issue", RISK_ISSUE[CHANGE], "You are not allowed to change this risk or issue."
)


def require_reporter(actor: ActorLike) -> None:
    """Refuse (403) a caller who may report no KPI at all, before a push or a file is read:
    which KPIs it names is known only from the body, but whoever works on no service
    (`REPORT`) reports none of them."""
    if (
        actor.system
        or actor.roles & SERVICE_EDITORS
        or managed_service_ids(actor)
        or operated_service_ids(actor)
    ):
        return
    raise forbidden("Only a service's team reports its KPIs, and you are on none.")
