"""The organisations API: the CRUD contract per model, the tenancy matrix over every
operation of the OpenAPI document, and bad input answered as problem+json."""

from __future__ import annotations

from typing import Any

import pytest

from carte.core.models import AuditEntry, Job
from carte.core.testing import archived, assert_problem, no_writes
from carte.organisations import services
from carte.organisations.choices import PMOKind
from carte.organisations.models import Competence, User
from carte.organisations.testing import ApiContract, outsider_failures, outsider_paths
from carte.organisations.tests.contracts import (
    CustomerGroupContract,
    MemberContract,
    PersonContract,
    PMOContract,
)
from carte.organisations.tests.factories import (
    CustomerGroupFactory,
    MembershipFactory,
    PersonFactory,
    PMOFactory,
)

API = "/api/v1/orgs/acme"


# ---------------------------------------------------------------- the CRUD contract


class TestPMOApi(PMOContract, ApiContract):
    api_path = "pmos"

    def create_input(self, organisation):
        parent = PMOFactory(organisation=organisation, name="Enterprise PMO")
        payload = {"name": "Delivery PMO", "kind": "programme", "parent_id": parent.pk}
        after = {"name": "Delivery PMO", "kind": "programme", "parent": "Enterprise PMO"}
        return payload, after

    def update_input(self, obj):
        parent = PMOFactory(organisation=obj.organisation, name="Group PMO")
        # A PATCH changes only what it names: kind and description stay as they are.
        payload = {"name": "Renamed PMO", "parent_id": parent.pk}
        return payload, {"name": (obj.name, "Renamed PMO"), "parent": (None, "Group PMO")}


class TestCustomerGroupApi(CustomerGroupContract, ApiContract):
    api_path = "customer-groups"

    def update_input(self, obj):
        payload = {"description": "Also buying."}
        return payload, {"description": (obj.description, "Also buying.")}


class TestPersonApi(PersonContract, ApiContract):
    api_path = "people"

    def create_input(self, organisation):
        pmo = PMOFactory(organisation=organisation, name="Delivery PMO")
        group = CustomerGroupFactory(organisation=organisation, name="HR")
        member = MembershipFactory(organisation=organisation, user__email="ann@acme.example")
        payload = {
            "name": "Ann Lee",
            "email": " Ann.Lee@Acme.Example ",
            "job_title": "Analyst",
            "pmo_id": pmo.pk,
            "customer_group_id": group.pk,
            "user_email": "ANN@acme.example",
        }
        after = {
            "name": "Ann Lee",
            "email": "ann.lee@acme.example",
            "job_title": "Analyst",
            "pmo": "Delivery PMO",
            "customer_group": "HR",
            "user": str(member.user),
        }
        return payload, after

    def update_input(self, obj):
        payload = {"job_title": "Lead analyst", "provider": "Contractors Ltd"}
        changes = {
            "job_title": (obj.job_title, "Lead analyst"),
            "provider": ("", "Contractors Ltd"),
        }
        return payload, changes


class TestMemberApi(MemberContract, ApiContract):
    api_path = "members"

    def create_input(self, organisation):
        payload = {
            "email": "New.Member@acme.example",
            "full_name": "New Member",
            "roles": ["viewer", "staff"],
        }
        return payload, {"user": "New Member", "roles": ["staff", "viewer"]}

    def update_input(self, obj):
        return {"roles": ["viewer"]}, {"roles": (["staff"], ["viewer"])}


