"""Reads of the catalogue. Every one takes the actor, and so the organisation.

Customers see the published catalogue only: running services with a published version,
shown as that version (never unpublished edits). PMO staff see everything.
"""

from __future__ import annotations

import copy
import enum
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, cast

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from carte.catalogue import models, search
from carte.catalogue.choices import Stage
from carte.catalogue.filters import CategoryFilter, PublishedServiceFilter, ServiceFilter
from carte.catalogue.models import Category, Service, ServiceVersion
from carte.catalogue.search import Ranked
from carte.catalogue.services import PARTS, SERVICE_FIELDS
from carte.core.errors import forbidden, not_found
from carte.core.listing import ListFilter, get_for
from carte.core.models import TenantModel
from carte.core.permissions import VIEW, Right, can, require
from carte.organisations.actor import Actor
from carte.organisations.models import PMO, Competence
from carte.organisations.permissions import STAFF_SIDE

LIVE = Q(archived_at__isnull=True)


def sees_everything(actor: Actor) -> bool:
    """PMO staff, viewers and admins see unpublished services; customers do not."""
    return actor.system or bool(actor.roles & STAFF_SIDE)


def _services(actor: Actor) -> QuerySet[Service]:
    qs = Service.objects.filter(organisation_id=actor.organisation.pk)
    if not sees_everything(actor):
        qs = qs.filter(stage=Stage.RUNNING, current_version__isnull=False, archived_at__isnull=True)
    return qs


# ---------------------------------------------------------------- lists


def category_list(*, actor: Actor, filters: ListFilter | None = None) -> QuerySet[Category]:
    """Categories with the number of live services each holds (that the actor may see):
    for a customer, the services published under it, as the menu shows them."""
    require(actor, VIEW, Category)
    visible = _services(actor).filter(archived_at__isnull=True)
    qs = Category.objects.filter(organisation_id=actor.organisation.pk)
    if sees_everything(actor):
        qs = qs.annotate(
            service_count=Count("services", filter=Q(services__in=visible.values("pk")))
        )
    else:
        published = (
            visible.filter(current_version__category=OuterRef("pk"))
            .order_by()
            .values("current_version__category")
            .annotate(n=Count("pk"))
            .values("n")
        )
        qs = qs.annotate(service_count=Coalesce(Subquery(published), 0))
    return (filters or CategoryFilter.model_validate({})).apply(qs)


def category_choices(*, actor: Actor) -> QuerySet[Category, tuple[int, str]]:
    """Live categories as (id, name) in menu order, for a filter's options (no counts)."""
    require(actor, VIEW, Category)
    return live_categories(actor=actor).values_list("pk", "name")


def _version_number() -> Subquery:
    # A subquery, not a join: PostgreSQL then reads the number for a page's rows only,
    # after sorting and slicing, instead of joining every service to its version first.
    return Subquery(
        ServiceVersion.objects.filter(pk=OuterRef("current_version_id")).order_by().values("number")
    )


def service_filter(actor: Actor, filters: ListFilter | None) -> ListFilter:
    """The services filter the actor's list runs: a customer's searches and filters read
    each service as last published (`PublishedServiceFilter`), staff's the live rows."""
    given = filters or ServiceFilter.model_validate({})
    if sees_everything(actor) or not isinstance(given, ServiceFilter):
        return given
    if isinstance(given, PublishedServiceFilter):
        return given
    return PublishedServiceFilter.published(given)


def _search_words(filters: ListFilter) -> str:
    """The words the list is searched for; "" when it is not searched."""
    return (getattr(filters, "q", None) or "").strip()


def _matching(
    actor: Actor, candidates: QuerySet[Service, Any], words: str, *, best_first: bool = True
) -> list[int]:
    """The ids of the candidates that match the words (`catalogue.search`), best match
    first or in the candidates' order: staff search the live rows, customers each service
    as last published. One query reads the customers' texts, three the staff's, whatever
    the number of candidates."""
    candidates = candidates.prefetch_related(None)
    if sees_everything(actor):
        texts = search.live_texts(candidates)
    else:
        texts = search.published_texts(candidates)
    ids = search.rank(words, texts)
    if best_first:
        return ids
    found = set(ids)
    return [pk for pk, _ in texts if pk in found]


