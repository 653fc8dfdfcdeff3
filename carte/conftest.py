"""Fixtures every test can use: two organisations and a persona for each role.

`org` is the organisation under test; `other_org` belongs to the `outsider`, who must
never see or touch anything of `org`. Each persona has a logged-in page client
(`.client`) and an API client sending its bearer token (`.api`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from carte.demo import load_demo
from carte.organisations import services
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole
from carte.organisations.demo import DEMO_SLUGS, purge_demo
from carte.organisations.models import Organisation, User
from carte.organisations.tests.factories import (
    PASSWORD,
    MembershipFactory,
    OrganisationFactory,
)


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

    def put(self, path: str, data: Any) -> Any:
        return self.client.put(
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


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[dict[str, Organisation]]:
    """Both demo organisations, loaded once for the whole module (committed, then purged
    at its end); each test still runs in its own rolled-back transaction."""
    with django_db_blocker.unblock():
        assert load_demo() is True
        yield {o.slug: o for o in Organisation.objects.filter(slug__in=DEMO_SLUGS)}
        purge_demo()


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _unthrottled(settings: Any) -> None:
    """Failed logins and bad API tokens are counted only in the tests about throttling
    (which turn it on), so no test is refused for what earlier ones did; and a test may
    log in with `Client.login()`, which gives django-axes no request."""
    settings.AXES_ENABLED = False
    settings.CARTE_TOKEN_FAILURES = 0


@pytest.fixture(scope="session")
def _media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _background_work_at_once(settings: Any, _media_root: Path) -> None:
    """Background work runs in the request that starts it (the immediate Tasks backend),
    so tests are deterministic; the files it keeps go to a temporary folder."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default"],
        }
    }
    settings.MEDIA_ROOT = _media_root


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


# ---------------------------------------------------------------- browser tests

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = settings.BASE_DIR.parent / "test-artifacts"  # screenshots for a person to look at


@pytest.fixture(scope="module")
def live_server(django_db_setup: None) -> Iterator[Any]:
    """pytest-django's live server, bound to the loopback interface only.

    Overrides its session fixture (which binds to "localhost" unless told otherwise on
    the command line) so the address does not depend on how the suite is started.
    """
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("127.0.0.1")
    yield server
    server.stop()


@pytest.fixture
def page(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A Chromium page on the live server; request test data before it (see `consultant`)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (CI does).")
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the ORM then refuses to run
    # here unless told that it is safe, which it is: nothing else uses this thread.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                base_url=live_server.url, viewport={"width": 1280, "height": 900}
            )
            page = context.new_page()
            page.set_default_timeout(10_000)
            yield page
        finally:
            browser.close()


def watch(page: Any, *, allow_422: bool = False) -> list[str]:
    """The list `page` adds every console error and uncaught exception to, for the test to
    find empty at its end (a Content-Security-Policy violation shows up as one).

    Chromium logs every 4xx response as a console error; `allow_422` leaves out a 422, a
    form answering "fix this field", for the tests that make a mistake on purpose.
    """
    problems: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error" and not (allow_422 and "status of 422" in message.text):
            problems.append(f"console error: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    return problems


def log_in(page: Any, email: str) -> None:
    """Log in through the login page, as the person would, and wait for the header to
    name them (by their name; their address is its title)."""
    from playwright.sync_api import expect

    page.goto("/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("current-user")).to_have_attribute("title", email)


def log_out(page: Any) -> None:
    """Log out with the button of the header's account menu, back to the login page or the
    home page."""
    from playwright.sync_api import expect

    page.locator("details.account-menu > summary").click()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/|/$"))


def screenshot(page: Any, name: str) -> None:
    """The whole page, kept in ARTIFACTS as `name` for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
