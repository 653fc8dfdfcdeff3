""" "My work": what waits for one person, whatever their role, gathered from every app.

`core` knows no app: each app registers the kinds of work it knows (`register_work`) when
it loads (its `AppConfig.ready`), and the My work page and the home page list them in
`order`. A `WorkSource.collect(actor, limit)` answers how many items wait for the actor
and the first `limit` of them, most urgent first, in a bounded number of queries whatever
the data size; it shows only what the actor may open (the links are theirs to follow).
A source that does not apply to the actor (a customer has no reports to make) answers
`(0, [])` and its section is left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from carte.core.permissions import ActorLike


@dataclass(frozen=True)
class WorkItem:
    """One thing waiting for the person: what it is, where to act on it, and when it is due."""

    title: str
    url: str
    context: str = ""  # where it belongs: the service, the level, the requester
    due: dt.date | None = None
    overdue: bool = False


@dataclass(frozen=True)
class WorkSource:
    """A kind of work an app knows: its section of the My work page."""

    key: str  # the section's anchor on the page
    title: str  # "Reports due"
    order: int  # sections run in this order
    collect: Callable[[ActorLike, int], tuple[int, list[WorkItem]]]
    empty: str = "Nothing waiting."
    more: Callable[[ActorLike], str] | None = None  # the full list, where there is one


@dataclass(frozen=True)
class WorkSection:
    source: WorkSource
    count: int
    items: list[WorkItem] = field(default_factory=list)
    more: str | None = None  # the full list, where there is one

    @property
    def overdue(self) -> int:
        return sum(1 for i in self.items if i.overdue)


def first_rows(qs: QuerySet[Any], limit: int) -> tuple[int, list[Any]]:
    """How many rows `qs` holds and its first `limit`: one query when they all fit, two
    otherwise (the count only when there are more than shown)."""
    rows = list(qs[: limit + 1])
    count = len(rows) if len(rows) <= limit else qs.count()
    return count, rows[:limit]


_SOURCES: dict[str, WorkSource] = {}


def register_work(source: WorkSource) -> WorkSource:
    """Add a kind of work (again under its key: the last registration wins)."""
    _SOURCES[source.key] = source
    return source


def work_sources() -> list[WorkSource]:
    return sorted(_SOURCES.values(), key=lambda s: (s.order, s.key))


def my_work(actor: ActorLike, *, limit: int) -> list[WorkSection]:
    """The sections that apply to the actor, each with its count and first `limit` items."""
    sections = []
    for source in work_sources():
        count, items = source.collect(actor, limit)
        if count:
            more = source.more(actor) if source.more else None
            sections.append(WorkSection(source, count, items[:limit], more))
    return sections