def service_list(
    *, actor: Actor, filters: ListFilter | None = None
) -> QuerySet[Service] | Ranked[Service]:
    """The catalogue as a list: each service with its category, PMOs and the number of
    its current version (`version_number`).

    Searched (`q`), the services that match any of the words, best match first, or in the
    ordering asked for: a `Ranked` list that reads a page's services when sliced.

    Only customers' lists load the version itself, with its snapshot and the category it
    was published under: they see each service as published. Staff rows leave
    `current_version` unloaded (reading it would cost a query per row)."""
    qs = _services(actor).select_related("category").annotate(version_number=_version_number())
    if sees_everything(actor):
        qs = qs.prefetch_related("delivering_pmos")
    else:
        qs = qs.select_related("current_version__category").prefetch_related(
            "current_version__delivering_pmos"
        )
    active = service_filter(actor, filters)
    qs = active.apply(qs)
    words = _search_words(active)
    if not words:
        return qs
    ids = _matching(actor, qs, words, best_first=active.ordering is None)
    page = qs.order_by()
    return Ranked.of(ids, lambda wanted: page.filter(pk__in=wanted), key=lambda s: s.pk)


@dataclass(frozen=True)
class MenuCategory:
    """The heading of a section of the menu."""

    id: int
    name: str
    description: str


@dataclass
class MenuSection:
    """A category of the menu with its cards (plain dicts, see `catalogue_menu`)."""

    category: MenuCategory
    services: list[dict[str, Any]] = field(default_factory=list)


# What a card shows of a service. Staff read these columns of the live row; customers
# read them from the published version's snapshot, never unpublished edits.
_CARD_FIELDS = (
    "name",
    "summary",
    "pricing_basis",
    "price",
    "currency",
    "price_unit",
    "delivery_mode",
)
_MENU_COLUMNS = (
    "id",
    "code",
    "stage",
    "category_id",
    "category__name",
    "category__description",
    "version_number",
)
_SNAPSHOT_CARD = "current_version__snapshot__service"
# A customer's card sits under the category it was published under (a draft may move it).
_PUBLISHED_CATEGORY = {
    "current_version__category_id": "category_id",
    "current_version__category__name": "category__name",
    "current_version__category__description": "category__description",
}


def menu_services(
    *, actor: Actor, filters: ServiceFilter | None = None
) -> QuerySet[Service, dict[str, Any]] | Ranked[dict[str, Any]]:
    """The services of the menu in menu order: by category, then by code (M-3); searched
    (`q`), those that match any of the words, best match first (equal matches in menu
    order), as a `Ranked` list that reads a page's rows when sliced.

    Plain rows of the columns a card shows, not model instances: a page of the menu
    holds 60 cards, and building their 180 instances (service, category, version) took
    as long as rendering the page. Customers get the card as published: the `service`
    part of the current version's snapshot, read in the database rather than the whole
    snapshot, under the category it was published under."""
    active = service_filter(actor, filters)
    qs: QuerySet[Service] = active.filter(_services(actor))
    qs = qs.annotate(version_number=_version_number())
    rows: QuerySet[Service, dict[str, Any]]
    if sees_everything(actor):
        rows = qs.values(*_MENU_COLUMNS, *_CARD_FIELDS).order_by(
            "category__position", "category__name", "code", "id"
        )
    else:
        rows = qs.values(*_MENU_COLUMNS, *_PUBLISHED_CATEGORY, _SNAPSHOT_CARD).order_by(
            "current_version__category__position",
            "current_version__category__name",
            "current_version__snapshot__service__code",
            "id",
        )
    words = _search_words(active)
    if not words:
        return rows
    ids = _matching(actor, rows, words)
    page = rows.order_by()
    return Ranked.of(ids, lambda wanted: page.filter(pk__in=wanted), key=lambda row: row["id"])


