"""What the search in the header finds in the organisations app (`core.find`): people and
PMOs, from the lists the actor may see (`selectors.person_list`, `selectors.pmo_list`),
live rows only. A row is found when each word of the search is in it somewhere: where the
list's own search looks (`PersonFilter`, `PMOFilter`), and for a person their PMO's name
too. A person is shown by name, job title and PMO, never by e-mail address. Each kind is
one query, two when there are more than shown."""

from __future__ import annotations

from typing import cast

from django.db.models import Q
from django.urls import reverse

from carte.core.find import Finder, Found, every_word, list_search, register_finder, words
from carte.core.permissions import VIEW, ActorLike, can
from carte.core.work import first_rows
from carte.organisations import selectors
from carte.organisations.actor import Actor
from carte.organisations.filters import PersonFilter, PMOFilter
from carte.organisations.models import PMO, Person

_PERSON_SEARCH = list_search(PersonFilter)  # name, e-mail, job title
_PMO_SEARCH = list_search(PMOFilter)  # name, description


def find_people(actor: ActorLike, q: str, limit: int) -> tuple[int, list[Found]]:
    """People by name, job title or PMO, by name."""
    if not can(actor, VIEW, Person):
        return 0, []
    people = selectors.person_list(actor=cast(Actor, actor)).filter(
        every_word(words(q), lambda word: _PERSON_SEARCH(word) | Q(pmo__name__icontains=word))
    )
    count, rows = first_rows(people, limit)
    slug = actor.organisation.slug

    def detail(person: Person) -> str:
        group = person.pmo or person.customer_group
        return " · ".join(part for part in (person.job_title, group.name if group else "") if part)

    return count, [
        Found(
            title=person.name,
            url=reverse("person_detail", args=[slug, person.pk]),
            detail=detail(person),
        )
        for person in rows
    ]


def find_pmos(actor: ActorLike, q: str, limit: int) -> tuple[int, list[Found]]:
    """PMOs by name and description, by name."""
    if not can(actor, VIEW, PMO):
        return 0, []
    pmos = selectors.pmo_list(actor=cast(Actor, actor)).filter(every_word(words(q), _PMO_SEARCH))
    count, rows = first_rows(pmos, limit)
    slug = actor.organisation.slug

    def detail(pmo: PMO) -> str:
        people = cast(int, getattr(pmo, "people_count", 0))
        parts = [pmo.get_kind_display(), f"under {pmo.parent.name}" if pmo.parent else ""]
        parts.append(f"{people} {'person' if people == 1 else 'people'}")
        return " · ".join(part for part in parts if part)

    return count, [
        Found(
            title=pmo.name,
            url=reverse("pmo_detail", args=[slug, pmo.pk]),
            detail=detail(pmo),
        )
        for pmo in rows
    ]


register_finder(Finder("people", "People", 50, find_people))
register_finder(Finder("pmos", "PMOs", 60, find_pmos))
