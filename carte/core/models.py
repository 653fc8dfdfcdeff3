"""Base model for tenant-owned rows, the audit trail, and the record of background jobs."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Func, Q

from carte.core.permissions import VIEW, Access, on_staff_side
from carte.core.text import TextPolicy


class TenantModel(TextPolicy):
    """A row that belongs to exactly one organisation and is archived, never deleted; its
    text is validated by the text policy (`core.text`)."""

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


# The rows nobody has archived: what uniqueness among "live rows" is about.
LIVE = Q(archived_at__isnull=True)


def unique_live(
    field: str,
    *,
    name: str,
    message: str | None = None,
    within: str | tuple[str, ...] = "organisation",
    fold: type[Func] | None = None,
    when: Q | None = None,
) -> models.UniqueConstraint:
    """`field` unique within `within` (the organisation unless said) among live rows only:
    an archived row's value may be taken again, and restoring it is refused while taken.

    `fold` compares the value through a function (`Lower`: whatever its case); without it
    the constraint is over the plain fields. `when` narrows the rows it holds for.
    """
    scope = (within,) if isinstance(within, str) else within
    condition = LIVE if when is None else LIVE & when
    if fold is None:
        return models.UniqueConstraint(
            fields=[*scope, field],
            condition=condition,
            name=name,
            violation_error_message=message,
        )
    return models.UniqueConstraint(
        *scope,
        fold(field),
        condition=condition,
        name=name,
        violation_error_message=message,
    )


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


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


FINISHED = (JobStatus.DONE, JobStatus.FAILED)


def job_file_path(job: Job, filename: str) -> str:
    # A folder per job, so two results of the same name never meet; files are served only
    # through the job's pages, which check whose it is.
    return f"jobs/{job.organisation_id}/{job.token}/{filename}"


def started_by_actor(actor: Any, job: Any) -> bool:
    """A job is its starter's: nobody else sees it, whatever their role."""
    return actor.user is not None and job.user_id == actor.user.pk


class Job(TenantModel):
    """Long work started by someone (an import, a document): its progress while a worker
    runs it, then its result (a file or a JSON report) or the reason it failed, kept for
    whoever started it. Written only by `core.jobs.services`."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Who started it; empty for the command line, acting as the system.",
    )
    started_by = models.CharField(max_length=200)
    kind = models.CharField(max_length=64)
    label = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    params: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    token = models.CharField(max_length=32, editable=False)
    input_file = models.FileField(upload_to=job_file_path, max_length=300, blank=True)
    input_name = models.CharField(max_length=200, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)  # 0: not known (yet)
    progress_message = models.CharField(max_length=200, blank=True)
    report: models.JSONField[dict[str, Any] | None] = models.JSONField(null=True, blank=True)
    result_file = models.FileField(upload_to=job_file_path, max_length=300, blank=True)
    result_name = models.CharField(max_length=200, blank=True)
    result_type = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    ACCESS: ClassVar[Access] = {VIEW: started_by_actor}
    # The trail says who started what, and how it ended; not the bookkeeping of the run.
    AUDIT_EXCLUDE = (
        *TenantModel.AUDIT_EXCLUDE,
        "user",
        "token",
        "task_id",
        "input_file",
        "result_file",
        "report",
        "progress_done",
        "progress_total",
        "progress_message",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "user", "-created_at"], name="job_owner")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress_total=0)
                | models.Q(progress_done__lte=models.F("progress_total")),
                name="job_progress_within_total",
                violation_error_message="Progress cannot pass its total.",
            ),
            models.CheckConstraint(
                condition=models.Q(finished_at__isnull=True)
                | models.Q(started_at__isnull=True)
                | models.Q(finished_at__gte=models.F("started_at")),
                name="job_finishes_after_it_starts",
                violation_error_message="A job cannot finish before it starts.",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def took(self) -> str:
        """How long the work ran, for people ("8 seconds", "2 minutes 5 seconds")."""
        if self.started_at is None or self.finished_at is None:
            return ""
        seconds = max(0, round((self.finished_at - self.started_at).total_seconds()))
        minutes, seconds = divmod(seconds, 60)
        parts = [f"{minutes} minute{'s' if minutes != 1 else ''}"] if minutes else []
        if seconds or not minutes:
            parts.append(f"{seconds} second{'s' if seconds != 1 else ''}")
        return " ".join(parts)

    @property
    def percent(self) -> int | None:
        """How far the work is, from 0 to 100; None while the total is not known."""
        if self.status == JobStatus.DONE:
            return 100
        if not self.progress_total:
            return None
        return min(100, self.progress_done * 100 // self.progress_total)
