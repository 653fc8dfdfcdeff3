"""What waits for a person in capacity, for My work (`core.work`): the self-assessments a
PMO Manager (or the Director, an administrator) has to confirm. Two queries at most."""

from __future__ import annotations

from typing import cast

from django.urls import reverse

from carte.capacity import permissions as perms
from carte.capacity.models import Assessment
from carte.core.permissions import ActorLike
from carte.core.work import WorkItem, WorkSource, first_rows, register_work
from carte.organisations.actor import Actor


def _to_confirm(actor: ActorLike, limit: int) -> tuple[int, list[WorkItem]]:
    if actor.user is None or not actor.roles & perms.KEEPERS:
        return 0, []
    org = cast(Actor, actor).organisation
    qs = (
        Assessment.objects.filter(
            organisation_id=org.pk,
            self_assessed=True,
            confirmed_at__isnull=True,
            archived_at__isnull=True,
            person__archived_at__isnull=True,
        )
        .exclude(person__user=actor.user)  # nobody confirms their own
        .select_related("person", "competence")
        .order_by("assessed_on", "pk")
    )
    count, rows = first_rows(qs, limit)
    return count, [
        WorkItem(
            title=f"Confirm {a.person.name}'s self-assessment",
            url=reverse("capacity:person", args=[org.slug, a.person_id]),
            context=f"{a.competence.name}: {a.get_level_display()}",
        )
        for a in rows
    ]


register_work(
    WorkSource(
        key="self_assessments",
        title="Self-assessments to confirm",
        order=55,
        collect=_to_confirm,
    )
)
