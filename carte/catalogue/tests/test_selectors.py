"""The catalogue reads: who sees which services, the list filters, the menu, the
dependencies between services (M-5) and tenancy."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

import pytest

from carte.catalogue import selectors, services
from carte.catalogue.choices import ArtefactKind, DeliveryMode, PricingBasis, Stage
from carte.catalogue.filters import ServiceFilter
from carte.catalogue.models import Category, Service
from carte.catalogue.selectors import Edge, find_cycles
from carte.catalogue.tests.factories import move_stage
from carte.core.errors import NOT_FOUND, DomainError
from carte.organisations.tests.factories import CustomerGroupFactory, PMOFactory

# ---------------------------------------------------------------- helpers


def new_category(actor: Any, name: str = "Governance") -> Category:
    return services.category_create(actor=actor, name=name)


def new_service(actor: Any, category: Category, code: str, /, **fields: Any) -> Service:
    fields = {"code": code, "name": f"Service {code}", **fields}
    return services.service_create(actor=actor, category=category, **fields)


def add(actor: Any, service: Service, kind: str, /, **data: Any) -> Any:
    return services.part_create(actor=actor, service=service, kind=kind, data=data)


def go_live(actor: Any, service: Service) -> Service:
    """Publish the service and put it in the running stage (moves belong to the lifecycle)."""
    services.service_publish(actor=actor, service=service)
    move_stage(service, Stage.RUNNING)
    service.refresh_from_db()
    return service


def feed(actor: Any, source: Service, target: Service, name: str = "Report") -> Any:
    """An output of `source` becomes an input of `target`."""
    output = add(actor, source, "outputs", name=f"{name} of {source.code}")
    return add(actor, target, "inputs", name=f"{name} for {target.code}", source_output=output)


def codes(services_: Any) -> list[str]:
    """The codes of services, or of the menu's cards (plain dicts)."""
    return [s["code"] if isinstance(s, dict) else s.code for s in services_]


def listed(actor: Any, **params: Any) -> list[str]:
    return codes(selectors.service_list(actor=actor, filters=ServiceFilter.model_validate(params)))


@pytest.fixture
def category(director: Any) -> Category:
    return new_category(director.actor)


# ---------------------------------------------------------------- visibility


def test_it_shows_customers_only_running_published_services(
    director: Any, staff: Any, viewer: Any, customer: Any, category: Category
) -> None:
    live = go_live(director.actor, new_service(director.actor, category, "LIVE"))
    unpublished = new_service(director.actor, category, "DRAFT")
    move_stage(unpublished, Stage.RUNNING)
    services.service_publish(
        actor=director.actor, service=new_service(director.actor, category, "PROPOSED")
    )
    gone = go_live(director.actor, new_service(director.actor, category, "GONE"))
    services.service_archive(actor=director.actor, service=gone)

    assert listed(customer.actor) == ["LIVE"]
    assert listed(customer.actor, status="all") == ["LIVE"]
    for persona in (staff, viewer, director):
        assert listed(persona.actor) == ["DRAFT", "LIVE", "PROPOSED"]
        assert listed(persona.actor, status="all") == ["DRAFT", "GONE", "LIVE", "PROPOSED"]

    assert selectors.service_get(actor=customer.actor, pk=live.pk) == live
    with pytest.raises(DomainError) as info:
        selectors.service_get(actor=customer.actor, pk=unpublished.pk)
    assert info.value.code == NOT_FOUND
    assert selectors.service_detail(actor=staff.actor, pk=unpublished.pk) == unpublished


def test_it_counts_only_visible_services_per_category(
    director: Any, customer: Any, category: Category
) -> None:
    go_live(director.actor, new_service(director.actor, category, "LIVE"))
    new_service(director.actor, category, "DRAFT")

    def counts(actor: Any) -> dict[str, int]:
        return {c.name: c.service_count for c in cast(Any, selectors.category_list(actor=actor))}

    assert counts(director.actor) == {"Governance": 2}
    assert counts(customer.actor) == {"Governance": 1}


