"""Every write to organisations, PMOs, people, customer groups, memberships and tokens.

Each function checks permission, validates, writes and audits in one transaction. The
pages, the API, the CLI and the demo loader all come through here.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from carte.core import audit
from carte.core.errors import CONFLICT, NOT_FOUND, DomainError, not_found
from carte.core.models import AuditAction
from carte.core.permissions import ADD, ARCHIVE, CHANGE, require
from carte.core.services import (
    archive_object,
    check_same_org,
    create_object,
    restore_object,
    update_object,
)
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole
from carte.organisations.models import (
    PMO,
    ApiToken,
    Competence,
    CustomerGroup,
    Membership,
    MembershipRole,
    Organisation,
    Person,
    User,
)

TOKEN_PREFIX = "carte_"

# ---------------------------------------------------------------- organisations


@transaction.atomic
def organisation_create(*, name: str, slug: str) -> Organisation:
    """Create a tenant. Only the CLI and the demo loader do this (no user acts for it)."""
    org = Organisation(name=name, slug=slug)
    try:
        org.full_clean()
    except ValidationError as exc:
        raise DomainError.from_validation_error(exc) from exc
    org.save()
    audit.record(
        actor=Actor.for_system(org),
        obj=org,
        action=AuditAction.CREATE,
        changes={"name": {"before": None, "after": name}, "slug": {"before": None, "after": slug}},
        organisation_id=org.pk,
    )
    return org


# ---------------------------------------------------------------- shared checks


def _pmo_ancestors(pmo: PMO) -> Iterable[PMO]:
    seen: set[int] = set()
    node: PMO | None = pmo
    while node is not None and node.pk not in seen:
        seen.add(node.pk)
        yield node
        node = node.parent


def _check_parent(actor: Actor, pmo: PMO, parent: PMO | None) -> None:
    check_same_org(actor, parent=parent)
    if parent is None:
        return
    if parent.is_archived:
        raise DomainError.field("parent", "The parent PMO is archived.")
    if pmo.pk is not None and any(a.pk == pmo.pk for a in _pmo_ancestors(parent)):
        raise DomainError.field(
            "parent", "A PMO cannot sit under itself or under one of its own sub-PMOs."
        )


# ---------------------------------------------------------------- PMOs


@transaction.atomic
def pmo_create(
    *, actor: Actor, name: str, kind: str, parent: PMO | None = None, description: str = ""
) -> PMO:
    """Add a PMO (enterprise, departmental, programme or Centre of Excellence)."""
    require(actor, ADD, PMO)
    pmo = PMO(name=name, kind=kind, parent=parent, description=description)
    _check_parent(actor, pmo, parent)
    return create_object(actor, pmo)


@transaction.atomic
def pmo_update(*, actor: Actor, pmo: PMO, data: dict[str, Any]) -> PMO:
    """Change a PMO's name, kind, parent or description."""
    require(actor, CHANGE, pmo)
    if "parent" in data:
        _check_parent(actor, pmo, data["parent"])
    return update_object(actor, pmo, data)


@transaction.atomic
def pmo_archive(*, actor: Actor, pmo: PMO) -> PMO:
    """Archive a PMO that has no live sub-PMOs."""
    require(actor, ARCHIVE, pmo)
    if pmo.children.filter(archived_at__isnull=True).exists():
        raise DomainError(
            "This PMO still has live sub-PMOs: move or archive them first.", code=CONFLICT
        )
    return archive_object(actor, pmo)


@transaction.atomic
def pmo_restore(*, actor: Actor, pmo: PMO) -> PMO:
    """Restore a PMO, but not under an archived parent (archiving refuses live sub-PMOs)."""
    require(actor, ARCHIVE, pmo)
    if (
        pmo.parent_id is not None
        and PMO.objects.filter(pk=pmo.parent_id, archived_at__isnull=False).exists()
    ):
        raise DomainError.field(
            "parent", "The parent PMO is archived: restore it first, or move this PMO."
        )
    return restore_object(actor, pmo)


# ---------------------------------------------------------------- customer groups


@transaction.atomic
def customer_group_create(*, actor: Actor, name: str, description: str = "") -> CustomerGroup:
    """Add a business unit or function the PMO serves."""
    require(actor, ADD, CustomerGroup)
    return create_object(actor, CustomerGroup(name=name, description=description))


@transaction.atomic
def customer_group_update(
    *, actor: Actor, customer_group: CustomerGroup, data: dict[str, Any]
) -> CustomerGroup:
    require(actor, CHANGE, customer_group)
    return update_object(actor, customer_group, data)