def catalogue_menu(rows: Iterable[dict[str, Any]]) -> list[MenuSection]:
    """Rows of `menu_services` (a page of the menu) as cards grouped under their
    categories, in the order given. Each card has the columns of `_MENU_COLUMNS`,
    `_CARD_FIELDS` and `delivering_pmos` (names); one query reads the PMOs of live cards.
    """
    rows = list(rows)
    live = [row["id"] for row in rows if _SNAPSHOT_CARD not in row]
    pmos: dict[int, list[str]] = defaultdict(list)
    if live:
        # The PMOs' own order (name, id), as service.delivering_pmos.all() gives them.
        links = (
            Service.delivering_pmos.through.objects.filter(service_id__in=live)
            .order_by("pmo__name", "pmo_id")
            .values_list("service_id", "pmo__name")
        )
        for service_id, name in links:
            pmos[service_id].append(name)
    sections: dict[int, MenuSection] = {}
    for row in rows:
        published = row.pop(_SNAPSHOT_CARD, None)
        if published is not None:
            row["code"] = published["code"]
            shown = {key: row.pop(column) for column, key in _PUBLISHED_CATEGORY.items()}
            if shown["category_id"] is not None:  # else: the category is gone, keep the row's
                row.update(shown)
        section = sections.get(row["category_id"])
        if section is None:
            category = MenuCategory(
                row["category_id"], row["category__name"], row["category__description"]
            )
            section = sections[row["category_id"]] = MenuSection(category)
        if published is not None:
            row.update({name: published[name] for name in _CARD_FIELDS})
            row["delivering_pmos"] = published["delivering_pmos"]
        else:
            row["delivering_pmos"] = pmos[row["id"]]
        section.services.append(row)
    return list(sections.values())


# Card fields a customer reads from the published version rather than from the live row:
# all but the service it replaces (kept from the row), the category (the version's own
# row, not its name) and those the snapshot holds as text (price, end date: converted in
# `as_published`).
_PUBLISHED_FIELDS = tuple(
    name for name in SERVICE_FIELDS if name not in ("category", "replaces", "price", "end_date")
)


def as_published(service: Service) -> Service:
    """A copy of the service whose card reads as last published (for customers' lists),
    under the category it was published under; the stored row is untouched."""
    data = published_view(service)
    if data is None:
        return service
    card = copy.copy(service)
    fields = data["service"]
    for name in _PUBLISHED_FIELDS:
        setattr(card, name, fields[name])
    version = service.current_version
    if version is not None:
        card.updated_at = version.published_at  # a draft's edits are not news to customers
        if version.category is not None:
            card.category = version.category
        # The PMOs it was published with (prefetched with the version by `service_list`).
        cast(Any, card)._prefetched_objects_cache = {
            **getattr(service, "_prefetched_objects_cache", {}),
            "delivering_pmos": version.delivering_pmos.all(),
        }
    card.price = None if fields["price"] is None else Decimal(fields["price"])
    card.end_date = date.fromisoformat(fields["end_date"]) if fields["end_date"] else None
    return card


def published_view(service: Service) -> dict[str, Any] | None:
    """What a customer sees of a service: its latest published snapshot."""
    version = service.current_version
    return version.snapshot if version is not None else None


# ---------------------------------------------------------------- one service


class Audience(enum.Enum):
    """Who the records under a service are for."""

    EVERYONE = "everyone"  # customers too, for a service published to them
    STAFF = "staff"  # the PMO's working papers: lifecycle, KPIs, risks, changes