def test_it_shows_a_customer_the_published_version_not_later_edits(
    director: Any, customer: Any, category: Category
) -> None:
    service = go_live(director.actor, new_service(director.actor, category, "LIVE"))
    services.service_update(actor=director.actor, service=service, data={"name": "Draft name"})

    seen = selectors.service_get(actor=customer.actor, pk=service.pk)
    published = selectors.published_view(seen)
    assert published is not None
    assert published["service"]["name"] == "Service LIVE"
    assert selectors.published_view(new_service(director.actor, category, "NEW")) is None


# ---------------------------------------------------------------- ServiceFilter


def test_it_searches_code_name_summary_description_outputs_and_symptoms_once_each(
    director: Any, category: Category
) -> None:
    new_service(director.actor, category, "AUDIT-1")
    new_service(director.actor, category, "N1", name="Quality audits")
    new_service(director.actor, category, "S1", summary="Light audit of a plan")
    new_service(director.actor, category, "D1", description="We AUDIT risks.")
    outputs = new_service(director.actor, category, "O1")
    add(director.actor, outputs, "outputs", name="Audit report")
    add(director.actor, outputs, "outputs", name="Audit findings")
    symptoms = new_service(director.actor, category, "SY1")
    for statement in ("Nobody audits spend", "Audit trail is missing"):
        symptom = services.symptom_get_or_create(actor=director.actor, statement=statement)
        add(director.actor, symptoms, "symptoms", symptom=symptom)
    hidden = new_service(director.actor, category, "X1")
    gone = add(director.actor, hidden, "outputs", name="Audit pack")
    services.part_archive(actor=director.actor, part=gone)
    new_service(director.actor, category, "OTHER", name="Training")

    assert listed(director.actor, q="audit", ordering="code") == [
        "AUDIT-1",
        "D1",
        "N1",
        "O1",
        "S1",
        "SY1",
    ]
    assert listed(director.actor, q="training") == ["OTHER"]
    assert listed(director.actor, q="nothing like it") == []


def test_it_filters_by_category_stage_delivery_mode_and_pricing_basis(
    director: Any, category: Category
) -> None:
    reporting = new_category(director.actor, "Reporting")
    new_service(director.actor, category, "A")
    running = new_service(
        director.actor,
        reporting,
        "B",
        delivery_mode=DeliveryMode.OUTSOURCED,
        provider_name="Big Four",
        pricing_basis=PricingBasis.FIXED_FEE,
        price=Decimal(100),
        currency="EUR",
    )
    move_stage(running, Stage.RUNNING)

    assert listed(director.actor, category=reporting.pk) == ["B"]
    assert listed(director.actor, category=category.pk) == ["A"]
    assert listed(director.actor, stage="running") == ["B"]
    assert listed(director.actor, stage="proposed") == ["A"]
    assert listed(director.actor, delivery_mode="outsourced") == ["B"]
    assert listed(director.actor, delivery_mode="in_house") == ["A"]
    assert listed(director.actor, pricing_basis="fixed_fee") == ["B"]
    assert listed(director.actor, pricing_basis="free") == ["A"]


def test_it_filters_by_scope_matching_the_code_exactly(director: Any, category: Category) -> None:
    new_service(director.actor, category, "PRJ", scopes=["project"])
    new_service(director.actor, category, "PGM", scopes=["programme", "portfolio"])
    new_service(director.actor, category, "NONE")

    assert listed(director.actor, scope="project") == ["PRJ"]
    assert listed(director.actor, scope="programme") == ["PGM"]
    assert listed(director.actor, scope="portfolio") == ["PGM"]
    assert listed(director.actor, scope="organisation") == []


