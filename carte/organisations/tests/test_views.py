"""The organisations pages: the CRUD contract per model, the tenancy matrix over every
page under /o/<org>/, bad input in forms, and how lists, forms and responses behave."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from carte.core.models import AuditEntry, Job
from carte.core.testing import archived, no_writes
from carte.organisations import urls as org_urls
from carte.organisations.choices import OrgRole, PMOKind
from carte.organisations.models import PMO, ApiToken, Competence, Membership, Person
from carte.organisations.testing import PageContract
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

# ---------------------------------------------------------------- the CRUD contract


class TestPMOPages(PMOContract, PageContract):
    url_stem = "pmo"

    def create_input(self, organisation):
        parent = PMOFactory(organisation=organisation, name="Enterprise PMO")
        data = {
            "name": "Delivery PMO",
            "kind": PMOKind.PROGRAMME,
            "parent": parent.pk,
            "description": "Runs delivery.",
        }
        after = {
            "name": "Delivery PMO",
            "kind": "programme",
            "parent": "Enterprise PMO",
            "description": "Runs delivery.",
        }
        return data, after

    def update_input(self, obj):
        parent = PMOFactory(organisation=obj.organisation, name="Group PMO")
        data = {"name": "Renamed PMO", "kind": PMOKind.ENTERPRISE, "parent": parent.pk}
        data["description"] = obj.description
        changes = {
            "name": (obj.name, "Renamed PMO"),
            "kind": (obj.kind, "enterprise"),
            "parent": (None, "Group PMO"),
        }
        return data, changes


class TestCustomerGroupPages(CustomerGroupContract, PageContract):
    url_stem = "customer_group"

    def update_input(self, obj):
        data = {"name": "Finance and Procurement", "description": "Also buying."}
        changes = {
            "name": (obj.name, "Finance and Procurement"),
            "description": (obj.description, "Also buying."),
        }
        return data, changes


class TestPersonPages(PersonContract, PageContract):
    url_stem = "person"

    def create_input(self, organisation):
        pmo = PMOFactory(organisation=organisation, name="Delivery PMO")
        group = CustomerGroupFactory(organisation=organisation, name="HR")
        data = {
            "name": "Ann Lee",
            "email": " Ann.Lee@Acme.Example ",
            "job_title": "Analyst",
            "pmo": pmo.pk,
            "provider": "",
            "customer_group": group.pk,
            "user": "",
        }
        after = {
            "name": "Ann Lee",
            "email": "ann.lee@acme.example",
            "job_title": "Analyst",
            "pmo": "Delivery PMO",
            "customer_group": "HR",
        }
        return data, after

    def update_input(self, obj):
        data = {
            "name": "Ann Smith",
            "email": obj.email,
            "job_title": "Lead analyst",
            "pmo": "",
            "provider": "Contractors Ltd",
            "customer_group": "",
            "user": "",
        }
        changes = {
            "name": (obj.name, "Ann Smith"),
            "job_title": (obj.job_title, "Lead analyst"),
            "provider": ("", "Contractors Ltd"),
        }
        return data, changes


class TestMemberPages(MemberContract, PageContract):
    url_stem = "member"

    def create_input(self, organisation):
        data = {
            "email": "New.Member@acme.example",
            "full_name": "New Member",
            "roles": [OrgRole.STAFF, OrgRole.VIEWER],
            "password": "",
        }
        return data, {"user": "New Member", "roles": ["staff", "viewer"]}

    def update_input(self, obj):
        return {"roles": [OrgRole.VIEWER]}, {"roles": (["staff"], ["viewer"])}


def test_it_notices_a_write_the_contract_forbids(org):
    """`no_writes` is what the refusals above rely on: it must catch both a write
    statement and a changed row."""
    pmo = PMOFactory(organisation=org)
    with pytest.raises(AssertionError, match="unexpected writes"), no_writes(pmo):
        PMO.objects.filter(pk=pmo.pk).update(name="Changed")
    changed = pytest.raises(AssertionError, match="a row changed")
    with changed, no_writes(pmo, allow=("organisations_pmo",)):
        PMO.objects.filter(pk=pmo.pk).update(name="Changed again")


# ---------------------------------------------------------------- tenancy matrix


@pytest.fixture
def acme_rows(org):
    """One row of each kind in `org`, with an audit entry, for the tenancy matrix."""
    from carte.organisations import services
    from carte.organisations.actor import Actor

    pmo = services.pmo_create(actor=Actor.for_system(org), name="Acme Secret PMO", kind="coe")
    group = CustomerGroupFactory(organisation=org, name="Acme Secret Group")
    person = PersonFactory(
        organisation=org, name="Acme Secret Person", pmo=pmo, customer_group=group
    )
    member = MembershipFactory(organisation=org, user__full_name="Acme Secret Member")
    job = Job.objects.create(
        organisation=org, started_by="Acme", kind="catalogue.pdf", label="Acme Secret Job"
    )
    return {
        "pmo": pmo,
        "person": person,
        "customer_group": group,
        "member": member,
        "job": job,
        "competence": Competence.objects.create(organisation=org, name="Acme Secret Competence"),
    }


def _row_for(rows, url_name):
    stem = url_name.rsplit("_", 1)[0]
    assert stem in rows, f"the tenancy matrix has no row for {url_name!r}: add one"
    return rows[stem]


ORG_PATTERNS = org_urls.urlpatterns


def test_it_serves_the_pages_the_matrix_walks():
    names = {p.name for p in ORG_PATTERNS}
    assert {"org_home", "activity"} <= names
    for stem in ("pmo", "person", "customer_group", "member"):
        for action in ("list", "create", "detail", "update", "archive", "restore"):
            assert f"{stem}_{action}" in names


def test_it_answers_404_on_every_organisation_page_to_an_outsider(
    outsider, org, other_org, acme_rows
):
    failures = []
    with no_writes(*acme_rows.values()):
        for pattern in ORG_PATTERNS:
            takes_pk = "pk" in pattern.pattern.converters
            # acme's own address; and, for a page of one object, the outsider's own
            # organisation with acme's id in it.
            for slug in (org.slug, other_org.slug) if takes_pk else (org.slug,):
                kwargs = {"org": slug}
                if takes_pk:
                    kwargs["pk"] = _row_for(acme_rows, pattern.name).pk
                url = reverse(pattern.name, kwargs=kwargs)
                for method in ("get", "post"):
                    status = getattr(outsider.client, method)(url, {"name": "x"}).status_code
                    if status != 404:
                        failures.append((method.upper(), url, status))
    assert failures == []


def test_it_sends_anonymous_visitors_of_every_page_to_the_login(org, acme_rows):
    anonymous = Client()
    for pattern in ORG_PATTERNS:
        kwargs = {"org": org.slug}
        if "pk" in pattern.pattern.converters:
            kwargs["pk"] = _row_for(acme_rows, pattern.name).pk
        url = reverse(pattern.name, kwargs=kwargs)
        response = anonymous.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next="), url


def test_it_never_shows_acme_rows_on_the_outsiders_own_pages(outsider, other_org, acme_rows):
    client = outsider.client
    pmo, group = acme_rows["pmo"], acme_rows["customer_group"]
    pages = [
        reverse("org_home", args=[other_org.slug]),
        reverse("activity", args=[other_org.slug]),
        reverse("pmo_list", args=[other_org.slug]) + f"?status=all&parent={pmo.pk}",
        reverse("person_list", args=[other_org.slug])
        + f"?status=all&pmo={pmo.pk}&customer_group={group.pk}",
        reverse("customer_group_list", args=[other_org.slug]) + "?status=all",
        reverse("member_list", args=[other_org.slug]) + "?status=all",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"Acme Secret" not in response.content, url
        assert b"Acme Group" not in response.content, url  # not even in the switcher


def test_it_lets_a_user_revoke_only_their_own_tokens(admin, outsider):
    theirs = ApiToken.objects.get(user=outsider.user)
    response = admin.client.post(reverse("token_revoke", args=[theirs.pk]), follow=True)
    assert response.status_code == 200
    assert b"No such token" in response.content
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert outsider.api.get("/api/v1/orgs/globex/pmos").status_code == 200
    assert theirs.prefix.encode() not in admin.client.get(reverse("tokens")).content

    mine = ApiToken.objects.get(user=admin.user)
    admin.client.post(reverse("token_revoke", args=[mine.pk]))
    mine.refresh_from_db()
    assert mine.revoked_at is not None
    assert admin.api.get("/api/v1/orgs/acme/pmos").status_code == 401


def test_it_answers_404_for_an_unknown_organisation(admin):
    assert admin.client.get("/o/no-such-org/").status_code == 404
    assert admin.client.get("/o/no-such-org/pmos/").status_code == 404


def test_it_takes_the_roles_of_the_organisation_named_and_lists_its_others(admin, org):
    """The actor and the switcher come from one read of the login's memberships: the roles
    are this organisation's only, and an archived membership is neither listed nor let in."""
    user = admin.user
    MembershipFactory(organisation__name="Zenith", organisation__slug="zenith", user=user)
    left = MembershipFactory(
        organisation__name="Boreal", organisation__slug="boreal", user=user, roles=["admin"]
    )
    Membership.objects.filter(pk=left.pk).update(archived_at=left.created_at)
    response = admin.client.get(reverse("pmo_list", args=["zenith"]))
    assert response.status_code == 200
    assert [o.slug for o in response.context["switch_orgs"]] == ["acme", "zenith"]
    assert response.context["actor"].roles == {"staff"}  # not the admin role held in Acme
    assert admin.client.get(reverse("pmo_create", args=["zenith"])).status_code == 403
    assert admin.client.get(reverse("pmo_list", args=["boreal"])).status_code == 404
    tokens = admin.client.get(reverse("tokens"))  # no organisation named: a query of its own
    assert [o.slug for o in tokens.context["switch_orgs"]] == ["acme", "zenith"]


