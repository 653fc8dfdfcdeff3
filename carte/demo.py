"""The demo: `northwind` (a manufacturing group) and `riverside` (a hospital trust), with a
login for every role, their catalogues, the lives of their services and their running.

Each app has its own demo loader and knows nothing of the apps above it; this module, at
the project level, calls them in the order of the stack, for each organisation: the
organisations, then the catalogue (a file in its export format, through its importer),
then the lifecycle (every service walked to its stage), then operations (a year of
running). A later app appends its loader below. What a loader needs from an earlier one is
handed over explicitly: the catalogue's services by code.
"""

from __future__ import annotations

from django.db import transaction

from carte.catalogue.demo import load_catalogue_demo
from carte.lifecycle.demo import load_lifecycle_demo
from carte.operations.demo import load_operations_demo
from carte.organisations.actor import Actor
from carte.organisations.demo import load_organisations_demo


@transaction.atomic
def load_demo(*, reset: bool = False) -> bool:
    """Load the whole demo, all or nothing; False when it is already there (and no reset:
    with `reset`, the demo organisations are removed and loaded afresh)."""
    organisations = load_organisations_demo(reset=reset)
    for org in organisations:
        actor = Actor.for_system(org)  # every loader writes as the system
        by_code = load_catalogue_demo(actor=actor)
        load_lifecycle_demo(actor=actor, by_code=by_code)
        load_operations_demo(actor=actor, by_code=by_code)
    return bool(organisations)
