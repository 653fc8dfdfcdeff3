"""The demo organisations: their structure, their logins and their audit trail."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.test import Client

from carte.core.models import AuditAction, AuditEntry
from carte.organisations.choices import OrgRole, PMOKind
from carte.organisations.demo import (
    CONSULTANT,
    DEMO_PASSWORD,
    DEMO_SLUGS,
    demo_logins,
    load_organisations_demo,
)
from carte.organisations.models import PMO, CustomerGroup, Membership, Organisation, Person, User
from carte.organisations.tests.factories import MembershipFactory


@pytest.fixture
def demo(db: None) -> dict[str, Organisation]:
    assert load_organisations_demo()
    return {o.slug: o for o in Organisation.objects.filter(slug__in=DEMO_SLUGS)}


def test_it_loads_northwind_and_riverside_with_their_structure(
    demo: dict[str, Organisation],
) -> None:
    northwind, riverside = demo["northwind"], demo["riverside"]

    pmos = {p.name: p for p in PMO.objects.filter(organisation=northwind)}
    kinds = sorted(p.kind for p in pmos.values())
    assert kinds == sorted(
        [
            PMOKind.ENTERPRISE,
            PMOKind.DEPARTMENTAL,
            PMOKind.DEPARTMENTAL,
            PMOKind.CENTRE_OF_EXCELLENCE,
        ]
    )
    enterprise = next(p for p in pmos.values() if p.kind == PMOKind.ENTERPRISE)
    assert enterprise.parent is None
    assert all(p.parent == enterprise for p in pmos.values() if p is not enterprise)
    assert 20 <= Person.objects.filter(organisation=northwind).count() <= 30
    assert set(
        CustomerGroup.objects.filter(organisation=northwind).values_list("name", flat=True)
    ) == {
        "Finance",
        "HR",
        "Procurement",
        "Operations",
        "IT",
    }
    assert PMO.objects.filter(organisation=riverside).count() == 1
    assert Person.objects.filter(organisation=riverside).exists()

    for org in (northwind, riverside):
        roles = set(
            Membership.objects.filter(organisation=org).values_list("roles__role", flat=True)
        )
        assert roles == set(OrgRole.values), org.slug
        # Every login of the organisation is also a person of it, except the consultant.
        member_users = set(
            Membership.objects.filter(organisation=org)
            .exclude(user__email=CONSULTANT)
            .values_list("user_id", flat=True)
        )
        person_users = set(
            Person.objects.filter(organisation=org, user__isnull=False).values_list(
                "user_id", flat=True
            )
        )
        assert member_users == person_users, org.slug


def test_it_lets_every_demo_login_in_and_lands_it_on_its_organisation(
    demo: dict[str, Organisation],
) -> None:
    logins = [e for e in demo_logins() if e != CONSULTANT]
    assert {e.split("@")[1] for e in logins} == {f"{s}.example" for s in DEMO_SLUGS}
    assert {e.split("@")[0] for e in logins} >= set(OrgRole.values)

    for email in logins:
        org_slug = email.split("@")[1].removesuffix(".example")
        client = Client()
        response = client.post(
            "/login/", {"username": email.upper(), "password": DEMO_PASSWORD}, follow=True
        )
        assert response.status_code == 200, email
        assert response.redirect_chain[-1][0] == f"/o/{org_slug}/", email
        assert response.context["current_org"] == demo[org_slug]


def test_it_shows_the_consultant_both_organisations_in_the_switcher(
    demo: dict[str, Organisation],
) -> None:
    client = Client()
    response = client.post(
        "/login/", {"username": CONSULTANT, "password": DEMO_PASSWORD}, follow=True
    )

    # Two organisations and none used yet: the user chooses.
    assert response.redirect_chain[-1][0] == "/"
    assert list(response.context["organisations"]) == sorted(demo.values(), key=lambda o: o.name)

    response = client.get("/o/riverside/")
    assert response.status_code == 200
    assert list(response.context["switch_orgs"]) == sorted(demo.values(), key=lambda o: o.name)
    html = response.content.decode()
    start = html.index('<details class="org-switcher header-menu">')
    switcher = html[start : html.index("</details>")]
    assert "Northwind Manufacturing Group" in switcher
    assert "Riverside Health Trust" in switcher
    assert 'href="/o/northwind/"' in switcher

    # The organisation used last is where the next visit lands.
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/o/riverside/"


def test_it_records_the_demo_in_the_audit_trail(demo: dict[str, Organisation]) -> None:
    northwind = demo["northwind"]
    entries = AuditEntry.objects.filter(organisation=northwind)

    assert entries.exists()
    assert set(entries.values_list("action", flat=True)) == {AuditAction.CREATE}
    assert set(entries.values_list("actor_label", flat=True)) == {"system"}
    tenant_rows: dict[type[models.Model], set[int]] = {
        Organisation: {northwind.pk},
        **{
            model: set(model.objects.filter(organisation=northwind).values_list("pk", flat=True))
            for model in (PMO, CustomerGroup, Person, Membership)
        },
    }
    for model, pks in tenant_rows.items():
        audited = set(
            entries.filter(content_type=ContentType.objects.get_for_model(model)).values_list(
                "object_id", flat=True
            )
        )
        assert audited == pks, model.__name__


def test_it_leaves_the_demo_alone_unless_reset(demo: dict[str, Organisation]) -> None:
    northwind = demo["northwind"]
    Person.objects.create(organisation=northwind, name="Added", email="added@northwind.example")
    stranger = MembershipFactory(roles=[OrgRole.ADMIN]).user
    MembershipFactory(organisation=northwind, user=stranger, roles=[OrgRole.VIEWER])

    assert load_organisations_demo() == []
    assert Person.objects.filter(name="Added").exists()

    assert load_organisations_demo(reset=True)

    northwind = Organisation.objects.get(slug="northwind")
    assert northwind.pk != demo["northwind"].pk
    assert not Person.objects.filter(name="Added").exists()
    assert PMO.objects.filter(organisation=northwind).count() == 4
    assert not Membership.objects.filter(organisation=northwind, user=stranger).exists()
    # A login that belongs elsewhere too survives the reset; the demo logins come back.
    assert User.objects.filter(pk=stranger.pk).exists()
    assert set(demo_logins()) <= set(User.objects.values_list("email", flat=True))
    assert Client().login(username="admin@northwind.example", password=DEMO_PASSWORD)
