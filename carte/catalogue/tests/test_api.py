"""The catalogue API: the CRUD contract for categories and services, parts of a service
(CRUD, who may edit them), bad input answered as problem+json naming the client's field,
tenancy over every catalogue operation of the OpenAPI document, what customers see,
versions, dependencies, and flat query counts."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.db.models import Model
from django.utils import timezone

from carte.catalogue import services
from carte.catalogue.choices import ServiceRoleKind, Stage
from carte.catalogue.models import (
    Category,
    Service,
    ServiceInput,
    ServiceLevel,
    ServiceRole,
    Symptom,
)
from carte.catalogue.tests.factories import (
    ArtefactFactory,
    CategoryFactory,
    CompetenceFactory,
    CompetenceNeedFactory,
    GovernanceNeedFactory,
    ProcessStepFactory,
    ServiceArtefactFactory,
    ServiceCustomerFactory,
    ServiceFactory,
    ServiceInputFactory,
    ServiceLevelFactory,
    ServiceOutputFactory,
    ServiceRoleFactory,
    ServiceSymptomFactory,
    SupplierFactory,
    SymptomFactory,
    move_stage,
)
from carte.core.testing import assert_constant_queries, assert_problem, no_writes
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole
from carte.organisations.models import Competence, Organisation
from carte.organisations.testing import (
    ALL_ROLES,
    ApiContract,
    api_operations,
    outsider_failures,
)
from carte.organisations.tests.factories import CustomerGroupFactory, PersonFactory, PMOFactory

SERVICE_EDITORS = frozenset({"admin", "director", "pmo_manager"})
API = "/api/v1/orgs/acme"
CATALOGUE_COLLECTIONS = ("categories", "services", "dependency-graph")


def publish_running(service: Service) -> Service:
    """Test set-up: put a service in the running stage and publish it (customers see it)."""
    move_stage(service, Stage.RUNNING)
    service.refresh_from_db()
    services.service_publish(actor=Actor.for_system(service.organisation), service=service)
    service.refresh_from_db()
    return service


# ---------------------------------------------------------------- the CRUD contract


class TestCategoryApi(ApiContract):
    model = Category
    api_path = "categories"
    editors = SERVICE_EDITORS

    def make(self, organisation):
        return CategoryFactory(organisation=organisation)

    def create_input(self, organisation):
        payload = {"name": "Reporting", "description": "Dashboards and reports."}
        return payload, dict(payload)

    def update_input(self, obj):
        payload = {"description": "Now with forecasts."}
        return payload, {"description": (obj.description, "Now with forecasts.")}


class TestServiceLevelApi(ApiContract):
    """A part of a service, through the same contract with the service as parent."""

    model = ServiceLevel
    api_path = "levels"
    parent_path = "services"
    editors = SERVICE_EDITORS
    viewers = ALL_ROLES - {OrgRole.CUSTOMER}
    list_refusal = 404  # the service is not published: a customer does not see it

    def make_parent(self, organisation):
        return ServiceFactory(organisation=organisation)

    def make(self, organisation):
        return ServiceLevelFactory(service=self.parent(organisation))

    def create_input(self, organisation):
        payload = {"name": "Light touch", "description": "A monthly check-in."}
        return payload, {"name": "Light touch", "description": "A monthly check-in."}

    def update_input(self, obj):
        return {"name": "Full support"}, {"name": (obj.name, "Full support")}


class TestServiceApi(ApiContract):
    model = Service
    api_path = "services"
    editors = SERVICE_EDITORS

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Customers are left out of the "other roles" checks: they do not get a 403 but a
        404 for a service they may not see (see `test_customers_see_only_the_published_
        running_services`)."""
        if "editor_role" in metafunc.fixturenames:
            metafunc.parametrize("editor_role", sorted(self.editors))
        if "other_role" in metafunc.fixturenames:
            others = ALL_ROLES - self.editors - {OrgRole.CUSTOMER}
            metafunc.parametrize("other_role", sorted(others))

    def make(self, organisation):
        return ServiceFactory(organisation=organisation)

    def create_input(self, organisation):
        category = CategoryFactory(organisation=organisation, name="Reporting")
        pmo = PMOFactory(organisation=organisation, name="Delivery PMO")
        payload = {
            "code": "REP-1",
            "name": "Portfolio reporting",
            "category_id": category.pk,
            "summary": "A monthly report.",
            "scopes": ["portfolio"],
            "rationale": ["efficient"],
            "delivering_pmo_ids": [pmo.pk],
            "pricing_basis": "fixed_fee",
            "price": "120.50",
            "currency": "EUR",
        }
        after = {
            "code": "REP-1",
            "name": "Portfolio reporting",
            "category": "Reporting",
            "summary": "A monthly report.",
            "scopes": ["portfolio"],
            "rationale": ["efficient"],
            "delivering_pmos": ["Delivery PMO"],
            "pricing_basis": "fixed_fee",
            "price": "120.50",
            "currency": "EUR",
        }
        return payload, after

    def update_input(self, obj):
        payload = {"name": "Renamed service", "outcome": "Better decisions."}
        changes = {"name": (obj.name, "Renamed service"), "outcome": ("", "Better decisions.")}
        return payload, changes

    def test_it_retrieves_a_row_as_the_list_shows_it(self, persona, org):
        """The detail is the list's row plus every part of the service."""
        obj = self.make(org)
        api = persona(self.reader_role).api
        listed = api.get(self.endpoint(org.slug), page_size=200).json()["items"]
        retrieved = api.get(self.endpoint(org.slug, obj.pk))
        assert retrieved.status_code == 200
        row = next(item for item in listed if item["id"] == obj.pk)
        detail = retrieved.json()
        assert {k: detail[k] for k in row} == row
        assert {"roles", "suppliers", "inputs", "steps", "outputs", "customers"} <= set(detail)


