"""The one place that answers "may this actor do this action on this object".

The UI, the API and the CLI all ask `can()` / `require()`. Rules are data: a set of
organisation roles, or a predicate for rules that look at the object (service roles,
added by the catalogue issue). An object of another organisation is never allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import models

from carte.core.errors import DomainError, forbidden
from carte.organisations.choices import OrgRole

if TYPE_CHECKING:
    from carte.organisations.models import Organisation, User


@dataclass(frozen=True)
class Actor:
    """Who is acting, in which organisation, holding which organisation roles."""

    user: User | None
    organisation: Organisation
    roles: frozenset[str] = field(default_factory=frozenset)
    system: bool = False  # the CLI or demo loader acting with every right
    # Per-request memo of facts rules need (the services this user owns or manages), so a
    # list page asks the database once, not once per row.
    cache: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def label(self) -> str:
        if self.user is None:
            return "system"
        return self.user.email or self.user.get_username()

    def has_role(self, *roles: str) -> bool:
        return self.system or bool(self.roles.intersection(roles))

    @classmethod
    def for_system(cls, organisation: Organisation, user: User | None = None) -> Actor:
        return cls(
            user=user, organisation=organisation, roles=frozenset(OrgRole.values), system=True
        )


Predicate = Callable[[Actor, Any], bool]
Rule = frozenset[str] | Predicate

EVERYONE = frozenset(OrgRole.values)
STAFF_SIDE = EVERYONE - {OrgRole.CUSTOMER}
STRUCTURE_EDITORS = frozenset({OrgRole.ADMIN, OrgRole.DIRECTOR, OrgRole.PMO_MANAGER})
PEOPLE_EDITORS = STRUCTURE_EDITORS | {OrgRole.STAFF}
MEMBER_EDITORS = frozenset({OrgRole.ADMIN, OrgRole.DIRECTOR})

VIEW = "view"
ADD = "add"
CHANGE = "change"
ARCHIVE = "archive"  # archive and restore


def _crud(view: frozenset[str], edit: frozenset[str]) -> dict[str, Rule]:
    return {VIEW: view, ADD: edit, CHANGE: edit, ARCHIVE: edit}


SERVICE_EDITORS = STRUCTURE_EDITORS  # admin, PMO Director, PMO Managers edit any service


def _service_roles(actor: Actor) -> dict[str, frozenset[int]]:
    """Role -> the services on which the actor holds it (Owner, Manager), asked once."""
    if "service_roles" not in actor.cache:
        from carte.catalogue.models import ServiceRole

        found: dict[str, set[int]] = {"owner": set(), "manager": set(), "operative": set()}
        if actor.user is not None:
            rows = ServiceRole.objects.filter(
                organisation_id=actor.organisation.pk,
                person__user=actor.user,
                person__archived_at__isnull=True,
                role__in=("owner", "manager", "operative"),
                archived_at__isnull=True,
            ).values_list("role", "service_id")
            for role, service_id in rows:
                found[role].add(service_id)
        actor.cache["service_roles"] = {k: frozenset(v) for k, v in found.items()}
    result: dict[str, frozenset[int]] = actor.cache["service_roles"]
    return result


def managed_service_ids(actor: Actor) -> frozenset[int]:
    """The services on which the actor is the Owner or a Service Manager (M-10)."""
    roles = _service_roles(actor)
    return roles["owner"] | roles["manager"]


def owned_service_ids(actor: Actor) -> frozenset[int]:
    """The services of which the actor is the Service Owner."""
    return _service_roles(actor)["owner"]


def operated_service_ids(actor: Actor) -> frozenset[int]:
    """The services on which the actor is a Service Operative."""
    return _service_roles(actor)["operative"]


def _service_id(target: Any) -> int | None:
    """The service a service, one of its parts, or a record of a part belongs to."""
    from carte.catalogue.models import Service

    if isinstance(target, Service):
        return target.pk
    found = getattr(target, "service_id", None)
    if found is None:
        for parent in ("kpi", "item", "change"):
            if getattr(target, f"{parent}_id", None) is not None:
                return _service_id(getattr(target, parent))
    return found


def may_edit_service(actor: Actor, target: Any) -> bool:
    """Director, PMO Managers and admins edit any service; Owners and Managers their own.
    `target` is a service or one of its parts; a model class means "create one"."""
    if actor.roles & SERVICE_EDITORS:
        return True
    if isinstance(target, type):
        return False
    return _service_id(target) in managed_service_ids(actor)


def may_view_service(actor: Actor, target: Any) -> bool:
    """Everyone on the PMO side sees every service; customers the published, running ones."""
    if actor.roles & STAFF_SIDE:
        return True
    if isinstance(target, type):
        return OrgRole.CUSTOMER in actor.roles
    from carte.catalogue.models import Service

    service = target if isinstance(target, Service) else getattr(target, "service", None)
    return (
        service is not None
        and service.current_version_id is not None
        and (service.stage == "running")
    )


def is_service_owner(actor: Actor, target: Any) -> bool:
    """Only the service's own Owner (not the Director) signs off and approves closure."""
    return not isinstance(target, type) and _service_id(target) in owned_service_ids(actor)