# ---------------------------------------------------------------- bad input in forms


def field_error(response, name):
    """The error shown next to one form field, or None."""
    match = re.search(
        rf'<div class="invalid-feedback[^"]*" id="id_{name}_error"[^>]*>([^<]*)</div>',
        response.content.decode(),
    )
    return match.group(1) if match else None


def assert_refused(response, field, text=""):
    assert response.status_code == 422, response.content[:2000]
    message = field_error(response, field)
    assert message, f"no error shown next to {field!r}"
    assert text in message, message


def test_it_refuses_a_duplicate_pmo_name_whatever_its_case(admin, org):
    PMOFactory(organisation=org, name="Finance PMO")
    with no_writes():
        response = admin.client.post(
            reverse("pmo_create", args=[org.slug]), {"name": "FINANCE pmo", "kind": "coe"}
        )
    assert_refused(response, "name", "already exists")
    assert PMO.objects.count() == 1


def test_it_refuses_a_duplicate_customer_group_name_on_edit(admin, org):
    CustomerGroupFactory(organisation=org, name="Finance")
    other = CustomerGroupFactory(organisation=org, name="HR")
    with no_writes(other):
        response = admin.client.post(
            reverse("customer_group_update", args=[org.slug, other.pk]), {"name": "finance"}
        )
    assert_refused(response, "name", "already exists")