@transaction.atomic
def customer_group_archive(*, actor: Actor, customer_group: CustomerGroup) -> CustomerGroup:
    require(actor, ARCHIVE, customer_group)
    return archive_object(actor, customer_group)


@transaction.atomic
def customer_group_restore(*, actor: Actor, customer_group: CustomerGroup) -> CustomerGroup:
    require(actor, ARCHIVE, customer_group)
    return restore_object(actor, customer_group)


# ---------------------------------------------------------------- competence framework

COMPETENCE_FIELDS = ("name", "group", "description", *Competence.LEVEL_FIELDS)


@transaction.atomic
def competence_create(*, actor: Actor, data: dict[str, Any]) -> Competence:
    """Add a competence to the organisation's framework."""
    require(actor, ADD, Competence)
    unknown = set(data) - set(COMPETENCE_FIELDS)
    if unknown:
        raise DomainError.field(sorted(unknown)[0], "Unknown field.")
    return create_object(actor, Competence(**data))


@transaction.atomic
def competence_update(*, actor: Actor, competence: Competence, data: dict[str, Any]) -> Competence:
    require(actor, CHANGE, competence)
    unknown = set(data) - set(COMPETENCE_FIELDS)
    if unknown:
        raise DomainError.field(sorted(unknown)[0], "Unknown field.")
    return update_object(actor, competence, data)


@transaction.atomic
def competence_archive(*, actor: Actor, competence: Competence) -> Competence:
    require(actor, ARCHIVE, competence)
    return archive_object(actor, competence)


@transaction.atomic
def competence_restore(*, actor: Actor, competence: Competence) -> Competence:
    require(actor, ARCHIVE, competence)
    return restore_object(actor, competence)


class CompetenceChange(NamedTuple):
    """One row of an imported framework: its number in the file, the live competence it
    updates (None: a new one) and the values it sets."""

    row: int
    competence: Competence | None
    data: dict[str, Any]


@transaction.atomic
def competences_import(*, actor: Actor, changes: Sequence[CompetenceChange]) -> list[Competence]:
    """Create and update the framework's competences of an import (`organisations.framework`),
    all or none: each through `competence_create` or `competence_update`, in one
    transaction. A refusal names the row it is about (`extra["row"]`) and undoes the rest."""
    require(actor, ADD, Competence)
    require(actor, CHANGE, Competence)
    written: list[Competence] = []
    for change in changes:
        try:
            if change.competence is None:
                written.append(competence_create(actor=actor, data=change.data))
            else:
                written.append(
                    competence_update(actor=actor, competence=change.competence, data=change.data)
                )
        except DomainError as exc:
            raise DomainError(
                exc.message,
                code=exc.code,
                errors=exc.errors,
                extra={**exc.extra, "row": change.row},
            ) from exc
    return written


def competence_named(*, actor: Actor, name: str, create: bool = False) -> Competence:
    """The live competence of the framework with this name, whatever its case and spaces;
    with `create`, one is added when there is none (by whoever may add competences: a
    catalogue import naming a new one, the data migration of free-text needs). Otherwise
    a 422 on `competence` saying it is not in the framework."""
    wanted = " ".join(name.split())
    found = Competence.objects.filter(
        organisation_id=actor.organisation.pk, archived_at__isnull=True, name__iexact=wanted
    ).first()
    if found is not None:
        return found
    if not wanted:
        raise DomainError.field("competence", "Name the competence.")
    if not create:
        raise DomainError.field(
            "competence",
            f"“{wanted}” is not in the competence framework: add it there first.",
        )
    return competence_create(actor=actor, data={"name": wanted})


# ---------------------------------------------------------------- people


def _check_person_refs(actor: Actor, data: dict[str, Any], person: Person | None = None) -> None:
    check_same_org(actor, pmo=data.get("pmo"), customer_group=data.get("customer_group"))
    for field in ("pmo", "customer_group"):
        ref = data.get(field)
        # A link made while the row was live may stay; a new link must be to a live row.
        kept = person is not None and getattr(person, f"{field}_id") == getattr(ref, "pk", None)
        if ref is not None and ref.is_archived and not kept:
            raise DomainError.field(field, f"This {ref._meta.verbose_name} is archived.")
    user = data.get("user")
    if (
        user is not None
        and not Membership.objects.filter(
            organisation=actor.organisation, user=user, archived_at__isnull=True
        ).exists()
    ):
        raise DomainError.field("user", "This login is not a member of the organisation.")


