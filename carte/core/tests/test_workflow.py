"""`core.workflow.apply_move` on a throwaway workflow of stand-in rows (core knows no app's
model): a move runs its writer, stores the state, audits and records its event in that
order and at one moment; each refusal (a stale form, no such move, no right, an unmet
check, a bad payload, a writer's refusal) is raised before anything is written."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from types import SimpleNamespace
from typing import Any, ClassVar, cast

import pytest

from carte.core import audit
from carte.core.clock import now
from carte.core.errors import DomainError
from carte.core.permissions import Action
from carte.core.testing import no_writes
from carte.core.workflow import Check, Move, Step, Values, Workflow, apply_move

pytestmark = pytest.mark.django_db  # `no_writes` counts the audit entries


class Kind(StrEnum):
    NOTE = "note"
    RESULT = "result"


@dataclass
class Ticket:
    """A stand-in for a model row: its state, and what the workflow's hooks did to it."""

    pk: int
    state: str
    ready: bool = True
    result: int | None = None
    saved: list[Values] = field(default_factory=list)
    _meta: ClassVar[Any] = SimpleNamespace(verbose_name="ticket")  # what refusals name


class Rows:
    """A stand-in for the queryset the row is locked from."""

    def __init__(self, ticket: Ticket) -> None:
        self.ticket = ticket
        self.locked = False

    def select_for_update(self, **kwargs: Any) -> Rows:
        self.locked = True
        return self

    def get(self, pk: int) -> Ticket:
        assert pk == self.ticket.pk
        return self.ticket


@dataclass(frozen=True)
class Clerk:
    roles: frozenset[str] = frozenset({"clerk"})
    user: Any = None
    organisation: Any = field(default_factory=lambda: SimpleNamespace(pk=1))
    system: bool = False
    staff_side: bool = True
    label: str = "Ann Clerk"
    cache: dict[str, Any] = field(default_factory=dict)


CLERK = Action("test.clerk", frozenset({"clerk"}), "Only a clerk may do this.")
CHIEF = Action("test.chief", frozenset({"chief"}), "Only the chief may reopen a ticket.")


def _ready(ticket: Ticket) -> list[Check]:
    return [Check("ready", "The ticket is ready", ticket.ready, "Get it ready.")]


TicketMove = Move[Ticket, str, Kind]
MOVES = (
    TicketMove(
        source="open",
        target="closed",
        name="close",
        label="Close",
        right=CLERK,
        payload=Kind.NOTE,
        note="Say why it can be closed.",
    ),
    TicketMove(
        source="open",
        target="done",
        name="finish",
        label="Finish",
        right=CLERK,
        payload=Kind.RESULT,
        checks=_ready,
    ),
    TicketMove(
        source="closed",
        target="open",
        name="reopen",
        label="Reopen",
        right=CHIEF,
        payload=Kind.NOTE,
    ),
)