# ---------------------------------------------------------------- parts


@pytest.fixture
def service(org: Organisation) -> Service:
    return ServiceFactory(organisation=org, code="SVC", name="Assurance")


def part_payloads(service: Service) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Per kind: a valid create payload and a valid patch, for `service`."""
    org = service.organisation
    pmo = PMOFactory(organisation=org)
    service.delivering_pmos.add(pmo)
    upstream = ServiceOutputFactory(service=ServiceFactory(organisation=org), name="Plan")
    group = CustomerGroupFactory(organisation=org)
    shared = ArtefactFactory(organisation=org, owner_service=None, owner_pmo=pmo)
    return {
        "roles": (
            {"role": "manager", "person_id": PersonFactory(organisation=org).pk, "pmo_id": pmo.pk},
            {"person_id": PersonFactory(organisation=org).pk},
        ),
        "levels": ({"name": "Light", "price": "10.00"}, {"description": "Once a month."}),
        "symptoms": ({"statement": "Projects overrun"}, {"weight": 5}),
        "suppliers": ({"name": "Finance", "kind": "customer_group"}, {"name": "Accounts"}),
        "inputs": ({"name": "Plan", "source_output_id": upstream.pk}, {"is_trigger": True}),
        "steps": ({"name": "Review", "performer": "Analyst"}, {"performer": "Lead"}),
        "outputs": ({"name": "Report", "customer_group_ids": [group.pk]}, {"name": "Pack"}),
        "customers": ({"customer_group_id": group.pk}, {"note": "Mostly the CFO."}),
        "competences": ({"competence": "Scheduling", "fte": "0.5"}, {"level": 3}),
        "governance": ({"item": "Terms of reference"}, {"in_place": True}),
        "artefacts": ({"artefact_id": shared.pk}, {"note": "The 2024 edition."}),
    }


@pytest.mark.parametrize("kind", sorted(services.PARTS))
def test_it_creates_lists_updates_archives_and_restores_each_part(admin, service, kind):
    payload, patch = part_payloads(service)[kind]
    base = f"{API}/services/{service.pk}/{kind}"

    response = admin.api.post(base, payload)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["archived"] is False
    model: type[Model] = services.PARTS[kind]
    part = model._default_manager.get(pk=created["id"])
    assert part.service_id == service.pk and part.organisation_id == service.organisation_id  # type: ignore[attr-defined]

    listed = admin.api.get(base)
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()] == [created["id"]]
    assert listed.json()[0] == created

    response = admin.api.patch(f"{base}/{part.pk}", patch)
    assert response.status_code == 200, response.content
    body = response.json()
    for name, value in patch.items():
        if name.endswith("_id"):
            assert body[name] == value
        elif name in ("price", "fte"):
            assert float(body[name]) == float(value)
        else:
            assert body[name] == value, (name, body)

    response = admin.api.post(f"{base}/{part.pk}/archive")
    assert response.status_code == 200, response.content
    assert response.json()["archived"] is True
    assert admin.api.get(base).json() == []
    detail = admin.api.get(f"{API}/services/{service.pk}").json()
    assert detail[kind] == []

    response = admin.api.post(f"{base}/{part.pk}/restore")
    assert response.status_code == 200, response.content
    assert response.json()["archived"] is False
    assert [row["id"] for row in admin.api.get(f"{API}/services/{service.pk}").json()[kind]] == [
        part.pk
    ]


def test_the_detail_shows_the_sipoc_with_links(admin, org, service):
    group = CustomerGroupFactory(organisation=org, name="Finance")
    upstream = ServiceFactory(organisation=org, code="UP")
    source = ServiceOutputFactory(service=upstream, name="Plan")
    supplier = SupplierFactory(service=service, name="PMO office")
    ServiceInputFactory(service=service, name="Plan", supplier=supplier, source_output=source)
    ServiceOutputFactory(service=service, name="Report", customers=[group])
    ServiceCustomerFactory(service=service, customer_group=group)
    ServiceSymptomFactory(service=service, symptom=SymptomFactory(organisation=org), weight=4)
    pmo = PMOFactory(organisation=org, name="Delivery PMO")
    service.delivering_pmos.add(pmo)

    body = admin.api.get(f"{API}/services/{service.pk}").json()
    assert body["suppliers"][0]["name"] == "PMO office"
    (row,) = body["inputs"]
    assert row["supplier_id"] == supplier.pk
    assert (row["source_output_id"], row["source_service_id"]) == (source.pk, upstream.pk)
    assert row["source_service_code"] == "UP"
    assert body["outputs"][0]["customers"] == [{"id": group.pk, "name": "Finance"}]
    assert body["customers"][0]["customer_group_name"] == "Finance"
    assert body["symptoms"][0]["weight"] == 4
    assert body["delivering_pmos"] == [{"id": pmo.pk, "name": "Delivery PMO"}]
    assert body["stage"] == "proposed" and body["current_version"] is None


def test_it_links_a_symptom_by_statement_whatever_its_case(admin, org, service):
    known = SymptomFactory(organisation=org, statement="Projects overrun")
    response = admin.api.post(
        f"{API}/services/{service.pk}/symptoms", {"statement": "projects OVERRUN", "weight": 4}
    )
    assert response.status_code == 201, response.content
    assert response.json()["symptom_id"] == known.pk
    assert response.json()["statement"] == "Projects overrun"


def test_a_refused_symptom_link_records_no_new_symptom(staff, org, service):
    """Staff may record symptoms but not edit a service they hold no role on: the refusal
    of the link leaves neither the symptom nor its audit entry."""
    with no_writes():
        response = staff.api.post(
            f"{API}/services/{service.pk}/symptoms", {"statement": "Nobody owns risks", "weight": 3}
        )
    assert_problem(response, 403)
    assert not Symptom.objects.filter(statement="Nobody owns risks").exists()


# ---------------------------------------------------------------- competence needs


def test_a_need_names_a_competence_by_id_or_by_name_and_answers_both(admin, org, service):
    risk = CompetenceFactory(organisation=org, name="Risk management")
    base = f"{API}/services/{service.pk}/competences"

    by_id = admin.api.post(base, {"competence_id": risk.pk, "level": 3, "fte": "0.5"})
    assert by_id.status_code == 201, by_id.content
    assert (by_id.json()["competence_id"], by_id.json()["competence"]) == (risk.pk, risk.name)
    by_name = admin.api.post(base, {"competence": " risk MANAGEMENT", "fte": "1"})
    assert by_name.status_code == 201, by_name.content
    assert by_name.json()["competence_id"] == risk.pk
    assert by_name.json()["competence"] == "Risk management"

    patched = admin.api.patch(f"{base}/{by_id.json()['id']}", {"competence": "Coaching"})
    assert patched.status_code == 200, patched.content
    coaching = Competence.objects.get(organisation=org, name="Coaching")  # recorded
    assert patched.json()["competence_id"] == coaching.pk
    detail = admin.api.get(f"{API}/services/{service.pk}").json()["competences"]
    assert sorted(row["competence"] for row in detail) == ["Coaching", "Risk management"]


def test_a_need_by_an_unknown_name_is_422_for_who_may_not_add_competences(staff, org, service):
    _holds(staff, service, "owner")
    base = f"{API}/services/{service.pk}/competences"
    with no_writes():
        response = staff.api.post(base, {"competence": "Juggling", "fte": "1"})
    body = assert_problem(response, 422, "competence")
    assert "not in the competence framework" in body["errors"]["competence"][0]
    assert not Competence.objects.filter(organisation=org).exists()
    CompetenceFactory(organisation=org, name="Juggling")
    assert staff.api.post(base, {"competence": "juggling", "fte": "1"}).status_code == 201


def test_a_need_refuses_another_organisations_or_an_archived_competence(
    admin, org, other_org, service
):
    theirs = CompetenceFactory(organisation=other_org, name="Risk")
    archived = CompetenceFactory(organisation=org, name="Old", archived_at=timezone.now())
    need = CompetenceNeedFactory(service=service)
    base = f"{API}/services/{service.pk}/competences"
    with no_writes(need):
        assert_problem(
            admin.api.post(base, {"competence_id": theirs.pk, "fte": "1"}), 422, "competence_id"
        )
        assert_problem(
            admin.api.patch(f"{base}/{need.pk}", {"competence_id": theirs.pk}), 422, "competence_id"
        )
        body = assert_problem(
            admin.api.post(base, {"competence_id": archived.pk, "fte": "1"}), 422, "competence_id"
        )
        assert "archived" in body["errors"]["competence_id"][0]
        assert_problem(
            admin.api.patch(f"{base}/{need.pk}", {"competence_id": archived.pk}),
            422,
            "competence_id",
        )
        both = {"competence_id": need.competence_id, "competence": "Risk", "fte": "1"}
        assert_problem(admin.api.post(base, both), 422, "competence_id")
        assert_problem(admin.api.post(base, {"fte": "1"}), 422, "competence_id")
        assert_problem(
            admin.api.patch(f"{base}/{need.pk}", {"competence": None}), 422, "competence"
        )


def test_the_needs_list_runs_the_same_queries_at_two_sizes(viewer, org, service):
    def add(n: int) -> None:
        CompetenceNeedFactory.create_batch(n, service=service)

    add(2)
    assert_constant_queries(
        lambda: viewer.api.get(f"{API}/services/{service.pk}/competences"), lambda: add(10)
    )


# ---------------------------------------------------------------- who may edit parts


def _holds(persona: Any, service: Service, role: str, pmo: Any = None) -> ServiceRole:
    """Give the persona's login a role on the service (through a Person)."""
    person = PersonFactory(organisation=service.organisation, user=persona.user)
    if pmo is not None:
        service.delivering_pmos.add(pmo)
    return ServiceRoleFactory(service=service, person=person, role=role, pmo=pmo)


