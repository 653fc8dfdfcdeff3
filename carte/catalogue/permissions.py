"""Who may do what with the catalogue: the service roles (Owner, Manager, Operative) as
facts about the actor, the predicates that read them, and each catalogue model's rules.

A row that belongs to a service says so with `owning_service_id` (and `owning_service`),
so these predicates serve the service, its parts, and the records of higher apps alike.
"""

from __future__ import annotations

from typing import Any

from carte.core.permissions import VIEW, Access, crud
from carte.organisations.choices import OrgRole
from carte.organisations.permissions import (
    CONTRIBUTORS,
    EVERYONE,
    STAFF_SIDE,
    STRUCTURE_EDITORS,
)

SERVICE_EDITORS = STRUCTURE_EDITORS  # admin, PMO Director, PMO Managers edit any service


def _service_roles(actor: Any) -> dict[str, frozenset[int]]:
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


def managed_service_ids(actor: Any) -> frozenset[int]:
    """The services on which the actor is the Owner or a Service Manager (M-10)."""
    roles = _service_roles(actor)
    return roles["owner"] | roles["manager"]


def owned_service_ids(actor: Any) -> frozenset[int]:
    """The services of which the actor is the Service Owner."""
    return _service_roles(actor)["owner"]


def operated_service_ids(actor: Any) -> frozenset[int]:
    """The services on which the actor is a Service Operative."""
    return _service_roles(actor)["operative"]


def _service_id(target: Any) -> int | None:
    return None if isinstance(target, type) else target.owning_service_id


def may_edit_service(actor: Any, target: Any) -> bool:
    """Director, PMO Managers and admins edit any service; Owners and Managers their own.
    `target` is a service or a row it owns; a model class means "create one"."""
    if actor.roles & SERVICE_EDITORS:
        return True
    return _service_id(target) in managed_service_ids(actor)


def may_view_service(actor: Any, target: Any) -> bool:
    """Everyone on the PMO side sees every service; customers the published, running ones."""
    if actor.roles & STAFF_SIDE:
        return True
    if isinstance(target, type):
        return OrgRole.CUSTOMER in actor.roles
    service = target.owning_service
    return service.current_version_id is not None and service.stage == "running"


def is_service_owner(actor: Any, target: Any) -> bool:
    """Only the service's own Owner (not the Director) signs off and approves closure."""
    return _service_id(target) in owned_service_ids(actor)


def owner_or_director(actor: Any, target: Any) -> bool:
    return OrgRole.DIRECTOR in actor.roles or is_service_owner(actor, target)


def works_on_service(actor: Any, target: Any) -> bool:
    """Whoever edits the service, and its Operatives: the people who run it day to day."""
    if may_edit_service(actor, target):
        return True
    return _service_id(target) in operated_service_ids(actor)


def staff_or_customer(actor: Any, target: Any) -> bool:
    """Anyone on the PMO side, and customers about a service they can see."""
    return bool(actor.roles & STAFF_SIDE) or may_view_service(actor, target)


def contributor_or_customer(actor: Any, target: Any) -> bool:
    """Anyone on the PMO side but a Viewer (who reads, never writes), and customers about
    a service they can see: who may raise a change or record feedback."""
    return bool(actor.roles & CONTRIBUTORS) or (
        OrgRole.CUSTOMER in actor.roles and may_view_service(actor, target)
    )


CATEGORY: Access = crud(EVERYONE, SERVICE_EDITORS)
SYMPTOM: Access = crud(EVERYONE, SERVICE_EDITORS | {OrgRole.STAFF})
ARTEFACT: Access = crud(STAFF_SIDE, SERVICE_EDITORS | {OrgRole.STAFF})
# A service, and each of its parts: seen as the service is, edited by whoever edits it.
SERVICE_PART: Access = {**crud(may_edit_service, may_edit_service), VIEW: may_view_service}