def test_it_filters_by_customer_group_of_the_service(
    director: Any, org: Any, category: Category
) -> None:
    boards = CustomerGroupFactory(organisation=org)
    sponsors = CustomerGroupFactory(organisation=org)
    both = new_service(director.actor, category, "BOTH")
    add(director.actor, both, "customers", customer_group=boards)
    add(director.actor, both, "customers", customer_group=sponsors)
    former = new_service(director.actor, category, "FORMER")
    link = add(director.actor, former, "customers", customer_group=boards)
    services.part_archive(actor=director.actor, part=link)

    assert listed(director.actor, customer_group=boards.pk) == ["BOTH"]
    assert listed(director.actor, customer_group=sponsors.pk) == ["BOTH"]


def test_it_filters_by_delivering_pmo_without_duplicates(
    director: Any, org: Any, category: Category
) -> None:
    alpha = PMOFactory(organisation=org)
    beta = PMOFactory(organisation=org)
    new_service(director.actor, category, "AB", delivering_pmos=[alpha, beta])
    new_service(director.actor, category, "B", delivering_pmos=[beta])
    new_service(director.actor, category, "NONE")

    assert listed(director.actor, pmo=alpha.pk) == ["AB"]
    assert listed(director.actor, pmo=beta.pk) == ["AB", "B"]
    assert listed(director.actor) == ["AB", "B", "NONE"]


def test_it_refuses_an_unknown_ordering(director: Any) -> None:
    with pytest.raises(DomainError) as info:
        listed(director.actor, ordering="price")
    assert "ordering" in info.value.errors


# ---------------------------------------------------------------- the menu


def test_it_groups_the_menu_by_category_in_menu_order(director: Any) -> None:
    governance = new_category(director.actor, "Governance")
    reporting = new_category(director.actor, "Reporting")
    empty = new_category(director.actor, "Empty")
    new_service(director.actor, governance, "G1")
    new_service(director.actor, reporting, "R1")
    new_service(director.actor, governance, "G2")
    new_service(director.actor, reporting, "R2")

    menu = selectors.catalogue_menu(selectors.menu_services(actor=director.actor))
    assert [(s.category.name, codes(s.services)) for s in menu] == [
        ("Governance", ["G1", "G2"]),
        ("Reporting", ["R1", "R2"]),
    ]

    services.category_update(actor=director.actor, category=reporting, data={"position": 1})
    menu = selectors.catalogue_menu(selectors.menu_services(actor=director.actor))
    assert [s.category.name for s in menu] == ["Reporting", "Governance"]
    assert empty.name not in [s.category.name for s in menu]


def test_it_filters_the_menu(director: Any, customer: Any, category: Category) -> None:
    go_live(director.actor, new_service(director.actor, category, "LIVE", name="Audit"))
    new_service(director.actor, category, "DRAFT", name="Audit draft")

    menu = selectors.catalogue_menu(
        selectors.menu_services(
            actor=director.actor, filters=ServiceFilter.model_validate({"q": "draft"})
        )
    )
    assert [codes(s.services) for s in menu] == [["DRAFT"]]
    assert [
        codes(s.services)
        for s in selectors.catalogue_menu(selectors.menu_services(actor=customer.actor))
    ] == [["LIVE"]]