@pytest.mark.parametrize("role", ["owner", "manager"])
def test_an_owner_or_manager_edits_the_parts_of_their_service_only(staff, org, service, role):
    pmo = PMOFactory(organisation=org) if role == "manager" else None
    _holds(staff, service, role, pmo)
    other = ServiceFactory(organisation=org)

    response = staff.api.post(f"{API}/services/{service.pk}/levels", {"name": "Light"})
    assert response.status_code == 201, response.content
    level_id = response.json()["id"]
    response = staff.api.patch(f"{API}/services/{service.pk}/levels/{level_id}", {"name": "L"})
    assert response.status_code == 200
    assert staff.api.patch(f"{API}/services/{service.pk}", {"summary": "Ours"}).status_code == 200

    theirs = ServiceLevelFactory(service=other)
    with no_writes(theirs):
        assert_problem(staff.api.post(f"{API}/services/{other.pk}/levels", {"name": "X"}), 403)
        url = f"{API}/services/{other.pk}/levels/{theirs.pk}"
        assert_problem(staff.api.patch(url, {"name": "X"}), 403)
        assert_problem(staff.api.post(f"{url}/archive"), 403)


def test_staff_without_a_role_on_the_service_may_not_edit_it(staff, viewer, service):
    level = ServiceLevelFactory(service=service)
    base = f"{API}/services/{service.pk}/levels"
    for user in (staff, viewer):
        assert user.api.get(base).status_code == 200
        with no_writes(level, service):
            assert_problem(user.api.post(base, {"name": "X"}), 403)
            assert_problem(user.api.patch(f"{base}/{level.pk}", {"name": "X"}), 403)
            assert_problem(user.api.post(f"{base}/{level.pk}/archive"), 403)
            assert_problem(user.api.post(f"{API}/services/{service.pk}/publish"), 403)