def test_it_refuses_a_duplicate_person_email_whatever_its_case(staff, org):
    PersonFactory(organisation=org, email="ann@acme.example")
    with no_writes():
        response = staff.client.post(
            reverse("person_create", args=[org.slug]),
            {"name": "Ann Again", "email": "ANN@Acme.Example"},
        )
    assert_refused(response, "email", "already exists")


@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        ("person_create", {"name": "Bob", "email": "not-an-email"}),
        ("member_create", {"email": "not-an-email", "roles": ["staff"]}),
    ],
)
def test_it_refuses_an_invalid_email(admin, org, url_name, data):
    with no_writes():
        response = admin.client.post(reverse(url_name, args=[org.slug]), data)
    assert_refused(response, "email", "valid")


def test_it_refuses_an_unknown_role(admin, org):
    with no_writes():
        response = admin.client.post(
            reverse("member_create", args=[org.slug]), {"email": "x@acme.example", "roles": "king"}
        )
    assert_refused(response, "roles", "valid choice")


def test_it_does_not_offer_rows_of_another_organisation(admin, org, outsider, other_org):
    their_pmo = PMOFactory(organisation=other_org, name="Globex PMO")
    their_group = CustomerGroupFactory(organisation=other_org, name="Globex Group")
    form = admin.client.get(reverse("person_create", args=[org.slug]))
    for text in (b"Globex PMO", b"Globex Group", outsider.user.email.encode()):
        assert text not in form.content
    with no_writes(their_pmo, their_group):
        response = admin.client.post(
            reverse("person_create", args=[org.slug]),
            {
                "name": "Bob",
                "email": "bob@acme.example",
                "pmo": their_pmo.pk,
                "customer_group": their_group.pk,
                "user": outsider.user.pk,
            },
        )
        for field in ("pmo", "customer_group", "user"):
            assert_refused(response, field, "valid choice")
        response = admin.client.post(
            reverse("pmo_create", args=[org.slug]),
            {"name": "Sub", "kind": "programme", "parent": their_pmo.pk},
        )
        assert_refused(response, "parent", "valid choice")