@transaction.atomic
def person_create(
    *,
    actor: Actor,
    name: str,
    email: str,
    job_title: str = "",
    pmo: PMO | None = None,
    provider: str = "",
    customer_group: CustomerGroup | None = None,
    user: User | None = None,
) -> Person:
    """Add a person the PMO works with; a login is optional."""
    require(actor, ADD, Person)
    data: dict[str, Any] = {
        "name": name,
        "email": email.strip().lower(),
        "job_title": job_title,
        "pmo": pmo,
        "provider": provider,
        "customer_group": customer_group,
        "user": user,
    }
    _check_person_refs(actor, data)
    return create_object(actor, Person(**data))


@transaction.atomic
def person_update(*, actor: Actor, person: Person, data: dict[str, Any]) -> Person:
    require(actor, CHANGE, person)
    if "email" in data and isinstance(data["email"], str):
        data = {**data, "email": data["email"].strip().lower()}
    _check_person_refs(actor, data, person)
    return update_object(actor, person, data)


@transaction.atomic
def person_archive(*, actor: Actor, person: Person) -> Person:
    require(actor, ARCHIVE, person)
    return archive_object(actor, person)


@transaction.atomic
def person_restore(*, actor: Actor, person: Person) -> Person:
    """Restore a person; its login, if any, must still be a live member."""
    require(actor, ARCHIVE, person)
    _check_person_refs(actor, {"user": person.user})
    return restore_object(actor, person)


# ---------------------------------------------------------------- memberships


# Roles that only make sense alone. A customer is the other side of the service: any
# PMO-side role would lift what a customer is held to (the published catalogue only), so
# the Customer role is never combined. (The PMO-side roles combine freely: each adds
# rights; a Viewer's read-only access is already part of every other PMO-side role.)
ALONE = (OrgRole.CUSTOMER,)
# Roles an organisation always keeps on a live member: without them nobody could manage
# the members (Administrator) or decide for the PMO (Director).
KEPT = ((OrgRole.ADMIN, "administrator"), (OrgRole.DIRECTOR, "PMO Director"))


def _clean_roles(roles: Iterable[str]) -> list[str]:
    cleaned = sorted(set(roles))
    if not cleaned:
        raise DomainError.field("roles", "Give at least one role.")
    unknown = [r for r in cleaned if r not in OrgRole.values]
    if unknown:
        raise DomainError.field(
            "roles", f"Unknown role {unknown[0]!r}; use: {', '.join(OrgRole.values)}."
        )
    for role in ALONE:
        others = [OrgRole(r).label for r in cleaned if r != role]
        if role in cleaned and others:
            raise DomainError.field(
                "roles",
                f"{OrgRole(role).label} is a role of its own: it cannot be combined with "
                f"{' or '.join(others)}.",
            )
    return cleaned


def _ensure_kept_roles_remain(membership: Membership, new_roles: list[str] | None) -> None:
    """An organisation must always keep a live administrator and, once it has one, a live
    PMO Director: the last of either cannot step down or be archived (`new_roles` None)."""
    if membership.is_archived:
        return
    held = set(membership.role_list)
    losing = [
        (role, label)
        for role, label in KEPT
        if role in held and (new_roles is None or role not in new_roles)
    ]
    if not losing:
        return
    # Lock the organisation's rows of those roles: two members stepping down at the same
    # moment must not both see the other as the one who remains.
    holders = list(
        MembershipRole.objects.select_for_update(of=("self",))
        .filter(
            membership__organisation_id=membership.organisation_id,
            membership__archived_at__isnull=True,
            role__in=[role for role, _ in losing],
        )
        .values_list("membership_id", "role")
    )
    for role, label in losing:
        if not any(m != membership.pk and r == role for m, r in holders):
            raise DomainError.field("roles", f"The organisation must keep at least one {label}.")


def _set_roles(membership: Membership, roles: list[str]) -> None:
    membership.roles.exclude(role__in=roles).delete()
    have = set(membership.roles.values_list("role", flat=True))
    MembershipRole.objects.bulk_create(
        [MembershipRole(membership=membership, role=r) for r in roles if r not in have]
    )


def user_get_or_create(
    *,
    email: str,
    full_name: str = "",
    password: str | None = None,
    password_hash: str | None = None,
) -> User:
    """Find the login with this e-mail, or create one (with no usable password if none given).

    `password_hash` lets the demo loader hash its one shared password once, not per login.
    """
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise DomainError.field("email", "Enter a valid e-mail address.") from exc
    if len(full_name) > 150:
        raise DomainError.field("full_name", "Ensure this value has at most 150 characters.")
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        return user
    user = User(email=email, username=email, full_name=full_name)
    if password_hash:
        user.password = password_hash
    elif password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise DomainError(" ".join(exc.messages), errors={"password": exc.messages}) from exc
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password", "username"])
    user.save()
    return user


