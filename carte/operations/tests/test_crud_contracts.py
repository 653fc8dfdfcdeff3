"""The CRUD, permission and tenancy contract over the API of the operations records that
hang under a service: KPIs and service-level targets (`organisations.testing.ApiContract`
with a parent). Their workflow steps and the rest of their matrices are in the
modules of each part."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from carte.catalogue.tests.factories import (
    ServiceCustomerFactory,
    ServiceFactory,
)
from carte.operations.models import KPI, ServiceLevelTarget
from carte.operations.tests.factories import KPIFactory
from carte.organisations.choices import OrgRole
from carte.organisations.testing import ALL_ROLES, ApiContract
from carte.organisations.tests.factories import CustomerGroupFactory

SERVICE_EDITORS = frozenset({OrgRole.ADMIN, OrgRole.DIRECTOR, OrgRole.PMO_MANAGER})
STAFF = ALL_ROLES - {OrgRole.CUSTOMER}


class TestKPIApi(ApiContract):
    model = KPI
    api_path = "kpis"
    parent_path = "services"
    editors = SERVICE_EDITORS
    viewers = STAFF
    list_refusal = 404  # the service is not published: a customer does not see it

    def make_parent(self, organisation):
        return ServiceFactory(organisation=organisation)

    def make(self, organisation):
        # As the service defines it: a "%" KPI runs from 0 to 100.
        return KPIFactory(
            service=self.parent(organisation), minimum=Decimal("0"), maximum=Decimal("100")
        )

    def create_input(self, organisation):
        payload = {
            "name": "Reports on time",
            "definition": "Share of reports delivered by the deadline.",
            "unit": "%",
            "direction": "higher",
            "target": "95",
            "amber": "90",
            "red": "80",
            "frequency": "monthly",
            "reporting_from": "2026-01-01",
        }
        return payload, {"name": "Reports on time", "unit": "%"}

    def update_input(self, obj):
        return {"name": "Reports delivered on time"}, {
            "name": (obj.name, "Reports delivered on time")
        }


class TestServiceLevelTargetApi(ApiContract):
    model = ServiceLevelTarget
    api_path = "level-targets"
    parent_path = "services"
    editors = SERVICE_EDITORS
    viewers = STAFF
    list_refusal = 404

    def make_parent(self, organisation):
        service = ServiceFactory(organisation=organisation)
        group = CustomerGroupFactory(organisation=organisation, name="Finance")
        ServiceCustomerFactory(service=service, customer_group=group)
        KPIFactory(service=service, name="Reports on time")
        return service

    def _kpi(self, service):
        return KPI.objects.get(service=service, name="Reports on time")

    def _group(self, service):
        return service.customers.get().customer_group

    def make(self, organisation):
        service: Any = self.parent(organisation)
        return ServiceLevelTarget.objects.create(
            organisation=organisation,
            service=service,
            customer_group=self._group(service),
            kpi=KPIFactory(service=service),
            statement="At least 90% on time",
            target=Decimal("90"),
        )

    def create_input(self, organisation):
        service = self.parent(organisation)
        kpi, group = self._kpi(service), self._group(service)
        payload = {
            "customer_group": group.pk,
            "kpi": kpi.pk,
            "statement": "At least 92% on time",
            "target": "92",
        }
        return payload, {"statement": "At least 92% on time"}

    def update_input(self, obj):
        return {"statement": "At least 91% on time"}, {
            "statement": (obj.statement, "At least 91% on time")
        }
