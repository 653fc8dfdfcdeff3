"""Publishing a service (M-11, M-19): numbered, immutable versions of its card and parts."""

from __future__ import annotations

from django.db import transaction

from carte.catalogue import snapshots
from carte.catalogue.models import Service, ServiceVersion
from carte.core import audit, clock
from carte.core.errors import DomainError
from carte.core.models import AuditAction
from carte.core.permissions import CHANGE, require
from carte.organisations.actor import Actor


@transaction.atomic
def service_publish(*, actor: Actor, service: Service, note: str = "") -> ServiceVersion:
    """Record the next numbered, immutable snapshot of the service and all its parts; the
    published catalogue shows it from now on."""
    require(actor, CHANGE, service)
    locked = Service.objects.select_for_update().get(pk=service.pk)
    if locked.is_archived:
        raise DomainError("An archived service cannot be published.", code="conflict")
    current = snapshots.load(locked)
    snapshot = snapshots.of(current)
    latest = locked.versions.order_by("-number").first()
    if latest is not None and latest.snapshot == snapshot:
        raise DomainError(
            f"Nothing changed since version {latest.number}: there is nothing to publish.",
            code="conflict",
        )
    version = ServiceVersion(
        organisation=actor.organisation,
        service=locked,
        number=(latest.number if latest else 0) + 1,
        snapshot=snapshot,
        published_at=clock.now(),  # as of the moment the caller is recording
        published_by=actor.user,
        note=note[:300],
        # What customers' search and filters match, read with the snapshot.
        search_text=snapshots.search_text(snapshot),
        category_id=current.category_id,
        scopes=current.scopes,
        delivery_mode=current.delivery_mode,
        pricing_basis=current.pricing_basis,
    )
    version.save()
    version.customer_groups.set(
        {link.customer_group_id for link in current.customers.all() if link.archived_at is None}
    )
    version.delivering_pmos.set(current.delivering_pmos.all())
    locked.current_version = version
    locked.save(update_fields=["current_version", "updated_at"])
    service.current_version = version
    audit.record(
        actor=actor,
        obj=locked,
        action=AuditAction.UPDATE,
        changes={
            "published version": {
                "before": latest.number if latest else None,
                "after": version.number,
            }
        },
    )
    return version
