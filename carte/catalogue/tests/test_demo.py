"""The demo catalogues: complete cards, real dependencies without cycles, roles for the demo
logins, two organisations kept apart, and customers seeing only the published catalogue.

The demo is loaded once for the module (committed, then purged at the end), since loading
it takes a few seconds; each test still runs in its own rolled-back transaction.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import models

from carte.catalogue import selectors
from carte.catalogue.choices import ServiceRoleKind, Stage
from carte.catalogue.models import Artefact, Service, ServiceArtefact, ServiceInput, ServiceRole
from carte.core.models import TenantModel
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole
from carte.organisations.models import Organisation, User

pytestmark = pytest.mark.django_db


def _services(org: Organisation) -> models.QuerySet[Service]:
    return Service.objects.filter(organisation=org, archived_at__isnull=True)


def test_northwind_has_a_full_catalogue_in_several_stages(
    demo: dict[str, Organisation],
) -> None:
    northwind = demo["northwind"]
    services = list(_services(northwind).select_related("category"))

    assert len(services) >= 25
    assert len({s.category_id for s in services}) >= 6
    stages = {s.stage for s in services}
    assert Stage.RUNNING in stages and len(stages) >= 3
    # Temporary supporting services (lifecycle demo) have lighter cards.
    running = [s for s in services if s.stage == Stage.RUNNING and not s.is_temporary]
    assert len(running) >= 20
    for s in running:
        assert s.is_published, s.code
        assert s.summary and s.description and s.outcome and s.rationale, s.code
        assert s.roles.filter(role=ServiceRoleKind.OWNER).exists(), s.code
        assert s.levels.count() >= 2, s.code
        assert s.inputs.filter(is_trigger=True).exists(), s.code
        assert 3 <= s.steps.count() <= 6, s.code
        assert s.outputs.exists() and s.customers.exists() and s.suppliers.exists(), s.code
        assert s.symptom_links.exists(), s.code
        assert s.competences.exists() and s.governance.exists(), s.code
    # A service is published when it goes live; one that never went live is not.
    went_live = {Stage.RUNNING, Stage.CLOSING, Stage.CLOSED}
    assert all(s.is_published == (s.stage in went_live) for s in services), [
        (s.code, s.stage) for s in services if s.is_published != (s.stage in went_live)
    ]
    # Some services were changed and published again, so versions can be compared.
    assert any(s.current_version is not None and s.current_version.number == 2 for s in running)
    # Shared templates of the Centre of Excellence are reused by several services.
    shared = Artefact.objects.filter(organisation=northwind, owner_pmo__isnull=False)
    assert shared.count() >= 3
    assert all(a.url.startswith("https://") for a in shared)
    used = ServiceArtefact.objects.filter(artefact__in=shared).values("service").distinct()
    assert used.count() >= 5
    assert Artefact.objects.filter(organisation=northwind, owner_service__isnull=False).exists()
    assert _services(northwind).filter(delivery_mode__in=["outsourced", "hybrid"]).count() >= 2


def test_northwind_services_depend_on_each_other_without_cycles(
    demo: dict[str, Organisation],
) -> None:
    northwind = demo["northwind"]
    links = ServiceInput.objects.filter(
        organisation=northwind, source_output__isnull=False
    ).exclude(source_output__service=models.F("service"))
    assert links.count() >= 20

    graph = selectors.dependency_graph(actor=Actor.for_system(northwind))
    assert graph["cycles"] == []
    assert len(graph["edges"]) >= 20
    assert max(n["layer"] for n in graph["nodes"]) >= 3
    # The status pack feeds the stage gates; schedule planning feeds the status pack.
    pairs = {(e["source"], e["target"]) for e in graph["edges"]}
    code = {n["id"]: n["code"] for n in graph["nodes"]}
    named = {(code[s], code[t]) for s, t in pairs}
    assert {("REP-01", "GOV-02"), ("PLN-01", "REP-01"), ("RES-01", "POR-02")} <= named


def test_the_demo_logins_hold_service_roles(demo: dict[str, Organisation]) -> None:
    northwind = demo["northwind"]

    def roles(email: str, role: str) -> models.QuerySet[ServiceRole]:
        return ServiceRole.objects.filter(
            organisation=northwind, person__user__email=email, role=role
        ).select_related("pmo", "service")

    assert roles("owner@northwind.example", ServiceRoleKind.OWNER).count() >= 3
    assert roles("operative@northwind.example", ServiceRoleKind.OPERATIVE).count() >= 3
    managed = list(roles("manager@northwind.example", ServiceRoleKind.MANAGER))
    assert len(managed) >= 3
    for r in managed:
        assert r.pmo is not None and r.pmo.name == "Manufacturing Operations PMO"
        assert r.service.delivering_pmos.filter(pk=r.pmo.pk).exists(), r.service.code
    # Every delivering PMO of every service has its Service Manager.
    for s in _services(northwind).prefetch_related("delivering_pmos", "roles"):
        managed_pmos = {r.pmo_id for r in s.roles.all() if r.role == ServiceRoleKind.MANAGER}
        assert managed_pmos == {p.pk for p in s.delivering_pmos.all()}, s.code


def test_riverside_has_its_own_catalogue_sharing_nothing_with_northwind(
    demo: dict[str, Organisation],
) -> None:
    riverside = demo["riverside"]
    assert 6 <= _services(riverside).count() <= 8
    assert ServiceRole.objects.filter(organisation=riverside, person__name="Dr Helen Carter")
    assert ServiceInput.objects.filter(organisation=riverside, source_output__isnull=False)

    # Every reference of every catalogue row stays inside its own organisation.
    for org in demo.values():
        others = Organisation.objects.exclude(pk=org.pk)
        for model in apps.get_app_config("catalogue").get_models():
            for f in model._meta.get_fields():
                target = f.related_model if f.is_relation and f.concrete else None
                if not (isinstance(target, type) and issubclass(target, TenantModel)):
                    continue
                leaks = model._default_manager.filter(
                    organisation=org, **{f"{f.name}__organisation__in": others}
                )
                assert not leaks.exists(), f"{org.slug}: {model.__name__}.{f.name}"


def test_a_customer_sees_only_running_published_services(demo: dict[str, Organisation]) -> None:
    northwind = demo["northwind"]
    user = User.objects.get(email="customer@northwind.example")
    customer = Actor(user=user, organisation=northwind, roles=frozenset({OrgRole.CUSTOMER}))

    seen = {service.code for service in selectors.service_list(actor=customer)}

    running = _services(northwind).filter(stage=Stage.RUNNING, current_version__isnull=False)
    assert seen == set(running.values_list("code", flat=True))
    assert len(seen) < _services(northwind).count()
    riverside_codes = set(_services(demo["riverside"]).values_list("code", flat=True))
    assert not seen & riverside_codes