def service_for(
    *,
    actor: Actor,
    pk: int | str,
    action: Right = VIEW,
    audience: Audience = Audience.EVERYONE,
    related: Sequence[str] = ("category",),
) -> Service:
    """The one scoped fetch of a service, for the service itself and everything under it.

    404 when the service is missing, another organisation's, or hidden from the caller (a
    customer and a service not published to them), so nobody learns that it exists. Then
    403 when the records asked for are the staff's (`audience`) and the caller is a
    customer, or when the caller lacks the `action` on the service."""
    qs = _services(actor).select_related(*related)
    if "current_version" in related and sees_everything(actor):
        qs = qs.defer("current_version__snapshot")  # customers read it; staff do not
    service = get_for(actor, qs, pk)
    if audience is Audience.STAFF and not sees_everything(actor):
        raise forbidden("This part of a service is for the PMO's staff.")
    if action != VIEW and not can(actor, action, service):
        raise forbidden("You are not allowed to do this on this service.")
    return service


def service_get(*, actor: Actor, pk: int | str, action: Right = VIEW) -> Service:
    """A service with what its own pages show (customers read its published snapshot)."""
    qs = _services(actor).select_related("category", "replaces", "current_version")
    return get_for(actor, qs, pk, action=action)


# The live rows of each part of a service (by its related name), with what they show.
_LIVE_PARTS: dict[str, Callable[[], QuerySet[Any]]] = {
    "roles": lambda: models.ServiceRole.objects.filter(LIVE).select_related("person", "pmo"),
    "levels": lambda: models.ServiceLevel.objects.filter(LIVE),
    "symptom_links": lambda: models.ServiceSymptom.objects.filter(LIVE).select_related("symptom"),
    "suppliers": lambda: models.Supplier.objects.filter(LIVE),
    "inputs": lambda: models.ServiceInput.objects.filter(LIVE).select_related(
        "supplier", "source_output__service"
    ),
    "steps": lambda: models.ProcessStep.objects.filter(LIVE),
    "outputs": lambda: models.ServiceOutput.objects.filter(LIVE).prefetch_related("customers"),
    "customers": lambda: models.ServiceCustomer.objects.filter(LIVE).select_related(
        "customer_group"
    ),
    "competences": lambda: models.CompetenceNeed.objects.filter(LIVE).select_related("competence"),
    "governance": lambda: models.GovernanceNeed.objects.filter(LIVE),
    "artefact_links": lambda: models.ServiceArtefact.objects.filter(LIVE).select_related(
        "artefact"
    ),
    "own_artefacts": lambda: models.Artefact.objects.filter(LIVE),
}


def service_detail(*, actor: Actor, pk: int | str, parts: Iterable[str] | None = None) -> Service:
    """A service with its live parts loaded, in a fixed number of queries: every part, or
    only those named in `parts` (related names, as a page's tab shows a few). Staff do not
    load the published snapshot (customers read the service through it)."""
    qs = _services(actor).select_related("category", "replaces", "current_version")
    if sees_everything(actor):
        qs = qs.defer("current_version__snapshot")
    names = [*_LIVE_PARTS, "delivering_pmos"] if parts is None else parts
    loads = [
        Prefetch(name, queryset=_LIVE_PARTS[name]()) if name in _LIVE_PARTS else name
        for name in names
    ]
    return get_for(actor, qs.prefetch_related(*loads), pk)


def part_get(
    *,
    actor: Actor,
    kind: str,
    pk: int | str,
    service: Service,
    action: Right = VIEW,
    rows: QuerySet[Any] | None = None,
) -> TenantModel:
    """One part of a service, scoped to the organisation and to that service (`rows`: the
    parts of that kind with what the caller shows loaded)."""
    model: Any = PARTS.get(kind)
    if model is None:
        raise not_found("part")
    found = model._default_manager.all() if rows is None else rows
    part: TenantModel = get_for(actor, found.filter(service=service), pk, action=action)
    return part


def parts_of(*, actor: Actor, service: Service, rows: QuerySet[Any]) -> QuerySet[Any]:
    """The live parts of one kind (`rows`) of a service the actor may see."""
    return rows.filter(
        organisation_id=actor.organisation.pk, service=service, archived_at__isnull=True
    )


