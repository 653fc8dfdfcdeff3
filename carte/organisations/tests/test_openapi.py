"""The OpenAPI document is valid, and every operation it lists refuses a caller without a
valid token with a 401 problem."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from openapi_spec_validator import validate

from carte.conftest import ApiClient
from carte.core.testing import PROBLEM_JSON, assert_problem, no_writes
from carte.organisations import services
from carte.organisations.models import ApiToken, User
from carte.organisations.tests.factories import (
    CustomerGroupFactory,
    MembershipFactory,
    PersonFactory,
    PMOFactory,
)


@pytest.fixture
def openapi(db):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(openapi):
    return [
        (method, path, operation)
        for path, item in openapi["paths"].items()
        for method, operation in item.items()
    ]


def test_summaries_read_as_english(openapi):
    """The generated CRUD summaries take the right article and plural: "Add an action",
    "List people", never "a action" or "persons"."""
    summaries = [operation["summary"] for _, _, operation in operations(openapi)]
    assert not [s for s in summaries if re.search(r"\ba [aeiouAEIOU]", s)]
    assert not [s for s in summaries if re.search(r"\b(persons|categorys|criterions)\b", s)]
    assert "List people" in summaries and "Add an action" in summaries


def test_it_serves_a_valid_openapi_document(openapi):
    validate(openapi)
    assert openapi["openapi"].startswith("3.")
    assert openapi["info"]["title"] == "Carte API"
    ids = [op["operationId"] for _, _, op in operations(openapi)]
    assert len(ids) == len(set(ids)) >= 24
    for collection in ("pmos", "people", "customer_groups", "members"):
        for verb in ("list", "retrieve", "create", "update", "archive", "restore"):
            assert f"{collection}_{verb}" in ids


def test_it_declares_bearer_auth_on_every_operation(openapi):
    schemes = openapi["components"]["securitySchemes"]
    assert schemes == {"TokenAuth": {**schemes["TokenAuth"], "type": "http", "scheme": "bearer"}}
    for method, path, operation in operations(openapi):
        assert operation.get("security") == [{"TokenAuth": []}], (method, path)


def test_it_serves_the_docs_page(db):
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    assert b"openapi.json" in response.content


@pytest.fixture
def callers(org, admin):
    """API clients that must all be refused: no token, a malformed one, another scheme,
    a revoked token, and the token of a deactivated login."""
    revoked = ApiClient(None)
    _, raw = services.token_create(user=admin.user, name="to revoke")
    services.token_revoke(user=admin.user, token_id=ApiToken.objects.get(name="to revoke").pk)
    revoked.headers = {"Authorization": f"Bearer {raw}"}

    departed = MembershipFactory(organisation=org, roles=["admin"]).user
    _, departed_raw = services.token_create(user=departed, name="departed")
    User.objects.filter(pk=departed.pk).update(is_active=False)

    malformed, basic = ApiClient(None), ApiClient(None)
    malformed.headers = {"Authorization": "Bearer carte_not-a-real-token"}
    basic.headers = {"Authorization": "Basic YWRtaW46cGFzcw=="}
    return {
        "none": ApiClient(None),
        "malformed": malformed,
        "other scheme": basic,
        "revoked": revoked,
        "deactivated": ApiClient(departed_raw),
    }


def test_it_refuses_every_operation_without_a_valid_token(openapi, org, admin, callers):
    rows: dict[str, Any] = {
        "pmos": PMOFactory(organisation=org),
        "people": PersonFactory(organisation=org),
        "customer-groups": CustomerGroupFactory(organisation=org),
        "members": MembershipFactory(organisation=org),
    }
    body = {"name": "X", "email": "x@acme.example", "roles": ["admin"]}
    failures = []
    with no_writes(*rows.values()):
        for method, template, _ in operations(openapi):
            collection = template.split("{org}/")[1].split("/")[0]
            row = rows.get(collection)
            # Any number will do: authentication refuses before the handler reads the path.
            path = re.sub(r"\{(?!org\})\w+\}", str(row.pk if row else 1), template)
            path = path.replace("{org}", org.slug)
            for name, api in callers.items():
                if method == "get":
                    response = api.get(path)
                elif method == "post":
                    response = api.post(path, body)
                else:
                    response = getattr(api, method)(path, body)
                if response.status_code != 401 or response["Content-Type"] != PROBLEM_JSON:
                    failures.append((name, method.upper(), path, response.status_code))
                    continue
                assert_problem(response, 401)
                assert response["WWW-Authenticate"].startswith("Bearer")
    assert failures == []
    # The admin's own token still works, so the refusals above are about the tokens.
    assert admin.api.get(f"/api/v1/orgs/{org.slug}/pmos").status_code == 200
