"""Two people press the same transition at the same moment: exactly one succeeds, the
other is told the service has just moved. PostgreSQL only: SQLite serialises write
transactions by itself, so there is no race to lose there."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection

from carte.catalogue.choices import Stage
from carte.catalogue.models import Service
from carte.core.errors import DomainError
from carte.lifecycle import services
from carte.lifecycle.models import LifecycleEvent, SetupDecision
from carte.lifecycle.services import moves
from carte.lifecycle.tests.conftest import World
from carte.organisations.actor import Actor

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks (PostgreSQL)"),
    pytest.mark.django_db(transaction=True),
]


def test_two_directors_approving_at_once_one_wins_the_other_is_told(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    second_director = world.director  # the same right, pressed twice
    inside = threading.Event()
    real = moves.WRITERS["approve"]

    def slow_decision(actor: Actor, service: Service, payload: dict[str, Any]) -> None:
        # The first press holds the service's row lock while it writes the decision.
        real(actor, service, payload)
        if threading.current_thread().name == "first":
            inside.set()
            time.sleep(0.5)

    monkeypatch.setitem(moves.WRITERS, "approve", slow_decision)
    outcomes: dict[str, Any] = {}

    def press(name: str) -> None:
        try:
            actor = Actor(
                user=second_director.user,
                organisation=world.org,
                roles=frozenset(second_director.roles),
            )
            service = Service.objects.get(pk=world.service.pk)  # this thread's own read
            outcomes[name] = services.transition(
                actor=actor,
                service=service,
                to=Stage.APPROVED_FOR_SETUP,
                expected_from=Stage.PROPOSED,
                **world.decision(),
            )
        except Exception as exc:  # a DomainError expected; anything else fails below
            outcomes[name] = exc
        finally:
            connection.close()

    first = threading.Thread(target=press, args=("first",), name="first")
    second = threading.Thread(target=press, args=("second",), name="second")
    first.start()
    assert inside.wait(10), "the first press never reached the decision"
    started = time.monotonic()
    second.start()  # blocks on the row lock the first press holds
    first.join(10)
    second.join(10)
    assert not first.is_alive() and not second.is_alive()

    assert isinstance(outcomes["first"], LifecycleEvent), outcomes["first"]
    refusal = outcomes["second"]
    assert isinstance(refusal, DomainError), refusal
    assert refusal.code == "conflict"
    assert "just moved from Proposed to Approved for set-up" in refusal.message
    assert "reload" in refusal.message
    assert time.monotonic() - started > 0.2, "the second press did not wait for the lock"

    world.service.refresh_from_db()
    assert world.service.stage == Stage.APPROVED_FOR_SETUP
    assert LifecycleEvent.objects.filter(service=world.service, kind="transition").count() == 1
    assert SetupDecision.objects.filter(service=world.service).count() == 1