def test_it_gives_staff_the_live_card_and_customers_the_published_one(
    director: Any, customer: Any, category: Category
) -> None:
    pmos = [PMOFactory(organisation=category.organisation, name=n) for n in ("Zeta", "Alpha")]
    service = new_service(
        director.actor,
        category,
        "LIVE",
        summary="As published",
        pricing_basis=PricingBasis.PER_UNIT,
        price=Decimal("120.00"),
        currency="EUR",
        price_unit="per review",
        delivery_mode=DeliveryMode.OUTSOURCED,
        provider_name="Acme Audit",
        delivering_pmos=pmos,
    )
    go_live(director.actor, service)
    services.service_update(
        actor=director.actor,
        service=service,
        data={"summary": "Edited since", "price": Decimal("99.00"), "delivering_pmos": pmos[:1]},
    )

    def card(actor: Any) -> dict[str, Any]:
        [section] = selectors.catalogue_menu(selectors.menu_services(actor=actor))
        assert section.category.name == category.name
        [only] = section.services
        return only

    staff_card, customer_card = card(director.actor), card(customer.actor)
    assert staff_card["summary"] == "Edited since"
    assert staff_card["price"] == Decimal("99.00")
    assert staff_card["delivering_pmos"] == ["Zeta"]
    assert customer_card["summary"] == "As published"
    assert customer_card["price"] == "120.00"
    assert customer_card["delivering_pmos"] == ["Alpha", "Zeta"]
    for seen in (staff_card, customer_card):
        assert seen["version_number"] == 1
        assert (seen["pricing_basis"], seen["currency"]) == (PricingBasis.PER_UNIT, "EUR")
        assert (seen["price_unit"], seen["delivery_mode"]) == ("per review", "outsourced")


# ---------------------------------------------------------------- dependencies (M-5)


def test_it_lists_upstream_and_downstream_services(director: Any, category: Category) -> None:
    a = new_service(director.actor, category, "A")
    b = new_service(director.actor, category, "B")
    c = new_service(director.actor, category, "C")
    feed(director.actor, a, b)
    feed(director.actor, b, c)

    deps = selectors.service_dependencies(actor=director.actor, service=b)
    assert deps["upstream"] == [{"service": a, "output": "Report of A", "input": "Report for B"}]
    assert deps["downstream"] == [{"service": c, "output": "Report of B", "input": "Report for C"}]
    assert selectors.service_dependencies(actor=director.actor, service=a)["upstream"] == []


def test_it_leaves_archived_links_and_hidden_services_out_of_dependencies(
    director: Any, customer: Any, category: Category
) -> None:
    a = new_service(director.actor, category, "A")
    b = go_live(director.actor, new_service(director.actor, category, "B"))
    c = new_service(director.actor, category, "C")
    feed(director.actor, a, b)
    link = feed(director.actor, b, c)

    # The customer does not see the unpublished A and C.
    assert selectors.service_dependencies(actor=customer.actor, service=b) == {
        "upstream": [],
        "downstream": [],
    }
    services.part_archive(actor=director.actor, part=link)
    assert selectors.service_dependencies(actor=director.actor, service=b)["downstream"] == []


def test_it_layers_a_chain_left_to_right(director: Any, category: Category) -> None:
    a = new_service(director.actor, category, "A")
    b = new_service(director.actor, category, "B")
    c = new_service(director.actor, category, "C")
    alone = new_service(director.actor, category, "D")
    feed(director.actor, b, c)
    feed(director.actor, a, b)

    graph = selectors.dependency_graph(actor=director.actor)

    nodes = {n["code"]: n for n in graph["nodes"]}
    assert {code: n["layer"] for code, n in nodes.items()} == {"A": 0, "B": 1, "C": 2, "D": 0}
    assert not any(n["in_cycle"] for n in graph["nodes"])
    assert nodes["D"]["id"] == alone.pk
    assert sorted((e["source"], e["target"]) for e in graph["edges"]) == sorted(
        [(a.pk, b.pk), (b.pk, c.pk)]
    )
    assert graph["cycles"] == []


def test_it_finds_a_loop_of_three_services(director: Any, category: Category) -> None:
    a = new_service(director.actor, category, "A")
    b = new_service(director.actor, category, "B")
    c = new_service(director.actor, category, "C")
    after = new_service(director.actor, category, "D")
    feed(director.actor, a, b)
    feed(director.actor, b, c)
    feed(director.actor, c, a)
    feed(director.actor, c, after)

    graph = selectors.dependency_graph(actor=director.actor)

    assert graph["cycles"] == [sorted([a.pk, b.pk, c.pk])]
    in_cycle = {n["code"]: n["in_cycle"] for n in graph["nodes"]}
    assert in_cycle == {"A": True, "B": True, "C": True, "D": False}
    assert {n["code"]: n["layer"] for n in graph["nodes"]}["D"] >= 1


