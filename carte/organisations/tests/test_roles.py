"""The roles a member may hold: sets that make no sense together are refused, and an
organisation keeps its last PMO Director (as it keeps its last administrator), through the
services, the API and the member pages."""

from __future__ import annotations

from typing import Any

import pytest

from carte.core.errors import DomainError
from carte.core.testing import assert_problem, audit_entries, no_writes
from carte.organisations import services
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole
from carte.organisations.models import Membership, Organisation, User
from carte.organisations.tests.factories import MembershipFactory

API = "/api/v1/orgs/acme"
PMO_SIDE = [OrgRole.ADMIN, OrgRole.DIRECTOR, OrgRole.PMO_MANAGER, OrgRole.STAFF, OrgRole.VIEWER]


def membership_of(persona: Any) -> Membership:
    return Membership.objects.get(user=persona.user, organisation=persona.organisation)


# ---------------------------------------------------------------- role sets


@pytest.mark.parametrize("other", PMO_SIDE)
def test_it_refuses_a_new_customer_holding_another_role(admin: Any, other: str) -> None:
    with pytest.raises(DomainError) as exc:
        services.membership_create(
            actor=admin.actor, email="both@acme.example", roles=[OrgRole.CUSTOMER, other]
        )

    assert list(exc.value.errors) == ["roles"]
    message = exc.value.errors["roles"][0]
    assert f"cannot be combined with {OrgRole(other).label}" in message
    assert message.startswith("Customer is a role of its own")
    assert not User.objects.filter(email="both@acme.example").exists()


def test_it_names_every_role_a_customer_cannot_hold_with_it(admin: Any, staff: Any) -> None:
    membership = membership_of(staff)

    with no_writes(membership), pytest.raises(DomainError) as exc:
        services.membership_update(
            actor=admin.actor,
            membership=membership,
            roles=[OrgRole.ADMIN, OrgRole.CUSTOMER, OrgRole.STAFF],
        )

    assert exc.value.errors == {
        "roles": [
            "Customer is a role of its own: it cannot be combined with Administrator or PMO staff."
        ]
    }
    assert membership.role_list == ["staff"]


def test_it_lets_the_pmo_side_roles_combine(admin: Any) -> None:
    membership = services.membership_create(
        actor=admin.actor, email="many@acme.example", roles=PMO_SIDE
    )

    assert membership.role_list == sorted(PMO_SIDE)


def test_it_refuses_a_customer_with_admin_through_the_api(admin: Any, staff: Any) -> None:
    membership = membership_of(staff)
    both = [OrgRole.CUSTOMER, OrgRole.ADMIN]

    with no_writes(membership):
        body = assert_problem(
            admin.api.post(f"{API}/members", {"email": "both@acme.example", "roles": both}),
            422,
            "roles",
        )
        assert "cannot be combined with Administrator" in body["errors"]["roles"][0]
        assert_problem(
            admin.api.patch(f"{API}/members/{membership.pk}", {"roles": both}), 422, "roles"
        )

    assert not User.objects.filter(email="both@acme.example").exists()


def test_it_shows_the_refused_role_set_next_to_the_roles_field(admin: Any, staff: Any) -> None:
    membership = membership_of(staff)

    with no_writes(membership):
        response = admin.client.post(
            f"/o/acme/members/{membership.pk}/edit/",
            {"roles": [OrgRole.CUSTOMER, OrgRole.DIRECTOR]},
        )

    assert response.status_code == 422
    field = response.context["form"]["roles"]
    assert field.errors == [
        "Customer is a role of its own: it cannot be combined with PMO Director."
    ]


# ---------------------------------------------------------------- the last director


def test_it_refuses_the_last_director_dropping_their_own_director_role(
    director: Any, admin: Any
) -> None:
    membership = membership_of(director)

    with no_writes(membership), pytest.raises(DomainError) as exc:
        services.membership_update(
            actor=director.actor, membership=membership, roles=[OrgRole.STAFF]
        )

    assert exc.value.errors == {"roles": ["The organisation must keep at least one PMO Director."]}
    assert membership_of(director).role_list == ["director"]


def test_it_refuses_the_last_director_archiving_their_own_membership(director: Any) -> None:
    membership = membership_of(director)

    with no_writes(membership), pytest.raises(DomainError) as exc:
        services.membership_archive(actor=director.actor, membership=membership)

    assert list(exc.value.errors) == ["roles"]
    assert not membership_of(director).is_archived


def test_it_refuses_an_admin_removing_the_last_director(admin: Any, director: Any) -> None:
    membership = membership_of(director)

    for call in (
        lambda: services.membership_archive(actor=admin.actor, membership=membership),
        lambda: services.membership_update(
            actor=admin.actor, membership=membership, roles=[OrgRole.VIEWER]
        ),
    ):
        with no_writes(membership), pytest.raises(DomainError):
            call()

    assert audit_entries(membership) == []


def test_it_lets_a_director_step_down_when_another_director_remains(
    director: Any, org: Organisation
) -> None:
    MembershipFactory(organisation=org, roles=[OrgRole.DIRECTOR])
    membership = membership_of(director)

    services.membership_update(
        actor=director.actor, membership=membership, roles=[OrgRole.PMO_MANAGER]
    )

    assert membership_of(director).role_list == ["pmo_manager"]


def test_it_does_not_count_an_archived_director_as_the_remaining_one(
    admin: Any, director: Any, org: Organisation
) -> None:
    other = MembershipFactory(organisation=org, roles=[OrgRole.DIRECTOR])
    services.membership_archive(actor=admin.actor, membership=other)

    with pytest.raises(DomainError):
        services.membership_archive(actor=admin.actor, membership=membership_of(director))


def test_it_keeps_the_last_director_and_the_last_admin_apart(
    admin: Any, director: Any, org: Organisation
) -> None:
    # A second administrator holding the director role too: the first administrator may go,
    # and the director may then go, the other member still holding both roles.
    both = MembershipFactory(organisation=org, roles=[OrgRole.ADMIN, OrgRole.DIRECTOR])

    services.membership_archive(actor=director.actor, membership=membership_of(admin))
    services.membership_archive(actor=director.actor, membership=membership_of(director))

    with pytest.raises(DomainError) as exc:
        services.membership_update(
            actor=Actor.for_system(org), membership=both, roles=[OrgRole.STAFF]
        )
    assert exc.value.errors == {"roles": ["The organisation must keep at least one administrator."]}


def test_it_shows_the_last_director_refusal_on_the_member_pages(director: Any) -> None:
    membership = membership_of(director)

    with no_writes(membership):
        edit = director.client.post(
            f"/o/acme/members/{membership.pk}/edit/", {"roles": [OrgRole.STAFF]}
        )
        archive = director.client.post(f"/o/acme/members/{membership.pk}/archive/")

    assert edit.status_code == 422
    assert edit.context["form"]["roles"].errors == [
        "The organisation must keep at least one PMO Director."
    ]
    assert archive.status_code in (409, 422), archive.status_code
    assert "must keep at least one PMO Director" in archive.content.decode()


def test_it_refuses_the_last_director_going_through_the_api(director: Any) -> None:
    membership = membership_of(director)

    with no_writes(membership):
        assert_problem(
            director.api.patch(f"{API}/members/{membership.pk}", {"roles": ["staff"]}),
            422,
            "roles",
        )
        assert_problem(director.api.post(f"{API}/members/{membership.pk}/archive"), 422, "roles")