def test_it_returns_the_created_member_with_its_login(admin):
    response = admin.api.post(
        f"{API}/members", {"email": "New@Acme.example", "roles": ["staff"], "full_name": "N"}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "new@acme.example"
    assert body["roles"] == ["staff"]
    assert User.objects.filter(email="new@acme.example").count() == 1


# ---------------------------------------------------------------- tenancy matrix


@pytest.fixture
def openapi(client, db):
    return client.get("/api/v1/openapi.json").json()


def operations(openapi):
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


@pytest.fixture
def acme_rows(org):
    from carte.organisations.actor import Actor

    pmo = services.pmo_create(actor=Actor.for_system(org), name="Acme Secret PMO", kind="coe")
    return {
        "pmos": pmo,
        "people": PersonFactory(organisation=org, name="Acme Secret Person", pmo=pmo),
        "customer-groups": CustomerGroupFactory(organisation=org, name="Acme Secret Group"),
        "members": MembershipFactory(organisation=org, user__full_name="Acme Secret Member"),
        "jobs": Job.objects.create(
            organisation=org, started_by="Acme", kind="catalogue.pdf", label="Acme Secret Job"
        ),
        "competences": Competence.objects.create(organisation=org, name="Acme Secret Competence"),
    }


# A body each create or update would accept, so only tenancy can refuse it.
VALID_BODY = {
    "pmos": {"name": "Hijack"},
    "people": {"name": "Hijack", "email": "hijack@globex.example"},
    "customer-groups": {"name": "Hijack"},
    "members": {"email": "hijack@globex.example", "roles": ["admin"]},
    "jobs": {},
    "competences": {"name": "Hijack"},
}


def test_it_answers_404_to_an_outsider_on_every_operation(
    openapi, outsider, org, other_org, acme_rows
):
    # The catalogue's, the lifecycle's, operations' and capacity's endpoints have their own
    # outsider matrices (catalogue/, lifecycle/, operations/ and capacity/tests/).
    ops = [
        op
        for op in operations(openapi)
        if op[1].split("{org}/")[1].split("/")[0]
        not in ("categories", "services", "dependency-graph", "catalogue", "task-templates")
        and not op[2]["operationId"].startswith("operations_")
        and not any(t.startswith("Capacity") for t in op[2].get("tags", []))
    ]
    assert len(ops) >= 24
    calls = []
    for method, template, _ in ops:
        collection = template.split("{org}/")[1].split("/")[0]
        assert collection in acme_rows, f"the matrix has no row for {template}: add one"
        rows = {"{id}": acme_rows[collection]}
        for path in outsider_paths(template, rows, org.slug, other_org.slug):
            calls.append((method, path, VALID_BODY[collection]))
    with no_writes(*acme_rows.values()):
        assert outsider_failures(outsider.api, calls) == []


def test_it_never_lists_acme_rows_to_the_outsider(outsider, acme_rows):
    pmo = acme_rows["pmos"]
    for path in (
        "/api/v1/orgs/globex/pmos?status=all",
        f"/api/v1/orgs/globex/pmos?parent={pmo.pk}",
        f"/api/v1/orgs/globex/people?status=all&pmo={pmo.pk}",
        "/api/v1/orgs/globex/customer-groups?status=all",
        "/api/v1/orgs/globex/members?status=all",
    ):
        response = outsider.api.client.get(path, headers=outsider.api.headers)
        assert response.status_code == 200
        assert b"Acme Secret" not in response.content, path


def test_it_limits_a_token_to_its_organisation(org, other_org, admin):
    MembershipFactory(organisation=other_org, user=admin.user, roles=["admin"])
    _, raw = services.token_create(user=admin.user, name="acme only", organisation=org)
    from carte.conftest import ApiClient

    scoped = ApiClient(raw)
    assert scoped.get(f"{API}/pmos").status_code == 200
    assert_problem(scoped.get("/api/v1/orgs/globex/pmos"), 404)
    with no_writes():
        assert_problem(scoped.post("/api/v1/orgs/globex/pmos", {"name": "Sneaky"}), 404)
    assert admin.api.get("/api/v1/orgs/globex/pmos").status_code == 200


# ---------------------------------------------------------------- bad input


def refused(response, status, *fields):
    """A problem+json refusal naming `fields`; callers also check nothing was written."""
    return assert_problem(response, status, *fields)


def test_it_refuses_duplicate_names_whatever_their_case(admin, org):
    PMOFactory(organisation=org, name="Finance PMO")
    group = CustomerGroupFactory(organisation=org, name="Finance")
    other = CustomerGroupFactory(organisation=org, name="HR")
    with no_writes(group, other):
        refused(admin.api.post(f"{API}/pmos", {"name": "finance PMO"}), 422, "name")
        refused(admin.api.post(f"{API}/customer-groups", {"name": "FINANCE"}), 422, "name")
        refused(
            admin.api.patch(f"{API}/customer-groups/{other.pk}", {"name": "finance"}), 422, "name"
        )


def test_it_allows_a_name_used_only_by_an_archived_row_but_refuses_restoring_it(admin, org):
    old = archived(PMOFactory(organisation=org, name="Finance PMO"))
    assert admin.api.post(f"{API}/pmos", {"name": "Finance PMO"}).status_code == 201
    with no_writes(old):
        refused(admin.api.post(f"{API}/pmos/{old.pk}/restore"), 422, "name")


def test_it_refuses_a_duplicate_person_email(staff, org):
    ann = PersonFactory(organisation=org, email="ann@acme.example")
    other = PersonFactory(organisation=org)
    with no_writes(ann, other):
        body = {"name": "Ann again", "email": "ANN@acme.example"}
        refused(staff.api.post(f"{API}/people", body), 422, "email")
        refused(
            staff.api.patch(f"{API}/people/{other.pk}", {"email": "Ann@Acme.Example"}), 422, "email"
        )


def test_it_refuses_invalid_emails(admin, org):
    person = PersonFactory(organisation=org)
    with no_writes(person):
        refused(
            admin.api.post(f"{API}/people", {"name": "B", "email": "not-an-email"}), 422, "email"
        )
        refused(admin.api.patch(f"{API}/people/{person.pk}", {"email": "a@"}), 422, "email")
        members = f"{API}/members"
        refused(
            admin.api.post(members, {"email": "not-an-email", "roles": ["staff"]}), 422, "email"
        )
    assert not User.objects.filter(email="not-an-email").exists()


def test_it_refuses_unknown_or_missing_roles(admin, org):
    member = MembershipFactory(organisation=org, roles=["staff"])
    with no_writes(member):
        body = refused(
            admin.api.post(f"{API}/members", {"email": "x@acme.example", "roles": ["king"]}), 422
        )
        assert any(k.startswith("roles") for k in body["errors"]), body
        body = refused(admin.api.patch(f"{API}/members/{member.pk}", {"roles": ["king"]}), 422)
        assert any(k.startswith("roles") for k in body["errors"]), body
        refused(admin.api.patch(f"{API}/members/{member.pk}", {"roles": []}), 422, "roles")
    assert list(member.roles.values_list("role", flat=True)) == ["staff"]


@pytest.mark.parametrize(
    ("collection", "field", "payload"),
    [
        ("people", "pmo_id", {"name": "B", "email": "b@acme.example"}),
        ("people", "customer_group_id", {"name": "B", "email": "b@acme.example"}),
        ("people", "user_email", {"name": "B", "email": "b@acme.example"}),
        ("pmos", "parent_id", {"name": "Sub PMO"}),
    ],
)
def test_it_refuses_a_reference_to_another_organisation(
    admin, outsider, other_org, collection, field, payload
):
    theirs = {
        "pmo_id": PMOFactory(organisation=other_org).pk,
        "parent_id": PMOFactory(organisation=other_org).pk,
        "customer_group_id": CustomerGroupFactory(organisation=other_org).pk,
        "user_email": outsider.user.email,
    }[field]
    mine: Any = {"people": PersonFactory, "pmos": PMOFactory}[collection](
        organisation=admin.organisation
    )
    with no_writes(mine):
        refused(admin.api.post(f"{API}/{collection}", {**payload, field: theirs}), 422, field)
        refused(admin.api.patch(f"{API}/{collection}/{mine.pk}", {field: theirs}), 422, field)


def test_it_refuses_an_overlong_name(admin, org):
    pmo = PMOFactory(organisation=org)
    with no_writes(pmo):
        refused(admin.api.post(f"{API}/pmos", {"name": "x" * 201}), 422, "name")
        refused(admin.api.patch(f"{API}/pmos/{pmo.pk}", {"name": "x" * 201}), 422, "name")
        refused(admin.api.post(f"{API}/customer-groups", {"name": "x" * 201}), 422, "name")
        refused(
            admin.api.post(f"{API}/people", {"name": "x" * 201, "email": "a@b.co"}), 422, "name"
        )


def test_it_refuses_nulls_and_missing_fields(admin, org):
    pmo = PMOFactory(organisation=org)
    with no_writes(pmo):
        refused(admin.api.patch(f"{API}/pmos/{pmo.pk}", {"name": None}), 422, "name")
        refused(admin.api.post(f"{API}/pmos", {"kind": "coe"}), 422, "name")
        refused(admin.api.post(f"{API}/pmos", {"name": "X", "kind": "galactic"}), 422, "kind")


def _names_parent(body):
    assert {"parent", "parent_id"} & set(body["errors"]), body


def test_it_refuses_a_pmo_as_its_own_parent_or_in_a_cycle(admin, org):
    a = PMOFactory(organisation=org, name="A")
    b = PMOFactory(organisation=org, name="B", parent=a)
    with no_writes(a, b):
        _names_parent(refused(admin.api.patch(f"{API}/pmos/{a.pk}", {"parent_id": a.pk}), 422))
        _names_parent(refused(admin.api.patch(f"{API}/pmos/{a.pk}", {"parent_id": b.pk}), 422))


@pytest.mark.parametrize("case", ["own parent", "archived parent", "login already linked"])
def test_it_names_the_field_the_client_sent(admin, org, case):
    """An error must name the API's field (parent_id, user_email), as it does for a
    reference to another organisation, not the model field behind it."""
    pmo = PMOFactory(organisation=org, name="A")
    if case == "login already linked":
        login = MembershipFactory(organisation=org, user__email="ann@acme.example").user
        PersonFactory(organisation=org, user=login)
        path, field = f"{API}/people", "user_email"
        payload = {"name": "Ann twin", "email": "twin@acme.example", "user_email": login.email}
    else:
        parent = pmo if case == "own parent" else archived(PMOFactory(organisation=org))
        path, field = f"{API}/pmos/{pmo.pk}", "parent_id"
        payload = {"parent_id": parent.pk}
    call = admin.api.post if case == "login already linked" else admin.api.patch
    with no_writes(pmo):
        refused(call(path, payload), 422, field)


@pytest.mark.parametrize("field", ["pmo_id", "customer_group_id"])
def test_it_refuses_a_reference_to_an_archived_row(admin, org, field):
    """The pages do not offer archived PMOs and groups, and a PMO's parent must be live:
    the API must not link a person to an archived row either."""
    factory = PMOFactory if field == "pmo_id" else CustomerGroupFactory
    gone = archived(factory(organisation=org))
    person = PersonFactory(organisation=org)
    with no_writes(gone, person):
        payload = {"name": "B", "email": "b@acme.example", field: gone.pk}
        refused(admin.api.post(f"{API}/people", payload), 422, field)
        refused(admin.api.patch(f"{API}/people/{person.pk}", {field: gone.pk}), 422, field)


def test_it_refuses_an_overlong_member_name(admin, org):
    """The page refuses a full name over 150 characters; the API must not cut it silently."""
    with no_writes():
        payload = {"email": "long@acme.example", "full_name": "x" * 151, "roles": ["staff"]}
        refused(admin.api.post(f"{API}/members", payload), 422, "full_name")
    assert not User.objects.filter(email="long@acme.example").exists()


def test_it_refuses_to_archive_a_pmo_with_live_sub_pmos(admin, org):
    parent = PMOFactory(organisation=org)
    child = PMOFactory(organisation=org, parent=parent)
    with no_writes(parent, child):
        refused(admin.api.post(f"{API}/pmos/{parent.pk}/archive"), 409)


@pytest.mark.parametrize("collection", ["pmos", "people", "customer-groups", "members"])
def test_it_refuses_an_unknown_ordering(viewer, collection):
    body = refused(viewer.api.get(f"{API}/{collection}", ordering="salary"), 422, "ordering")
    assert "salary" in body["errors"]["ordering"][0]


def test_it_answers_404_for_an_unknown_organisation(admin):
    refused(admin.api.get("/api/v1/orgs/no-such-org/pmos"), 404)
    with no_writes():
        refused(admin.api.post("/api/v1/orgs/no-such-org/pmos", {"name": "X"}), 404)


# ---------------------------------------------------------------- lists


def test_it_filters_sorts_and_pages_api_lists(viewer, org):
    for name in ("Alpha", "Bravo", "Charlie"):
        PMOFactory(organisation=org, name=name, kind=PMOKind.PROGRAMME)
    PMOFactory.create_batch(27, organisation=org)
    archived(PMOFactory(organisation=org, name="Zulu"))

    def names(**params):
        response = viewer.api.get(f"{API}/pmos", **params)
        assert response.status_code == 200
        return response.json()

    first = names()
    assert first["count"] == 30 and len(first["items"]) == 25
    assert len(names(page=2)["items"]) == 5
    assert [p["name"] for p in names(q="rav")["items"]] == ["Bravo"]
    assert [p["name"] for p in names(kind="programme", ordering="-name")["items"]] == [
        "Charlie",
        "Bravo",
        "Alpha",
    ]
    assert [p["name"] for p in names(status="archived")["items"]] == ["Zulu"]
    assert AuditEntry.objects.count() == 0


def test_it_records_the_token_holder_as_the_actor_of_an_api_write(director, org):
    """The API caller's login is loaded from the one-query token lookup: its e-mail must be
    the one in the audit trail (a field-order slip once put the full name there)."""
    response = director.api.post(f"/api/v1/orgs/{org.slug}/customer-groups", {"name": "Legal"})
    assert response.status_code == 201
    entry = AuditEntry.objects.get(object_id=response.json()["id"], action="create")
    assert entry.actor_label == director.user.email
    assert entry.actor_id == director.user.pk
