"""What the search in the header finds in the catalogue app (`core.find`): services, as
the catalogue's own search finds them (`catalogue.search`: stemmed words, any of them,
best match first). It runs the menu's selector with the search's words, so each person
finds what their catalogue page would list: staff the live services, a customer the
services published to them, by their published wording (`PublishedServiceFilter`)."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

from django.urls import reverse

from carte.catalogue import selectors
from carte.catalogue.choices import Stage
from carte.catalogue.filters import ServiceFilter
from carte.catalogue.search import Ranked
from carte.core.find import Finder, Found, register_finder
from carte.core.permissions import ActorLike
from carte.organisations.actor import Actor

_STAGES = dict(Stage.choices)
_PUBLISHED = "current_version__snapshot__service"  # a customer's card, as published


def _found(row: dict[str, Any], slug: str, staff: bool) -> Found:
    """A row of `selectors.menu_services` as a result: code and name as the person's
    catalogue shows them, under its category (as published, for a customer)."""
    card = row.get(_PUBLISHED) or row
    category = row.get("current_version__category__name") or row["category__name"]
    detail = [card["code"], category]
    if staff:
        detail.append(_STAGES.get(row["stage"], row["stage"]))
    return Found(
        title=card["name"],
        url=reverse("service_detail", args=[slug, row["id"]]),
        detail=" · ".join(part for part in detail if part),
    )


def find_services(actor: ActorLike, q: str, limit: int) -> tuple[int, list[Found]]:
    """The services matching the words, best first: those of the catalogue page searched
    for `q`, in its queries (three to rank a staff member's, one a customer's, then one
    for the rows shown)."""
    actor = cast(Actor, actor)
    rows = selectors.menu_services(actor=actor, filters=ServiceFilter.model_validate({"q": q}))
    if not isinstance(rows, Ranked) or not len(rows):  # no word to look for
        return 0, []
    staff = selectors.sees_everything(actor)
    slug = actor.organisation.slug
    return len(rows), [_found(row, slug, staff) for row in rows[:limit]]


def more_services(actor: ActorLike, q: str) -> str:
    """The catalogue page searched for the same words: the same services, in the same order."""
    return reverse("catalogue", args=[actor.organisation.slug]) + "?" + urlencode({"q": q})


register_finder(Finder("services", "Services", 10, find_services, more_services))