@pytest.mark.parametrize("who", ["pmo_manager", "owner", "manager"])
def test_only_the_director_or_an_admin_appoints_an_owner(persona, director, org, service, who):
    if who == "pmo_manager":
        user = persona(OrgRole.PMO_MANAGER)
    else:
        user = persona(OrgRole.STAFF)
        _holds(user, service, who, PMOFactory(organisation=org) if who == "manager" else None)
    candidate = PersonFactory(organisation=org)
    payload = {"role": "owner", "person_id": candidate.pk}
    base = f"{API}/services/{service.pk}/roles"
    owners = ServiceRole.objects.filter(service=service, role=ServiceRoleKind.OWNER).count()
    with no_writes(service):
        assert_problem(user.api.post(base, payload), 403)
    assert ServiceRole.objects.filter(service=service, role="owner").count() == owners
    if who != "owner":
        response = director.api.post(base, payload)
        assert response.status_code == 201, response.content
        assert response.json()["role"] == "owner"


# ---------------------------------------------------------------- bad input


def test_it_refuses_a_duplicate_code_whatever_its_case(admin, org, service):
    other = ServiceFactory(organisation=org, code="OTHER")
    payload = {"code": "svc", "name": "Twin", "category_id": service.category_id}
    with no_writes(service, other):
        assert_problem(admin.api.post(f"{API}/services", payload), 422, "code")
        assert_problem(admin.api.patch(f"{API}/services/{other.pk}", {"code": "Svc"}), 422, "code")


def test_it_refuses_a_second_owner(director, org, service):
    ServiceRoleFactory(service=service, role=ServiceRoleKind.OWNER)
    payload = {"role": "owner", "person_id": PersonFactory(organisation=org).pk}
    with no_writes(service):
        assert_problem(director.api.post(f"{API}/services/{service.pk}/roles", payload), 422)


