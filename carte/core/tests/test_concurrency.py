"""Many people change the same object at the same moment: every change is kept in the
audit trail with the value it replaced, so each entry's "before" is the previous entry's
"after" and the last "after" is what is stored. PostgreSQL only: SQLite serialises write
transactions by itself, so there is no race to lose there."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client

from carte.conftest import Persona
from carte.core.models import AuditAction, AuditEntry

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks (PostgreSQL)"),
    pytest.mark.django_db(transaction=True),
]

WRITERS = 20


def _at_once(requests: list[tuple[str, dict[str, Any]]], persona: Persona) -> list[Any]:
    """PATCH each (path, body) from its own thread (so its own database connection), all
    released together; the responses in the order given."""
    start = threading.Barrier(len(requests), timeout=30)
    answers: list[Any] = [None] * len(requests)

    def run(n: int, path: str, body: dict[str, Any]) -> None:
        client = Client()  # one per thread: a test client keeps state between requests
        try:
            start.wait()
            answers[n] = client.patch(
                path, body, content_type="application/json", headers=persona.api.headers
            )
        except Exception as exc:  # reported by the test's assertions
            answers[n] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(n, path, body))
        for n, (path, body) in enumerate(requests)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    return answers


def test_twenty_updates_at_once_each_audit_entry_starts_where_the_previous_ended(
    admin: Persona,
) -> None:
    base = f"/api/v1/orgs/{admin.organisation.slug}/pmos"
    made = admin.api.post(base, {"name": "Portfolio office", "description": "v0"})
    assert made.status_code == 201, made.content
    pmo_id = made.json()["id"]
    path = f"{base}/{pmo_id}"

    answers = _at_once([(path, {"description": f"v{n + 1}"}) for n in range(WRITERS)], admin)

    assert [getattr(a, "status_code", a) for a in answers] == [200] * WRITERS
    entries = list(
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get(app_label="organisations", model="pmo"),
            object_id=pmo_id,
            action=AuditAction.UPDATE,
        ).order_by("id")  # written under the row lock: in the order of the changes
    )
    assert len(entries) == WRITERS  # every value differs from every other: each is a change
    chain = [e.changes["description"] for e in entries]
    befores = [c["before"] for c in chain]
    afters = [c["after"] for c in chain]
    assert befores == ["v0", *afters[:-1]], "an entry's 'before' was not the value it replaced"
    assert sorted(afters, key=lambda v: int(v[1:])) == [f"v{n + 1}" for n in range(WRITERS)]
    stored = admin.api.get(path).json()["description"]
    assert stored == afters[-1]