class World:
    """A workflow over one ticket, whose hooks log what they are asked to do."""

    def __init__(self, state: str = "open") -> None:
        self.ticket = Ticket(pk=7, state=state)
        self.rows = Rows(self.ticket)
        self.log: list[str] = []
        self.audits: list[dict[str, Any]] = []
        self.flow: Workflow[Any, Ticket, str, Kind, dict[str, Any]] = Workflow(
            moves=MOVES,
            rows=cast(Any, self.rows),
            state=lambda t: t.state,
            fields=lambda state: {"state": state},
            takes={Kind.NOTE: frozenset(), Kind.RESULT: frozenset({"result"})},
            facts=lambda t: t,
            event=self.event,
            save=self.save,
        )

    def save(self, ticket: Ticket, values: Values, at: dt.datetime) -> None:
        self.log.append("save")
        for name, value in values.items():
            setattr(ticket, name, value)
        ticket.saved.append(dict(values))

    def event(self, step: Step[Any, str, Kind]) -> dict[str, Any]:
        self.log.append("event")
        return {"from": step.before, "to": step.move.target, "note": step.note, "at": step.at}

    def move(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        return apply_move(self.flow, actor=Clerk(), obj=self.ticket, **kwargs)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> World:
    made = World()

    def record(**kwargs: Any) -> None:
        made.log.append("audit")
        made.audits.append(kwargs)

    monkeypatch.setattr(audit, "record", record)
    return made


def refused(world: World, code: str, **kwargs: Any) -> DomainError:
    """The move is refused with `code`, and nothing is written: no statement, no save, no
    audit entry, no event."""
    with no_writes(), pytest.raises(DomainError) as caught:
        world.move(**kwargs)
    assert caught.value.code == code, caught.value.message
    assert world.log == [] and world.ticket.saved == []
    return caught.value


def test_it_locks_writes_stores_audits_and_records_in_order_at_one_moment(world: World) -> None:
    seen: list[dt.datetime] = []

    def write(step: Step[Any, str, Kind]) -> Values:
        world.log.append("write")
        seen.append(now())  # the writer's records bear the move's moment
        return {"result": step.payload["result"]}

    row, event = world.move(name="finish", note="  All done.  ", payload={"result": 5}, write=write)

    assert world.rows.locked
    assert world.log == ["write", "save", "audit", "event"]
    assert row is world.ticket and row.state == "done"
    assert world.ticket.saved == [{"result": 5, "state": "done"}]
    (entry,) = world.audits
    assert entry["obj"] is row and entry["changes"] == {
        "result": {"before": None, "after": 5},
        "state": {"before": "open", "after": "done"},
    }
    assert (event["from"], event["to"], event["note"]) == ("open", "done", "All done.")
    assert seen == [event["at"]]


def test_it_finds_a_move_by_its_target_too(world: World) -> None:
    world.move(to="closed", note="Duplicate.")
    assert world.ticket.state == "closed"
    assert world.audits[0]["changes"] == {"state": {"before": "open", "after": "closed"}}


def test_a_stale_form_is_a_conflict(world: World) -> None:
    error = refused(world, "conflict", name="close", expected="closed", note="Again.")
    assert "has just moved" in error.message


def test_a_move_that_does_not_exist_from_here_is_a_conflict_naming_the_ways_on(
    world: World,
) -> None:
    error = refused(world, "conflict", name="reopen", note="Back.")
    assert "close (close)" in error.message and "finish (finish)" in error.message


def test_a_move_without_its_right_is_forbidden_with_the_rights_refusal(world: World) -> None:
    world.ticket.state = "closed"
    error = refused(world, "forbidden", name="reopen", note="Back.")
    assert error.message == "Only the chief may reopen a ticket."


def test_unmet_checks_are_a_conflict_listing_each(world: World) -> None:
    world.ticket.ready = False
    error = refused(world, "conflict", name="finish", payload={"result": 1})
    assert error.message == "Finish is not possible yet: the ticket is ready."
    assert error.extra["unmet"] == [
        {"code": "ready", "label": "The ticket is ready", "hint": "Get it ready."}
    ]


def test_a_missing_note_or_a_field_the_move_does_not_take_is_invalid(world: World) -> None:
    error = refused(world, "invalid", name="close", note="   ")
    assert error.errors == {"note": ["Say why it can be closed."]}
    error = refused(world, "invalid", name="close", note="Done.", payload={"result": 1})
    assert error.errors == {"result": ["This move takes no such field."]}


def test_a_writer_that_refuses_its_payload_stops_the_move(world: World) -> None:
    def write(step: Step[Any, str, Kind]) -> Values:
        raise DomainError.field("result", "Give a result from 1 to 5.")

    error = refused(world, "invalid", name="finish", payload={"result": 9}, write=write)
    assert "result" in error.errors


def test_it_takes_the_name_or_the_target_not_both(world: World) -> None:
    with pytest.raises(ValueError):
        world.move(name="close", to="closed")
    with pytest.raises(ValueError):
        world.move()