def test_it_refuses_an_overlong_name(admin, org):
    with no_writes():
        response = admin.client.post(
            reverse("pmo_create", args=[org.slug]), {"name": "x" * 201, "kind": "coe"}
        )
    assert_refused(response, "name", "at most 200 characters")


def test_it_refuses_a_pmo_as_its_own_parent_or_in_a_cycle(admin, org):
    a = PMOFactory(organisation=org, name="A")
    b = PMOFactory(organisation=org, name="B", parent=a)
    url = reverse("pmo_update", args=[org.slug, a.pk])
    assert f'value="{a.pk}"'.encode() not in admin.client.get(url).content.split(b"id_parent")[1]
    with no_writes(a, b):
        response = admin.client.post(url, {"name": "A", "kind": a.kind, "parent": a.pk})
        assert_refused(response, "parent")
        response = admin.client.post(url, {"name": "A", "kind": a.kind, "parent": b.pk})
        assert_refused(response, "parent", "cannot sit under itself")


def test_it_refuses_to_archive_a_pmo_with_live_sub_pmos(admin, org):
    parent = PMOFactory(organisation=org)
    child = PMOFactory(organisation=org, parent=parent)
    with no_writes(parent, child):
        response = admin.client.post(reverse("pmo_archive", args=[org.slug, parent.pk]))
    assert response.status_code == 409
    assert b"live sub-PMOs" in response.content


def test_it_keeps_entered_values_and_shows_errors_next_to_fields(admin, org):
    response = admin.client.post(
        reverse("pmo_create", args=[org.slug]),
        {"name": "", "kind": "coe", "description": "Keep this text"},
    )
    assert_refused(response, "name", "required")
    html = response.content.decode()
    assert "Keep this text" in html
    assert re.search(r'<option value="coe" selected>', html)
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_name_error"' in html


# ---------------------------------------------------------------- lists


def listed(response, org="acme", kind="pmos"):
    """The names linked from a list page, in order."""
    return re.findall(rf'<a href="/o/{org}/{kind}/\d+/">([^<]+)</a>', response.content.decode())


@pytest.fixture
def three_pmos(org):
    alpha = PMOFactory(organisation=org, name="Alpha", kind=PMOKind.PROGRAMME)
    bravo = PMOFactory(organisation=org, name="Bravo", kind=PMOKind.ENTERPRISE)
    charlie = PMOFactory(organisation=org, name="Charlie", kind=PMOKind.PROGRAMME)
    PersonFactory.create_batch(2, organisation=org, pmo=bravo)
    archived(PMOFactory(organisation=org, name="Zulu", kind=PMOKind.PROGRAMME))
    return alpha, bravo, charlie


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ({}, ["Alpha", "Bravo", "Charlie"]),
        ({"ordering": "-name"}, ["Charlie", "Bravo", "Alpha"]),
        ({"ordering": "-people"}, ["Bravo", "Charlie", "Alpha"]),
        ({"ordering": "kind"}, ["Bravo", "Alpha", "Charlie"]),
        ({"q": "RAV"}, ["Bravo"]),
        ({"kind": "programme"}, ["Alpha", "Charlie"]),
        ({"status": "archived"}, ["Zulu"]),
        ({"status": "all", "kind": "programme"}, ["Alpha", "Charlie", "Zulu"]),
    ],
)
def test_it_sorts_and_filters_lists(viewer, org, three_pmos, query, names):
    response = viewer.client.get(reverse("pmo_list", args=[org.slug]), query)
    assert response.status_code == 200
    assert listed(response) == names