def test_it_refuses_a_manager_without_a_pmo(director, org, service):
    person = PersonFactory(organisation=org)
    pmo = PMOFactory(organisation=org)
    with no_writes(service):
        response = director.api.post(
            f"{API}/services/{service.pk}/roles", {"role": "manager", "person_id": person.pk}
        )
        assert_problem(response, 422, "pmo_id")
        # A PMO that does not deliver the service is refused the same way.
        payload = {"role": "manager", "person_id": person.pk, "pmo_id": pmo.pk}
        response = director.api.post(f"{API}/services/{service.pk}/roles", payload)
        assert_problem(response, 422, "pmo_id")


def test_it_refuses_an_input_from_another_organisations_output(admin, other_org, service):
    theirs = ServiceOutputFactory(service=ServiceFactory(organisation=other_org))
    mine = ServiceInputFactory(service=service)
    base = f"{API}/services/{service.pk}/inputs"
    with no_writes(mine, theirs):
        payload = {"name": "Stolen", "source_output_id": theirs.pk}
        assert_problem(admin.api.post(base, payload), 422, "source_output_id")
        patch = {"source_output_id": theirs.pk}
        assert_problem(admin.api.patch(f"{base}/{mine.pk}", patch), 422, "source_output_id")


def test_it_refuses_an_input_from_its_own_services_output(admin, service):
    own = ServiceOutputFactory(service=service)
    mine = ServiceInputFactory(service=service)
    base = f"{API}/services/{service.pk}/inputs"
    with no_writes(mine, own):
        payload = {"name": "Loop", "source_output_id": own.pk}
        assert_problem(admin.api.post(base, payload), 422, "source_output_id")
        patch = {"source_output_id": own.pk}
        assert_problem(admin.api.patch(f"{base}/{mine.pk}", patch), 422, "source_output_id")


def test_it_refuses_a_price_without_a_currency(admin, service):
    payload = {
        "code": "PRICED",
        "name": "Priced",
        "category_id": service.category_id,
        "pricing_basis": "per_unit",
        "price": "10.00",
    }
    with no_writes(service):
        assert_problem(admin.api.post(f"{API}/services", payload), 422, "currency")
        patch = {"pricing_basis": "per_unit", "price": "10.00"}
        assert_problem(admin.api.patch(f"{API}/services/{service.pk}", patch), 422, "currency")


def test_it_refuses_a_stage_change_in_a_patch(admin, service):
    with no_writes(service):
        body = assert_problem(
            admin.api.patch(f"{API}/services/{service.pk}", {"stage": "running"}), 422, "stage"
        )
    assert "lifecycle" in body["errors"]["stage"][0]


@pytest.mark.parametrize("field", ["category_id", "delivering_pmo_ids", "replaces_id"])
def test_it_refuses_a_service_reference_to_another_organisation(admin, other_org, service, field):
    theirs: Any = {
        "category_id": CategoryFactory(organisation=other_org).pk,
        "delivering_pmo_ids": [PMOFactory(organisation=other_org).pk],
        "replaces_id": ServiceFactory(organisation=other_org).pk,
    }[field]
    payload = {"code": "NEW", "name": "New", "category_id": service.category_id, field: theirs}
    with no_writes(service):
        assert_problem(admin.api.post(f"{API}/services", payload), 422, field)
        assert_problem(admin.api.patch(f"{API}/services/{service.pk}", {field: theirs}), 422, field)


def test_it_refuses_unknown_fields_and_nulls(admin, service):
    level = ServiceLevelFactory(service=service)
    with no_writes(service, level):
        assert_problem(admin.api.patch(f"{API}/services/{service.pk}", {"name": None}), 422, "name")
        assert_problem(
            admin.api.patch(f"{API}/services/{service.pk}", {"colour": "red"}), 422, "colour"
        )
        url = f"{API}/services/{service.pk}/levels/{level.pk}"
        assert_problem(admin.api.patch(url, {"name": None}), 422, "name")


def test_it_refuses_a_part_of_another_service_under_this_one(admin, org, service):
    elsewhere = ServiceLevelFactory(service=ServiceFactory(organisation=org))
    with no_writes(elsewhere):
        url = f"{API}/services/{service.pk}/levels/{elsewhere.pk}"
        assert_problem(admin.api.patch(url, {"name": "Moved"}), 404)
        assert_problem(admin.api.post(f"{url}/archive"), 404)


# ---------------------------------------------------------------- tenancy matrix


