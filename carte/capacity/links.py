"""What capacity adds to the lower apps' pages, through their slots (`core.slots`): a
person's page links to their capacity page (competences, availability, load), for those
who may see it; the set-up decision of a proposed service shows whether it fits the
people's free time over the next year (M-14), next to "competence and capacity
available", which the Director still answers."""

from __future__ import annotations

from django.urls import reverse

from carte.capacity.months import label
from carte.capacity.selectors import grid
from carte.capacity.selectors.records import visible_person_ids
from carte.catalogue.models import Service
from carte.lifecycle.slots import DECISION_FACTS, Fact
from carte.organisations.actor import Actor
from carte.organisations.models import Person
from carte.organisations.views import PERSON_LINKS


@PERSON_LINKS.fill
def person_capacity(actor: Actor, person: Person) -> tuple[str, str] | None:
    visible = visible_person_ids(actor)
    if visible is not None and person.pk not in visible:
        return None
    return (
        "Competences and load",
        reverse("capacity:person", args=[actor.organisation.slug, person.pk]),
    )


@DECISION_FACTS.fill
def capacity_fit(actor: Actor, service: Service) -> Fact | None:
    """Whether the service's competence needs fit the free time of people able to cover
    them, month by month over the next twelve, beside what runs now."""
    about = "Competence and capacity available"
    fit_page = reverse("capacity:fit", args=[actor.organisation.slug])
    found, needs = grid.service_needs(actor, service.pk)
    if not needs:
        return Fact(
            about,
            "The service names no competence needs yet: nothing to check against capacity.",
            link=("Its needs, on the catalogue page", _needs_page(actor, service)),
        )
    result = grid.fit(actor, needs, grid.grid_query(actor), service=found)
    link = ("Month by month, and who has time", f"{fit_page}?service={service.pk}")
    if result.fits:
        return Fact(
            about, f"Fits in each of the next {len(result.months)} months.", True, link=link
        )
    short = result.short_months
    worst: dict[str, float] = {}
    for month in short:
        for shortage in month.shortages:
            worst[shortage.name] = max(worst.get(shortage.name, 0.0), shortage.short)
    details = [f"{name}: short by up to {value:.2f} FTE" for name, value in sorted(worst.items())]
    span = f"{label(short[0].month)} to {label(short[-1].month)}" if len(short) > 1 else ""
    verdict = (
        f"Does not fit in {len(short)} of the next {len(result.months)} months"
        + (f" ({span})" if span else f" ({label(short[0].month)})")
        + " unless something else gives way."
    )
    return Fact(about, verdict, False, details, link)


def _needs_page(actor: Actor, service: Service) -> str:
    return reverse("service_detail", args=[actor.organisation.slug, service.pk]) + "?tab=needs"