def test_it_filters_people_by_pmo_and_login(viewer, org, three_pmos):
    bravo = three_pmos[1]
    linked = PersonFactory(organisation=org, name="Has Login", user=viewer.user)
    url = reverse("person_list", args=[org.slug])
    by_pmo = listed(viewer.client.get(url, {"pmo": bravo.pk}), kind="people")
    assert sorted(by_pmo) == sorted(p.name for p in Person.objects.filter(pmo=bravo))
    assert listed(viewer.client.get(url, {"has_login": "true"}), kind="people") == [linked.name]


def test_it_reports_an_unknown_ordering_and_keeps_the_default(viewer, org, three_pmos):
    response = viewer.client.get(reverse("pmo_list", args=[org.slug]), {"ordering": "salary"})
    assert response.status_code == 200
    assert b"ordering: Unknown ordering" in response.content
    assert listed(response) == ["Alpha", "Bravo", "Charlie"]


def test_it_paginates_lists(viewer, org):
    PMOFactory.create_batch(30, organisation=org)
    url = reverse("pmo_list", args=[org.slug])
    first = viewer.client.get(url)
    assert len(listed(first)) == 25
    assert b"page 1 of 2" in first.content
    second = viewer.client.get(url, {"page": 2})
    assert len(listed(second)) == 5
    assert set(listed(first)).isdisjoint(listed(second))
    assert len(listed(viewer.client.get(url, {"page_size": 10, "page": 3}))) == 10


def test_it_answers_htmx_with_the_results_partial_only(viewer, org, three_pmos):
    url = reverse("pmo_list", args=[org.slug])
    partial = viewer.client.get(url, {"q": "alp"}, headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert b"<html" not in partial.content
    assert b"results-table" in partial.content
    assert listed(partial) == ["Alpha"]
    assert b"1 PMO</p>" in partial.content
    full = viewer.client.get(url, {"q": "alp"})
    assert b"<html" in full.content
    assert b"3 PMOs</p>" in viewer.client.get(url).content


def test_messages_name_the_model_as_written(admin, org):
    """ "PMO “Delivery” created.", not "Pmo"; a count says "customer groups", not "Customer
    groups" or "pmos"."""
    response = admin.client.post(
        reverse("pmo_create", args=[org.slug]),
        {"name": "Delivery", "kind": "departmental"},
        follow=True,
    )
    assert "PMO “Delivery” created." in response.content.decode()
    CustomerGroupFactory(organisation=org, name="HR")
    CustomerGroupFactory(organisation=org, name="Finance")
    page = admin.client.get(reverse("customer_group_list", args=[org.slug])).content.decode()
    assert "2 customer groups</p>" in page


# ---------------------------------------------------------------- responses


@pytest.mark.parametrize("path", ["/o/acme/pmos/", "/login/", "/o/acme/no-such-page/"])
def test_it_sends_security_headers(admin, path):
    response = admin.client.get(path)
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_it_enforces_csrf_on_form_posts(admin, org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin.user)
    with no_writes():
        response = client.post(
            reverse("pmo_create", args=[org.slug]), {"name": "Forged", "kind": "coe"}
        )
    assert response.status_code == 403
    assert not PMO.objects.filter(name="Forged").exists()
    assert AuditEntry.objects.count() == 0


def test_it_hides_the_members_and_activity_pages_from_customers(customer, org):
    assert customer.client.get(reverse("member_list", args=[org.slug])).status_code == 403
    assert customer.client.get(reverse("activity", args=[org.slug])).status_code == 403
    home = customer.client.get(reverse("org_home", args=[org.slug]))
    assert home.status_code == 200
    assert reverse("member_list", args=[org.slug]).encode() not in home.content
    assert reverse("activity", args=[org.slug]).encode() not in home.content
