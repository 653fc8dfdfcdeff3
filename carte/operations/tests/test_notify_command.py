"""`carte notify`: sweeps then e-mails, prints counts, a second run does nothing, a dry
run changes nothing, and bad input is one line with exit code 2."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from carte.cli import main
from carte.core.clock import as_of
from carte.operations.models import Notice
from carte.operations.services.measurements import Reading, measurements_record
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import KPIFactory

pytestmark = pytest.mark.django_db

WHEN = dt.datetime(2026, 6, 8, 7, tzinfo=dt.UTC)


def run(*args: str) -> str:
    out = StringIO()
    with as_of(WHEN):
        call_command("notify", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def overdue(ops: Ops) -> Ops:
    """One report overdue on 8 June (May's, due on 5 June), reported by the operative."""
    kpi = KPIFactory(service=ops.service, reporter_role="operative", name="Status packs on time")
    with as_of(dt.datetime(2026, 5, 10, tzinfo=dt.UTC)):
        measurements_record(actor=ops.system, readings=[Reading(kpi, "2026-04-01", "97")])
    return ops


def test_it_records_then_e_mails_and_a_second_run_does_nothing(overdue: Ops) -> None:
    assert run().splitlines() == [
        "acme: recorded 2 notices (0 due soon, 2 overdue, "
        "0 service levels missed, 0 decisions waiting)",
        "globex: recorded 0 notices (0 due soon, 0 overdue, "
        "0 service levels missed, 0 decisions waiting)",
        "e-mailed 2 notices",
    ]
    assert sorted(m.to[0] for m in mail.outbox) == [
        "manager@acme.example",
        "operative@acme.example",
    ]
    assert "Report overdue: Status packs on time (REP) for May 2026" in mail.outbox[0].subject
    assert run("--org", "acme").splitlines() == [
        "acme: recorded 0 notices (0 due soon, 0 overdue, "
        "0 service levels missed, 0 decisions waiting)",
        "e-mailed 0 notices",
    ]
    assert len(mail.outbox) == 2
    assert Notice.objects.count() == 2


def test_a_dry_run_says_what_it_would_do_and_changes_nothing(overdue: Ops) -> None:
    assert run("--org", "acme", "--dry-run").splitlines() == [
        "acme: would record 2 notices (0 due soon, 2 overdue, "
        "0 service levels missed, 0 decisions waiting)",
        "would e-mail 2 notices",
    ]
    assert not Notice.objects.exists()
    assert mail.outbox == []
    assert run("--org", "acme", "--limit", "1").splitlines()[-1] == "e-mailed 1 notice"
    assert Notice.objects.filter(emailed_at__isnull=True).count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "nowhere"], "No organisation 'nowhere'."),
        (["--limit", "-1"], "--limit must be 0 or more."),
    ],
)
def test_it_refuses_bad_input_with_exit_code_2(overdue: Ops, args: list[str], message: str) -> None:
    with pytest.raises(CommandError) as caught:
        run(*args)
    assert str(caught.value) == message
    assert caught.value.returncode == 2
    assert not Notice.objects.exists()


def test_the_carte_command_runs_it_and_exits_2_on_bad_input(
    overdue: Ops, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A command run from the command line closes every connection when it ends; in-process
    # that would close the test's transaction on PostgreSQL.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    with pytest.raises(SystemExit) as caught:
        main(["notify", "--org", "nowhere"])
    assert caught.value.code == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "CommandError: No organisation 'nowhere'."
    ]
    with as_of(WHEN):
        assert main(["notify", "--org", "acme"]) == 0
    assert "e-mailed 2 notices" in capsys.readouterr().out
    assert main(["--help"]) == 0
    assert "notify [--org SLUG]" in capsys.readouterr().out
