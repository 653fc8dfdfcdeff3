"""Demo inboxes: after every other part has written its history (and the escalations and
decisions their notices), sweep for the reports due and overdue and the service levels
missed, as `carte notify` would today. The demo's notices count as e-mailed already, so a
first `carte notify` after loading the demo does not send a flood of messages about
things that happened months ago; those older than a month are marked read, as a
person working through their inbox would have."""

from __future__ import annotations

import datetime as dt

from carte.catalogue.models import Service
from carte.core.clock import now
from carte.operations.services.notify import notices_settle, notify_due
from carte.organisations.actor import Actor


def load(*, actor: Actor, by_code: dict[str, Service]) -> None:
    org = actor.organisation
    notify_due(organisation=org)
    notices_settle(organisation=org, read_before=now() - dt.timedelta(days=30))