def owner_or_director(actor: Actor, target: Any) -> bool:
    return OrgRole.DIRECTOR in actor.roles or is_service_owner(actor, target)


def works_on_service(actor: Actor, target: Any) -> bool:
    """Whoever edits the service, and its Operatives: the people who run it day to day."""
    if may_edit_service(actor, target):
        return True
    return not isinstance(target, type) and _service_id(target) in operated_service_ids(actor)


def staff_or_customer(actor: Actor, target: Any) -> bool:
    """Anyone on the PMO side, and customers about a service they can see."""
    return bool(actor.roles & STAFF_SIDE) or may_view_service(actor, target)


def contributor_or_customer(actor: Actor, target: Any) -> bool:
    """Anyone on the PMO side but a Viewer (who reads, never writes), and customers about
    a service they can see: who may raise a change or record feedback."""
    return bool(actor.roles & (STAFF_SIDE - {OrgRole.VIEWER})) or (
        OrgRole.CUSTOMER in actor.roles and may_view_service(actor, target)
    )


# Lifecycle actions on a service (carte.lifecycle): who may take each kind of step.
DECIDE = "lifecycle.decide"  # set-up decision, rejection, deferral: the PMO Director
MANAGE = "lifecycle.manage"  # design, pilots, readiness, transition: whoever edits the service
SIGN_OFF = "lifecycle.sign_off"  # sign-off, waivers, closure approval: the Service Owner
CLOSE = "lifecycle.close"  # start closure, reintroduce: the Owner or the Director


# Operations actions (carte.operations).
REPORT = "operations.report"  # record a KPI measurement: the service's team
ESCALATE = "operations.escalate"  # move a risk or issue between levels: see services
OWNER_DECIDES = "operations.owner_decides"  # decide changes, items, improvements: the Owner
IMPLEMENT = "operations.implement"  # implement an approved change: delivery management


def _service_crud() -> dict[str, Rule]:
    return {
        VIEW: may_view_service,
        ADD: may_edit_service,
        CHANGE: may_edit_service,
        ARCHIVE: may_edit_service,
    }


