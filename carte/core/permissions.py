"""The one place that answers "may this actor do this action on this object".

The UI, the API and the CLI all ask `can()` / `require()`. Rules are plain data next to
what they govern: each model's `ACCESS` maps the CRUD actions (view, add, change,
archive) to a rule, and a workflow step is an `Action` carrying its own rule. A rule is
a set of organisation roles or a predicate that looks at the object. An object of
another organisation is never allowed. This module knows no app: the actor is any object
with the shape of `ActorLike` (the organisations app makes it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import models

from carte.core.errors import forbidden

VIEW = "view"
ADD = "add"
CHANGE = "change"
ARCHIVE = "archive"  # archive and restore


class ActorLike(Protocol):
    """Who is acting, in which organisation, holding which organisation roles."""

    @property
    def user(self) -> Any: ...

    @property
    def organisation(self) -> Any: ...

    @property
    def roles(self) -> frozenset[str]: ...

    @property
    def system(self) -> bool: ...  # the CLI or the demo loader acting with every right

    @property
    def staff_side(self) -> bool: ...  # on the PMO's side (not a customer): sees history

    @property
    def label(self) -> str: ...

    @property
    def cache(self) -> dict[str, Any]: ...  # a per-request memo of facts rules need


Predicate = Callable[[Any, Any], bool]  # (actor, target) -> allowed
Rule = frozenset[str] | Predicate
Access = Mapping[str, Rule]


@dataclass(frozen=True)
class Action:
    """A workflow step's right (decide, sign off, escalate...), with its own rule; the CRUD
    rights are each model's `ACCESS`."""

    name: str
    rule: Rule
    refusal: str = "You are not allowed to do this."


Right = str | Action  # a CRUD action of the model's ACCESS, or a workflow step's Action


def crud(view: Rule, edit: Rule) -> dict[str, Rule]:
    """The usual `ACCESS`: who sees the rows, and who adds, changes and archives them."""
    return {VIEW: view, ADD: edit, CHANGE: edit, ARCHIVE: edit}


def on_staff_side(actor: ActorLike, target: Any) -> bool:
    """Everyone on the PMO's side (every role but customer)."""
    return actor.staff_side


def _rule(action: Right, target: models.Model | type[models.Model]) -> Rule | None:
    if isinstance(action, Action):
        return action.rule
    access: Access = getattr(target, "ACCESS", {})
    return access.get(action)


def can(actor: ActorLike, action: Right, target: models.Model | type[models.Model]) -> bool:
    """May `actor` do `action` on `target` (an instance, or a model class for "add"/lists)?"""
    if isinstance(target, models.Model):
        org_id = getattr(target, "organisation_id", None)
        if org_id is not None and org_id != actor.organisation.pk:
            return False
    if actor.system:
        return True
    rule = _rule(action, target)
    if rule is None:
        return False
    if isinstance(rule, frozenset):
        return bool(actor.roles & rule)
    return rule(actor, target)


def require(actor: ActorLike, action: Right, target: models.Model | type[models.Model]) -> None:
    """Raise a 403-style DomainError unless `can()` says yes."""
    if not can(actor, action, target):
        if isinstance(action, Action):
            raise forbidden(action.refusal)
        noun = target._meta.verbose_name
        raise forbidden(f"You are not allowed to {action} this {noun}.")


def allowed_actions(actor: ActorLike, target: models.Model | type[models.Model]) -> set[str]:
    return {a for a in (VIEW, ADD, CHANGE, ARCHIVE) if can(actor, a, target)}


__all__ = [
    "ADD",
    "ARCHIVE",
    "CHANGE",
    "VIEW",
    "Action",
    "ActorLike",
    "Right",
    "allowed_actions",
    "can",
    "crud",
    "require",
]
