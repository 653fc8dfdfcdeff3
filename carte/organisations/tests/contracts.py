"""What the API and the page contracts of each organisations model share: the model, who
may edit and see its rows, and how to make one (`carte.organisations.testing`). Each
interface takes its own input, so `test_api.py` and `test_views.py` write their inputs."""

from __future__ import annotations

from carte.organisations.choices import OrgRole
from carte.organisations.models import PMO, CustomerGroup, Membership, Person
from carte.organisations.testing import CrudContract
from carte.organisations.tests.factories import (
    CustomerGroupFactory,
    MembershipFactory,
    PersonFactory,
    PMOFactory,
)

STRUCTURE_EDITORS = frozenset({"admin", "director", "pmo_manager"})
ALL_BUT_CUSTOMERS = frozenset({"admin", "director", "pmo_manager", "staff", "viewer"})


class PMOContract(CrudContract):
    model = PMO
    editors = STRUCTURE_EDITORS

    def make(self, organisation):
        return PMOFactory(organisation=organisation)


class CustomerGroupContract(CrudContract):
    model = CustomerGroup
    editors = STRUCTURE_EDITORS

    def make(self, organisation):
        return CustomerGroupFactory(organisation=organisation)

    def create_input(self, organisation):
        data = {"name": "Finance", "description": "Money in, money out."}
        return data, dict(data)


class PersonContract(CrudContract):
    model = Person
    editors = STRUCTURE_EDITORS | {"staff"}

    def make(self, organisation):
        return PersonFactory(organisation=organisation)


class MemberContract(CrudContract):
    model = Membership
    editors = frozenset({"admin", "director"})
    viewers = ALL_BUT_CUSTOMERS

    def make(self, organisation):
        return MembershipFactory(organisation=organisation, roles=[OrgRole.STAFF])