RULES: dict[str, dict[str, Rule]] = {
    "organisations.pmo": _crud(EVERYONE, STRUCTURE_EDITORS),
    "organisations.customergroup": _crud(EVERYONE, STRUCTURE_EDITORS),
    "organisations.person": _crud(EVERYONE, PEOPLE_EDITORS),
    "organisations.membership": _crud(STAFF_SIDE, MEMBER_EDITORS),
    "core.auditentry": {VIEW: STAFF_SIDE},
    "catalogue.category": _crud(EVERYONE, SERVICE_EDITORS),
    "catalogue.symptom": _crud(EVERYONE, SERVICE_EDITORS | {OrgRole.STAFF}),
    "catalogue.artefact": _crud(STAFF_SIDE, SERVICE_EDITORS | {OrgRole.STAFF}),
    "catalogue.service": {
        **_service_crud(),
        DECIDE: frozenset({OrgRole.DIRECTOR}),
        MANAGE: may_edit_service,
        SIGN_OFF: is_service_owner,
        CLOSE: owner_or_director,
    },
    # Each part of a service follows the service's rules.
    **{
        f"catalogue.{name}": _service_crud()
        for name in (
            "servicerole",
            "servicelevel",
            "servicesymptom",
            "supplier",
            "serviceinput",
            "processstep",
            "serviceoutput",
            "servicecustomer",
            "competenceneed",
            "governanceneed",
            "serviceartefact",
            "serviceversion",
        )
    },
    # The lifecycle's records are the PMO's working papers; writes go through the
    # service's lifecycle actions above.
    **{
        f"lifecycle.{name}": {VIEW: STAFF_SIDE}
        for name in (
            "lifecycleevent",
            "eventattachment",
            "setupdecision",
            "successcriterion",
            "tasklist",
            "task",
            "templatetask",
            "pilotiteration",
            "criterionresult",
            "readinessassessment",
            "readinessanswer",
            "transitionplan",
            "transitionphase",
            "closure",
            "artefactdecision",
        )
    },
    "operations.kpi": {
        **_service_crud(),
        VIEW: STAFF_SIDE,
        REPORT: works_on_service,
    },
    "operations.measurement": {VIEW: STAFF_SIDE},
    "operations.measurementcorrection": {VIEW: STAFF_SIDE},
    "operations.serviceleveltarget": {**_service_crud(), VIEW: staff_or_customer},
    "operations.riskissue": {
        VIEW: STAFF_SIDE,
        ADD: works_on_service,
        CHANGE: works_on_service,
        ARCHIVE: may_edit_service,
        ESCALATE: works_on_service,
        OWNER_DECIDES: is_service_owner,
    },
    "operations.itemaction": {
        VIEW: STAFF_SIDE,
        ADD: works_on_service,
        CHANGE: works_on_service,
        ARCHIVE: works_on_service,
    },
    "operations.itemevent": {VIEW: STAFF_SIDE},
    "operations.changerequest": {
        VIEW: STAFF_SIDE,
        ADD: contributor_or_customer,
        CHANGE: works_on_service,
        ARCHIVE: may_edit_service,
        OWNER_DECIDES: is_service_owner,
        IMPLEMENT: may_edit_service,
    },
    "operations.changeevent": {VIEW: STAFF_SIDE},
    "operations.improvement": {
        **_service_crud(),
        VIEW: STAFF_SIDE,
        OWNER_DECIDES: is_service_owner,
    },
    "operations.feedback": {VIEW: STAFF_SIDE, ADD: contributor_or_customer},
}


def _label(target: models.Model | type[models.Model]) -> str:
    meta = target._meta
    return f"{meta.app_label}.{meta.model_name}"


def can(actor: Actor, action: str, target: models.Model | type[models.Model]) -> bool:
    """May `actor` do `action` on `target` (an instance, or a model class for "add"/lists)?"""
    if isinstance(target, models.Model):
        org_id = getattr(target, "organisation_id", None)
        if org_id is not None and org_id != actor.organisation.pk:
            return False
    if actor.system:
        return True
    rule = RULES.get(_label(target), {}).get(action)
    if rule is None:
        return False
    if isinstance(rule, frozenset):
        return bool(actor.roles & rule)
    return rule(actor, target)


def require(actor: Actor, action: str, target: models.Model | type[models.Model]) -> None:
    """Raise a 403-style DomainError unless `can()` says yes."""
    if not can(actor, action, target):
        noun = target._meta.verbose_name
        raise forbidden(f"You are not allowed to {action} this {noun}.")


def allowed_actions(actor: Actor, target: models.Model | type[models.Model]) -> set[str]:
    return {a for a in (VIEW, ADD, CHANGE, ARCHIVE) if can(actor, a, target)}


__all__ = [
    "ADD",
    "ARCHIVE",
    "CHANGE",
    "VIEW",
    "Actor",
    "DomainError",
    "allowed_actions",
    "can",
    "require",
]