@transaction.atomic
def membership_create(
    *,
    actor: Actor,
    email: str,
    roles: Iterable[str],
    full_name: str = "",
    password: str | None = None,
) -> Membership:
    """Give a login (created if new) a place in the organisation with the given roles."""
    require(actor, ADD, Membership)
    role_list = _clean_roles(roles)
    user = user_get_or_create(email=email, full_name=full_name, password=password)
    existing = Membership.objects.filter(organisation=actor.organisation, user=user).first()
    if existing is not None:
        state = "an archived" if existing.is_archived else "a"
        raise DomainError.field("email", f"{user.email} is already {state} member.")
    membership = create_object(actor, Membership(user=user), extra={"roles": role_list})
    _set_roles(membership, role_list)
    return membership


@transaction.atomic
def membership_update(*, actor: Actor, membership: Membership, roles: Iterable[str]) -> Membership:
    """Change the organisation roles a member holds."""
    require(actor, CHANGE, membership)
    role_list = _clean_roles(roles)
    # Lock the membership before reading its roles, so two changes made at once queue and
    # each audit entry's "before" is the roles the previous one left (not a stale read).
    Membership.objects.select_for_update().filter(pk=membership.pk).values_list("pk").get()
    before = sorted(membership.roles.values_list("role", flat=True))
    _ensure_kept_roles_remain(membership, role_list)
    _set_roles(membership, role_list)
    update_object(
        actor, membership, {}, extra_before={"roles": before}, extra_after={"roles": role_list}
    )
    return membership


@transaction.atomic
def membership_archive(*, actor: Actor, membership: Membership) -> Membership:
    """Remove a member's access (kept in the history; can be restored)."""
    require(actor, ARCHIVE, membership)
    _ensure_kept_roles_remain(membership, None)
    return archive_object(actor, membership)


@transaction.atomic
def membership_restore(*, actor: Actor, membership: Membership) -> Membership:
    require(actor, ARCHIVE, membership)
    return restore_object(actor, membership)


# ---------------------------------------------------------------- API tokens


def hash_token(raw: str) -> str:
    # Tokens carry 256 bits of randomness, so a plain SHA-256 is safe and fast to look up.
    return hashlib.sha256(raw.encode()).hexdigest()


TOKEN_STAMP = timedelta(hours=1)


def token_touch(*, token_id: int, last_used_at: datetime | None) -> None:
    """Stamp a token's last use, coarsely: a write per request would cost more than it
    tells (bookkeeping, not audited)."""
    now = timezone.now()
    if last_used_at is None or now - last_used_at > TOKEN_STAMP:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)


@transaction.atomic
def token_create(
    *, user: User, name: str, organisation: Organisation | None = None
) -> tuple[ApiToken, str]:
    """Create a personal API token; the raw value is returned once and never stored."""
    name = name.strip()
    if not name:
        raise DomainError.field("name", "Give the token a name.")
    if len(name) > 100:
        raise DomainError.field("name", "Ensure this value has at most 100 characters.")
    if (
        organisation is not None
        and not Membership.objects.filter(
            user=user, organisation=organisation, archived_at__isnull=True
        ).exists()
    ):
        raise DomainError.field("organisation", "You are not a member of this organisation.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        organisation=organisation,
        name=name,
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        key_hash=hash_token(raw),
    )
    return token, raw


@transaction.atomic
def token_revoke(*, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens; it stops working at once."""
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        raise not_found("token")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


# ---------------------------------------------------------------- logins


def password_set(*, user: User, password: str) -> User:
    """Give a login a new password (its own change, or a reset from the e-mailed link),
    checked against the password rules. Not audited: nothing about it is for others."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), errors={"password": exc.messages}) from exc
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def login_set_active(*, email: str, active: bool) -> tuple[User, bool]:
    """Let a login in again, or keep it out: an inactive login can neither log in (nor stay
    logged in) nor use its API tokens, in every organisation. A login spans organisations,
    so this is the installation operator's (the CLI's); each organisation the login is a
    member of records it on the membership. Returns the login and whether it changed."""
    user = User.objects.select_for_update().filter(email__iexact=email.strip()).first()
    if user is None:
        raise DomainError(f"No login with e-mail {email.strip()}.", code=NOT_FOUND)
    if user.is_active == active:
        return user, False
    user.is_active = active
    user.save(update_fields=["is_active"])
    states = {True: "active", False: "deactivated"}
    change = {"login": {"before": states[not active], "after": states[active]}}
    for membership in Membership.objects.filter(user=user).select_related("organisation"):
        audit.record(
            actor=Actor.for_system(membership.organisation),
            obj=membership,
            action=AuditAction.UPDATE,
            changes=change,
        )
    return user, True
