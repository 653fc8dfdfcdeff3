"""The demo: `northwind` (a manufacturing group) and `riverside` (a hospital trust), with a
login for every role, their catalogues, the lives of their services and their running.

Each app has its own demo loader and knows nothing of the apps above it; this module, at
the project level, calls them in the order of the stack, for each organisation: the
organisations (with their competence framework), then the catalogue (a file in its
export format, through its importer), then the lifecycle (every service walked to its
stage), then operations (a year of running), then capacity (people's competences,
availability and allocations). A later app appends its loader below. What a loader needs
from an earlier one is handed over explicitly: the catalogue's services by code.

The demo is one story told over about two years, up to the day it is loaded: every step
is written as of its moment in the story (`core.clock.as_of`), and under
`core.clock.loading` the audit trail bears those moments too, each entry marked
"(demo data)", so the History tab, the timeline and every date agree, and nobody takes
the story for work done in Carte. The organisations and their catalogues come first, a
few weeks before the lifecycle demo's first step.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from carte.capacity.demo import load_capacity_demo
from carte.catalogue.demo import load_catalogue_demo
from carte.core import clock
from carte.lifecycle.demo import BEGIN_DAYS, load_lifecycle_demo
from carte.operations.demo import load_operations_demo
from carte.organisations.actor import Actor
from carte.organisations.demo import load_organisations_demo

MARK = "demo data"  # beside the author of every audit entry the demo writes


@transaction.atomic
def load_demo(*, reset: bool = False) -> bool:
    """Load the whole demo, all or nothing; False when it is already there (and no reset:
    with `reset`, the demo organisations are removed and loaded afresh)."""
    set_up = timezone.now() - dt.timedelta(days=BEGIN_DAYS + 20)
    with clock.loading(MARK):
        with clock.as_of(set_up):
            organisations = load_organisations_demo(reset=reset)
        for org in organisations:
            actor = Actor.for_system(org)  # every loader writes as the system
            with clock.as_of(set_up + dt.timedelta(days=10)):
                by_code = load_catalogue_demo(actor=actor)
            load_lifecycle_demo(actor=actor, by_code=by_code)
            load_operations_demo(actor=actor, by_code=by_code)
            load_capacity_demo(actor=actor, by_code=by_code)
    return bool(organisations)
