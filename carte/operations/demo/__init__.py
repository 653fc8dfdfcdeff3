"""Demo data of running the services: twelve months of KPI reports, service levels, risks
and issues at each level, change requests in every state, improvements and feedback.
Written through the operations services, dated in the past with `core.clock.as_of`."""

from __future__ import annotations

from carte.catalogue.models import Service
from carte.organisations.actor import Actor


def load_operations_demo(*, actor: Actor, by_code: dict[str, Service]) -> None:
    """Run each part's demo in order: service levels need KPIs, changes need risks,
    the inboxes need everything else."""
    from carte.operations.demo import changes, items, kpis, levels, notify

    for part in (kpis, levels, items, changes, notify):
        part.load(actor=actor, by_code=by_code)
