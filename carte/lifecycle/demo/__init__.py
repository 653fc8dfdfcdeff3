"""The demo organisations' service lives, walked through the real lifecycle functions.

The catalogue demo imports every service at `proposed`; this demo takes each to the stage
`STAGES` gives it by the same transitions a PMO would make, each dated in the past with
`as_of`, so timelines, ages in stage and checklists look lived-in: the story begins
`BEGIN_DAYS` ago (the Centre of Excellence's templates), running services went live
between about 22 and 14 months ago (so each has a year of KPI reports); a few services
tell the stories the issue asks for (`stories`), up to the present:

- a proposal awaiting the Director's decision, one deferred and one rejected;
- a service in its second pilot iteration with one criterion still unmet;
- a signed-off service whose first readiness assessment said "not ready";
- a service in a phased transition, with a temporary supporting service beside it;
- a temporary service past its agreed end date, due for closure;
- a service closing, its artefact review under way;
- a closed service with its artefact decisions, and a successor another PMO started
  from the artefacts it kept.

Then a few running services change and publish a second version (`REVISIONS`), weeks
ago, so versions can be compared.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from carte.catalogue import services as catalogue
from carte.catalogue.choices import Stage
from carte.catalogue.models import Service
from carte.core.clock import as_of
from carte.lifecycle.demo.stories import STORIES, northwind_extras
from carte.lifecycle.demo.walk import Walk, cast_for
from carte.organisations.actor import Actor

RUNNING = Stage.RUNNING
BEGIN_DAYS = 770  # the first step of the story, days before the demo is loaded
FIRST_LIVE_DAYS = 760  # when the first running service's walk starts
LIVE_EVERY_DAYS = 10  # and each next one's, later

# Where each demo service ends up, in the order the stories are told: running services
# went live in this order, the first the longest ago; the first service at `pilot` is in
# its second iteration. A service not named stays `proposed`.
STAGES: dict[str, dict[str, Stage]] = {
    "northwind": {
        "GOV-01": RUNNING,
        "GOV-02": RUNNING,
        "GOV-03": RUNNING,
        "GOV-04": RUNNING,
        "GOV-05": RUNNING,
        "GOV-06": Stage.CLOSING,
        "POR-01": RUNNING,
        "POR-02": RUNNING,
        "POR-03": Stage.APPROVED_FOR_SETUP,
        "POR-04": RUNNING,
        "PLN-01": RUNNING,
        "PLN-02": RUNNING,
        "PLN-03": RUNNING,
        "PLN-04": Stage.PILOT,
        "REP-01": RUNNING,
        "REP-02": Stage.DESIGN,
        "REP-03": RUNNING,
        "REP-04": RUNNING,
        "CAP-01": RUNNING,
        "CAP-02": RUNNING,
        "CAP-03": RUNNING,
        "CAP-04": Stage.SIGNED_OFF,
        "CAP-05": RUNNING,
        "CAP-06": Stage.CLOSED,
        "RES-01": Stage.TRANSITION,
        "CHG-01": RUNNING,
        "CHG-02": RUNNING,
        "CHG-03": Stage.PILOT,
    },
    "riverside": {
        "TGV-01": RUNNING,
        "TRP-01": RUNNING,
        "TRK-01": RUNNING,
        "TBC-01": RUNNING,
        "TBN-01": RUNNING,
        "TEN-01": Stage.PILOT,
        "TTR-01": Stage.DESIGN,
    },
}

# A second version of a few running services: code, the fields changed, a symptom the
# service now also answers (statement, weight), the note of the version, how many days
# before the demo is loaded.
Revision = tuple[str, dict[str, Any], tuple[str, int], str, int]
REVISIONS: dict[str, tuple[Revision, ...]] = {
    "northwind": (
        (
            "REP-01",
            {"hours": "Mon-Fri 08:00-18:00 CET; pack issued by working day five"},
            ("Steering meetings end without clear decisions", 2),
            "Longer hours; now also helps boards decide.",
            30,
        ),
        (
            "GOV-03",
            {"summary": "An independent look at how a project is really doing, and why."},
            ("Risks are first heard of when they have already happened", 3),
            "Summary reworded; linked to early risk warning.",
            75,
        ),
    ),
    "riverside": (
        (
            "TRP-01",
            {"summary": "A monthly one-page highlight report for each programme."},
            ("Programme risks reach the board only once they are incidents", 2),
            "Summary clarified; linked to risk escalation.",
            40,
        ),
    ),
}


def load_lifecycle_demo(*, actor: Actor, by_code: dict[str, Service]) -> None:
    """Walk each demo service of the actor's organisation (the system actor) to its stage,
    dated in the past, then publish the second versions. `by_code`: the services the
    catalogue demo imported, by code."""
    slug = actor.organisation.slug
    stages = STAGES.get(slug)
    if stages is None or not by_code:
        return
    now = timezone.now()
    with as_of(now - dt.timedelta(days=BEGIN_DAYS)):
        cast = cast_for(actor)
    running = [code for code, stage in stages.items() if stage == RUNNING]
    # Running services went live one after the other, the oldest first.
    for index, code in enumerate(running):
        start = now - dt.timedelta(days=FIRST_LIVE_DAYS - index * LIVE_EVERY_DAYS)
        Walk(cast, by_code[code], start).to_running()
    done: set[str] = set()
    for code, stage in stages.items():
        story = STORIES.get(stage)
        if story is not None:
            story(cast, by_code[code], by_code, done)
            done.add(stage)
    if slug == "northwind":
        northwind_extras(cast, by_code)
    for code, changes, (statement, weight), note, days_ago in REVISIONS.get(slug, ()):
        service = by_code[code]
        with as_of(now - dt.timedelta(days=days_ago)):
            catalogue.service_update(actor=actor, service=service, data=dict(changes))
            catalogue.part_create(
                actor=actor,
                service=service,
                kind="symptoms",
                data={"statement": statement, "weight": weight},
            )
            catalogue.service_publish(actor=actor, service=service, note=note)
