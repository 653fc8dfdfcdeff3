"""The time domain records say things happened: now, or a past moment set by `as_of`.

Entering history (decisions taken before Carte was in use), the demo and the benchmarks
record lifecycle steps and operations (measurements, escalations, decisions) as of past
moments; the audit trail still says when each row was written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.utils import timezone

_AS_OF: ContextVar[dt.datetime | None] = ContextVar("as_of", default=None)


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