@pytest.fixture
def acme_catalogue(org: Organisation) -> dict[str, Any]:
    """A published service of acme with one part of each kind."""
    service = ServiceFactory(organisation=org, name="Acme Secret Service")
    pmo = PMOFactory(organisation=org)
    service.delivering_pmos.add(pmo)
    parts = {
        "roles": ServiceRoleFactory(service=service),
        "levels": ServiceLevelFactory(service=service),
        "symptoms": ServiceSymptomFactory(service=service),
        "suppliers": SupplierFactory(service=service),
        "inputs": ServiceInputFactory(service=service),
        "steps": ProcessStepFactory(service=service),
        "outputs": ServiceOutputFactory(service=service),
        "customers": ServiceCustomerFactory(service=service),
        "competences": CompetenceNeedFactory(service=service),
        "governance": GovernanceNeedFactory(service=service),
        "artefacts": ServiceArtefactFactory(service=service),
    }
    publish_running(service)
    return {"service": service, "category": service.category, "parts": parts}


# Bodies each create would accept (ids are acme's, irrelevant: tenancy refuses first).
CREATE_BODIES: dict[str, dict[str, Any]] = {
    "categories_create": {"name": "Hijack"},
    "services_create": {"code": "HIJACK", "name": "Hijack", "category_id": 1},
    "service_roles_create": {"role": "operative", "person_id": 1},
    "service_levels_create": {"name": "Hijack"},
    "service_symptoms_create": {"statement": "Hijack"},
    "service_suppliers_create": {"name": "Hijack"},
    "service_inputs_create": {"name": "Hijack"},
    "service_steps_create": {"name": "Hijack", "performer": "Hijacker"},
    "service_outputs_create": {"name": "Hijack"},
    "service_customers_create": {"customer_group_id": 1},
    "service_competences_create": {"competence": "Hijack", "fte": "1"},
    "service_governance_create": {"item": "Hijack"},
    "service_artefacts_create": {"artefact_id": 1},
}


def _path(template: str, slug: str, rows: dict[str, Any]) -> str:
    collection = template.split("{org}/")[1].split("/")[0]
    service = rows["service"]
    pk = rows["category"].pk if collection == "categories" else service.pk
    path = template.replace("{org}", slug).replace("{id}", str(pk))
    if "{part_id}" in path:
        kind = template.split("{id}/")[1].split("/")[0]
        path = path.replace("{part_id}", str(rows["parts"][kind].pk))
    for name in ("{number}", "{a}", "{b}"):
        path = path.replace(name, "1")
    return path


def test_it_answers_404_to_an_outsider_on_every_catalogue_operation(
    client, outsider, org, other_org, acme_catalogue
):
    def catalogues(template, operation):
        # The lifecycle's and operations' endpoints have their own matrices (their tests).
        return template.split("{org}/")[1].split("/")[0] in CATALOGUE_COLLECTIONS and not (
            operation["operationId"].startswith(("lifecycle_", "operations_"))
        )

    ops = api_operations(client, catalogues)
    assert len(ops) >= 6 * 2 + 5 * len(services.PARTS) + 4 + 2
    calls = [
        (method, _path(template, slug, acme_catalogue), CREATE_BODIES.get(op["operationId"], {}))
        for method, template, op in ops
        for slug in [org.slug] + ([other_org.slug] if "{id}" in template else [])
    ]
    rows = [
        acme_catalogue["service"],
        acme_catalogue["category"],
        *acme_catalogue["parts"].values(),
    ]
    with no_writes(*rows):
        assert outsider_failures(outsider.api, calls) == []


def test_the_outsider_never_sees_acme_in_its_own_catalogue(outsider, acme_catalogue):
    service = acme_catalogue["service"]
    for path in (
        "/api/v1/orgs/globex/services?status=all",
        f"/api/v1/orgs/globex/services?category={service.category_id}",
        "/api/v1/orgs/globex/categories?status=all",
        "/api/v1/orgs/globex/dependency-graph",
    ):
        response = outsider.api.client.get(path, headers=outsider.api.headers)
        assert response.status_code == 200
        assert b"Acme Secret" not in response.content, path
        assert str(service.code).encode() not in response.content, path


# ---------------------------------------------------------------- what customers see


def test_customers_see_only_the_published_running_services(customer, org):
    shown = publish_running(ServiceFactory(organisation=org, code="SHOWN"))
    running = ServiceFactory(organisation=org, code="DRAFT", stage=Stage.RUNNING)
    proposed = ServiceFactory(organisation=org, code="PROPOSED")
    closed = ServiceFactory(organisation=org, code="CLOSED")
    publish_running(closed)
    move_stage(closed, Stage.CLOSED)
    ServiceOutputFactory(service=shown, name="Report")
    ServiceInputFactory(
        service=shown, source_output=ServiceOutputFactory(service=running, name="Hidden")
    )

    listed = customer.api.get(f"{API}/services", status="all").json()
    assert [s["code"] for s in listed["items"]] == ["SHOWN"]
    # The live card is for PMO staff; customers read the service as published.
    assert_problem(customer.api.get(f"{API}/services/{shown.pk}"), 403)
    published = customer.api.get(f"{API}/services/{shown.pk}/published")
    assert published.status_code == 200 and published.json()["number"] == 1
    for hidden in (running, proposed, closed):
        for suffix in ("", "/levels", "/versions", "/dependencies"):
            assert_problem(customer.api.get(f"{API}/services/{hidden.pk}{suffix}"), 404)
    graph = customer.api.get(f"{API}/dependency-graph").json()
    assert [n["code"] for n in graph["nodes"]] == ["SHOWN"] and graph["edges"] == []
    assert customer.api.get(f"{API}/services/{shown.pk}/dependencies").json() == {
        "upstream": [],
        "downstream": [],
    }
    counts = {
        c["id"]: c["service_count"] for c in customer.api.get(f"{API}/categories").json()["items"]
    }
    assert counts[shown.category_id] == 1 and counts[running.category_id] == 0
    with no_writes(shown):
        assert_problem(customer.api.patch(f"{API}/services/{shown.pk}", {"name": "Mine"}), 403)
        assert_problem(customer.api.post(f"{API}/services/{shown.pk}/levels", {"name": "X"}), 403)


