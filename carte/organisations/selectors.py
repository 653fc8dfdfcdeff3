"""Reads of the organisations app. Every one takes the actor, and so the organisation."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from django.db import connection
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from carte.core import rawsql
from carte.core.errors import DomainError, not_found
from carte.core.listing import ListFilter, get_for
from carte.core.models import AuditEntry, TenantModel
from carte.core.permissions import VIEW, can
from carte.organisations.actor import Actor
from carte.organisations.filters import (
    AuditFilter,
    CompetenceFilter,
    CustomerGroupFilter,
    MembershipFilter,
    PersonFilter,
    PMOFilter,
)
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

T = TypeVar("T", bound=TenantModel)


def actor_for(user: User | Any, org_slug: str) -> Actor:
    """The acting user inside the organisation named by the URL, or 404 if not a member.

    One query: the login's live memberships in every organisation, with their roles. The
    one named gives the actor; all of them are the organisation switcher's list, kept on
    the actor (`switcher_organisations`). An organisation the user does not belong to is
    indistinguishable from one that does not exist.
    """
    if user is None or not user.is_authenticated:
        raise not_found("organisation")
    rows = rawsql.fetch(_memberships_sql(), [user.pk])
    fields = _loaded(Organisation, _ORG_WANTED)
    organisations: dict[int, Organisation] = {}
    roles: set[str] = set()
    for *values, role in rows:
        org = organisations.get(values[0])
        if org is None:
            org = organisations[values[0]] = Organisation.from_db(connection.alias, fields, values)
        if org.slug == org_slug and role is not None:
            roles.add(role)
    if not roles:
        raise not_found("organisation")
    here = next(o for o in organisations.values() if o.slug == org_slug)
    actor = Actor(user=user, organisation=here, roles=frozenset(roles))
    actor.cache[SWITCHER] = list(organisations.values())
    return actor


SWITCHER = "organisations"  # the actor's cache entry of the login's organisations


def switcher_organisations(user: User, actor: Actor | None) -> list[Organisation]:
    """The organisations a login may switch between: those loaded with the actor on a page
    of an organisation, otherwise one query."""
    if actor is not None and SWITCHER in actor.cache:
        loaded: list[Organisation] = actor.cache[SWITCHER]
        return loaded
    return list(organisations_for(user))


@functools.cache
def _memberships_sql() -> str:
    """The SQL of `actor_for`: a login's live memberships, their organisations (by name)
    and roles (a membership without roles gives one row with none)."""
    col = rawsql.column
    org = ", ".join(f"o.{col(Organisation, name)}" for name in _loaded(Organisation, _ORG_WANTED))
    return (
        f"SELECT {org}, r.{col(MembershipRole, 'role')} "  # noqa: S608 - names from metadata
        f"FROM {rawsql.table(Membership)} m "
        f"JOIN {rawsql.table(Organisation)} o ON o.{col(Organisation, 'id')} = "
        f"m.{col(Membership, 'organisation')} "
        f"LEFT JOIN {rawsql.table(MembershipRole)} r ON r.{col(MembershipRole, 'membership')} = "
        f"m.{col(Membership, 'id')} "
        f"WHERE m.{col(Membership, 'user')} = %s AND m.{col(Membership, 'archived_at')} IS NULL "
        f"ORDER BY o.{col(Organisation, 'name')}, o.{col(Organisation, 'id')}"
    )


# Columns the acting user and organisation are loaded with; the rest load on first use.
_USER_WANTED = {"id", "email", "username", "full_name", "is_active"}
_ORG_WANTED = {"id", "name", "slug"}


def _loaded(model: type[Any], wanted: set[str]) -> list[str]:
    """The wanted fields in the model's own order, which `Model.from_db` expects."""
    return [f.attname for f in model._meta.concrete_fields if f.attname in wanted]


