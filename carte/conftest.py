"""Fixtures every test can use: two organisations and a persona for each role.

`org` is the organisation under test; `other_org` belongs to the `outsider`, who must
never see or touch anything of `org`. Each persona has a logged-in page client
(`.client`) and an API client sending its bearer token (`.api`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from carte.core.permissions import Actor
from carte.organisations import services
from carte.organisations.choices import OrgRole
from carte.organisations.models import Organisation, User
from carte.organisations.tests.factories import MembershipFactory, OrganisationFactory


class ApiClient:
    """A test client that sends JSON and the persona's bearer token."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params, headers=self.headers)

    def post(self, path: str, data: Any = None) -> Any:
        return self.client.post(
            path, json.dumps(data or {}), content_type="application/json", headers=self.headers
        )

    def patch(self, path: str, data: Any) -> Any:
        return self.client.patch(
            path, json.dumps(data), content_type="application/json", headers=self.headers
        )


@dataclass
class Persona:
    user: User
    organisation: Organisation
    roles: list[str]
    client: Client
    api: ApiClient

    @property
    def actor(self) -> Actor:
        return Actor(user=self.user, organisation=self.organisation, roles=frozenset(self.roles))


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def org(db: None) -> Organisation:
    return OrganisationFactory(name="Acme Group", slug="acme")


@pytest.fixture
def other_org(db: None) -> Organisation:
    return OrganisationFactory(name="Globex", slug="globex")


def make_persona(organisation: Organisation, roles: list[str], email: str) -> Persona:
    membership = MembershipFactory(organisation=organisation, user__email=email, roles=roles)
    user = membership.user
    client = Client()
    client.force_login(user)
    _, raw = services.token_create(user=user, name="tests")
    return Persona(
        user=user, organisation=organisation, roles=roles, client=client, api=ApiClient(raw)
    )


@pytest.fixture
def persona(org: Organisation) -> Any:
    """persona("director") -> a Persona of `org` holding that role."""

    def make(*roles: str) -> Persona:
        name = "-".join(roles)
        return make_persona(org, list(roles), f"{name}@acme.example")

    return make


@pytest.fixture
def admin(persona: Any) -> Persona:
    return persona(OrgRole.ADMIN)


@pytest.fixture
def director(persona: Any) -> Persona:
    return persona(OrgRole.DIRECTOR)


@pytest.fixture
def pmo_manager(persona: Any) -> Persona:
    return persona(OrgRole.PMO_MANAGER)


@pytest.fixture
def staff(persona: Any) -> Persona:
    return persona(OrgRole.STAFF)


@pytest.fixture
def customer(persona: Any) -> Persona:
    return persona(OrgRole.CUSTOMER)


@pytest.fixture
def viewer(persona: Any) -> Persona:
    return persona(OrgRole.VIEWER)


@pytest.fixture
def outsider(other_org: Organisation) -> Persona:
    """An administrator of another organisation: all rights there, none in `org`."""
    return make_persona(other_org, [OrgRole.ADMIN], "admin@globex.example")
