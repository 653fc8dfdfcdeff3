"""Base model for tenant-owned rows, and the audit trail."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models

from carte.core.permissions import VIEW, Access, on_staff_side


class TenantModel(models.Model):
    """A row that belongs to exactly one organisation and is archived, never deleted."""

    organisation = models.ForeignKey(
        settings.CARTE_TENANT_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(null=True, blank=True, db_index=True)

    # Fields the audit trail leaves out: bookkeeping that says nothing a reader needs.
    AUDIT_EXCLUDE: tuple[str, ...] = ("id", "organisation", "created_at", "updated_at")
    # Constraint name -> the field its violation is reported on (see core.services.validate).
    CONSTRAINT_FIELDS: ClassVar[dict[str, str]] = {}
    # Who may view, add, change and archive rows of the model (core.permissions.can);
    # nobody, unless the model says.
    ACCESS: ClassVar[Access] = {}

    class Meta:
        abstract = True

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class AuditAction(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    ARCHIVE = "archive", "Archived"
    RESTORE = "restore", "Restored"


class AuditEntry(models.Model):
    """One change to one object: who, when, what, and each field's before and after."""

    organisation = models.ForeignKey(
        settings.CARTE_TENANT_MODEL, on_delete=models.PROTECT, related_name="audit_entries"
    )
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.BigIntegerField()
    object_repr = models.CharField(max_length=300)
    changes: models.JSONField[dict[str, Any]] = models.JSONField(default=dict)

    ACCESS: ClassVar[Access] = {VIEW: on_staff_side}

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["organisation", "-at"], name="audit_org_at"),
            models.Index(fields=["content_type", "object_id", "-at"], name="audit_object_at"),
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.object_repr}"
