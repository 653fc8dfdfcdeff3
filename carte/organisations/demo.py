"""The demo organisations: `northwind` (a manufacturing group) and `riverside` (a hospital
trust), with a login for every organisation role. Everything is written through the
services, as the system, so the demo has an audit trail like real data.

This is the first step of the demo: `carte/demo.py` (project level) loads the apps above
onto these organisations, each with its own demo loader, in stack order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError

from carte.organisations import services
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole, PMOKind
from carte.organisations.models import PMO, Organisation, User

DEMO_PASSWORD = "carte-demo"
DEMO_SLUGS = ("northwind", "riverside")
CONSULTANT = "consultant@provider.example"

# Logins of each organisation: e-mail local part -> (roles, full name, job title, PMO key).
NORTHWIND_LOGINS: dict[str, tuple[list[str], str, str, str | None]] = {
    "admin": ([OrgRole.ADMIN], "Alex Morgan", "Systems Administrator", None),
    "director": ([OrgRole.DIRECTOR], "Priya Raman", "Director, Enterprise PMO", "epmo"),
    "pmo_manager": ([OrgRole.PMO_MANAGER], "Tomasz Nowak", "Head of Manufacturing PMO", "mfg"),
    "staff": ([OrgRole.STAFF], "Grace Liu", "PMO Analyst", "epmo"),
    "owner": ([OrgRole.STAFF], "Hannah Okafor", "Portfolio Lead", "epmo"),
    "manager": ([OrgRole.STAFF], "Daniel Brooks", "PMO Services Manager", "mfg"),
    "operative": ([OrgRole.STAFF], "Sofia Marin", "Project Support Officer", "it"),
    "customer": ([OrgRole.CUSTOMER], "Martin Keller", "Head of Plant Engineering", None),
    "viewer": ([OrgRole.VIEWER], "Ruth Adeyemi", "Internal Auditor", None),
}
RIVERSIDE_LOGINS: dict[str, tuple[list[str], str, str, str | None]] = {
    "admin": ([OrgRole.ADMIN], "Sam Whitfield", "Digital Services Administrator", None),
    "director": ([OrgRole.DIRECTOR], "Dr Helen Carter", "Director of Transformation", "tpmo"),
    "pmo_manager": ([OrgRole.PMO_MANAGER], "Imran Shah", "Transformation PMO Manager", "tpmo"),
    "staff": ([OrgRole.STAFF], "Chloe Evans", "Programme Support Officer", "tpmo"),
    "customer": ([OrgRole.CUSTOMER], "Mark Dunn", "Estates Programme Manager", None),
    "viewer": ([OrgRole.VIEWER], "Jane Frost", "Governance Auditor", None),
}

# People without logins: name, title, PMO key, customer group, provider.
NORTHWIND_PEOPLE = [
    ("Oliver Grant", "Portfolio Analyst", "epmo", None, ""),
    ("Amara Singh", "Benefits Manager", "epmo", None, ""),
    ("Lucas Petit", "Planning & Scheduling Lead", "mfg", None, ""),
    ("Nadia Haddad", "Project Controller", "mfg", None, ""),
    ("Ben Carter", "Cost Engineer", "mfg", None, ""),
    ("Yuki Tanaka", "Digital PMO Lead", "it", None, ""),
    ("Ethan Walsh", "Tooling Administrator", "it", None, ""),
    ("Maria Rossi", "Methods Lead", "coe", None, ""),
    ("Kwame Mensah", "PM Coach", "coe", None, ""),
    ("Elena Popescu", "Training Coordinator", "coe", None, ""),
    ("Chris Doyle", "Risk Analyst", None, None, "Meridian Project Services"),
    ("Fatima Zahra", "Scheduling Consultant", None, None, "Meridian Project Services"),
    ("Joanna Kowalska", "Finance Business Partner", None, "Finance", ""),
    ("Peter Lang", "HR Business Partner", None, "HR", ""),
    ("Rachel Green", "Category Manager", None, "Procurement", ""),
    ("Samuel Osei", "Plant Operations Manager", None, "Operations", ""),
    ("Irene Novak", "IT Service Owner", None, "IT", ""),
]
RIVERSIDE_PEOPLE = [
    ("Tom Bradley", "Project Manager, Estates", "tpmo", None, ""),
    ("Aisha Bello", "Clinical Change Lead", None, "Clinical Services", ""),
    ("George Hill", "Finance Manager", None, "Finance", ""),
]


@dataclass
class _Org:
    slug: str
    name: str
    pmos: list[tuple[str, str, PMOKind, str | None, str]]  # key, name, kind, parent key, desc
    groups: list[tuple[str, str]]
    logins: dict[str, tuple[list[str], str, str, str | None]]
    people: list[tuple[str, str, str | None, str | None, str]]
    customers_group: str  # the customer group of the demo customer login


DEMO = [
    _Org(
        slug="northwind",
        name="Northwind Manufacturing Group",
        pmos=[
            (
                "epmo",
                "Enterprise PMO",
                PMOKind.ENTERPRISE,
                None,
                "Group-wide portfolio governance, reporting and the service strategy.",
            ),
            (
                "mfg",
                "Manufacturing Operations PMO",
                PMOKind.DEPARTMENTAL,
                "epmo",
                "Supports plant, supply-chain and capital projects.",
            ),
            (
                "it",
                "Digital & IT PMO",
                PMOKind.DEPARTMENTAL,
                "epmo",
                "Supports the digital portfolio and IT delivery teams.",
            ),
            (
                "coe",
                "Project Management Centre of Excellence",
                PMOKind.CENTRE_OF_EXCELLENCE,
                "epmo",
                "Keeps the standard methods, templates, tools and training.",
            ),
        ],
        groups=[
            ("Finance", "Group finance, controllers and business partners."),
            ("HR", "People, talent and learning."),
            ("Procurement", "Sourcing, category management and supplier contracts."),
            ("Operations", "Plants, logistics and maintenance."),
            ("IT", "Infrastructure, applications and service management."),
        ],
        logins=NORTHWIND_LOGINS,
        people=NORTHWIND_PEOPLE,
        customers_group="Operations",
    ),
    _Org(
        slug="riverside",
        name="Riverside Health Trust",
        pmos=[
            (
                "tpmo",
                "Transformation PMO",
                PMOKind.ENTERPRISE,
                None,
                "Runs the trust's transformation portfolio and its governance.",
            ),
        ],
        groups=[
            ("Clinical Services", "Wards, theatres and outpatient services."),
            ("Nursing", "Nursing leadership and workforce."),
            ("Estates & Facilities", "Buildings, maintenance and capital works."),
            ("Finance", "Financial planning and management accounts."),
            ("Digital Services", "Clinical and corporate systems."),
        ],
        logins=RIVERSIDE_LOGINS,
        people=RIVERSIDE_PEOPLE,
        customers_group="Estates & Facilities",
    ),
]


def demo_logins() -> list[str]:
    emails = [f"{local}@{org.slug}.example" for org in DEMO for local in org.logins]
    return [*emails, CONSULTANT]


def _login(email: str, full_name: str, password_hash: str) -> User:
    return services.user_get_or_create(
        email=email, full_name=full_name, password_hash=password_hash
    )


def _load_org(spec: _Org, password_hash: str) -> tuple[Organisation, Actor]:
    org = services.organisation_create(name=spec.name, slug=spec.slug)
    actor = Actor.for_system(org)
    pmos: dict[str, PMO] = {}
    for key, name, kind, parent, desc in spec.pmos:
        pmos[key] = services.pmo_create(
            actor=actor, name=name, kind=kind, parent=pmos.get(parent or ""), description=desc
        )
    groups = {
        name: services.customer_group_create(actor=actor, name=name, description=desc)
        for name, desc in spec.groups
    }
    for local, (roles, full_name, title, pmo_key) in spec.logins.items():
        email = f"{local}@{spec.slug}.example"
        _login(email, full_name, password_hash)
        services.membership_create(actor=actor, email=email, roles=roles, full_name=full_name)
        user = User.objects.get(email=email)
        group = groups[spec.customers_group] if local == "customer" else None
        services.person_create(
            actor=actor,
            name=full_name,
            email=email,
            job_title=title,
            pmo=pmos.get(pmo_key or ""),
            customer_group=group,
            user=user,
        )
    for name, title, pmo_key, group_name, provider in spec.people:
        local = name.lower().replace(" ", ".").replace("dr.", "")
        domain = "meridian.example" if provider else f"{spec.slug}.example"
        services.person_create(
            actor=actor,
            name=name,
            email=f"{local}@{domain}",
            job_title=title,
            pmo=pmos.get(pmo_key or ""),
            customer_group=groups.get(group_name or ""),
            provider=provider,
        )
    _load_framework(actor)
    return org, actor


FRAMEWORK = Path(__file__).parent / "demo_data" / "framework.yaml"


def _load_framework(actor: Actor) -> None:
    """The competence framework the catalogue's needs and people's assessments name,
    through the framework's own importer."""
    from carte.organisations.framework import import_framework

    with FRAMEWORK.open("rb") as source:
        report = import_framework(actor=actor, source=source, name=FRAMEWORK.name)
    assert not report.problems, report.problems


