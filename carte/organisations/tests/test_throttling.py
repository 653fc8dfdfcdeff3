"""Throttling: failed logins lock an account and, apart, an address (django-axes); an
organisation's administrator unlocks a member's login; too many bad API tokens from one
address are refused with 429 before the database is read."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse

from carte.conftest import ApiClient
from carte.core.models import AuditEntry
from carte.core.testing import assert_entry
from carte.organisations.choices import OrgRole
from carte.organisations.models import Membership
from carte.organisations.tests.factories import PASSWORD
from carte.organisations.throttle import client_address, login_failures

LIMIT = 3
LOGIN = "/login/"
LOCKED = "Too many attempts to log in"


@pytest.fixture(autouse=True)
def throttled(settings):
    """Throttling on (the suite turns it off elsewhere), with a small limit."""
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    settings.CARTE_TOKEN_FAILURES = LIMIT
    settings.CARTE_TOKEN_COOLOFF_MINUTES = 10
    cache.clear()
    yield
    cache.clear()


def log_in(client, email, password, address="10.0.0.1"):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=address)


def logged_in(client):
    return "_auth_user_id" in client.session


def lock_account(email):
    """LIMIT wrong passwords, each from its own address (so no address is locked)."""
    for i in range(LIMIT):
        log_in(Client(), email, "wrong", address=f"10.1.0.{i}")


# ---------------------------------------------------------------- logins


def test_an_account_is_locked_after_the_limit_whatever_the_address(staff):
    email = staff.user.email
    client = Client()
    for i in range(LIMIT - 1):
        response = log_in(client, email, "wrong", address=f"10.1.0.{i}")
        assert response.status_code == 200  # the form again, with its error
        assert LOCKED not in response.content.decode()
    # The last one may even change the case of the e-mail: it is the same account.
    response = log_in(client, email.upper(), "wrong", address="10.1.0.99")
    assert response.status_code == 429
    assert LOCKED in response.content.decode()

    # Locked: the right password is refused too, from any address.
    response = log_in(client, email, PASSWORD, address="10.9.9.9")
    assert response.status_code == 429
    assert not logged_in(client)
    # Another account, from another address, is not concerned.
    other = Client()
    assert log_in(other, "nobody@acme.example", "wrong", address="10.2.0.1").status_code == 200


def test_an_address_is_locked_after_the_limit_whatever_the_accounts(staff, viewer):
    for i in range(LIMIT):
        response = log_in(Client(), f"guess{i}@acme.example", "wrong", address="10.3.0.1")
    assert response.status_code == 429

    # From that address, even a right password of another account is refused...
    client = Client()
    assert log_in(client, staff.user.email, PASSWORD, address="10.3.0.1").status_code == 429
    assert not logged_in(client)
    # ...while the same account logs in from elsewhere.
    assert log_in(client, staff.user.email, PASSWORD, address="10.3.0.2").status_code == 302
    assert logged_in(client)


def test_the_lockout_page_says_until_when_and_whom_to_ask(staff):
    lock_account(staff.user.email)
    response = log_in(Client(), staff.user.email, PASSWORD)
    assert response.status_code == 429
    assert "registration/lockout.html" in [t.name for t in response.templates]
    page = response.content.decode()
    until = response.context["until"]
    assert f'Try again after <strong><time datetime="{until.isoformat()}' in page
    assert "(in 15 minutes)" in page
    assert "Ask an administrator of your organisation to unlock your login" in page


def test_below_the_limit_a_right_password_logs_in(staff):
    for i in range(LIMIT - 1):
        log_in(Client(), staff.user.email, "wrong", address=f"10.4.0.{i}")
    client = Client()
    assert log_in(client, staff.user.email, PASSWORD, address="10.4.1.1").status_code == 302
    assert logged_in(client)


# ---------------------------------------------------------------- unlocking


def membership_of(persona):
    return Membership.objects.get(user=persona.user, organisation=persona.organisation)


def unlock_url(persona):
    return reverse("member_unlock", args=[persona.organisation.slug, membership_of(persona).pk])


@pytest.mark.parametrize("role", [OrgRole.ADMIN, OrgRole.DIRECTOR])
def test_a_member_manager_unlocks_a_login_and_it_is_audited(persona, staff, role):
    manager = persona(role)
    lock_account(staff.user.email)
    assert log_in(Client(), staff.user.email, PASSWORD).status_code == 429

    response = manager.client.post(unlock_url(staff), follow=True)
    assert response.redirect_chain[-1][0] == reverse(
        "member_detail", args=[staff.organisation.slug, membership_of(staff).pk]
    )
    assert f"Login of {staff.user.email} unlocked" in response.content.decode()
    client = Client()
    assert log_in(client, staff.user.email, PASSWORD).status_code == 302
    assert logged_in(client)

    entry = AuditEntry.objects.get(object_id=membership_of(staff).pk, action="update")
    assert_entry(entry, manager, "update")
    # The attempt made while locked out counted too.
    assert entry.changes == {"failed_logins": {"before": LIMIT + 1, "after": 0}}
    # The member's History tab tells it.
    history = manager.client.get(
        reverse("member_detail", args=[staff.organisation.slug, membership_of(staff).pk]),
        {"tab": "history"},
    ).content.decode()
    assert "Failed logins" in history


def test_unlocking_a_login_that_is_not_locked_records_nothing(admin, staff):
    response = admin.client.post(unlock_url(staff), follow=True)
    assert "was not locked: nothing to unlock" in response.content.decode()
    assert not AuditEntry.objects.filter(object_id=membership_of(staff).pk).exists()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (OrgRole.PMO_MANAGER, 403),
        (OrgRole.STAFF, 403),
        (OrgRole.VIEWER, 403),
        (OrgRole.CUSTOMER, 404),  # customers do not see the members
    ],
)
def test_other_roles_cannot_unlock(persona, admin, role, status):
    someone = persona(role)
    lock_account(admin.user.email)
    assert someone.client.post(unlock_url(admin)).status_code == status
    assert login_failures(admin.user.email) == LIMIT
    assert not AuditEntry.objects.filter(object_id=membership_of(admin).pk).exists()


def test_an_outsider_cannot_unlock(outsider, staff, other_org):
    lock_account(staff.user.email)
    pk = membership_of(staff).pk
    for slug in (staff.organisation.slug, other_org.slug):
        url = reverse("member_unlock", args=[slug, pk])
        assert outsider.client.post(url).status_code == 404
    assert login_failures(staff.user.email) == LIMIT


def test_unlocking_takes_a_post(admin, staff):
    assert admin.client.get(unlock_url(staff)).status_code == 405


def test_the_member_page_has_the_unlock_button_for_those_who_manage_members(admin, staff):
    url = reverse("member_detail", args=[staff.organisation.slug, membership_of(staff).pk])
    button = f'action="{unlock_url(staff)}"'
    assert button in admin.client.get(url).content.decode()
    assert button not in staff.client.get(url).content.decode()


# ---------------------------------------------------------------- API tokens


PATH = "/api/v1/orgs/acme/pmos"


def bad_token(address="10.5.0.1"):
    return Client().get(PATH, headers={"Authorization": "Bearer carte_nope"}, REMOTE_ADDR=address)


def test_too_many_bad_tokens_from_an_address_get_429_without_a_query(
    staff, django_assert_num_queries
):
    for _ in range(LIMIT):
        assert bad_token().status_code == 401
    with django_assert_num_queries(0):
        response = bad_token()
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert body["status"] == 429
    assert body["type"].endswith("/too_many_requests")
    assert "invalid API token" in body["detail"]
    assert 0 < int(response["Retry-After"]) <= 600

    # Even a good token is refused from that address, without a query...
    headers = staff.api.headers
    with django_assert_num_queries(0):
        refused = Client().get(PATH, headers=headers, REMOTE_ADDR="10.5.0.1")
    assert refused.status_code == 429
    # ...and served from another; pages (no bearer token) are not concerned.
    assert Client().get(PATH, headers=headers, REMOTE_ADDR="10.5.0.2").status_code == 200
    assert staff.client.get("/o/acme/", REMOTE_ADDR="10.5.0.1").status_code == 200


def test_good_tokens_are_not_counted(staff):
    for _ in range(LIMIT + 2):
        assert staff.api.get(PATH).status_code == 200
    assert bad_token(address="127.0.0.1").status_code == 401


def test_no_token_throttling_when_turned_off(db, settings):
    settings.CARTE_TOKEN_FAILURES = 0
    for _ in range(LIMIT + 2):
        assert bad_token().status_code == 401


def test_requests_without_a_token_are_not_counted(db):
    for _ in range(LIMIT + 2):
        assert ApiClient(None).get(PATH).status_code == 401
    assert bad_token(address="127.0.0.1").status_code == 401


# ---------------------------------------------------------------- the address


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "127.0.0.1"),  # no proxy: the header is the client's word
        (1, "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # what our proxy saw
        (2, "198.51.100.1, 203.0.113.9", "198.51.100.1"),
        (1, "", "127.0.0.1"),  # a proxy that sent nothing: the connection's
        (1, "not-an-address", None),
    ],
)
def test_the_address_is_the_one_the_trusted_proxy_saw(settings, proxies, forwarded, expected):
    settings.CARTE_TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


# ---------------------------------------------------------------- in a browser


@pytest.fixture
def member(transactional_db):
    """A login made before the browser starts (see organisations' test_browser)."""
    from carte.organisations.tests.factories import MembershipFactory, OrganisationFactory

    org = OrganisationFactory(name="Acme Group", slug="acme")
    return MembershipFactory(organisation=org, user__email="ann@acme.example").user


@pytest.mark.browser
def test_the_lockout_page_at_phone_width(member, page, live_server):
    from playwright.sync_api import expect

    from carte.conftest import screenshot, watch

    problems = watch(page)
    page.set_viewport_size({"width": 375, "height": 740})
    for password in ["wrong"] * LIMIT:
        page.goto("/login/")
        page.get_by_label("E-mail").fill(member.email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=LOCKED)).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Logging in is paused")
    expect(page.get_by_text("Try again after")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "login-lockout-phone.png")
    # Chromium reports the 429 itself as a console error; anything else is a fault.
    assert [p for p in problems if "status of 429" not in p] == []
