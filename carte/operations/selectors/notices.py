"""Reads of the notifications: who is told about a service's news (the people holding a
role on it, the organisation's Directors) and the notices still waiting to be e-mailed.
The decisions waiting for someone are the lifecycle's (`lifecycle.selectors.waiting`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import QuerySet

from carte.catalogue.models import ServiceRole
from carte.operations.models import Notice
from carte.organisations.models import Organisation, User


def role_users(
    organisation: Organisation, service_ids: Iterable[int], roles: Iterable[str]
) -> dict[tuple[int, str], list[User]]:
    """(service id, role) -> the logins of the live people holding that role: active,
    still members of the organisation. One query for every service and role."""
    found: dict[tuple[int, str], list[User]] = defaultdict(list)
    rows = ServiceRole.objects.filter(
        organisation_id=organisation.pk,
        service_id__in=list(set(service_ids)),
        role__in=list(set(roles)),
        archived_at__isnull=True,
        person__archived_at__isnull=True,
        person__user__isnull=False,
        person__user__is_active=True,
        person__user__memberships__organisation_id=organisation.pk,
        person__user__memberships__archived_at__isnull=True,
    ).select_related("person__user")
    for row in rows:
        user = row.person.user
        assert user is not None  # filtered above
        found[(row.service_id, row.role)].append(user)
    return found


def org_role_users(organisation: Organisation, role: str) -> list[User]:
    """The active logins holding an organisation role (the PMO Director) as live members
    of the organisation, in one query."""
    return list(
        User.objects.filter(
            is_active=True,
            memberships__organisation_id=organisation.pk,
            memberships__archived_at__isnull=True,
            memberships__roles__role=role,
        )
        .distinct()
        .order_by("pk")
    )


def unsent(organisation: Organisation | None = None) -> QuerySet[Notice]:
    """Notices not yet e-mailed to active users with an address, oldest first."""
    qs = Notice.objects.filter(emailed_at__isnull=True, recipient__is_active=True).exclude(
        recipient__email=""
    )
    if organisation is not None:
        qs = qs.filter(organisation_id=organisation.pk)
    return qs.select_related("recipient", "organisation").order_by("created_at", "id")
