"""What the search in the header finds in the operations app (`core.find`): KPIs, risks
and issues, and change requests, the PMO staff's records (a customer finds none of them).

A record is found when each word of the search is in it somewhere, as its own list
searches (`ItemFilter`, `ChangeFilter`: the title and the description), each word taken
by its stem's root ("resolving tickets" finds "Tickets resolved", as the catalogue's search
would, `catalogue.search.query_words`). Records of archived services, and archived
records, are left out. Each kind is one query, two when there are more than shown, and
those whose title holds every word come first.

There is no selector yet of all an organisation's KPIs, risks and issues or change requests
whatever their state (the registers would give them): the queries are written here,
scoped by the actor's organisation and guarded by the models' view rights.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.urls import reverse

from carte.catalogue.search import query_words
from carte.core.find import Finder, Found, every_word, list_search, register_finder
from carte.core.permissions import VIEW, ActorLike, can
from carte.core.work import first_rows
from carte.operations.choices import ItemStatus
from carte.operations.filters import ChangeFilter, ItemFilter
from carte.operations.models import KPI, ChangeRequest, RiskIssue
from carte.organisations.actor import Actor
from carte.organisations.permissions import STAFF_SIDE

M = TypeVar("M", KPI, RiskIssue, ChangeRequest)

ROOT_MIN = 3  # a stem's root shorter than this stands for too many words: the word is kept
_REFERENCE = re.compile(r"CR-?\s?(\d{1,9})", re.IGNORECASE)  # "CR-12", as changes are named


def _staff_may_view(actor: ActorLike, model: type[Any]) -> bool:
    """The PMO's staff with the right to view the model's records (never a customer)."""
    return (actor.system or bool(actor.roles & STAFF_SIDE)) and can(actor, VIEW, model)


def _shared_start(word: str, stem: str) -> str:
    """The start a word and its stem share: "delivery" and "deliveri" share "deliver"."""
    size = next((i for i, (a, b) in enumerate(zip(word, stem, strict=False)) if a != b), None)
    return word[: min(len(word), len(stem)) if size is None else size]


def terms(q: str) -> list[str]:
    """What each word of the search is matched by: the start it shares with its stem
    ("resolving" -> "resolv", so "resolved" is found), stop words left out, as the
    catalogue's search leaves them out (a search of nothing but stop words finds nothing)."""
    return [
        root if len(root := _shared_start(word, stem)) >= ROOT_MIN else word
        for word, stem in query_words(q)
    ]


def _ranked(
    qs: QuerySet[M], q: str, match: Callable[[str], Q], title: str, *order: str
) -> QuerySet[M]:
    """The rows of `qs` matching every term of `q`, those whose `title` holds them all
    first, then in `order`."""
    found = terms(q)
    in_title = every_word(found, lambda term: Q(**{f"{title}__icontains": term}))
    return (
        qs.filter(every_word(found, match), archived_at__isnull=True)
        .filter(service__archived_at__isnull=True)
        .annotate(
            in_title=Case(
                When(in_title, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("in_title", *order, "pk")
    )


def _slug(actor: ActorLike) -> str:
    return cast(Actor, actor).organisation.slug


def find_kpis(actor: ActorLike, q: str, limit: int) -> tuple[int, list[Found]]:
    """KPIs by their name and definition."""
    if not _staff_may_view(actor, KPI):
        return 0, []
    qs = KPI.objects.filter(organisation_id=actor.organisation.pk).select_related("service")
    rows = _ranked(
        qs,
        q,
        lambda term: Q(name__icontains=term) | Q(definition__icontains=term),
        "name",
        "name",
    )
    count, kpis = first_rows(rows, limit)
    slug = _slug(actor)
    return count, [
        Found(
            title=kpi.name,
            url=reverse("operations:kpi_detail", args=[slug, kpi.service_id, kpi.pk]),
            detail=kpi.service.name,
        )
        for kpi in kpis
    ]


_ITEM_SEARCH = list_search(ItemFilter, state="all")  # the register's search, open or closed


def find_items(actor: ActorLike, q: str, limit: int) -> tuple[int, list[Found]]:
    """Risks and issues, open or closed, by their title (as the register searches) and
    description; open ones before closed, highest score first."""
    if not _staff_may_view(actor, RiskIssue):
        return 0, []
    qs = RiskIssue.objects.filter(organisation_id=actor.organisation.pk).select_related("service")
    rows = _ranked(
        qs,
        q,
        lambda term: _ITEM_SEARCH(term) | Q(description__icontains=term),
        "title",
        "-status",  # "open" after "closed" alphabetically: descending puts it first
        "-score",
    )
    count, items = first_rows(rows, limit)
    slug = _slug(actor)

    def detail(item: RiskIssue) -> str:
        parts = [item.get_kind_display(), item.service.name, item.get_level_display()]
        if item.status != ItemStatus.OPEN:
            parts.append(item.get_status_display())
        return " · ".join(parts)

    return count, [
        Found(
            title=item.title,
            url=reverse("operations:item", args=[slug, item.service_id, item.pk]),
            detail=detail(item),
        )
        for item in items
    ]


_CHANGE_SEARCH = list_search(ChangeFilter)  # the change list's search: title, description


def find_changes(actor: ActorLike, q: str, limit: int) -> tuple[int, list[Found]]:
    """Change requests by their title and description (as their lists search), or by
    their reference ("CR-12"); newest first. Staff only, for now: a customer who raised a
    change follows it from the service's page."""
    if not _staff_may_view(actor, ChangeRequest):
        return 0, []
    qs = ChangeRequest.objects.filter(organisation_id=actor.organisation.pk).select_related(
        "service"
    )
    reference = _REFERENCE.fullmatch(q.strip())
    if reference is not None:
        rows = qs.filter(
            number=int(reference.group(1)),
            archived_at__isnull=True,
            service__archived_at__isnull=True,
        ).order_by("pk")
    else:
        rows = _ranked(qs, q, _CHANGE_SEARCH, "title", "-number")
    count, changes = first_rows(rows, limit)
    slug = _slug(actor)
    return count, [
        Found(
            title=f"{change.reference} {change.title}",
            url=reverse("operations:change_detail", args=[slug, change.service_id, change.pk]),
            detail=f"{change.get_state_display()} · {change.service.name}",
        )
        for change in changes
    ]


register_finder(Finder("kpis", "KPIs", 20, find_kpis))
register_finder(Finder("items", "Risks and issues", 30, find_items))
register_finder(Finder("changes", "Change requests", 40, find_changes))
