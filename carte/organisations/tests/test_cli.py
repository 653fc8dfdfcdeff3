"""The `carte` command. Most cases run `carte.cli.main` in-process against the test
database; `check` and `run` run the installed script in a subprocess, on a SQLite
database in a temporary folder whatever database the suite itself uses."""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.db import connections

from carte.cli import main
from carte.conftest import ApiClient
from carte.core.models import AuditEntry
from carte.organisations.choices import OrgRole
from carte.organisations.demo import DEMO_PASSWORD, DEMO_SLUGS
from carte.organisations.models import ApiToken, Membership, Organisation, Person, User
from carte.organisations.tests.factories import MembershipFactory

CARTE = Path(sys.executable).with_name("carte")
STRONG_PASSWORD = "plum-harbour-lantern-42"


@pytest.fixture(autouse=True)
def _keep_test_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    # A management command run from the command line closes every connection when it
    # ends; in-process that would close the test's transaction on PostgreSQL.
    monkeypatch.setattr(connections, "close_all", lambda: None)


def carte(*argv: str) -> int:
    """Run `carte ARGV...` in-process; the exit status, as the shell would see it."""
    try:
        return main(list(argv))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1


def carte_subprocess(tmp_path: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the installed script against a fresh SQLite database under `tmp_path`."""
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "CARTE_PRODUCTION", "DJANGO_SETTINGS_MODULE"}
    }
    full_env = {**base, "DATABASE_URL": "", "CARTE_VAR_DIR": str(tmp_path), **env}
    return subprocess.run(
        [str(CARTE), *argv],
        env=full_env,
        capture_output=True,
        text=True,
        # A guard against a hang, not a timing: migrating and loading the demo takes
        # about 40 s alone and several times that on a machine busy with other suites.
        timeout=600,
        check=False,
    )


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got {lines!r}"
    return lines[0]


# ---------------------------------------------------------------- usage


def test_it_prints_the_usage_without_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert carte() == 0
    assert "token create EMAIL" in capsys.readouterr().out


# ---------------------------------------------------------------- tokens


def test_it_creates_a_token_that_works_against_the_api(
    staff: Any, org: Organisation, capsys: pytest.CaptureFixture[str]
) -> None:
    assert carte("token", "create", staff.user.email.upper(), "--name", "ci") == 0

    out, err = capsys.readouterr()
    raw = one_line(out)
    token = ApiToken.objects.get(user=staff.user, name="ci")
    assert f"Token {token.pk} created" in err
    assert token.organisation is None
    response = ApiClient(raw).get(f"/api/v1/orgs/{org.slug}/pmos")
    assert response.status_code == 200


def test_it_creates_a_token_limited_to_one_organisation(
    staff: Any, org: Organisation, capsys: pytest.CaptureFixture[str]
) -> None:
    other = MembershipFactory(user=staff.user, roles=[OrgRole.STAFF]).organisation

    assert carte("token", "create", staff.user.email, "--org", org.slug) == 0

    client = ApiClient(one_line(capsys.readouterr().out))
    assert client.get(f"/api/v1/orgs/{org.slug}/pmos").status_code == 200
    assert client.get(f"/api/v1/orgs/{other.slug}/pmos").status_code == 404


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nobody@acme.example"], "No login with e-mail nobody@acme.example."),
        (["{email}", "--org", "no-such-org"], "No organisation 'no-such-org'."),
        (["{email}", "--org", "globex"], "not a member of this organisation"),
        (["{email}", "--name", "   "], "Give the token a name."),
    ],
    ids=["unknown-email", "unknown-org", "not-a-member", "blank-name"],
)
def test_it_refuses_bad_token_input_with_exit_2_and_writes_nothing(
    staff: Any,
    other_org: Organisation,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    before = ApiToken.objects.count()
    args = [a.format(email=staff.user.email) for a in argv]

    assert carte("token", "create", *args) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert message in one_line(err)
    assert ApiToken.objects.count() == before


def test_it_revokes_a_token(
    staff: Any, org: Organisation, capsys: pytest.CaptureFixture[str]
) -> None:
    carte("token", "create", staff.user.email)
    client = ApiClient(one_line(capsys.readouterr().out))
    token = ApiToken.objects.filter(user=staff.user).latest("id")

    assert carte("token", "revoke", staff.user.email, str(token.pk)) == 0

    assert one_line(capsys.readouterr().out) == f"Token {token.pk} revoked."
    assert client.get(f"/api/v1/orgs/{org.slug}/pmos").status_code == 401
    assert staff.api.get(f"/api/v1/orgs/{org.slug}/pmos").status_code == 200


def test_it_refuses_revoking_another_users_token(
    staff: Any, viewer: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    token = ApiToken.objects.get(user=viewer.user)

    assert carte("token", "revoke", staff.user.email, str(token.pk)) == 2

    assert "No such token." in one_line(capsys.readouterr().err)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


# ---------------------------------------------------------------- createadmin


def test_it_creates_an_organisation_and_its_admin(
    db: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code = carte(
        "createadmin",
        "--email",
        "Boss@Initech.example",
        "--org",
        "initech",
        "--org-name",
        "Initech",
        "--name",
        "Bill Lumbergh",
        "--password",
        STRONG_PASSWORD,
    )

    assert code == 0
    assert "boss@initech.example is an administrator of Initech." in capsys.readouterr().out
    org = Organisation.objects.get(slug="initech")
    membership = Membership.objects.get(organisation=org)
    assert membership.user.email == "boss@initech.example"
    assert membership.role_list == [OrgRole.ADMIN]
    assert authenticate(username="BOSS@initech.example", password=STRONG_PASSWORD) is not None
    assert AuditEntry.objects.filter(organisation=org, actor_label="system").count() == 2


def test_it_makes_an_existing_member_an_admin(
    staff: Any, org: Organisation, capsys: pytest.CaptureFixture[str]
) -> None:
    code = carte(
        "createadmin", "--email", staff.user.email, "--org", org.slug, "--password", STRONG_PASSWORD
    )

    assert code == 0
    membership = Membership.objects.get(user=staff.user, organisation=org)
    assert membership.role_list == [OrgRole.ADMIN, OrgRole.STAFF]
    assert Organisation.objects.count() == 1


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("boss@initech.example", "password", "too common"),
        ("boss@initech.example", "short1", "too short"),
        ("boss@initech.example", "1234567890123", "entirely numeric"),
        ("not-an-email", STRONG_PASSWORD, "email: Enter a valid e-mail address."),
    ],
    ids=["common", "short", "numeric", "bad-email"],
)
def test_it_refuses_a_weak_password_or_bad_email_and_writes_nothing(
    db: None, capsys: pytest.CaptureFixture[str], email: str, password: str, message: str
) -> None:
    code = carte("createadmin", "--email", email, "--org", "initech", "--password", password)

    assert code == 2
    assert message in one_line(capsys.readouterr().err)
    assert not Organisation.objects.exists()
    assert not User.objects.exists()
    assert not AuditEntry.objects.exists()


def test_it_refuses_an_invalid_organisation_slug(
    db: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code = carte("createadmin", "--email", "a@b.example", "--org", "Not A Slug", "--password", "x")

    assert code == 2
    assert "slug" in one_line(capsys.readouterr().err)
    assert not Organisation.objects.exists()


# ---------------------------------------------------------------- demo


def test_it_loads_the_demo_once(db: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert carte("demo") == 0
    assert DEMO_PASSWORD in capsys.readouterr().out
    assert set(Organisation.objects.values_list("slug", flat=True)) == set(DEMO_SLUGS)
    counts = (Person.objects.count(), AuditEntry.objects.count(), User.objects.count())

    assert carte("demo") == 0

    assert "already there" in capsys.readouterr().out
    assert (Person.objects.count(), AuditEntry.objects.count(), User.objects.count()) == counts


def test_it_refuses_the_demo_in_production_unless_forced(
    db: None, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.PRODUCTION = True

    assert carte("demo") == 2
    assert "production" in one_line(capsys.readouterr().err)
    assert not Organisation.objects.exists()

    assert carte("demo", "--force") == 0
    assert Organisation.objects.filter(slug__in=DEMO_SLUGS).count() == 2


# ---------------------------------------------------------------- manage


def test_it_passes_manage_to_django(db: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert carte("manage", "showmigrations", "organisations") == 0

    out = capsys.readouterr().out
    assert "organisations" in out
    assert "[X] 0001_initial" in out


# ---------------------------------------------------------------- subprocess: check, run


def test_it_passes_the_deploy_checks_in_production(tmp_path: Path) -> None:
    result = carte_subprocess(
        tmp_path,
        "check",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="carte.example.org",
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_it_refuses_the_deploy_checks_without_a_secret_key(tmp_path: Path) -> None:
    result = carte_subprocess(tmp_path, "check", ALLOWED_HOSTS="carte.example.org")

    assert result.returncode == 2
    assert "SECRET_KEY" in one_line(result.stderr)


def test_it_prepares_an_empty_database_and_prints_the_demo_logins(tmp_path: Path) -> None:
    result = carte_subprocess(tmp_path, "run", "--no-serve", "--port", "8123")

    assert result.returncode == 0, result.stderr
    assert "Carte is serving on http://127.0.0.1:8123" in result.stdout
    assert "admin@northwind.example" in result.stdout
    assert "consultant@provider.example" in result.stdout
    assert DEMO_PASSWORD in result.stdout
    db = sqlite3.connect(tmp_path / "carte.sqlite3")
    try:
        slugs = {row[0] for row in db.execute("SELECT slug FROM organisations_organisation")}
    finally:
        db.close()
    assert slugs == set(DEMO_SLUGS)


def test_it_does_not_load_the_demo_into_a_database_that_has_data(
    org: Organisation, capsys: pytest.CaptureFixture[str]
) -> None:
    assert carte("run", "--no-serve") == 0

    out = capsys.readouterr().out
    assert "Empty database" not in out
    assert "Carte is serving on http://127.0.0.1:" in out
    assert list(Organisation.objects.values_list("slug", flat=True)) == [org.slug]
