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


RULES: dict[str, dict[str, Rule]] = {
    "organisations.pmo": _crud(EVERYONE, STRUCTURE_EDITORS),
    "organisations.customergroup": _crud(EVERYONE, STRUCTURE_EDITORS),
    "organisations.person": _crud(EVERYONE, PEOPLE_EDITORS),
    "organisations.membership": _crud(STAFF_SIDE, MEMBER_EDITORS),
    "core.auditentry": {VIEW: STAFF_SIDE},
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