@functools.cache
def _token_actor_sql() -> str:
    """The SQL of `actor_for_token`, built once from the models' metadata.

    The lookup runs on every API request. Compiling it through the ORM costs more CPU
    than running it (four joins), so the statement is made once and reused.
    """
    q, table = connection.ops.quote_name, rawsql.table

    def columns(model: type[Any], wanted: set[str]) -> list[str]:
        return [rawsql.column(model, n) for n in _loaded(model, wanted)]

    select = ", ".join(
        [f"mr.{q('role')}", f"t.{q('id')}", f"t.{q('last_used_at')}"]
        + [f"u.{c}" for c in columns(User, _USER_WANTED)]
        + [f"o.{c}" for c in columns(Organisation, _ORG_WANTED)]
    )
    # Names come from model metadata, values are parameters: nothing user-supplied is joined in.
    return (
        f"SELECT {select} FROM {table(MembershipRole)} mr "  # noqa: S608
        f"JOIN {table(Membership)} m ON m.{q('id')} = mr.{q('membership_id')} "
        f"JOIN {table(Organisation)} o ON o.{q('id')} = m.{q('organisation_id')} "
        f"JOIN {table(User)} u ON u.{q('id')} = m.{q('user_id')} "
        f"JOIN {table(ApiToken)} t ON t.{q('user_id')} = u.{q('id')} "
        f"WHERE t.{q('key_hash')} = %s AND t.{q('revoked_at')} IS NULL "
        f"AND (t.{q('organisation_id')} IS NULL OR t.{q('organisation_id')} = o.{q('id')}) "
        f"AND o.{q('slug')} = %s AND m.{q('archived_at')} IS NULL AND u.{q('is_active')} = %s"
    )


def actor_for_token(key_hash: str, org_slug: str) -> tuple[Actor, int, datetime | None] | None:
    """The API caller as an actor in one query: token, login, membership and roles.

    None when the token is unknown, revoked, limited to another organisation, or its login
    is not a member here; the caller then tells those cases apart the slow way.
    """
    rows = rawsql.fetch(_token_actor_sql(), [key_hash, org_slug, True])
    if not rows:
        return None
    first = rows[0]
    user_fields, org_fields = _loaded(User, _USER_WANTED), _loaded(Organisation, _ORG_WANTED)
    n = len(user_fields)
    user = User.from_db(connection.alias, user_fields, list(first[3 : 3 + n]))
    org = Organisation.from_db(connection.alias, org_fields, list(first[3 + n :]))
    last_used = first[2]
    if isinstance(last_used, str):  # a raw SQLite cursor may hand back text
        last_used = datetime.fromisoformat(last_used)
    if last_used is not None and timezone.is_naive(last_used):
        last_used = timezone.make_aware(last_used, UTC)
    actor = Actor(user=user, organisation=org, roles=frozenset(r[0] for r in rows))
    return actor, first[1], last_used


def organisations_for(user: User) -> QuerySet[Organisation]:
    """The organisations a login belongs to, for the switcher."""
    return Organisation.objects.filter(
        pk__in=memberships_of_user(user).values("organisation_id")
    ).order_by("name")


def memberships_of_user(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user, archived_at__isnull=True)


def _visible(actor: Actor, model: type[TenantModel]) -> QuerySet[Any]:
    if not can(actor, VIEW, model):
        raise DomainError("You are not allowed to see this list.", code="forbidden")
    return model._default_manager.filter(organisation_id=actor.organisation.pk)


# ---------------------------------------------------------------- lists


