"""`carte notify` run on two machines at the same moment: every notice is recorded once
and e-mailed once. PostgreSQL only: SQLite serialises write transactions by itself, so
there is no race to lose there."""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.db import connection

from carte.core.clock import as_of
from carte.operations.models import Notice, ServiceLevelTarget
from carte.operations.services import notify
from carte.operations.services.measurements import Reading, measurements_record
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import KPIFactory

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs real concurrency"),
    pytest.mark.django_db(transaction=True),
]


def test_it_records_and_sends_each_notice_once_when_two_runs_race(
    ops: Ops, monkeypatch: pytest.MonkeyPatch
) -> None:
    kpis = [
        KPIFactory(service=ops.service, reporter_role=role)
        for role in ("operative", "manager", "owner", "operative", "manager")
    ]
    with as_of(dt.datetime(2026, 5, 10, 9, tzinfo=dt.UTC)):
        measurements_record(
            actor=ops.system,
            readings=[Reading(k, "2026-04-01", "80", row=i) for i, k in enumerate(kpis)],
        )
    for n, kpi in enumerate(kpis[:2], start=1):
        ServiceLevelTarget.objects.create(
            organisation=ops.org,
            service=ops.service,
            customer_group=ops.group,
            kpi=kpi,
            statement=f"Level {n}: 95% of highlight reports issued by the fifth working day",
            target=Decimal(95),
        )
    real_send = EmailMessage.send

    def slow_send(self: EmailMessage, fail_silently: bool = False) -> int:
        time.sleep(0.005)  # so the two runs walk the same list of notices together
        return real_send(self, fail_silently)

    monkeypatch.setattr(EmailMessage, "send", slow_send)
    start = threading.Barrier(2, timeout=10)
    outcomes: dict[str, Any] = {}

    def run(name: str) -> None:
        try:
            start.wait()
            with as_of(dt.datetime(2026, 6, 10, 9, tzinfo=dt.UTC)):
                counts = notify.notify_due(organisation=ops.org)
                outcomes[name] = (counts, notify.deliver())
        except Exception as exc:  # reported below
            outcomes[name] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,), name=n) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert all(isinstance(o, tuple) for o in outcomes.values()), outcomes

    # 5 overdue reports (reporters + the manager) and 2 levels missed (manager + owner).
    expected = {
        *(f"kpi_overdue:kpi:{k.pk}:2026-05-01" for k in kpis),
        *(
            notify.level_key(t.kpi_id, t.level_id, "2026-04-01")
            for t in ServiceLevelTarget.objects.all()
        ),
    }
    rows = list(Notice.objects.values_list("recipient_id", "key"))
    assert {key for _, key in rows} == expected
    # Overdue: reporter + manager (one person for the managers own KPIs): 2+1+2+2+1.
    assert len(rows) == len(set(rows)) == 8 + 4
    assert len(mail.outbox) == len(rows)
    assert len({(m.to[0], m.subject) for m in mail.outbox}) == len(rows)
    assert sum(sent for _, sent in outcomes.values()) == len(rows)
    assert not Notice.objects.filter(emailed_at__isnull=True).exists()