# ---------------------------------------------------------------- the forms' choices


def live_categories(*, actor: Actor) -> QuerySet[Category]:
    """The organisation's live categories, in menu order: a service's category to choose."""
    return Category.objects.filter(
        organisation_id=actor.organisation.pk, archived_at__isnull=True
    ).order_by("position", "id")


def service_choices(*, actor: Actor, exclude: Service | None = None) -> QuerySet[Service]:
    """The organisation's live services by code (a service replaced or replacing), but
    `exclude`, the one being edited."""
    qs = Service.objects.filter(organisation_id=actor.organisation.pk, archived_at__isnull=True)
    if exclude is not None and exclude.pk is not None:
        qs = qs.exclude(pk=exclude.pk)
    return qs.order_by("code", "id")


def delivering_pmo_choices(*, service: Service) -> QuerySet[PMO]:
    """The PMOs that deliver `service` (a role's PMO)."""
    return service.delivering_pmos.all()


def supplier_choices(*, service: Service) -> QuerySet[models.Supplier]:
    """A service's live suppliers (an input's supplier, a pilot's selected suppliers)."""
    return models.Supplier.objects.filter(service=service, archived_at__isnull=True)


def output_choices(*, actor: Actor, service: Service) -> QuerySet[models.ServiceOutput]:
    """The live outputs of the organisation's other live services, which an input of
    `service` may come from, by service code."""
    return (
        models.ServiceOutput.objects.filter(
            organisation_id=actor.organisation.pk,
            archived_at__isnull=True,
            service__archived_at__isnull=True,
        )
        .exclude(service=service)
        .select_related("service")
        .order_by("service__code", "position")
    )


def competence_choices(*, actor: Actor) -> QuerySet[Competence]:
    """The live competences of the organisation's framework, by group and name: what a
    service's need may name."""
    return Competence.objects.filter(
        organisation_id=actor.organisation.pk, archived_at__isnull=True
    ).order_by("group", "name", "id")


def artefact_choices(*, actor: Actor, service: Service) -> QuerySet[models.Artefact]:
    """The organisation's live artefacts that `service` does not own, to link to it."""
    return (
        models.Artefact.objects.filter(
            organisation_id=actor.organisation.pk, archived_at__isnull=True
        )
        .exclude(owner_service=service)
        .select_related("owner_pmo", "owner_service")
    )


def version_list(*, actor: Actor, service: Service) -> QuerySet[ServiceVersion]:
    return ServiceVersion.objects.filter(
        organisation_id=actor.organisation.pk, service=service
    ).select_related("published_by")


def version_get(*, actor: Actor, service: Service, number: int) -> ServiceVersion:
    version = version_list(actor=actor, service=service).filter(number=number).first()
    if version is None:
        raise not_found("version")
    return version


# ---------------------------------------------------------------- dependencies (M-5)


@dataclass(frozen=True)
class Edge:
    """An output of `source` is an input of `target`."""

    source: int
    target: int
    output: str
    input: str


def _edges(actor: Actor, services: QuerySet[Service] | None = None) -> list[Edge]:
    inputs = models.ServiceInput.objects.filter(
        organisation_id=actor.organisation.pk,
        archived_at__isnull=True,
        source_output__isnull=False,
        source_output__archived_at__isnull=True,
        service__archived_at__isnull=True,
        source_output__service__archived_at__isnull=True,
    )
    if services is not None:
        inputs = inputs.filter(Q(service__in=services) | Q(source_output__service__in=services))
    return [
        Edge(source=src, target=tgt, output=out, input=name)
        for tgt, name, src, out in inputs.values_list(
            "service_id", "name", "source_output__service_id", "source_output__name"
        )
    ]


