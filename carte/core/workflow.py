"""Workflows as data: a table of moves, and the one function that makes a move.

An app describes a workflow once, as a `Workflow`: its table of `Move`s (from which state
to which, named, labelled, the right each needs, the payload it takes, its checks) and
the few things only the app knows (how a row's state is read and stored, the event row).
`apply_move()` then makes every move the same way, in one transaction: it locks the
row, and refuses, before anything is written,

- a stale form: the row is no longer in the state the caller saw (409),
- a move that does not exist from the current state (409, the app says what is allowed),
- an actor without the move's right (403, the right's refusal),
- unmet checks (409, each listed in `extra["unmet"]`),
- a bad payload: a missing note, a field the move does not take (422, naming the field);

then runs the move's writer (given by the service that makes the move; it may refuse
the payload's values too, 422, before it writes), stores the new state with the row's
other changed fields in the app's one statement, and records the audit entry and the
event row. The service lifecycle, change requests, improvements and the escalation of
risks and issues use it (docs/architecture.md, "Workflows").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

from django.db import models, transaction
from django.db.models import QuerySet

from carte.core import audit
from carte.core.clock import as_of, now
from carte.core.errors import CONFLICT, DomainError, forbidden
from carte.core.models import AuditAction
from carte.core.permissions import Action, ActorLike, can

R = TypeVar("R", bound=models.Model)  # the row that moves
T = TypeVar("T")  # what a move's checks read: the row, or facts about it
S = TypeVar("S", bound=Hashable)  # a state: a stage, a status, a level...
K = TypeVar("K", bound=Enum)  # the kinds of payload the app's moves take
E = TypeVar("E")  # the event row a move leaves

Values = Mapping[str, Any]  # fields of the moving row, by name


@dataclass(frozen=True)
class Check:
    """One condition of a move: `code` is stable (for the API and tests), `label` says it
    for people, `hint` what to do about it."""

    code: str
    label: str
    met: bool
    hint: str = ""


def no_checks(facts: object) -> list[Check]:
    return []


@dataclass(frozen=True, kw_only=True)
class Move(Generic[T, S, K]):
    """One allowed move of a workflow: a row of its table."""

    source: S
    target: S
    name: str  # the verb: unique among the moves out of one state
    label: str  # the button
    right: Action  # who may make it; its refusal is the 403's message
    payload: K  # which form (and API payload) it takes
    checks: Callable[[T], Sequence[Check]] = no_checks  # what must be true first (409)
    note: str = ""  # the note is required: what to ask for when it is missing (422)


@dataclass(frozen=True)
class Step(Generic[R, S, K]):
    """A move being made, as its writer and its event see it: the locked row, the move,
    the state it leaves, the note (stripped), the payload and the moment of the move."""

    actor: ActorLike
    row: R
    move: Move[Any, S, K]
    before: S
    note: str
    payload: Mapping[str, Any]
    at: dt.datetime


Writer = Callable[[Step[R, S, K]], Values | None]  # other fields of the row it sets, if any


def save_fields(row: models.Model, values: Values, at: dt.datetime) -> None:
    """The usual one statement: set the fields on the row and save only them (and the
    `updated_at` every tenant row has)."""
    for name, value in values.items():
        setattr(row, name, value)
    row.save(update_fields=[*values, "updated_at"])


def just_moved(row: models.Model, expected: object) -> DomainError:
    return DomainError(
        f"This {row._meta.verbose_name} has just moved: reload it to see where it is.",
        code=CONFLICT,
    )


def no_such_move(
    row: models.Model, current: object, asked: str, allowed: Sequence[Move[Any, Any, Any]]
) -> DomainError:
    ways = ", ".join(f"{m.label.lower()} ({m.name})" for m in allowed)
    return DomainError(
        f"This {row._meta.verbose_name} cannot {asked} now"
        + (f"; from here it can: {ways}." if ways else "."),
        code=CONFLICT,
    )


@dataclass(frozen=True, kw_only=True)
class Workflow(Generic[R, T, S, K, E]):
    """A workflow: its table of moves, and what only its app knows about its rows."""

    moves: Sequence[Move[T, S, K]]
    rows: QuerySet[R]  # where the moving row is locked from (with what writers read)
    state: Callable[[R], S]  # the row's state
    fields: Callable[[S], Values]  # a state as the row's fields
    takes: Mapping[K, frozenset[str]]  # the fields each kind of payload may hold
    facts: Callable[[R], T]  # what the checks read
    event: Callable[[Step[R, S, K]], E]  # records the event row
    save: Callable[[R, Values, dt.datetime], None] = save_fields  # the one statement
    stale: Callable[[R, S], DomainError] = just_moved  # (row, state the caller saw)
    # (row, current state, the move's name or target asked for, the moves allowed)
    refuse: Callable[[R, S, str, Sequence[Move[T, S, K]]], DomainError] = no_such_move

    def moves_from(self, state: S) -> list[Move[T, S, K]]:
        return [m for m in self.moves if m.source == state]


def apply_move(
    flow: Workflow[R, T, S, K, E],
    *,
    actor: ActorLike,
    obj: R,
    name: str | None = None,
    to: S | None = None,
    expected: S | None = None,
    note: str | None = "",
    payload: Mapping[str, Any] | None = None,
    write: Writer[R, S, K] | None = None,
) -> tuple[R, E]:
    """Make the move named `name` (or the one to `to`) on `obj`'s row, if it is still in
    the state `expected` (when given); return the locked row, as moved, and the event.

    `write` is the move's writer: the service that makes the move passes it (it knows
    the actor's type and what else its move takes). It checks the payload's values before
    it writes anything, then writes what the move records besides the state, and returns
    the moving row's other fields it sets (stored with the state in one statement).
    Nothing is written unless every condition holds; a writer that refuses rolls back."""
    if (name is None) == (to is None):
        raise ValueError("apply_move takes either the move's name or its target")
    with transaction.atomic():
        row = flow.rows.select_for_update(of=("self",)).get(pk=obj.pk)
        current = flow.state(row)
        if expected is not None and expected != current:
            raise flow.stale(row, expected)
        allowed = flow.moves_from(current)
        move = next(
            (m for m in allowed if (m.name == name if name is not None else m.target == to)),
            None,
        )
        if move is None:
            raise flow.refuse(row, current, name if name is not None else str(to), allowed)
        if not can(actor, move.right, row):
            raise forbidden(move.right.refusal)
        unmet = [c for c in move.checks(flow.facts(row)) if not c.met]
        if unmet:
            raise DomainError(
                f"{move.label} is not possible yet: "
                + "; ".join(c.label[0].lower() + c.label[1:] for c in unmet)
                + ".",
                code=CONFLICT,
                extra={
                    "unmet": [{"code": c.code, "label": c.label, "hint": c.hint} for c in unmet]
                },
            )
        text = (note or "").strip()
        if move.note and not text:
            raise DomainError.field("note", move.note)
        data = dict(payload or {})
        extra = sorted(set(data) - flow.takes[move.payload])
        if extra:
            raise DomainError.field(extra[0], "This move takes no such field.")
        at = now()
        step = Step(actor, row, move, current, text, data, at)
        with as_of(at):  # every record of the move bears the move's time
            values = {**((write(step) if write else None) or {}), **flow.fields(move.target)}
            before = {field: getattr(row, field) for field in values}
            flow.save(row, values, at)
            audit.record(
                actor=actor,
                obj=row,
                action=AuditAction.UPDATE,
                changes={
                    field: {"before": audit._plain(old), "after": audit._plain(values[field])}
                    for field, old in before.items()
                    if old != values[field]
                },
            )
            event = flow.event(step)
    return row, event


__all__ = [
    "Check",
    "Move",
    "Step",
    "Values",
    "Workflow",
    "Writer",
    "apply_move",
    "just_moved",
    "no_checks",
    "no_such_move",
    "save_fields",
]
