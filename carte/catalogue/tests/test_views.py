"""The catalogue pages: the menu, a service's page and tabs, forms, inline parts,
versions, the dependency graph; permissions, tenancy and query counts."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from carte.catalogue import services
from carte.catalogue.models import (
    Category,
    Service,
    ServiceInput,
    ServiceLevel,
    ServiceOutput,
    ServiceVersion,
    Symptom,
)
from carte.catalogue.tests.factories import (
    CompetenceFactory,
    CompetenceNeedFactory,
    ServiceFactory,
    move_stage,
)
from carte.core.models import AuditEntry, Job
from carte.core.testing import assert_constant_queries, no_writes
from carte.organisations.actor import Actor
from carte.organisations.tests.factories import CustomerGroupFactory, PersonFactory, PMOFactory

pytestmark = pytest.mark.django_db


def make_service(org, code="REP-01", name="Portfolio reporting", category=None, **fields):
    actor = Actor.for_system(org)
    category = category or services.category_create(actor=actor, name=f"Category {code}")
    return services.service_create(
        actor=actor, code=code, name=name, category=category, summary=f"About {name}", **fields
    )


def add_parts(service, rows):
    """`rows` of each kind of part, with an output feeding nothing and a symptom."""
    actor = Actor.for_system(service.organisation)
    group = CustomerGroupFactory(organisation=service.organisation)
    for i in range(rows):
        services.part_create(
            actor=actor, service=service, kind="levels", data={"name": f"Level {i}"}
        )
        sup = services.part_create(
            actor=actor, service=service, kind="suppliers", data={"name": f"Supplier {i}"}
        )
        services.part_create(
            actor=actor, service=service, kind="inputs", data={"name": f"In {i}", "supplier": sup}
        )
        services.part_create(
            actor=actor,
            service=service,
            kind="steps",
            data={"name": f"Step {i}", "performer": f"Role {i % 3}"},
        )
        services.part_create(
            actor=actor,
            service=service,
            kind="outputs",
            data={"name": f"Out {i}", "customers": [group]},
        )
        services.part_create(
            actor=actor,
            service=service,
            kind="symptoms",
            data={"symptom": services.symptom_get_or_create(actor=actor, statement=f"Problem {i}")},
        )
        services.part_create(
            actor=actor, service=service, kind="governance", data={"item": f"Board {i}"}
        )
        services.part_create(
            actor=actor,
            service=service,
            kind="competences",
            data={"competence_name": f"Skill {i}", "fte": Decimal("0.5")},
        )


def make_running(service, actor=None):
    """Publish and mark running (the lifecycle issue will move stages for real)."""
    actor = actor or Actor.for_system(service.organisation)
    services.service_publish(actor=actor, service=service)
    move_stage(service, "running")
    service.refresh_from_db()
    return service


def url(name, org, *args):
    return reverse(name, args=[org.slug, *args])


# ---------------------------------------------------------------- the menu


def test_it_groups_the_menu_by_category_in_menu_order(director, org):
    actor = Actor.for_system(org)
    later = services.category_create(actor=actor, name="Reporting", position=20)
    first = services.category_create(actor=actor, name="Governance", position=10)
    make_service(org, "REP-01", "Portfolio reporting", later)
    make_service(org, "GOV-01", "Stage-gate reviews", first)
    html = director.client.get(url("catalogue", org)).content.decode()
    assert html.index("Governance") < html.index("Reporting")
    assert html.index("Stage-gate reviews") < html.index("Portfolio reporting")


def test_it_shows_customers_only_published_running_services_as_published(customer, org):
    shown = make_running(make_service(org, "REP-01", "Portfolio reporting"))
    services.service_update(
        actor=Actor.for_system(org), service=shown, data={"name": "Unpublished new name"}
    )
    make_service(org, "GOV-01", "Proposed gate reviews")
    html = customer.client.get(url("catalogue", org)).content.decode()
    assert "Portfolio reporting" in html
    assert "Unpublished new name" not in html
    assert "Proposed gate reviews" not in html
    page = customer.client.get(url("service_detail", org, shown.pk)).content.decode()
    assert "Portfolio reporting" in page and "Unpublished new name" not in page
    hidden = Service.objects.get(code="GOV-01")
    assert customer.client.get(url("service_detail", org, hidden.pk)).status_code == 404


def test_it_finds_services_by_output_and_symptom(director, org):
    service = make_service(org, "REP-01", "Portfolio reporting")
    make_service(org, "GOV-01", "Stage-gate reviews")
    add_parts(service, 1)
    for q in ("Out 0", "problem 0"):
        html = director.client.get(url("catalogue", org), {"q": q}).content.decode()
        assert "Portfolio reporting" in html and "Stage-gate reviews" not in html


def test_it_filters_the_menu_with_htmx_as_a_partial(director, org):
    make_service(org, "REP-01", "Portfolio reporting", scopes=["portfolio"])
    make_service(org, "GOV-01", "Stage-gate reviews", scopes=["project"])
    response = director.client.get(
        url("catalogue", org), {"scope": "project"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "<html" not in html
    assert "Stage-gate reviews" in html and "Portfolio reporting" not in html


# ---------------------------------------------------------------- a service's page


@pytest.mark.parametrize(
    "tab",
    [
        "overview",
        "sipoc",
        "roles",
        "levels",
        "needs",
        "artefacts",
        "dependencies",
        "versions",
        "history",
    ],
)
def test_it_shows_every_tab_of_a_service(director, org, tab):
    service = make_service(org)
    add_parts(service, 2)
    make_running(service)
    response = director.client.get(url("service_detail", org, service.pk), {"tab": tab})
    assert response.status_code == 200
    assert f'href="?tab={tab}" aria-current="page"' in response.content.decode()


def test_it_draws_the_process_as_swimlanes_by_role(director, org):
    service = make_service(org)
    add_parts(service, 3)
    html = director.client.get(
        url("service_detail", org, service.pk), {"tab": "sipoc"}
    ).content.decode()
    lanes = re.findall(r'<th scope="row">(Role \d)</th>', html)
    assert lanes == ["Role 0", "Role 1", "Role 2"]


def test_it_lists_upstream_and_downstream_services(director, org):
    actor = Actor.for_system(org)
    reporting = make_service(org, "REP-01", "Portfolio reporting")
    gates = make_service(org, "GOV-01", "Stage-gate reviews")
    pack = services.part_create(
        actor=actor, service=reporting, kind="outputs", data={"name": "Status pack"}
    )
    services.part_create(
        actor=actor, service=gates, kind="inputs", data={"name": "Pack", "source_output": pack}
    )
    html = director.client.get(
        url("service_detail", org, gates.pk), {"tab": "dependencies"}
    ).content.decode()
    assert "REP-01 Portfolio reporting" in html and "“Status pack” is our “Pack”" in html
    html = director.client.get(
        url("service_detail", org, reporting.pk), {"tab": "dependencies"}
    ).content.decode()
    assert "GOV-01 Stage-gate reviews" in html


# ---------------------------------------------------------------- forms


def service_form(category, **overrides):
    data = {
        "code": "NEW-01",
        "name": "Benefits tracking",
        "category": category.pk,
        "delivery_mode": "in_house",
        "pricing_basis": "free",
        "rationale": ["effective"],
        "scopes": ["portfolio"],
    }
    data.update(overrides)
    return data


def test_it_proposes_a_service_through_the_form(director, org):
    category = services.category_create(actor=Actor.for_system(org), name="Change and benefits")
    pmo = PMOFactory(organisation=org)
    response = director.client.post(
        url("service_create", org), service_form(category, delivering_pmos=[pmo.pk])
    )
    service = Service.objects.get(code="NEW-01")
    assert response.status_code == 302 and response["Location"].endswith(f"/services/{service.pk}/")
    assert service.stage == "proposed" and list(service.delivering_pmos.all()) == [pmo]
    assert AuditEntry.objects.filter(object_id=service.pk, action="create").exists()


def test_it_shows_a_duplicate_code_next_to_the_field_and_writes_nothing(director, org):
    existing = make_service(org, "REP-01")
    with no_writes(existing):
        response = director.client.post(
            url("service_create", org), service_form(existing.category, code="rep-01")
        )
    assert response.status_code == 422
    assert re.search(
        r'id="id_code_error"[^>]*>A service with this code already exists',
        response.content.decode(),
    )


def test_it_refuses_a_price_without_currency_in_the_form(director, org):
    category = services.category_create(actor=Actor.for_system(org), name="Planning")
    response = director.client.post(
        url("service_create", org),
        service_form(category, pricing_basis="fixed_fee", price="100"),
    )
    assert response.status_code == 422
    assert 'id="id_currency_error"' in response.content.decode()
    assert not Service.objects.filter(code="NEW-01").exists()


def test_it_forbids_staff_without_a_role_to_propose_or_edit(staff, org):
    service = make_service(org)
    assert staff.client.get(url("service_create", org)).status_code == 403
    assert staff.client.get(url("service_update", org, service.pk)).status_code == 403
    with no_writes(service):
        response = staff.client.post(url("part_create", org, service.pk, "levels"), {"name": "X"})
    assert response.status_code == 403


def test_it_lets_a_service_owner_edit_their_own_service_only(staff, org):
    mine = make_service(org, "REP-01")
    other = make_service(org, "GOV-01")
    person = PersonFactory(organisation=org, user=staff.user, email=staff.user.email)
    services.part_create(
        actor=Actor.for_system(org),
        service=mine,
        kind="roles",
        data={"person": person, "role": "owner"},
    )
    response = staff.client.post(url("part_create", org, mine.pk, "levels"), {"name": "Standard"})
    assert response.status_code == 302
    assert ServiceLevel.objects.filter(service=mine, name="Standard").exists()
    assert (
        staff.client.post(
            url("part_create", org, other.pk, "levels"), {"name": "Standard"}
        ).status_code
        == 403
    )


def test_it_edits_parts_inline_with_htmx(director, org):
    service = make_service(org)
    create = url("part_create", org, service.pk, "levels")
    form = director.client.get(create, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in form and f'hx-post="{create}"' in form
    director.client.post(create, {"name": "Standard"}, headers={"HX-Request": "true"})
    response = director.client.post(create, {"name": "STANDARD"}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "already has a level with this name" in response.content.decode()
    response = director.client.post(create, {"name": "Intensive"}, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"].endswith(f"/services/{service.pk}/?tab=levels")
    assert list(ServiceLevel.objects.filter(service=service).values_list("name", flat=True)) == [
        "Standard",
        "Intensive",
    ]


def test_it_removes_a_part_by_archiving_it(director, org):
    service = make_service(org)
    level = services.part_create(
        actor=Actor.for_system(org), service=service, kind="levels", data={"name": "Light"}
    )
    response = director.client.post(url("part_archive", org, service.pk, "levels", level.pk))
    assert response.status_code == 302
    level.refresh_from_db()
    assert level.archived_at is not None
    html = director.client.get(
        url("service_detail", org, service.pk), {"tab": "levels"}
    ).content.decode()
    assert "<strong>Light</strong>" not in html


def test_the_needs_tab_names_each_competence_of_the_framework(director, org):
    service = make_service(org)
    risk = CompetenceFactory(organisation=org, name="Risk management", group="Assurance")
    CompetenceNeedFactory(service=service, competence=risk, level=4, fte=Decimal("1.5"))
    html = director.client.get(
        url("service_detail", org, service.pk), {"tab": "needs"}
    ).content.decode()
    assert "Risk management" in html and "Assurance" in html and "Expert" in html


def test_a_need_is_chosen_among_the_organisations_live_competences(director, org, other_org):
    service = make_service(org)
    ours = CompetenceFactory(organisation=org, name="Facilitation")
    archived = CompetenceFactory(organisation=org, name="Old method", archived_at=timezone.now())
    theirs = CompetenceFactory(organisation=other_org, name="Globex secret skill")
    create = url("part_create", org, service.pk, "competences")

    form = director.client.get(create).content.decode()
    assert "Facilitation" in form
    assert "Old method" not in form and "Globex secret skill" not in form
    for refused in (theirs, archived):
        with no_writes():
            response = director.client.post(
                create, {"competence": refused.pk, "level": 2, "fte": "1"}
            )
        assert response.status_code == 422
        assert "Select a valid choice" in response.content.decode()
    response = director.client.post(create, {"competence": ours.pk, "level": 3, "fte": "0.5"})
    assert response.status_code == 302
    need = service.competences.get()
    assert (need.competence, need.level, need.fte) == (ours, 3, Decimal("0.5"))


def test_it_links_a_symptom_by_its_statement_reusing_an_existing_one(director, org):
    first = make_service(org, "REP-01")
    second = make_service(org, "GOV-01")
    for service in (first, second):
        director.client.post(
            url("part_create", org, service.pk, "symptoms"),
            {"statement": "Projects overrun their budgets", "weight": "4"},
        )
    assert first.symptom_links.get().symptom_id == second.symptom_links.get().symptom_id


def test_a_symptom_link_refused_by_the_service_records_no_new_symptom(director, org):
    service = make_service(org, "REP-01")
    services.service_archive(actor=director.actor, service=service)
    with no_writes():
        response = director.client.post(
            url("part_create", org, service.pk, "symptoms"),
            {"statement": "Nobody owns risks", "weight": "4"},
        )
    assert response.status_code == 409
    assert not Symptom.objects.filter(statement="Nobody owns risks").exists()


# ---------------------------------------------------------------- versions and graph


def test_it_publishes_and_compares_versions(director, org):
    service = make_service(org, "REP-01", "Portfolio reporting")
    director.client.post(url("service_publish", org, service.pk))
    services.service_update(actor=director.actor, service=service, data={"summary": "Shorter"})
    director.client.post(url("service_publish", org, service.pk))
    assert list(
        ServiceVersion.objects.filter(service=service).values_list("number", flat=True)
    ) == [2, 1]
    html = director.client.get(url("version_diff", org, service.pk, 1, 2)).content.decode()
    assert "About Portfolio reporting" in html and "Shorter" in html
    response = director.client.post(url("service_publish", org, service.pk), follow=True)
    assert "Nothing changed since version 2" in response.content.decode()


def test_it_draws_the_dependency_graph_and_reports_cycles(director, org):
    actor = Actor.for_system(org)
    a = make_service(org, "A-01", "Alpha")
    b = make_service(org, "B-01", "Beta")
    out_a = services.part_create(actor=actor, service=a, kind="outputs", data={"name": "From A"})
    out_b = services.part_create(actor=actor, service=b, kind="outputs", data={"name": "From B"})
    services.part_create(
        actor=actor, service=b, kind="inputs", data={"name": "In B", "source_output": out_a}
    )
    html = director.client.get(url("dependency_graph", org)).content.decode()
    assert "Alpha (A-01): its “From A” is the “In B” of Beta (B-01)" in html
    assert "Circular dependencies" not in html
    services.part_create(
        actor=actor, service=a, kind="inputs", data={"name": "In A", "source_output": out_b}
    )
    html = director.client.get(url("dependency_graph", org)).content.decode()
    assert "Circular dependencies" in html and "Alpha (A-01), Beta (B-01)" in html
    assert f'href="{url("service_detail", org, a.pk)}"' in html


# ---------------------------------------------------------------- tenancy


def test_it_answers_404_to_another_organisation_on_every_catalogue_page(outsider, org):
    from carte.catalogue.urls import urlpatterns

    service = make_running(make_service(org))
    services.service_update(actor=Actor.for_system(org), service=service, data={"summary": "v2"})
    services.service_publish(actor=Actor.for_system(org), service=service)
    level = services.part_create(
        actor=Actor.for_system(org), service=service, kind="levels", data={"name": "L"}
    )
    category = service.category
    values = {
        "pk": service.pk,
        "kind": "levels",
        "part_pk": level.pk,
        "a": 1,
        "b": 2,
        "fmt": "json",
    }
    for pattern in urlpatterns:
        kwargs = {k: v for k, v in values.items() if k in pattern.pattern.converters}
        if pattern.name.startswith("category_") and "pk" in kwargs:
            kwargs["pk"] = category.pk
        path = reverse(pattern.name, kwargs={"org": org.slug, **kwargs})
        with no_writes(service, level, category):
            assert outsider.client.get(path).status_code == 404, path
            assert outsider.client.post(path, {"name": "Hijack", "code": "X"}).status_code == 404, (
                path
            )


def test_it_never_shows_another_organisations_services_in_its_own_menu(outsider, org, other_org):
    make_running(make_service(org, "SECRET-01", "Acme secret service"))
    html = outsider.client.get(url("catalogue", other_org)).content.decode()
    assert "Acme secret service" not in html and "0 services" in html


# ---------------------------------------------------------------- query counts


def count_queries(client, path, **params):
    client.get(path, params)  # the first visit of an organisation also writes the session
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def seed_services(org, n, category, pmos):
    """`n` services inserted in bulk (not `n` service calls), each delivered by `pmos` and
    in the portfolio scope, every other one with a "Forecast pack" output; one in ten
    published and running, so customers see them (a snapshot each)."""
    made = Service.objects.bulk_create(
        ServiceFactory.build_batch(
            n, organisation=org, category=category, scopes=["portfolio", "project"]
        )
    )
    through = Service.delivering_pmos.through
    through.objects.bulk_create([through(service_id=s.pk, pmo_id=p.pk) for s in made for p in pmos])
    ServiceOutput.objects.bulk_create(
        [
            ServiceOutput(organisation=org, service=s, name="Forecast pack", position=1)
            for s in made[::2]
        ]
    )
    for service in made[::10]:
        make_running(service)


@pytest.mark.parametrize(
    ("who", "params"),
    [
        ("director", {}),
        ("director", {"q": "forecast", "scope": "portfolio"}),
        ("customer", {}),
        ("customer", {"q": "forecast", "scope": "portfolio"}),
    ],
)
def test_it_renders_the_menu_in_the_same_number_of_queries_at_10_and_300_services(
    request, org, who, params
):
    client = request.getfixturevalue(who).client
    category = Category.objects.create(organisation=org, name="All")
    pmos = PMOFactory.create_batch(2, organisation=org)
    seed_services(org, 10, category, pmos)

    def menu():
        response = client.get(url("catalogue", org), params)
        assert response.status_code == 200
        return response

    assert_constant_queries(menu, lambda: seed_services(org, 290, category, pmos))
    # Staff see all 300 (150 match the search); customers the 30 published, all matching.
    shown = {"director": 150 if params else 300, "customer": 30}[who]
    assert f'role="status">{shown} services' in menu().content.decode()


def test_it_renders_the_dependencies_in_the_same_number_of_queries_at_10_and_300_services(
    director, org
):
    category = Category.objects.create(organisation=org, name="All")
    target = make_service(org, "TGT-01", "Target", category)

    def feed(n):
        """`n` more services, each with an output that is an input of `target`."""
        made = Service.objects.bulk_create(
            ServiceFactory.build_batch(n, organisation=org, category=category)
        )
        outputs = ServiceOutput.objects.bulk_create(
            [ServiceOutput(organisation=org, service=s, name="Pack", position=1) for s in made]
        )
        ServiceInput.objects.bulk_create(
            [
                ServiceInput(
                    organisation=org, service=target, name=f"In {o.pk}", source_output=o, position=i
                )
                for i, o in enumerate(outputs)
            ]
        )

    feed(10)
    assert_constant_queries(
        lambda: director.client.get(url("service_detail", org, target.pk), {"tab": "dependencies"}),
        lambda: feed(290),
    )
    html = director.client.get(
        url("service_detail", org, target.pk), {"tab": "dependencies"}
    ).content.decode()
    assert html.count("” is our “In ") == 300


@pytest.mark.parametrize(
    "tab", ["overview", "sipoc", "roles", "levels", "needs", "artefacts", "dependencies"]
)
def test_it_renders_a_service_tab_in_the_same_number_of_queries_at_any_size(director, org, tab):
    small_service = make_service(org, "S-1")
    add_parts(small_service, 2)
    big_service = make_service(org, "S-2")
    add_parts(big_service, 12)
    small = count_queries(director.client, url("service_detail", org, small_service.pk), tab=tab)
    assert (
        count_queries(director.client, url("service_detail", org, big_service.pk), tab=tab) == small
    )


def test_it_draws_the_graph_in_the_same_number_of_queries_at_any_size(director, org):
    actor = Actor.for_system(org)
    category = Category.objects.create(organisation=org, name="All")
    previous = None
    for i in range(30):
        service = make_service(org, f"S-{i:03d}", f"Service {i}", category)
        out = services.part_create(
            actor=actor, service=service, kind="outputs", data={"name": f"O{i}"}
        )
        if previous is not None:
            services.part_create(
                actor=actor,
                service=service,
                kind="inputs",
                data={"name": f"I{i}", "source_output": previous},
            )
        previous = out
        if i == 4:
            small = count_queries(director.client, url("dependency_graph", org))
    assert count_queries(director.client, url("dependency_graph", org)) == small


def test_it_keeps_money_as_entered(director, org):
    service = make_service(
        org,
        pricing_basis="per_unit",
        price=Decimal("1250.50"),
        currency="EUR",
        price_unit="per review",
    )
    html = director.client.get(url("service_detail", org, service.pk)).content.decode()
    assert "€1,250.50 per review" in html


# ---------------------------------------------------------------- the document (M-11)


def test_it_prints_the_catalogue_with_contents_and_a_section_per_category(director, org):
    actor = Actor.for_system(org)
    later = services.category_create(actor=actor, name="Reporting", position=20)
    first = services.category_create(actor=actor, name="Governance", position=10)
    reporting = make_service(
        org, "REP-01", "Portfolio reporting", later, outcome="Leaders act early"
    )
    add_parts(reporting, 2)
    make_service(org, "GOV-01", "Stage-gate reviews", first)
    html = director.client.get(url("catalogue_document", org)).content.decode()
    contents = html[html.index('class="contents"') : html.index("<main>")]
    assert contents.index("Governance") < contents.index("Reporting")
    assert 'href="#svc-rep-01"' in contents and 'id="svc-rep-01"' in html
    section = html[html.index('id="svc-rep-01"') :]
    assert "Leaders act early" in section and "Level 1" in section and "Step 1" in section


def test_it_prints_for_customers_only_what_is_published(customer, org):
    service = make_running(make_service(org, "REP-01", "Portfolio reporting"))
    services.service_update(
        actor=Actor.for_system(org), service=service, data={"name": "Draft name"}
    )
    make_service(org, "GOV-01", "Unpublished gates")
    html = customer.client.get(url("catalogue_document", org)).content.decode()
    assert "Portfolio reporting" in html
    assert "Draft name" not in html and "Unpublished gates" not in html


def test_it_prints_the_document_in_the_same_number_of_queries_at_any_size(director, org):
    category = Category.objects.create(organisation=org, name="All")
    for i in range(3):
        add_parts(make_service(org, f"S-{i:03d}", f"Service {i}", category), 2)
    small = count_queries(director.client, url("catalogue_document", org))
    for i in range(3, 12):
        add_parts(make_service(org, f"S-{i:03d}", f"Service {i}", category), 3)
    assert count_queries(director.client, url("catalogue_document", org)) == small


def test_it_draws_the_document_as_pdf_in_the_background(director, org):
    pytest.importorskip("weasyprint")
    make_service(org, "REP-01", "Portfolio reporting")
    assert (
        'action="/o/acme/catalogue/document.pdf"'
        in director.client.get(url("catalogue", org)).content.decode()
    )
    assert "Draw the PDF" in director.client.get(url("catalogue_pdf", org)).content.decode()
    response = director.client.post(url("catalogue_pdf", org))
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/o/acme/jobs/{job.pk}/"
    assert (job.kind, job.status) == ("catalogue.pdf", "done")
    page = director.client.get(response["Location"]).content.decode()
    assert f'href="/o/acme/jobs/{job.pk}/result/"' in page
    download = director.client.get(f"/o/acme/jobs/{job.pk}/result/")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF-")
    assert 'filename="acme-service-catalogue.pdf"' in download["Content-Disposition"]


def test_it_pages_a_long_menu_keeping_the_filters(director, org):
    category = Category.objects.create(organisation=org, name="All")
    for i in range(65):
        make_service(org, f"S-{i:03d}", f"Service {i}", category, scopes=["portfolio"])
    first = director.client.get(url("catalogue", org), {"scope": "portfolio"}).content.decode()
    assert "65 services · page 1 of 2" in first
    assert "S-059" in first and "S-060" not in first
    assert "?scope=portfolio&amp;page=2" in first
    second = director.client.get(
        url("catalogue", org), {"scope": "portfolio", "page": 2}
    ).content.decode()
    assert "S-060" in second and "S-064" in second and "S-000" not in second
    assert "65 services · page 2 of 2" in second
    for past_the_end in (3, 99):  # no row carries the count: the last page, as Django gives
        last = director.client.get(
            url("catalogue", org), {"scope": "portfolio", "page": past_the_end}
        ).content.decode()
        assert "65 services · page 2 of 2" in last and "S-060" in last and "S-000" not in last
    for bad, shown in (("x", "page 1 of 2"), ("0", "page 2 of 2"), ("-1", "page 2 of 2")):
        html = director.client.get(url("catalogue", org), {"page": bad}).content.decode()
        assert f"65 services · {shown}" in html
    nothing = director.client.get(url("catalogue", org), {"q": "no such thing"}).content.decode()
    assert 'role="status">0 services' in nothing and "No service matches." in nothing
