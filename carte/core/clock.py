"""The time domain records say things happened: now, or a past moment set by `as_of`.

Entering history (decisions taken before Carte was in use) and the benchmarks record
lifecycle steps and operations (measurements, escalations, decisions) as of past moments;
the audit trail still says when each row was written. A loader that tells a whole made-up
story (the demo) says so with `loading`: inside it, the audit trail bears the story's
moments too, each entry marked as loaded, so the History tab tells the same story as the
timeline without passing the story off as real work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.utils import timezone

_AS_OF: ContextVar[dt.datetime | None] = ContextVar("as_of", default=None)
_LOADING: ContextVar[str | None] = ContextVar("loading", default=None)


def now() -> dt.datetime:
    """When a record says it happened: now, or the moment `as_of` sets."""
    return _AS_OF.get() or timezone.now()


def today() -> dt.date:
    return timezone.localdate(now())


@contextmanager
def as_of(moment: dt.datetime) -> Iterator[None]:
    """Record what happens inside the block as of `moment`."""
    token = _AS_OF.set(moment)
    try:
        yield
    finally:
        _AS_OF.reset(token)


@contextmanager
def loading(mark: str) -> Iterator[None]:
    """Load a made-up story inside the block: its audit entries bear the moments `as_of`
    sets and carry `mark` (such as "demo data") beside who wrote them."""
    token = _LOADING.set(mark)
    try:
        yield
    finally:
        _LOADING.reset(token)


def loading_mark() -> str | None:
    """The mark of the story being loaded (`loading`), or None for real work."""
    return _LOADING.get()
