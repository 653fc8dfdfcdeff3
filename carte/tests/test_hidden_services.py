"""Nobody learns that a service exists when they may not see it: every page and API path
under a service answers a customer exactly as for an id that does not exist (404) while
the service is not published to them, whichever app serves the path."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from carte.catalogue.models import Service
from carte.catalogue.tests.factories import ServiceFactory

API = "/api/v1/orgs/acme"
MISSING = 999_999
_PARAM = re.compile(r"\{(?:int:)?(\w+)\}")


def _api_paths(customer: Any) -> list[tuple[str, str]]:
    """(method, path template) of every operation under `/services/{id}`."""
    document = customer.api.get("/api/v1/openapi.json").json()
    found = []
    for template, operations in document["paths"].items():
        if "/services/{id}" in template:
            found += [(method, template) for method in operations if method in ("get", "post")]
    return sorted(found)


def _fill(template: str, service_id: int) -> str:
    def value(match: re.Match[str]) -> str:
        return {"org": "acme", "id": str(service_id)}.get(match.group(1), "1")

    return _PARAM.sub(value, template)


def _page_paths() -> list[str]:
    """Every page pattern of the organisation's URLs that names a service as `pk`."""

    def walk(patterns: list[Any], prefix: str) -> list[str]:
        out = []
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                out += walk(p.url_patterns, route)
            elif isinstance(p, URLPattern) and "catalogue/services/<id:pk>/" in route:
                out.append(route)
        return out

    return sorted(set(walk(get_resolver().url_patterns, "/")))


def _page(route: str, service_id: int) -> str:
    def value(match: re.Match[str]) -> str:
        return {"org": "acme", "pk": str(service_id)}.get(match.group(1), "1")

    return re.sub(r"<(?:\w+:)?(\w+)>", value, route)


@pytest.fixture
def hidden(org) -> Service:
    return ServiceFactory(organisation=org, code="HID-01", name="Hidden work")


@pytest.mark.django_db
def test_every_api_path_under_a_hidden_service_answers_as_for_a_missing_one(customer, hidden):
    """GETs are 404; POSTs (with an empty body) answer the same for both ids."""
    paths = _api_paths(customer)
    assert len(paths) > 40  # the catalogue's parts, the lifecycle and operations
    wrong = {}
    for method, template in paths:
        call = customer.api.get if method == "get" else customer.api.post
        statuses = [call(_fill(template, pk)).status_code for pk in (hidden.pk, MISSING)]
        # A POST whose body does not match its schema is refused before the service is
        # looked up (422 for both); otherwise both are 404.
        if statuses[0] != statuses[1] or (method == "get" and statuses[0] != 404):
            wrong[f"{method.upper()} {template}"] = statuses
    assert wrong == {}


@pytest.mark.django_db
def test_every_page_under_a_hidden_service_answers_as_for_a_missing_one(customer, hidden):
    routes = _page_paths()
    assert len(routes) > 20
    wrong = {}
    for route in routes:
        statuses = [
            customer.client.get(_page(route, pk)).status_code for pk in (hidden.pk, MISSING)
        ]
        # A page that takes only POST answers 405 to a GET, for both ids alike.
        if statuses[0] != statuses[1] or statuses[0] not in (404, 405):
            wrong[route] = statuses
    assert wrong == {}