def test_it_leaves_archived_services_out_of_the_graph(director: Any, category: Category) -> None:
    a = new_service(director.actor, category, "A")
    b = new_service(director.actor, category, "B")
    feed(director.actor, a, b)
    services.service_archive(actor=director.actor, service=b)

    graph = selectors.dependency_graph(actor=director.actor)
    assert [n["code"] for n in graph["nodes"]] == ["A"]
    assert graph["edges"] == []


def edges(*pairs: tuple[int, int]) -> list[Edge]:
    return [Edge(source=s, target=t, output="o", input="i") for s, t in pairs]


def test_it_finds_cycles_in_a_plain_graph() -> None:
    assert find_cycles([1, 2, 3], edges((1, 2), (2, 3), (3, 1))) == [[1, 2, 3]]
    assert find_cycles([1, 2, 3], edges((1, 2), (2, 3))) == []
    assert find_cycles([1, 2], edges((1, 1), (1, 2))) == [[1]]
    found = find_cycles(
        [1, 2, 3, 4, 5, 6], edges((1, 2), (2, 1), (2, 3), (3, 4), (4, 5), (5, 3), (5, 6))
    )
    assert sorted(found) == [[1, 2], [3, 4, 5]]


def test_it_walks_a_chain_of_two_thousand_services_without_recursion() -> None:
    n = 2000
    chain = edges(*((i, i + 1) for i in range(n - 1)))
    assert find_cycles(list(range(n)), chain) == []
    loop = [*chain, *edges((n - 1, 0))]
    assert find_cycles(list(range(n)), loop) == [list(range(n))]
    # Starting from the far end must not matter either.
    assert find_cycles(list(reversed(range(n))), loop) == [list(range(n))]


# ---------------------------------------------------------------- tenancy


def test_it_never_returns_another_organisations_rows(
    director: Any, customer: Any, outsider: Any, category: Category
) -> None:
    ours = go_live(director.actor, new_service(director.actor, category, "OURS"))
    theirs_category = new_category(outsider.actor, "Theirs")
    theirs = go_live(outsider.actor, new_service(outsider.actor, theirs_category, "THEIRS"))
    downstream = new_service(outsider.actor, theirs_category, "DOWN")
    feed(outsider.actor, theirs, downstream)
    services.symptom_create(actor=outsider.actor, statement="Their symptom")
    services.artefact_create(
        actor=outsider.actor,
        name="Their template",
        kind=ArtefactKind.TEMPLATE,
        owner_service=theirs,
    )
    level = add(outsider.actor, theirs, "levels", name="Their level")

    for persona in (director, customer):
        actor = persona.actor
        assert listed(actor, status="all") == ["OURS"]
        assert listed(actor, q="THEIRS") == []
        assert [c.name for c in selectors.category_list(actor=actor)] == ["Governance"]
        assert [
            codes(s.services)
            for s in selectors.catalogue_menu(selectors.menu_services(actor=actor))
        ] == [["OURS"]]
        graph = selectors.dependency_graph(actor=actor)
        assert [n["code"] for n in graph["nodes"]] == ["OURS"]
        assert graph["edges"] == []
        for pk in (theirs.pk, downstream.pk):
            with pytest.raises(DomainError) as info:
                selectors.service_get(actor=actor, pk=pk)
            assert info.value.code == NOT_FOUND
        assert list(selectors.version_list(actor=actor, service=theirs)) == []
    with pytest.raises(DomainError) as info:
        selectors.part_get(actor=director.actor, kind="levels", pk=level.pk, service=theirs)
    assert info.value.code == NOT_FOUND
    assert selectors.service_dependencies(actor=director.actor, service=theirs) == {
        "upstream": [],
        "downstream": [],
    }
    assert selectors.service_get(actor=director.actor, pk=ours.pk) == ours
