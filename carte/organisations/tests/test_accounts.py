"""A login's own account: changing its password, resetting a forgotten one by e-mail, and
the operator deactivating a login (`carte login deactivate|activate EMAIL`), which keeps
it out of the pages and the API in every organisation."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.db import connections
from django.test import Client

from carte.cli import main
from carte.core.models import AuditAction, AuditEntry
from carte.organisations.choices import OrgRole
from carte.organisations.models import Membership, Organisation, User
from carte.organisations.tests.factories import PASSWORD, MembershipFactory

NEW_PASSWORD = "plum-harbour-lantern-42"
LINK = re.compile(r"https?://\S+")


def carte(*argv: str) -> int:
    """Run `carte ARGV...` in-process; the exit status, as the shell would see it."""
    try:
        return main(list(argv))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1


@pytest.fixture(autouse=True)
def _keep_test_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    # A command run from the command line closes every connection when it ends; in-process
    # that would close the test's transaction on PostgreSQL.
    monkeypatch.setattr(connections, "close_all", lambda: None)


def logs_in(email: str, password: str) -> bool:
    """Whether the login page lets `email` in with `password`."""
    client = Client()
    response = client.post("/login/", {"username": email, "password": password})
    return response.status_code == 302 and "_auth_user_id" in client.session


# ---------------------------------------------------------------- password change


def test_it_links_the_password_pages_from_the_login_page_and_the_header(staff: Any) -> None:
    login = Client().get("/login/").content.decode()
    assert 'href="/password-reset/">Forgotten your password?</a>' in login

    home = staff.client.get("/o/acme/").content.decode()
    assert 'href="/account/password/">Password</a>' in home


def test_it_asks_to_log_in_before_changing_a_password() -> None:
    response = Client().get("/account/password/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/account/password/")


def test_it_changes_the_password_and_keeps_the_session(staff: Any) -> None:
    page = staff.client.get("/account/password/")
    assert page.status_code == 200
    assert 'class="form-control"' in page.content.decode()

    response = staff.client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )

    assert response.redirect_chain == [("/account/password/changed/", 302)]
    assert "Your new password is set" in response.content.decode()
    assert staff.client.get("/o/acme/").status_code == 200  # still logged in here
    assert logs_in(staff.user.email, NEW_PASSWORD)
    assert not logs_in(staff.user.email, PASSWORD)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"old_password": "wrong", "new_password1": NEW_PASSWORD},
            "old_password",
            "Your old password was entered incorrectly",
        ),
        ({"new_password1": "password"}, "new_password2", "This password is too common."),
        ({"new_password1": "12345678901"}, "new_password2", "entirely numeric"),
        ({"new_password2": "something-else-42"}, "new_password2", "match"),
    ],
    ids=["wrong-current", "common", "numeric", "mismatch"],
)
def test_it_refuses_a_bad_password_change_next_to_the_field(
    staff: Any, data: dict[str, str], field: str, message: str
) -> None:
    form = {
        "old_password": PASSWORD,
        "new_password1": NEW_PASSWORD,
        "new_password2": data.get("new_password1", NEW_PASSWORD),
        **data,
    }
    hashed = User.objects.get(pk=staff.user.pk).password

    response = staff.client.post("/account/password/", form)

    assert response.status_code == 200
    errors = " ".join(response.context["form"][field].errors)
    assert message in errors, errors
    assert 'aria-invalid="true"' in response.content.decode()
    assert User.objects.get(pk=staff.user.pk).password == hashed


# ---------------------------------------------------------------- password reset


def ask_for_a_reset(email: str, **headers: str) -> Any:
    return Client().post("/password-reset/", {"email": email}, headers=headers)


def test_it_resets_a_forgotten_password_through_the_emailed_link(staff: Any, settings: Any) -> None:
    settings.CARTE_BASE_URL = "https://carte.example.org"

    response = ask_for_a_reset(staff.user.email.upper(), host="localhost")

    assert response.status_code == 302
    assert response["Location"] == "/password-reset/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [staff.user.email]
    assert message.subject == "Choose a new password for Carte"
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    links = LINK.findall(str(message.body))
    assert len(links) == 1
    link = links[0]
    # From where Carte is reached from outside, whatever Host the request named.
    assert link.startswith("https://carte.example.org/password-reset/")
    assert "&#x27;" not in message.body and "&amp;" not in message.body

    browser = Client()
    form_page = browser.get(link.removeprefix("https://carte.example.org"), follow=True)
    assert form_page.status_code == 200
    assert form_page.context["validlink"] is True
    done = browser.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert done.redirect_chain == [("/password-reset/done/", 302)]
    assert logs_in(staff.user.email, NEW_PASSWORD)
    assert not logs_in(staff.user.email, PASSWORD)

    # The link works once.
    again = Client().get(link.removeprefix("https://carte.example.org"), follow=True)
    assert again.context["validlink"] is False
    assert "This link no longer works" in again.content.decode()


def test_it_refuses_a_weak_password_on_the_reset_form(staff: Any) -> None:
    ask_for_a_reset(staff.user.email)
    path = urlsplit(LINK.findall(str(mail.outbox[0].body))[0]).path
    browser = Client()
    form_page = browser.get(path, follow=True)
    hashed = User.objects.get(pk=staff.user.pk).password

    response = browser.post(
        form_page.redirect_chain[-1][0], {"new_password1": "password", "new_password2": "password"}
    )

    assert response.status_code == 200
    assert "This password is too common." in response.context["form"]["new_password2"].errors
    assert User.objects.get(pk=staff.user.pk).password == hashed


@pytest.mark.parametrize("who", ["unknown", "inactive"])
def test_it_answers_the_same_and_sends_nothing_for_a_login_that_cannot_reset(
    staff: Any, who: str
) -> None:
    email = "nobody@acme.example"
    if who == "inactive":
        User.objects.filter(pk=staff.user.pk).update(is_active=False)
        email = staff.user.email

    response = ask_for_a_reset(email)

    assert response.status_code == 302
    assert response["Location"] == "/password-reset/sent/"
    assert mail.outbox == []


def test_it_styles_the_reset_pages_as_the_login_page(db: None) -> None:
    for path, heading in [
        ("/password-reset/", "Forgotten your password?"),
        ("/password-reset/sent/", "Check your e-mail"),
        ("/password-reset/done/", "Password changed"),
        ("/password-reset/MQ/set-password/", "This link no longer works"),
    ]:
        html = Client().get(path).content.decode()
        assert '<div class="container-tight py-4">' in html, path
        assert f'<h1 class="h2 text-center mb-4">{heading}</h1>' in html, path


# ---------------------------------------------------------------- deactivating a login


def test_it_deactivates_a_login_in_every_organisation(
    staff: Any, org: Organisation, other_org: Organisation, capsys: pytest.CaptureFixture[str]
) -> None:
    MembershipFactory(organisation=other_org, user=staff.user, roles=[OrgRole.PMO_MANAGER])
    assert staff.client.get("/o/acme/").status_code == 200
    assert staff.api.get("/api/v1/orgs/acme/pmos").status_code == 200

    assert carte("login", "deactivate", staff.user.email.upper()) == 0

    assert "deactivated" in capsys.readouterr().out
    assert not User.objects.get(pk=staff.user.pk).is_active
    assert not logs_in(staff.user.email, PASSWORD)
    # The session already open ends, and the API tokens stop working, everywhere.
    response = staff.client.get("/o/acme/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    for slug in ("acme", "globex"):
        assert staff.api.get(f"/api/v1/orgs/{slug}/pmos").status_code == 401
    # Each organisation records it on the member.
    for membership in Membership.objects.filter(user=staff.user):
        entry = AuditEntry.objects.get(
            organisation_id=membership.organisation_id, object_id=membership.pk
        )
        assert entry.action == AuditAction.UPDATE
        assert entry.actor_label == "system"
        assert entry.changes == {"login": {"before": "active", "after": "deactivated"}}


def test_it_activates_a_login_again(staff: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert carte("login", "deactivate", staff.user.email) == 0

    assert carte("login", "activate", staff.user.email) == 0

    assert "active again" in capsys.readouterr().out
    assert logs_in(staff.user.email, PASSWORD)
    assert staff.api.get("/api/v1/orgs/acme/pmos").status_code == 200
    membership = Membership.objects.get(user=staff.user)
    entries = AuditEntry.objects.filter(object_id=membership.pk).order_by("id")
    assert [e.changes["login"]["after"] for e in entries] == ["deactivated", "active"]


def test_it_says_so_and_records_nothing_when_the_login_is_already_in_that_state(
    staff: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert carte("login", "activate", staff.user.email) == 0

    assert f"The login {staff.user.email} is already active." in capsys.readouterr().out
    assert not AuditEntry.objects.exists()


def test_it_refuses_an_unknown_email_with_exit_2(
    staff: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert carte("login", "deactivate", "nobody@acme.example") == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip().splitlines() == ["CommandError: No login with e-mail nobody@acme.example."]
    assert User.objects.filter(is_active=False).count() == 0


def test_it_lists_the_login_commands_in_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert carte() == 0

    out = capsys.readouterr().out
    assert "login deactivate EMAIL" in out
    assert "login activate EMAIL" in out


# ---------------------------------------------------------------- in a browser


@pytest.fixture
def ines(transactional_db: None) -> User:
    """A member made before the browser starts (see test_browser's `consultant`)."""
    org = Organisation.objects.create(name="Acme Group", slug="acme")
    return MembershipFactory(
        organisation=org, user__email="ines@consult.example", roles=[OrgRole.STAFF]
    ).user


def fits_a_phone(page: Any) -> bool:
    """No sideways scrolling at a phone's width."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.mark.browser
def test_it_resets_and_then_changes_a_password_in_a_browser(
    ines: User, page: Any, live_server: Any, settings: Any
) -> None:
    from playwright.sync_api import expect

    from carte.conftest import screenshot, watch

    settings.CARTE_BASE_URL = live_server.url  # the e-mailed link leads to this server
    problems = watch(page, allow_422=True)

    # Forgotten: ask for a link from the login page, at a phone's width.
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/login/")
    page.get_by_role("link", name="Forgotten your password?").click()
    expect(page.get_by_role("heading", name="Forgotten your password?")).to_be_visible()
    assert fits_a_phone(page)
    page.get_by_label("E-mail").fill("Ines@Consult.example")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()

    # The e-mail (the live server runs in this process) and its link.
    assert [m.to for m in mail.outbox] == [["ines@consult.example"]]
    link = LINK.findall(str(mail.outbox[0].body))[0]
    assert link.startswith(live_server.url)
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    assert fits_a_phone(page)
    screenshot(page, "accounts-password-reset-phone.png")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_label("New password", exact=True).fill("password")
    page.get_by_label("New password confirmation").fill("password")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_text("This password is too common.")).to_be_visible()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()

    # Log in with it.
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("E-mail").fill("ines@consult.example")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("current-user")).to_have_attribute("title", "ines@consult.example")

    # Change it again from the header.
    page.get_by_role("banner").locator("details.account-menu > summary").click()
    page.get_by_role("banner").get_by_role("link", name="Password").click()
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    page.get_by_label("Old password").fill(NEW_PASSWORD)
    page.get_by_label("New password", exact=True).fill("quince-meadow-harbour-17")
    page.get_by_label("New password confirmation").fill("quince-meadow-harbour-17")
    page.get_by_role("button", name="Change the password").click()
    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_have_attribute("title", "ines@consult.example")

    screenshot(page, "accounts-password-changed.png")
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "accounts-password-changed-phone.png")
    assert fits_a_phone(page)  # the header's menu too
    assert problems == []
