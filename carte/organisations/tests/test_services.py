"""The organisations services: every write audited in its own transaction, permissions,
the rules across objects, tenancy, API tokens and logins."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.contrib.auth import authenticate

from carte.conftest import ApiClient
from carte.core import audit
from carte.core.errors import CONFLICT, FORBIDDEN, NOT_FOUND, DomainError
from carte.core.models import AuditAction, AuditEntry
from carte.core.testing import assert_entry, audit_entries, last_entry
from carte.organisations import services
from carte.organisations.choices import OrgRole, PMOKind
from carte.organisations.models import (
    PMO,
    ApiToken,
    CustomerGroup,
    Membership,
    Organisation,
    Person,
    User,
)
from carte.organisations.tests.factories import (
    PASSWORD,
    CustomerGroupFactory,
    MembershipFactory,
    PersonFactory,
    PMOFactory,
    UserFactory,
)

# ---------------------------------------------------------------- PMOs


def test_it_audits_pmo_create_with_each_field(director: Any) -> None:
    parent = services.pmo_create(actor=director.actor, name="Enterprise", kind=PMOKind.ENTERPRISE)
    pmo = services.pmo_create(
        actor=director.actor,
        name="Digital PMO",
        kind=PMOKind.DEPARTMENTAL,
        parent=parent,
        description="Runs the digital portfolio.",
    )

    assert pmo.organisation == director.organisation
    entry = last_entry(pmo)
    assert_entry(entry, director, AuditAction.CREATE)
    assert entry.object_repr == "Digital PMO"
    assert entry.changes == {
        "name": {"before": None, "after": "Digital PMO"},
        "kind": {"before": None, "after": "departmental"},
        "parent": {"before": None, "after": "Enterprise"},
        "description": {"before": None, "after": "Runs the digital portfolio."},
    }


def test_it_audits_pmo_update_with_before_and_after(pmo_manager: Any, org: Organisation) -> None:
    pmo = PMOFactory(organisation=org, name="Old name", kind=PMOKind.DEPARTMENTAL)

    services.pmo_update(
        actor=pmo_manager.actor,
        pmo=pmo,
        data={"name": "New name", "kind": PMOKind.PROGRAMME, "description": ""},
    )

    pmo.refresh_from_db()
    assert (pmo.name, pmo.kind) == ("New name", PMOKind.PROGRAMME)
    entries = audit_entries(pmo)
    assert len(entries) == 1
    assert_entry(entries[0], pmo_manager, AuditAction.UPDATE)
    assert entries[0].changes == {
        "name": {"before": "Old name", "after": "New name"},
        "kind": {"before": "departmental", "after": "programme"},
    }


def test_it_writes_no_entry_for_an_update_that_changes_nothing(
    director: Any, org: Organisation
) -> None:
    pmo = PMOFactory(organisation=org, name="Same", description="Same")

    services.pmo_update(actor=director.actor, pmo=pmo, data={"name": "Same", "description": "Same"})

    assert audit_entries(pmo) == []


def test_it_audits_pmo_archive_and_restore(director: Any, org: Organisation) -> None:
    pmo = PMOFactory(organisation=org)

    services.pmo_archive(actor=director.actor, pmo=pmo)
    pmo.refresh_from_db()
    assert pmo.is_archived
    services.pmo_restore(actor=director.actor, pmo=pmo)
    pmo.refresh_from_db()
    assert not pmo.is_archived

    archived, restored = audit_entries(pmo)
    assert_entry(archived, director, AuditAction.ARCHIVE)
    assert archived.changes == {"archived": {"before": False, "after": True}}
    assert_entry(restored, director, AuditAction.RESTORE)
    assert restored.changes == {"archived": {"before": True, "after": False}}


def test_it_writes_the_change_and_its_audit_entry_in_one_transaction(
    director: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_record(**kwargs: Any) -> None:
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(audit, "record", broken_record)

    with pytest.raises(RuntimeError):
        services.pmo_create(actor=director.actor, name="Half written", kind=PMOKind.ENTERPRISE)

    assert not PMO.objects.filter(name="Half written").exists()


def test_it_refuses_a_duplicate_pmo_name_whatever_its_case_and_writes_nothing(
    director: Any, org: Organisation
) -> None:
    PMOFactory(organisation=org, name="Enterprise PMO")
    before = AuditEntry.objects.count()

    with pytest.raises(DomainError) as exc:
        services.pmo_create(actor=director.actor, name="enterprise pmo", kind=PMOKind.ENTERPRISE)

    assert exc.value.code == "invalid"
    assert "name" in exc.value.errors
    assert PMO.objects.filter(organisation=org).count() == 1
    assert AuditEntry.objects.count() == before


def test_it_refuses_a_failed_update_without_saving_or_auditing(
    director: Any, org: Organisation
) -> None:
    PMOFactory(organisation=org, name="Taken")
    pmo = PMOFactory(organisation=org, name="Mine")

    with pytest.raises(DomainError) as exc:
        services.pmo_update(actor=director.actor, pmo=pmo, data={"name": "TAKEN"})

    assert "name" in exc.value.errors
    assert PMO.objects.get(pk=pmo.pk).name == "Mine"
    assert audit_entries(pmo) == []


def test_it_refuses_staff_creating_a_pmo(staff: Any) -> None:
    with pytest.raises(DomainError) as exc:
        services.pmo_create(actor=staff.actor, name="Rogue PMO", kind=PMOKind.DEPARTMENTAL)

    assert exc.value.code == FORBIDDEN
    assert not PMO.objects.exists()
    assert not AuditEntry.objects.filter(object_repr="Rogue PMO").exists()


@pytest.mark.parametrize("role", [OrgRole.STAFF, OrgRole.CUSTOMER, OrgRole.VIEWER])
def test_it_refuses_roles_outside_the_structure_editors_changing_a_pmo(
    persona: Any, org: Organisation, role: str
) -> None:
    actor = persona(role).actor
    pmo = PMOFactory(organisation=org, name="Kept")

    for call in (
        lambda: services.pmo_update(actor=actor, pmo=pmo, data={"name": "Changed"}),
        lambda: services.pmo_archive(actor=actor, pmo=pmo),
    ):
        with pytest.raises(DomainError) as exc:
            call()
        assert exc.value.code == FORBIDDEN

    pmo.refresh_from_db()
    assert (pmo.name, pmo.is_archived) == ("Kept", False)
    assert audit_entries(pmo) == []


def test_it_refuses_a_pmo_under_its_own_sub_pmo(director: Any, org: Organisation) -> None:
    top = PMOFactory(organisation=org, name="Top")
    middle = PMOFactory(organisation=org, name="Middle", parent=top)
    bottom = PMOFactory(organisation=org, name="Bottom", parent=middle)

    for new_parent in (bottom, middle, top):
        with pytest.raises(DomainError) as exc:
            services.pmo_update(actor=director.actor, pmo=top, data={"parent": new_parent})
        assert "parent" in exc.value.errors

    top.refresh_from_db()
    assert top.parent is None
    assert audit_entries(top) == []


def test_it_refuses_an_archived_parent_pmo(director: Any, org: Organisation) -> None:
    archived = PMOFactory(organisation=org, name="Old")
    services.pmo_archive(actor=director.actor, pmo=archived)

    with pytest.raises(DomainError) as exc:
        services.pmo_create(
            actor=director.actor, name="New", kind=PMOKind.DEPARTMENTAL, parent=archived
        )

    assert "parent" in exc.value.errors
    assert not PMO.objects.filter(name="New").exists()


def test_it_refuses_archiving_a_pmo_with_live_sub_pmos(director: Any, org: Organisation) -> None:
    parent = PMOFactory(organisation=org, name="Parent")
    child = PMOFactory(organisation=org, name="Child", parent=parent)

    with pytest.raises(DomainError) as exc:
        services.pmo_archive(actor=director.actor, pmo=parent)

    assert exc.value.code == CONFLICT
    parent.refresh_from_db()
    assert not parent.is_archived
    assert audit_entries(parent) == []

    services.pmo_archive(actor=director.actor, pmo=child)
    services.pmo_archive(actor=director.actor, pmo=parent)
    parent.refresh_from_db()
    assert parent.is_archived


def test_it_refuses_restoring_a_sub_pmo_under_an_archived_parent(
    director: Any, org: Organisation
) -> None:
    # Archiving refuses a parent with live sub-PMOs; restoring must not create one.
    parent = PMOFactory(organisation=org, name="Parent")
    child = PMOFactory(organisation=org, name="Child", parent=parent)
    services.pmo_archive(actor=director.actor, pmo=child)
    services.pmo_archive(actor=director.actor, pmo=parent)

    with pytest.raises(DomainError) as exc:
        services.pmo_restore(actor=director.actor, pmo=child)

    assert "parent" in exc.value.errors
    assert PMO.objects.get(pk=child.pk).is_archived


def test_it_refuses_restoring_a_pmo_whose_name_is_now_taken(
    director: Any, org: Organisation
) -> None:
    old = PMOFactory(organisation=org, name="Delivery PMO")
    services.pmo_archive(actor=director.actor, pmo=old)
    services.pmo_create(actor=director.actor, name="DELIVERY pmo", kind=PMOKind.DEPARTMENTAL)
    before = len(audit_entries(old))

    with pytest.raises(DomainError) as exc:
        services.pmo_restore(actor=director.actor, pmo=PMO.objects.get(pk=old.pk))

    assert "name" in exc.value.errors
    assert PMO.objects.get(pk=old.pk).is_archived
    assert len(audit_entries(old)) == before


def test_it_refuses_a_parent_pmo_of_another_organisation(
    director: Any, other_org: Organisation
) -> None:
    foreign = PMOFactory(organisation=other_org)

    with pytest.raises(DomainError) as exc:
        services.pmo_create(
            actor=director.actor, name="Mine", kind=PMOKind.DEPARTMENTAL, parent=foreign
        )

    assert exc.value.errors == {"parent": ["No such record in this organisation."]}
    assert not PMO.objects.filter(name="Mine").exists()


def test_it_refuses_an_actor_touching_another_organisations_pmo(
    outsider: Any, org: Organisation
) -> None:
    pmo = PMOFactory(organisation=org, name="Ours")

    with pytest.raises(DomainError) as exc:
        services.pmo_update(actor=outsider.actor, pmo=pmo, data={"name": "Theirs"})
    assert exc.value.code == FORBIDDEN
    with pytest.raises(DomainError) as exc:
        services.pmo_archive(actor=outsider.actor, pmo=pmo)
    assert exc.value.code == FORBIDDEN

    pmo.refresh_from_db()
    assert (pmo.name, pmo.is_archived) == ("Ours", False)


# ---------------------------------------------------------------- customer groups


def test_it_audits_the_customer_group_lifecycle(pmo_manager: Any) -> None:
    actor = pmo_manager.actor
    group = services.customer_group_create(actor=actor, name="Finance", description="Money")
    services.customer_group_update(
        actor=actor, customer_group=group, data={"description": "Group finance"}
    )
    services.customer_group_update(actor=actor, customer_group=group, data={"name": "Finance"})
    services.customer_group_archive(actor=actor, customer_group=group)
    services.customer_group_restore(actor=actor, customer_group=group)

    created, updated, archived, restored = audit_entries(group)
    assert_entry(created, pmo_manager, AuditAction.CREATE)
    assert created.changes == {
        "name": {"before": None, "after": "Finance"},
        "description": {"before": None, "after": "Money"},
    }
    assert_entry(updated, pmo_manager, AuditAction.UPDATE)
    assert updated.changes == {"description": {"before": "Money", "after": "Group finance"}}
    assert_entry(archived, pmo_manager, AuditAction.ARCHIVE)
    assert_entry(restored, pmo_manager, AuditAction.RESTORE)
    assert not CustomerGroup.objects.get(pk=group.pk).is_archived


def test_it_refuses_restoring_a_customer_group_whose_name_is_now_taken(
    director: Any, org: Organisation
) -> None:
    old = CustomerGroupFactory(organisation=org, name="HR")
    services.customer_group_archive(actor=director.actor, customer_group=old)
    services.customer_group_create(actor=director.actor, name="hr")

    with pytest.raises(DomainError) as exc:
        services.customer_group_restore(
            actor=director.actor, customer_group=CustomerGroup.objects.get(pk=old.pk)
        )

    assert "name" in exc.value.errors
    assert CustomerGroup.objects.get(pk=old.pk).is_archived


def test_it_refuses_staff_creating_a_customer_group(staff: Any) -> None:
    with pytest.raises(DomainError) as exc:
        services.customer_group_create(actor=staff.actor, name="Finance")

    assert exc.value.code == FORBIDDEN
    assert not CustomerGroup.objects.exists()


# ---------------------------------------------------------------- people


def test_it_audits_the_person_lifecycle(staff: Any, org: Organisation) -> None:
    actor = staff.actor
    pmo = PMOFactory(organisation=org, name="Delivery PMO")
    person = services.person_create(
        actor=actor, name="Ada Lovelace", email="  Ada@Example.COM ", job_title="Analyst"
    )
    assert person.email == "ada@example.com"
    services.person_update(
        actor=actor, person=person, data={"job_title": "Lead analyst", "pmo": pmo}
    )
    services.person_archive(actor=actor, person=person)
    services.person_restore(actor=actor, person=person)

    created, updated, archived, restored = audit_entries(person)
    assert_entry(created, staff, AuditAction.CREATE)
    assert created.changes == {
        "name": {"before": None, "after": "Ada Lovelace"},
        "email": {"before": None, "after": "ada@example.com"},
        "job_title": {"before": None, "after": "Analyst"},
    }
    assert_entry(updated, staff, AuditAction.UPDATE)
    assert updated.changes == {
        "job_title": {"before": "Analyst", "after": "Lead analyst"},
        "pmo": {"before": None, "after": "Delivery PMO"},
    }
    assert_entry(archived, staff, AuditAction.ARCHIVE)
    assert_entry(restored, staff, AuditAction.RESTORE)


def test_it_saves_and_audits_a_new_login_that_has_the_same_name_as_the_old_one(
    staff: Any, org: Organisation
) -> None:
    # Two members may share a full name; the audit shows names, but the link must change.
    first = MembershipFactory(organisation=org, user__full_name="Alex Smith").user
    second = MembershipFactory(organisation=org, user__full_name="Alex Smith").user
    person = PersonFactory(organisation=org, email=first.email, user=first)

    services.person_update(actor=staff.actor, person=person, data={"user": second})

    assert Person.objects.get(pk=person.pk).user == second
    assert "user" in last_entry(person).changes


def test_it_saves_a_move_to_a_pmo_named_like_the_archived_one(
    director: Any, org: Organisation
) -> None:
    old = PMOFactory(organisation=org, name="Delivery PMO")
    person = PersonFactory(organisation=org, pmo=old)
    services.pmo_archive(actor=director.actor, pmo=old)
    new = services.pmo_create(actor=director.actor, name="Delivery PMO", kind=PMOKind.PROGRAMME)

    services.person_update(actor=director.actor, person=person, data={"pmo": new})

    assert Person.objects.get(pk=person.pk).pmo == new
    assert "pmo" in last_entry(person).changes


def test_it_writes_no_entry_when_a_person_update_only_changes_the_email_case(
    staff: Any, org: Organisation
) -> None:
    person = PersonFactory(organisation=org, email="grace@example.com")

    services.person_update(actor=staff.actor, person=person, data={"email": "Grace@Example.com"})

    assert audit_entries(person) == []


def test_it_refuses_a_customer_editing_a_person(customer: Any, org: Organisation) -> None:
    person = PersonFactory(organisation=org, name="Kept")

    with pytest.raises(DomainError) as exc:
        services.person_update(actor=customer.actor, person=person, data={"name": "Changed"})
    assert exc.value.code == FORBIDDEN
    with pytest.raises(DomainError) as exc:
        services.person_create(actor=customer.actor, name="New", email="new@example.com")
    assert exc.value.code == FORBIDDEN

    assert Person.objects.get(pk=person.pk).name == "Kept"
    assert not Person.objects.filter(name="New").exists()
    assert audit_entries(person) == []


def test_it_refuses_a_person_with_an_email_already_used(staff: Any, org: Organisation) -> None:
    PersonFactory(organisation=org, email="dup@example.com")

    with pytest.raises(DomainError) as exc:
        services.person_create(actor=staff.actor, name="Again", email="DUP@example.com")

    assert "email" in exc.value.errors
    assert not Person.objects.filter(name="Again").exists()
    assert not AuditEntry.objects.filter(object_repr="Again").exists()


def test_it_refuses_restoring_a_person_whose_email_is_now_taken(
    staff: Any, org: Organisation
) -> None:
    old = PersonFactory(organisation=org, email="same@example.com")
    services.person_archive(actor=staff.actor, person=old)
    services.person_create(actor=staff.actor, name="Newcomer", email="same@example.com")

    with pytest.raises(DomainError) as exc:
        services.person_restore(actor=staff.actor, person=Person.objects.get(pk=old.pk))

    assert "email" in exc.value.errors
    assert Person.objects.get(pk=old.pk).is_archived


@pytest.mark.parametrize("field", ["pmo", "customer_group"])
def test_it_refuses_a_person_linked_to_another_organisations_rows(
    staff: Any, other_org: Organisation, field: str
) -> None:
    foreign = (PMOFactory if field == "pmo" else CustomerGroupFactory)(organisation=other_org)

    with pytest.raises(DomainError) as exc:
        services.person_create(
            actor=staff.actor, name="Linked", email="linked@example.com", **{field: foreign}
        )

    assert exc.value.errors == {field: ["No such record in this organisation."]}
    assert not Person.objects.filter(name="Linked").exists()


def test_it_refuses_moving_a_person_to_another_organisations_pmo(
    staff: Any, org: Organisation, other_org: Organisation
) -> None:
    person = PersonFactory(organisation=org)
    foreign = PMOFactory(organisation=other_org)

    with pytest.raises(DomainError) as exc:
        services.person_update(actor=staff.actor, person=person, data={"pmo": foreign})

    assert list(exc.value.errors) == ["pmo"]
    assert Person.objects.get(pk=person.pk).pmo is None


def test_it_refuses_linking_a_person_to_a_login_that_is_not_a_member(
    staff: Any, outsider: Any
) -> None:
    with pytest.raises(DomainError) as exc:
        services.person_create(
            actor=staff.actor, name="Linked", email="linked@example.com", user=outsider.user
        )

    assert list(exc.value.errors) == ["user"]
    assert not Person.objects.filter(name="Linked").exists()


def test_it_links_a_person_to_a_member_login(staff: Any, viewer: Any) -> None:
    person = services.person_create(
        actor=staff.actor, name="Viewer", email=viewer.user.email, user=viewer.user
    )

    assert person.user == viewer.user
    assert last_entry(person).changes["user"] == {"before": None, "after": str(viewer.user)}


# ---------------------------------------------------------------- memberships


def test_it_audits_the_membership_lifecycle(admin: Any, director: Any) -> None:
    # `director` is there so that the new member, made a director, is not the last one.
    actor = admin.actor
    membership = services.membership_create(
        actor=actor,
        email="New.Member@Example.com",
        roles=[OrgRole.STAFF, OrgRole.VIEWER],
        full_name="New Member",
    )
    assert membership.user.email == "new.member@example.com"
    assert membership.role_list == ["staff", "viewer"]
    services.membership_update(actor=actor, membership=membership, roles=[OrgRole.DIRECTOR])
    services.membership_archive(actor=actor, membership=membership)
    services.membership_restore(actor=actor, membership=membership)

    created, updated, archived, restored = audit_entries(membership)
    assert_entry(created, admin, AuditAction.CREATE)
    assert created.changes["roles"] == {"before": None, "after": ["staff", "viewer"]}
    assert created.changes["user"] == {"before": None, "after": "New Member"}
    assert_entry(updated, admin, AuditAction.UPDATE)
    assert updated.changes == {"roles": {"before": ["staff", "viewer"], "after": ["director"]}}
    assert_entry(archived, admin, AuditAction.ARCHIVE)
    assert_entry(restored, admin, AuditAction.RESTORE)
    assert Membership.objects.get(pk=membership.pk).role_list == ["director"]


def test_it_writes_no_entry_when_the_roles_do_not_change(admin: Any, staff: Any) -> None:
    membership = Membership.objects.get(user=staff.user)

    services.membership_update(actor=admin.actor, membership=membership, roles=[OrgRole.STAFF])

    assert audit_entries(membership) == []


def test_it_refuses_a_pmo_manager_changing_members(pmo_manager: Any, staff: Any) -> None:
    membership = Membership.objects.get(user=staff.user)
    actor = pmo_manager.actor

    for call in (
        lambda: services.membership_create(actor=actor, email="x@example.com", roles=["staff"]),
        lambda: services.membership_update(
            actor=actor, membership=membership, roles=[OrgRole.ADMIN]
        ),
        lambda: services.membership_archive(actor=actor, membership=membership),
    ):
        with pytest.raises(DomainError) as exc:
            call()
        assert exc.value.code == FORBIDDEN

    membership.refresh_from_db()
    assert membership.role_list == ["staff"]
    assert not membership.is_archived
    assert not Membership.objects.filter(user__email="x@example.com").exists()
    assert audit_entries(membership) == []


def test_it_refuses_an_unknown_role_or_no_role(admin: Any) -> None:
    for roles in ([], ["owner"]):
        with pytest.raises(DomainError) as exc:
            services.membership_create(actor=admin.actor, email="x@example.com", roles=roles)
        assert list(exc.value.errors) == ["roles"]

    assert not Membership.objects.filter(user__email="x@example.com").exists()


def test_it_refuses_adding_an_existing_member_twice(admin: Any, staff: Any) -> None:
    with pytest.raises(DomainError) as exc:
        services.membership_create(
            actor=admin.actor, email=staff.user.email.upper(), roles=[OrgRole.VIEWER]
        )

    assert list(exc.value.errors) == ["email"]
    assert Membership.objects.filter(user=staff.user).count() == 1


def test_it_adds_an_existing_login_of_another_organisation(admin: Any, outsider: Any) -> None:
    membership = services.membership_create(
        actor=admin.actor, email=outsider.user.email, roles=[OrgRole.VIEWER]
    )

    assert membership.user == outsider.user
    assert membership.organisation == admin.organisation


def test_it_refuses_removing_the_admin_role_from_the_last_admin(admin: Any, outsider: Any) -> None:
    # The outsider administers another organisation: that does not count here.
    membership = Membership.objects.get(user=admin.user, organisation=admin.organisation)

    with pytest.raises(DomainError) as exc:
        services.membership_update(
            actor=admin.actor, membership=membership, roles=[OrgRole.DIRECTOR]
        )

    assert list(exc.value.errors) == ["roles"]
    membership.refresh_from_db()
    assert membership.role_list == ["admin"]
    assert audit_entries(membership) == []


def test_it_refuses_archiving_the_last_admin(admin: Any, director: Any) -> None:
    membership = Membership.objects.get(user=admin.user, organisation=admin.organisation)

    with pytest.raises(DomainError) as exc:
        services.membership_archive(actor=director.actor, membership=membership)

    assert list(exc.value.errors) == ["roles"]
    assert not Membership.objects.get(pk=membership.pk).is_archived


def test_it_does_not_count_an_archived_admin_as_the_remaining_one(
    admin: Any, org: Organisation
) -> None:
    other = MembershipFactory(organisation=org, roles=[OrgRole.ADMIN])
    services.membership_archive(actor=admin.actor, membership=other)
    membership = Membership.objects.get(user=admin.user, organisation=org)

    with pytest.raises(DomainError):
        services.membership_archive(actor=admin.actor, membership=membership)


def test_it_lets_an_admin_step_down_when_another_admin_remains(
    admin: Any, org: Organisation
) -> None:
    MembershipFactory(organisation=org, roles=[OrgRole.ADMIN])
    membership = Membership.objects.get(user=admin.user, organisation=org)

    services.membership_update(actor=admin.actor, membership=membership, roles=[OrgRole.VIEWER])

    assert Membership.objects.get(pk=membership.pk).role_list == ["viewer"]


def test_it_refuses_a_weak_initial_password_and_writes_nothing(admin: Any) -> None:
    with pytest.raises(DomainError) as exc:
        services.membership_create(
            actor=admin.actor, email="weak@example.com", roles=["staff"], password="password"
        )

    assert list(exc.value.errors) == ["password"]
    assert not Membership.objects.filter(user__email="weak@example.com").exists()
    assert not User.objects.filter(email="weak@example.com").exists()


# ---------------------------------------------------------------- organisations


def test_it_audits_organisation_create_as_the_system(db: None) -> None:
    org = services.organisation_create(name="Initech", slug="initech")

    entry = last_entry(org)
    assert entry.action == AuditAction.CREATE
    assert entry.actor is None
    assert entry.actor_label == "system"
    assert entry.organisation_id == org.pk
    assert entry.changes["slug"] == {"before": None, "after": "initech"}


def test_it_refuses_an_invalid_or_taken_slug(org: Organisation) -> None:
    for slug in ("Not A Slug", "-edge", org.slug):
        with pytest.raises(DomainError) as exc:
            services.organisation_create(name="Another", slug=slug)
        assert "slug" in exc.value.errors

    assert not Organisation.objects.filter(name="Another").exists()


# ---------------------------------------------------------------- API tokens


def test_it_stores_only_a_hash_of_the_token(staff: Any) -> None:
    token, raw = services.token_create(user=staff.user, name="laptop")

    assert raw.startswith("carte_")
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert row["key_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(row["prefix"])
    assert len(row["prefix"]) < len(raw) // 3
    assert all(raw not in str(value) for value in row.values())


def test_it_makes_a_token_that_authenticates_until_revoked(staff: Any, org: Organisation) -> None:
    token, raw = services.token_create(user=staff.user, name="script")
    client = ApiClient(raw)
    url = f"/api/v1/orgs/{org.slug}/pmos"
    assert client.get(url).status_code == 200

    services.token_revoke(user=staff.user, token_id=token.pk)

    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert client.get(url).status_code == 401


def test_it_refuses_revoking_someone_elses_token(staff: Any, viewer: Any) -> None:
    token, _ = services.token_create(user=viewer.user, name="mine")

    with pytest.raises(DomainError) as exc:
        services.token_revoke(user=staff.user, token_id=token.pk)

    assert exc.value.code == NOT_FOUND
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_it_limits_a_token_to_its_organisation(staff: Any, org: Organisation) -> None:
    other = MembershipFactory(user=staff.user, roles=[OrgRole.STAFF]).organisation
    _, raw = services.token_create(user=staff.user, name="acme only", organisation=org)
    client = ApiClient(raw)

    assert client.get(f"/api/v1/orgs/{org.slug}/pmos").status_code == 200
    assert client.get(f"/api/v1/orgs/{other.slug}/pmos").status_code == 404
    assert staff.api.get(f"/api/v1/orgs/{other.slug}/pmos").status_code == 200


def test_it_refuses_a_token_for_an_organisation_the_user_is_not_in(
    staff: Any, other_org: Organisation
) -> None:
    with pytest.raises(DomainError) as exc:
        services.token_create(user=staff.user, name="sneaky", organisation=other_org)

    assert list(exc.value.errors) == ["organisation"]
    assert not ApiToken.objects.filter(name="sneaky").exists()


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_it_refuses_a_token_without_a_proper_name(staff: Any, name: str) -> None:
    with pytest.raises(DomainError) as exc:
        services.token_create(user=staff.user, name=name)

    assert list(exc.value.errors) == ["name"]


# ---------------------------------------------------------------- logins


def test_it_logs_in_with_the_email_in_any_case(db: None) -> None:
    user = UserFactory(email="Mixed.Case@Example.com")
    assert user.email == "mixed.case@example.com"

    assert authenticate(username="MIXED.CASE@EXAMPLE.COM", password=PASSWORD) == user
    assert authenticate(username="mixed.case@example.com", password=PASSWORD) == user
    assert authenticate(username="MIXED.CASE@EXAMPLE.COM", password="wrong") is None


def test_it_finds_an_existing_login_whatever_the_email_case(db: None) -> None:
    user = UserFactory(email="someone@example.com")

    found = services.user_get_or_create(email="  SomeOne@Example.com ", password="x")

    assert found == user
    assert User.objects.filter(email__iexact="someone@example.com").count() == 1


def test_it_refuses_an_invalid_email_for_a_new_login(db: None) -> None:
    with pytest.raises(DomainError) as exc:
        services.user_get_or_create(email="not-an-email")

    assert list(exc.value.errors) == ["email"]
    assert not User.objects.exists()
