"""Reading jobs: each is seen by the one who started it, in the organisation it was
started in, and by nobody else (another user's job, or another organisation's, is 404)."""

from __future__ import annotations

from django.db.models import QuerySet

from carte.core.errors import not_found
from carte.core.models import Job
from carte.core.permissions import ActorLike


def job_list(*, actor: ActorLike) -> QuerySet[Job]:
    """The actor's jobs in their organisation, newest first."""
    if actor.user is None:
        return Job.objects.none()
    return (
        Job.objects.filter(organisation_id=actor.organisation.pk, user_id=actor.user.pk)
        .select_related("organisation")
        .order_by("-created_at", "-id")
    )


def job_get(*, actor: ActorLike, pk: int) -> Job:
    """One of the actor's jobs; 404 for a missing one and for anyone else's alike."""
    job = job_list(actor=actor).filter(pk=pk).first()
    if job is None:
        raise not_found("job")
    return job
