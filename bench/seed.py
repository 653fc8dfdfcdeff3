"""Bench data: organisations `bench-000`, `bench-001`, ... with PMOs, customer groups,
people and members, written through the domain services as the system like real data.

The bench login `bench@bench.example` is an administrator of every bench organisation.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction

from carte.organisations import services
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole, PMOKind
from carte.organisations.demo import purge_organisation
from carte.organisations.models import PMO, CustomerGroup, Organisation, Person, User

SLUG_PREFIX = "bench-"
BENCH_DOMAIN = "bench.example"
BENCH_EMAIL = f"bench@{BENCH_DOMAIN}"
BENCH_PASSWORD = "carte-bench"  # lets a developer log in and look at the bench data

FIRST_NAMES = ("Ada", "Ben", "Chloe", "Dev", "Elif", "Femi", "Greta", "Hugo", "Ines", "Jun")
LAST_NAMES = ("Adams", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Gupta", "Haddad", "Ito")
MEMBER_ROLES = (OrgRole.DIRECTOR, OrgRole.PMO_MANAGER, OrgRole.STAFF, OrgRole.VIEWER)


@dataclass(frozen=True)
class Scale:
    """How much to seed: a number of organisations, and what each one holds."""

    organisations: int
    pmos: int
    people: int
    customer_groups: int
    members: int  # besides the bench login


SCALES = {
    # Per-organisation lists differ clearly between small and large: 10 vs 100 people is
    # one page against four, so a per-row query would show up as a different count.
    "tiny": Scale(organisations=1, pmos=2, people=5, customer_groups=1, members=1),
    "small": Scale(organisations=2, pmos=2, people=10, customer_groups=2, members=2),
    "large": Scale(organisations=20, pmos=10, people=100, customer_groups=10, members=5),
}


def bench_organisations() -> list[Organisation]:
    """The bench organisations present in the database, in slug order."""
    # Exactly the slugs seed() makes, so a real organisation called "bench-press" is safe.
    pattern = rf"^{SLUG_PREFIX}[0-9]{{3}}$"
    return list(Organisation.objects.filter(slug__regex=pattern).order_by("slug"))


def purge_slug(slug: str) -> None:
    """Remove the organisation with this slug, if there is one (a benchmark's own)."""
    org = Organisation.objects.filter(slug=slug).first()
    if org is not None:
        with transaction.atomic():
            purge_organisation(org)


def purge() -> None:
    """Remove every bench organisation and the bench logins."""
    for org in bench_organisations():
        with transaction.atomic():
            purge_organisation(org)
    # Logins belong to no organisation, so purge_organisation leaves them behind.
    User.objects.filter(email__endswith=f"@{BENCH_DOMAIN}", memberships__isnull=True).delete()


def seed(scale: Scale) -> list[Organisation]:
    """Replace any earlier bench data with a fresh set of the given scale."""
    purge()
    password_hash = make_password(BENCH_PASSWORD)  # once: hashing is slow on purpose
    bench_user = services.user_get_or_create(
        email=BENCH_EMAIL, full_name="Bench Runner", password_hash=password_hash
    )
    orgs = []
    for index in range(scale.organisations):
        # One transaction per organisation: far fewer commits, and no half-seeded org.
        with transaction.atomic():
            orgs.append(_seed_org(index, scale, bench_user, password_hash))
    return orgs


def _seed_org(index: int, scale: Scale, bench_user: User, password_hash: str) -> Organisation:
    """One bench organisation with its PMO tree, groups, members and people."""
    slug = f"{SLUG_PREFIX}{index:03d}"
    org = services.organisation_create(name=f"Bench Organisation {index:03d}", slug=slug)
    actor = Actor.for_system(org)
    logins = [bench_user]
    services.membership_create(actor=actor, email=bench_user.email, roles=[OrgRole.ADMIN])
    for m in range(scale.members):
        email = f"member-{index:03d}-{m:02d}@{BENCH_DOMAIN}"
        name = f"{FIRST_NAMES[m % len(FIRST_NAMES)]} Member {m:02d}"
        logins.append(
            services.user_get_or_create(email=email, full_name=name, password_hash=password_hash)
        )
        services.membership_create(
            actor=actor, email=email, roles=[MEMBER_ROLES[m % len(MEMBER_ROLES)]], full_name=name
        )
    pmos: list[PMO] = []
    for p in range(scale.pmos):
        # The first PMO is the enterprise PMO; the others sit under it, so lists show a parent.
        pmos.append(
            services.pmo_create(
                actor=actor,
                name=f"PMO {p:03d}" if p else "Enterprise PMO",
                kind=PMOKind.DEPARTMENTAL if p else PMOKind.ENTERPRISE,
                parent=pmos[0] if pmos else None,
                description=f"Bench PMO {p} of {slug}.",
            )
        )
    groups: list[CustomerGroup] = [
        services.customer_group_create(
            actor=actor, name=f"Customer group {g:03d}", description=f"Business unit {g}."
        )
        for g in range(scale.customer_groups)
    ]
    for i in range(scale.people):
        _seed_person(actor, slug, i, pmos, groups, logins[i] if i < len(logins) else None)
    return org


def _seed_person(
    actor: Actor,
    slug: str,
    i: int,
    pmos: list[PMO],
    groups: list[CustomerGroup],
    user: User | None,
) -> Person:
    """The i-th person: most work in a PMO, some in a customer group, a few for a provider."""
    first = FIRST_NAMES[i % len(FIRST_NAMES)]
    last = LAST_NAMES[(i // len(FIRST_NAMES)) % len(LAST_NAMES)]
    in_group = i % 4 == 3 and bool(groups)
    return services.person_create(
        actor=actor,
        name=user.full_name if user else f"{first} {last}",
        email=user.email if user else f"{first}.{last}.{i:04d}@{slug}.example".lower(),
        job_title="Project Analyst" if i % 2 else "Project Manager",
        pmo=None if in_group or not pmos else pmos[i % len(pmos)],
        customer_group=groups[i % len(groups)] if in_group else None,
        provider="Meridian Project Services" if i % 7 == 6 else "",
        user=user,
    )
