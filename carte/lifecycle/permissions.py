"""Who may take each kind of lifecycle step on a service, and who reads its records."""

from __future__ import annotations

from typing import Any

from carte.catalogue.permissions import is_service_owner, may_edit_service, owner_or_director
from carte.core.permissions import VIEW, Access, Action, can
from carte.organisations.choices import OrgRole
from carte.organisations.permissions import STAFF_SIDE

_REFUSAL = "You are not allowed to do this on this service's lifecycle."

# Set-up decision, rejection, deferral: the PMO Director.
DECIDE = Action("lifecycle.decide", frozenset({OrgRole.DIRECTOR}), _REFUSAL)
# Design, pilots, readiness, transition: whoever edits the service.
MANAGE = Action("lifecycle.manage", may_edit_service, _REFUSAL)
# Sign-off, waivers, closure approval: the Service Owner.
SIGN_OFF = Action("lifecycle.sign_off", is_service_owner, _REFUSAL)
# Start closure, reintroduce: the Owner or the Director.
CLOSE = Action("lifecycle.close", owner_or_director, _REFUSAL)


def _moves_some(actor: Any, service: Any) -> bool:
    return any(can(actor, right, service) for right in (DECIDE, MANAGE, SIGN_OFF, CLOSE))


# Any move at all: which move a transition makes is in its body, and whoever holds none of
# the four rights may make none (the API refuses them so before it reads the body;
# `services.transition` checks the move's own right).
MOVE = Action(
    "lifecycle.move",
    _moves_some,
    "You are not allowed to move this service through its lifecycle.",
)

# Who holds each right, in words: the panel says it beside each move, and a move refused
# for want of it says "Only <who> may <label>." (`machine.Move`).
WHO: dict[str, str] = {
    DECIDE.name: "the PMO Director",
    MANAGE.name: "the Owner, a Service Manager, the Director or a PMO Manager",
    SIGN_OFF.name: "the Service Owner",
    CLOSE.name: "the Service Owner or the PMO Director",
}

# The lifecycle's records are the PMO's working papers; writes go through the actions.
RECORD: Access = {VIEW: STAFF_SIDE}
