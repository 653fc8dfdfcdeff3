"""A real browser: a signed-in person opens the API's interactive docs and sees every
operation of the OpenAPI document listed, with no console error (a
Content-Security-Policy violation shows up as one) and nothing fetched from another
origin: Swagger UI comes from Carte's own static files, not a CDN."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

from carte.conftest import Persona, log_in, screenshot, watch

METHODS = {"get", "post", "put", "patch", "delete"}


def test_it_serves_the_docs_assets_itself_under_the_one_policy(db: None) -> None:
    """What a browser would fetch is ours and found, and the page needs no exception to the
    Content-Security-Policy (the browser test below shows it running)."""
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    directives = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert "'unsafe-inline'" not in directives["script-src"]
    html = response.content.decode()
    scripts = re.findall(r"<script([^>]*)>", html)
    assert all("src=" in tag or 'type="application/json"' in tag for tag in scripts), scripts
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(url.endswith(".js") for url in assets), assets
    for url in assets:
        assert url.startswith(settings.STATIC_URL), url
        assert finders.find(url.removeprefix(settings.STATIC_URL)), url


def test_it_serves_a_document_with_each_key_once(db: None) -> None:
    """Swagger UI refuses a document holding a key twice ("duplicated mapping key"), as a
    response status declared by number and added again as text once was."""
    repeated: list[set[str]] = []

    def check(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        if len(set(keys)) != len(keys):
            repeated.append({key for key in keys if keys.count(key) > 1})
        return dict(pairs)

    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    json.loads(response.content, object_pairs_hook=check)
    assert repeated == []


@pytest.fixture
def signed_up(transactional_db: None, director: Persona) -> Persona:
    """The person, made before the browser starts (a query from the test body while
    Playwright's loop runs would open a connection nothing closes)."""
    return director


@pytest.mark.browser
def test_the_docs_list_every_operation_from_our_own_origin(
    signed_up: Persona, page: Any, live_server: Any
) -> None:
    from playwright.sync_api import expect

    from carte.urls import api

    schema = api.get_openapi_schema()
    operations = [
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in METHODS
    ]
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    problems = watch(page)
    log_in(page, signed_up.user.email)

    page.goto("/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text(schema["info"]["title"])
    expect(page.locator(".opblock")).to_have_count(len(operations))
    method, path = operations[0]
    first = page.locator(f".opblock-{method.lower()}").filter(
        has=page.locator(f'.opblock-summary-path[data-path="{path}"]')
    )
    expect(first).to_be_visible()
    screenshot(page, "api-docs.png")

    assert problems == []
    outside = [url for url in requested if not url.startswith(live_server.url)]
    assert outside == [], outside