def _with_people_count(qs: QuerySet[T]) -> QuerySet[T]:
    """Annotate PMOs or customer groups with their number of live people.

    A correlated subquery rather than a join with GROUP BY: `count()` (pagination, the
    home page) then drops it and counts the rows alone.
    """
    link = "pmo" if qs.model is PMO else "customer_group"
    people = (
        Person.objects.filter(**{link: OuterRef("pk")}, archived_at__isnull=True)
        .order_by()
        .values(link)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return cast(QuerySet[T], qs.annotate(people_count=Coalesce(Subquery(people), 0)))


def pmo_list(*, actor: Actor, filters: ListFilter | None = None) -> QuerySet[PMO]:
    qs = _with_people_count(_visible(actor, PMO).select_related("parent"))
    return (filters or PMOFilter.model_validate({})).apply(qs)


def person_list(*, actor: Actor, filters: ListFilter | None = None) -> QuerySet[Person]:
    qs = _visible(actor, Person).select_related("pmo", "customer_group", "user")
    return (filters or PersonFilter.model_validate({})).apply(qs)


def customer_group_list(
    *, actor: Actor, filters: ListFilter | None = None
) -> QuerySet[CustomerGroup]:
    qs = _with_people_count(_visible(actor, CustomerGroup))
    return (filters or CustomerGroupFilter.model_validate({})).apply(qs)


def membership_list(*, actor: Actor, filters: ListFilter | None = None) -> QuerySet[Membership]:
    qs = _visible(actor, Membership).select_related("user").prefetch_related("roles")
    return (filters or MembershipFilter.model_validate({})).apply(qs)


# ---------------------------------------------------------------- single objects


def pmo_get(*, actor: Actor, pk: int | str, action: str = VIEW) -> PMO:
    qs = _with_people_count(PMO.objects.select_related("parent"))
    return get_for(actor, qs, pk, action=action)


def person_get(*, actor: Actor, pk: int | str, action: str = VIEW) -> Person:
    return get_for(
        actor, Person.objects.select_related("pmo", "customer_group", "user"), pk, action=action
    )


def customer_group_get(*, actor: Actor, pk: int | str, action: str = VIEW) -> CustomerGroup:
    qs = _with_people_count(CustomerGroup.objects.all())
    return get_for(actor, qs, pk, action=action)


def membership_get(*, actor: Actor, pk: int | str, action: str = VIEW) -> Membership:
    return get_for(
        actor,
        Membership.objects.select_related("user").prefetch_related("roles"),
        pk,
        action=action,
    )


def pmo_choices(*, actor: Actor) -> QuerySet[PMO]:
    """The organisation's live PMOs by name: the choices of every field naming PMOs."""
    return PMO.objects.filter(organisation=actor.organisation, archived_at__isnull=True).order_by(
        "name", "id"
    )


def customer_group_choices(*, actor: Actor) -> QuerySet[CustomerGroup]:
    """The organisation's live customer groups by name."""
    return CustomerGroup.objects.filter(
        organisation=actor.organisation, archived_at__isnull=True
    ).order_by("name", "id")


def person_choices(*, actor: Actor) -> QuerySet[Person]:
    """The organisation's live people by name: the choices of every field naming people."""
    return Person.objects.filter(
        organisation=actor.organisation, archived_at__isnull=True
    ).order_by("name", "id")


def member_user_choices(*, actor: Actor) -> QuerySet[User]:
    return User.objects.filter(
        memberships__organisation=actor.organisation, memberships__archived_at__isnull=True
    ).order_by("email")


# ---------------------------------------------------------------- competence framework


def competence_list(*, actor: Actor, filters: ListFilter | None = None) -> QuerySet[Competence]:
    """The organisation's competence framework, by group then name (the staff's side)."""
    return (filters or CompetenceFilter.model_validate({})).apply(_visible(actor, Competence))


def competence_get(*, actor: Actor, pk: int | str, action: str = VIEW) -> Competence:
    return get_for(actor, Competence.objects.all(), pk, action=action)


def competence_choices(actor: Actor) -> QuerySet[Competence]:
    """The live competences by group then name: the choices of every field naming one
    (a service's needs, an assessment, an allocation). The actor by position or keyword."""
    return Competence.objects.filter(
        organisation_id=actor.organisation.pk, archived_at__isnull=True
    ).order_by("group", "name", "id")


def competence_groups(*, actor: Actor) -> list[str]:
    """The groups the framework's live competences belong to, by name (one query)."""
    groups = (
        Competence.objects.filter(organisation_id=actor.organisation.pk, archived_at__isnull=True)
        .exclude(group="")
        .order_by("group")
        .values_list("group", flat=True)
        .distinct()
    )
    return list(groups)


# ---------------------------------------------------------------- audit trail


def audit_list(*, actor: Actor, filters: ListFilter | None = None) -> QuerySet[AuditEntry]:
    """The organisation's activity page."""
    if not can(actor, VIEW, AuditEntry):
        raise DomainError("You are not allowed to see the activity log.", code="forbidden")
    qs = AuditEntry.objects.filter(organisation_id=actor.organisation.pk).select_related(
        "content_type"
    )
    return (filters or AuditFilter.model_validate({})).apply(qs)


def tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).select_related("organisation")