def service_dependencies(*, actor: Actor, service: Service) -> dict[str, list[dict[str, Any]]]:
    """The services this one takes inputs from (upstream) and feeds (downstream)."""
    visible = _services(actor)
    edges = [
        e
        for e in _edges(actor, visible.filter(pk=service.pk))
        if service.pk in (e.source, e.target)
    ]
    other_ids = {e.source for e in edges} | {e.target for e in edges}
    others = {s.pk: s for s in visible.filter(pk__in=other_ids)}
    upstream = [
        {"service": others[e.source], "output": e.output, "input": e.input}
        for e in edges
        if e.target == service.pk and e.source in others
    ]
    downstream = [
        {"service": others[e.target], "output": e.output, "input": e.input}
        for e in edges
        if e.source == service.pk and e.target in others
    ]
    return {"upstream": upstream, "downstream": downstream}


def find_cycles(nodes: list[int], edges: list[Edge]) -> list[list[int]]:
    """Each strongly connected group of services that depend on each other in a loop."""
    graph: dict[int, list[int]] = defaultdict(list)
    for e in edges:
        graph[e.source].append(e.target)
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    cycles: list[list[int]] = []
    counter = 0
    # Tarjan's algorithm, iterative so a long chain of services cannot hit the recursion limit.
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[int, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            children = graph[node]
            if i < len(children):
                work.append((node, i + 1))
                child = children[i]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1 or node in graph[node]:
                    cycles.append(sorted(group))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return cycles


def dependency_graph(*, actor: Actor) -> dict[str, Any]:
    """Every visible live service as a node and every output-to-input link as an edge,
    with a layer per node (longest path from a source) for a readable left-to-right
    layout, and the cycles, which have no such order."""
    # Plain values, not model instances: the graph of a large catalogue reads thousands
    # of rows and needs five columns of each.
    services = list(
        _services(actor)
        .filter(archived_at__isnull=True)
        .order_by("category__position", "code")
        .values("id", "code", "name", "category__name", "stage")
    )
    ids = {s["id"] for s in services}
    edges = [e for e in _edges(actor) if e.source in ids and e.target in ids]
    cycles = find_cycles([s["id"] for s in services], edges)
    in_cycle = {n for group in cycles for n in group}
    layer = {s["id"]: 0 for s in services}
    # Longest-path layering over the acyclic part; links inside a cycle are left out of it.
    acyclic = [e for e in edges if not (e.source in in_cycle and e.target in in_cycle)]
    for _ in range(len(services)):
        changed = False
        for e in acyclic:
            if layer[e.target] < layer[e.source] + 1:
                layer[e.target] = layer[e.source] + 1
                changed = True
        if not changed:
            break
    return {
        "nodes": [
            {
                "id": s["id"],
                "code": s["code"],
                "name": s["name"],
                "category": s["category__name"],
                "stage": s["stage"],
                "layer": layer[s["id"]],
                "in_cycle": s["id"] in in_cycle,
            }
            for s in services
        ],
        "edges": [
            {"source": e.source, "target": e.target, "output": e.output, "input": e.input}
            for e in edges
        ],
        "cycles": cycles,
    }


# ---------------------------------------------------------------- the catalogue document


def catalogue_document(*, actor: Actor) -> list[tuple[Category, list[dict[str, Any]]]]:
    """The catalogue as a document (M-11): categories in menu order, each with its
    services as snapshots. Staff get the live catalogue, customers the published one;
    the number of queries does not depend on the number of services."""
    from carte.catalogue import snapshots

    staff = sees_everything(actor)
    qs = (
        _services(actor)
        .filter(archived_at__isnull=True)
        .select_related("category", "replaces", "current_version")
        .order_by("category__position", "category__name", "code")
    )
    if staff:
        qs = qs.prefetch_related(*snapshots.PREFETCH)
    sections: dict[int, tuple[Category, list[dict[str, Any]]]] = {}
    for service in qs:
        data = snapshots.of(service) if staff else published_view(service)
        if data is None:
            continue
        entry = {
            **data,
            "stage": service.stage,
            "version": getattr(service.current_version, "number", None),
        }
        sections.setdefault(service.category_id, (service.category, []))[1].append(entry)
    return list(sections.values())