def purge_organisation(org: Organisation) -> None:
    """Remove an organisation and every row that belongs to it (demo reset only)."""
    owned = [
        m
        for m in apps.get_models()
        if any(f.name == "organisation" and f.is_relation for f in m._meta.get_fields())
        and m is not Organisation
    ]
    for model in owned:  # self-references would otherwise protect each other
        for f in model._meta.get_fields():
            if isinstance(f, models.ForeignKey) and f.related_model is model and f.null:
                model._default_manager.filter(organisation=org).update(**{f.name: None})
    pending = list(owned)
    while pending:
        progressed = False
        for model in list(pending):
            try:
                with transaction.atomic():
                    model._default_manager.filter(organisation=org).delete()
            except (ProtectedError, IntegrityError):
                continue
            pending.remove(model)
            progressed = True
        if not progressed:
            raise RuntimeError(f"Cannot purge {org.slug}: {[m.__name__ for m in pending]}")
    org.delete()


def purge_demo() -> None:
    """Remove the demo organisations with everything they hold, and the demo's own logins
    left without any organisation (a login that belongs elsewhere too is kept)."""
    for org in Organisation.objects.filter(slug__in=DEMO_SLUGS):
        purge_organisation(org)
    User.objects.filter(email__in=demo_logins(), memberships__isnull=True).delete()


@transaction.atomic
def load_organisations_demo(*, reset: bool = False) -> list[Organisation]:
    """Create the demo organisations, their PMOs, people, groups and logins; the
    organisations made, none when they are already there (and no reset)."""
    if Organisation.objects.filter(slug__in=DEMO_SLUGS).exists():
        if not reset:
            return []
        purge_demo()
    password_hash = make_password(DEMO_PASSWORD)
    made = [_load_org(spec, password_hash) for spec in DEMO]
    _login(CONSULTANT, "Jordan Reyes", password_hash)
    for _org, actor in made:
        services.membership_create(
            actor=actor, email=CONSULTANT, roles=[OrgRole.PMO_MANAGER], full_name="Jordan Reyes"
        )
    return [org for org, _actor in made]