def test_customers_never_see_unpublished_edits(customer, director, org):
    shown = publish_running(ServiceFactory(organisation=org, code="SHOWN", name="Published name"))
    services.service_update(actor=director.actor, service=shown, data={"name": "Draft name"})
    listed = customer.api.get(f"{API}/services").json()["items"]
    assert [s["name"] for s in listed] == ["Published name"]
    snapshot = customer.api.get(f"{API}/services/{shown.pk}/published").json()["snapshot"]
    assert snapshot["service"]["name"] == "Published name"
    staff_view = director.api.get(f"{API}/services").json()["items"]
    assert [s["name"] for s in staff_view] == ["Draft name"]
    unpublished = ServiceFactory(organisation=org, code="NEW")
    assert_problem(director.api.get(f"{API}/services/{unpublished.pk}/published"), 404)


def test_customers_read_parts_as_published_never_as_they_stand(customer, director, org):
    """A part added or renamed since publishing is a draft: the parts' own lists are the
    PMO's working copy (403 to a customer, as the live card is), and what a customer reads
    is the published snapshot, which does not hold the draft."""
    shown = publish_running(ServiceFactory(organisation=org, code="SHOWN"))
    ServiceLevelFactory(service=shown, name="Unpublished premium level")
    with no_writes(shown):
        for part in ("levels", "roles", "symptoms", "suppliers", "inputs", "steps", "outputs"):
            assert_problem(customer.api.get(f"{API}/services/{shown.pk}/{part}"), 403)
    assert director.api.get(f"{API}/services/{shown.pk}/levels").status_code == 200
    published = customer.api.get(f"{API}/services/{shown.pk}/published").json()
    assert "Unpublished premium level" not in str(published)


# ---------------------------------------------------------------- versions


def test_it_publishes_lists_shows_and_compares_versions(director, service):
    level = ServiceLevelFactory(service=service, name="Light")
    base = f"{API}/services/{service.pk}"

    response = director.api.post(f"{base}/publish", {"note": "First cut."})
    assert response.status_code == 201, response.content
    assert response.json()["number"] == 1 and response.json()["published_at"]
    assert response.json()["published_by"] == director.user.email
    assert_problem(director.api.post(f"{base}/publish"), 409)  # nothing changed

    director.api.patch(f"{base}/levels/{level.pk}", {"description": "Monthly."})
    director.api.post(f"{base}/steps", {"name": "Review", "performer": "Analyst"})
    assert director.api.post(f"{base}/publish").json()["number"] == 2
    assert director.api.get(base).json()["current_version"] == 2

    versions = director.api.get(f"{base}/versions").json()
    assert [(v["number"], v["note"]) for v in versions] == [(2, ""), (1, "First cut.")]
    assert {v["published_by"] for v in versions} == {director.user.email}

    first = director.api.get(f"{base}/versions/1").json()
    assert first["snapshot"]["service"]["code"] == "SVC"
    assert first["snapshot"]["levels"][0]["description"] == ""
    assert_problem(director.api.get(f"{base}/versions/9"), 404)

    diff = director.api.get(f"{base}/versions/1/diff/2").json()
    assert diff["fields"] == {}
    assert diff["parts"]["steps"]["added"][0]["name"] == "Review"
    (changed,) = diff["parts"]["levels"]["changed"]
    assert changed == {
        "key": "Light",
        "fields": {"description": {"before": "", "after": "Monthly."}},
    }


def test_it_publishes_without_a_body(admin, service):
    response = admin.api.client.post(
        f"{API}/services/{service.pk}/publish",
        "",
        content_type="application/json",
        headers=admin.api.headers,
    )
    assert response.status_code == 201, response.content
    assert response.json()["note"] == "" and response.json()["number"] == 1


# ---------------------------------------------------------------- dependencies


