"""Who a background job acts as when a worker runs it (`core.jobs` knows no actor)."""

from __future__ import annotations

from carte.core.errors import FORBIDDEN, DomainError
from carte.core.models import Job
from carte.organisations.actor import Actor
from carte.organisations.models import Organisation
from carte.organisations.selectors import actor_for


def actor_of(job: Job) -> Actor:
    """The job's starter with the roles they hold now, so rights are checked when the work
    runs (one who has left the organisation is refused); the system for a job the command
    line started."""
    organisation: Organisation = job.organisation
    if job.user is None:
        return Actor.for_system(organisation)
    try:
        return actor_for(job.user, organisation.slug)
    except DomainError as exc:
        raise DomainError(
            "You are no longer a member of this organisation.", code=FORBIDDEN
        ) from exc
