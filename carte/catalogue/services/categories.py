"""Writes of the catalogue's categories: the headings of its menu."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max

from carte.catalogue.models import Category
from carte.core.errors import DomainError
from carte.core.permissions import ADD, ARCHIVE, CHANGE, require
from carte.core.services import archive_object, create_object, restore_object, update_object
from carte.organisations.actor import Actor


@transaction.atomic
def category_create(
    *, actor: Actor, name: str, description: str = "", position: int | None = None
) -> Category:
    """Add a heading to the menu; by default it goes last."""
    require(actor, ADD, Category)
    if position is None:
        last = Category.objects.filter(organisation=actor.organisation).aggregate(m=Max("position"))
        position = (last["m"] or 0) + 10
    return create_object(actor, Category(name=name, description=description, position=position))


@transaction.atomic
def category_update(*, actor: Actor, category: Category, data: dict[str, Any]) -> Category:
    require(actor, CHANGE, category)
    return update_object(actor, category, data)


@transaction.atomic
def category_archive(*, actor: Actor, category: Category) -> Category:
    """Archive an empty category (its live services must move first)."""
    require(actor, ARCHIVE, category)
    if category.services.filter(archived_at__isnull=True).exists():
        raise DomainError(
            "This category still has live services: move them first.", code="conflict"
        )
    return archive_object(actor, category)


@transaction.atomic
def category_restore(*, actor: Actor, category: Category) -> Category:
    require(actor, ARCHIVE, category)
    return restore_object(actor, category)