def test_it_shows_a_services_upstream_and_downstream(viewer, org, service):
    upstream = ServiceFactory(organisation=org, code="UP", name="Planning")
    downstream = ServiceFactory(organisation=org, code="DOWN", name="Audit")
    plan = ServiceOutputFactory(service=upstream, name="Plan")
    report = ServiceOutputFactory(service=service, name="Report")
    ServiceInputFactory(service=service, name="Plan in", source_output=plan)
    ServiceInputFactory(service=downstream, name="Report in", source_output=report)

    body = viewer.api.get(f"{API}/services/{service.pk}/dependencies").json()
    assert body["upstream"] == [
        {
            "service_id": upstream.pk,
            "service_code": "UP",
            "service_name": "Planning",
            "output": "Plan",
            "input": "Plan in",
        }
    ]
    assert [(d["service_code"], d["output"], d["input"]) for d in body["downstream"]] == [
        ("DOWN", "Report", "Report in")
    ]

    graph = viewer.api.get(f"{API}/dependency-graph").json()
    layers = {n["code"]: n["layer"] for n in graph["nodes"]}
    assert layers == {"UP": 0, "SVC": 1, "DOWN": 2}
    assert len(graph["edges"]) == 2 and graph["cycles"] == []


def test_the_graph_reports_a_cycle(viewer, org):
    a, b = ServiceFactory(organisation=org), ServiceFactory(organisation=org)
    ServiceInputFactory(service=a, source_output=ServiceOutputFactory(service=b))
    ServiceInputFactory(service=b, source_output=ServiceOutputFactory(service=a))
    graph = viewer.api.get(f"{API}/dependency-graph").json()
    assert graph["cycles"] == [sorted([a.pk, b.pk])]
    assert all(n["in_cycle"] for n in graph["nodes"])


# ---------------------------------------------------------------- query counts


def test_the_service_list_runs_the_same_queries_at_10_and_300_services(viewer, org):
    category = CategoryFactory(organisation=org)
    pmos = PMOFactory.create_batch(2, organisation=org)

    def add(n: int) -> None:
        made = ServiceFactory.create_batch(n, organisation=org, category=category)
        through = Service.delivering_pmos.through
        through.objects.bulk_create(
            [through(service_id=s.pk, pmo_id=p.pk) for s in made for p in pmos]
        )
        publish = made[: max(1, n // 10)]
        for s in publish:
            publish_running(s)

    add(10)
    assert_constant_queries(
        lambda: viewer.api.get(f"{API}/services", page_size=200), lambda: add(290)
    )


def test_the_service_detail_runs_the_same_queries_at_2_and_20_rows_per_part(viewer, org):
    service = ServiceFactory(organisation=org)
    upstream = ServiceFactory(organisation=org)
    group = CustomerGroupFactory(organisation=org)

    def add(n: int) -> None:
        for _ in range(n):
            ServiceRoleFactory(service=service)
            ServiceLevelFactory(service=service)
            ServiceSymptomFactory(service=service)
            supplier = SupplierFactory(service=service)
            source = ServiceOutputFactory(service=upstream)
            ServiceInputFactory(service=service, supplier=supplier, source_output=source)
            ProcessStepFactory(service=service)
            ServiceOutputFactory(service=service, customers=[group])
            ServiceCustomerFactory(service=service)
            CompetenceNeedFactory(service=service)
            GovernanceNeedFactory(service=service)
            ServiceArtefactFactory(service=service)
            ArtefactFactory(organisation=org, owner_service=service)
            service.delivering_pmos.add(PMOFactory(organisation=org))

    add(2)
    assert_constant_queries(lambda: viewer.api.get(f"{API}/services/{service.pk}"), lambda: add(18))


def test_the_dependency_graph_runs_the_same_queries_at_two_sizes(viewer, org):
    category = CategoryFactory(organisation=org)

    def add(n: int) -> None:
        chain = ServiceFactory.create_batch(n, organisation=org, category=category)
        for before, after in itertools.pairwise(chain):
            ServiceInputFactory(service=after, source_output=ServiceOutputFactory(service=before))

    add(3)
    assert_constant_queries(lambda: viewer.api.get(f"{API}/dependency-graph"), lambda: add(30))


def test_a_part_list_runs_the_same_queries_at_two_sizes(viewer, org, service):
    group = CustomerGroupFactory(organisation=org)

    def add(n: int) -> None:
        for _ in range(n):
            ServiceOutputFactory(service=service, customers=[group])
            ServiceInputFactory(
                service=service,
                source_output=ServiceOutputFactory(service=ServiceFactory(organisation=org)),
            )

    def listing(kind: str) -> Callable[[], Any]:
        return lambda: viewer.api.get(f"{API}/services/{service.pk}/{kind}")

    add(2)
    for kind in ("outputs", "inputs"):
        assert_constant_queries(listing(kind), lambda: add(10))
    assert ServiceInput.objects.filter(service=service).count() == 22
