"""The records a service's life leaves: its timeline of events, the set-up decision,
success criteria, task lists, pilot iterations and their results, the readiness
assessment, the transition plan, and the closure with its artefact review.

The stage itself lives on `catalogue.Service` and moves only through
`carte.lifecycle.services` (the model refuses any other write of it).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from carte.catalogue.choices import Stage
from carte.core.models import LIVE as LIVE  # the app's selectors read live rows with it
from carte.core.models import TenantModel, unique_live
from carte.lifecycle import permissions as perms
from carte.lifecycle.choices import (
    Answer,
    Approach,
    ArtefactFate,
    ClosureReason,
    CriterionResultKind,
    EventKind,
    PilotOutcome,
    Sourcing,
    TaskPurpose,
    TaskStatus,
    Verdict,
)

SERVICE = "catalogue.Service"


class LifecycleEvent(TenantModel):
    """One entry on a service's timeline: a stage change or a recorded step, with its note."""

    ACCESS = perms.RECORD

    service = models.ForeignKey(SERVICE, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    from_stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    title = models.CharField(max_length=200)
    note = models.TextField(blank=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["service", "-at"], name="event_service_at")]

    def __str__(self) -> str:
        return self.title


class EventAttachment(TenantModel):
    """A file or link attached to a timeline event (minutes, a signed form, evidence)."""

    ACCESS = perms.RECORD

    event = models.ForeignKey(LifecycleEvent, on_delete=models.PROTECT, related_name="attachments")
    name = models.CharField(max_length=200)
    url = models.URLField("link", blank=True)
    file = models.FileField(upload_to="lifecycle/%Y/%m/", blank=True)

    CONSTRAINT_FIELDS = {"attachment_has_content": "url"}

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(url="") | ~Q(file=""),
                name="attachment_has_content",
                violation_error_message="Attach a file or give a link.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class SetupDecision(TenantModel):
    """The decision to set a proposed service up (M-14): who delivers it, who owns and
    manages it, how it is sourced, and an answer to each consideration."""

    ACCESS = perms.RECORD

    service = models.ForeignKey(SERVICE, on_delete=models.PROTECT, related_name="setup_decisions")
    delivering_pmos = models.ManyToManyField(
        "organisations.PMO", related_name="+", verbose_name="delivering PMOs"
    )
    owner = models.ForeignKey(
        "organisations.Person", on_delete=models.PROTECT, related_name="+", verbose_name="Owner"
    )
    sourcing = models.CharField(max_length=20, choices=Sourcing.choices)
    provider_name = models.CharField("provider", max_length=200, blank=True)
    strategy_fit = models.TextField("fit with the service strategy")
    capacity = models.TextField("competence and capacity available")
    other_services = models.TextField("the PMO's other services")
    stakeholders = models.TextField("customers and stakeholders")
    scope = models.TextField("scope")
    # Who was appointed Service Manager for which PMO, as decided: [{"pmo", "person"}].
    appointments = models.JSONField(default=list, blank=True)
    # When it was decided (an entry of past history says so; `created_at` is when written).
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Set-up decision for {self.service_id}"


class SuccessCriterion(TenantModel):
    """What the pilot must show, agreed with named customers or customer groups (M-15)."""

    ACCESS = perms.RECORD

    service = models.ForeignKey(SERVICE, on_delete=models.PROTECT, related_name="success_criteria")
    description = models.CharField(max_length=300)
    measure = models.CharField(
        "how it is verified", max_length=300, blank=True, help_text="e.g. 4 of 5 customers..."
    )
    agreed_with_groups = models.ManyToManyField(
        "organisations.CustomerGroup", blank=True, related_name="+", verbose_name="customer groups"
    )
    agreed_with_people = models.ManyToManyField(
        "organisations.Person", blank=True, related_name="+", verbose_name="customers"
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "success criteria"

    def __str__(self) -> str:
        return self.description


class TaskList(TenantModel):
    """A set-up or closure project's task list, usually made from a Centre of Excellence
    template (M-13)."""

    ACCESS = perms.RECORD

    service = models.ForeignKey(SERVICE, on_delete=models.PROTECT, related_name="task_lists")
    purpose = models.CharField(max_length=20, choices=TaskPurpose.choices)
    name = models.CharField(max_length=200)
    template = models.ForeignKey(
        "catalogue.Artefact", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class Task(TenantModel):
    ACCESS = perms.RECORD

    task_list = models.ForeignKey(TaskList, on_delete=models.PROTECT, related_name="tasks")
    title = models.CharField(max_length=200)
    assignee = models.ForeignKey(
        "organisations.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_on = models.DateField("due", null=True, blank=True)
    status = models.CharField(max_length=20, choices=TaskStatus.choices, default=TaskStatus.TODO)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class TemplateTask(TenantModel):
    """A line of a task-list template: a template artefact of a Centre of Excellence."""

    ACCESS = perms.RECORD

    template = models.ForeignKey(
        "catalogue.Artefact", on_delete=models.PROTECT, related_name="template_tasks"
    )
    title = models.CharField(max_length=200)
    due_after_days = models.PositiveIntegerField(
        "due after (days)", default=0, help_text="Days after the list is created."
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class PilotIteration(TenantModel):
    """One numbered pilot of a service with its selected participants, and its result."""

    ACCESS = perms.RECORD

    service = models.ForeignKey(SERVICE, on_delete=models.PROTECT, related_name="pilots")
    number = models.PositiveIntegerField()
    starts_on = models.DateField()
    ends_on = models.DateField()
    suppliers = models.ManyToManyField("catalogue.Supplier", blank=True, related_name="+")
    customers = models.ManyToManyField(
        "organisations.CustomerGroup", related_name="+", verbose_name="customer groups"
    )
    operatives = models.ManyToManyField("organisations.Person", related_name="+")
    outcome = models.CharField(
        max_length=20, choices=PilotOutcome.choices, default=PilotOutcome.OPEN
    )
    governance_in_place = models.BooleanField(
        "governance and critical success factors in place", default=False
    )
    resources_confirmed = models.BooleanField(default=False)
    outcomes_validated = models.BooleanField("expected outcomes validated", default=False)
    result_note = models.TextField(blank=True)
    result_at = models.DateTimeField(null=True, blank=True)

    CONSTRAINT_FIELDS = {"pilot_dates_in_order": "ends_on"}

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["service", "number"], name="pilot_unique_number"),
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="pilot_dates_in_order",
                violation_error_message="The pilot cannot end before it starts.",
            ),
        ]

    def __str__(self) -> str:
        return f"Pilot {self.number}"

    @property
    def has_result(self) -> bool:
        return self.outcome != PilotOutcome.OPEN


class CriterionResult(TenantModel):
    """How a pilot iteration did against one success criterion; the Owner may waive a
    criterion that was not met, with a reason (recorded at sign-off)."""

    ACCESS = perms.RECORD

    pilot = models.ForeignKey(PilotIteration, on_delete=models.PROTECT, related_name="results")
    criterion = models.ForeignKey(SuccessCriterion, on_delete=models.PROTECT, related_name="+")
    result = models.CharField(max_length=20, choices=CriterionResultKind.choices)
    evidence = models.TextField(blank=True)
    waived = models.BooleanField(default=False)
    waiver_reason = models.TextField(blank=True)
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    CONSTRAINT_FIELDS = {"criterionresult_waiver_has_reason": "waiver_reason"}

    class Meta:
        ordering = ["criterion__position", "criterion_id"]
        constraints = [
            unique_live("criterion", within="pilot", name="criterionresult_unique"),
            models.CheckConstraint(
                condition=Q(waived=False) | ~Q(waiver_reason=""),
                name="criterionresult_waiver_has_reason",
                violation_error_message="Give the reason for waiving this criterion.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.criterion_id}: {self.result}"

    @property
    def passes(self) -> bool:
        return self.result == CriterionResultKind.MET or self.waived


class ReadinessAssessment(TenantModel):
    """An organisation readiness assessment before transition (M-16)."""

    ACCESS = perms.RECORD

    service = models.ForeignKey(
        SERVICE, on_delete=models.PROTECT, related_name="readiness_assessments"
    )
    assessor = models.ForeignKey("organisations.Person", on_delete=models.PROTECT, related_name="+")
    assessed_on = models.DateField()
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-assessed_on", "-id"]

    def __str__(self) -> str:
        return f"Readiness {self.assessed_on}: {self.get_verdict_display()}"


class ReadinessAnswer(TenantModel):
    ACCESS = perms.RECORD

    assessment = models.ForeignKey(
        ReadinessAssessment, on_delete=models.PROTECT, related_name="answers"
    )
    question = models.CharField(max_length=300)
    answer = models.CharField(max_length=10, choices=Answer.choices)
    note = models.CharField(max_length=300, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.question}: {self.answer}"


class TransitionPlan(TenantModel):
    """How the service goes live: in phases reaching customers in turn, or all at once."""

    ACCESS = perms.RECORD

    service = models.ForeignKey(SERVICE, on_delete=models.PROTECT, related_name="transition_plans")
    approach = models.CharField(max_length=20, choices=Approach.choices)
    behavioural_change = models.TextField(
        "behavioural change", blank=True, help_text="How people will be helped to work the new way."
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_approach_display()} transition"


class TransitionPhase(TenantModel):
    ACCESS = perms.RECORD

    plan = models.ForeignKey(TransitionPlan, on_delete=models.PROTECT, related_name="phases")
    name = models.CharField(max_length=200)
    starts_on = models.DateField()
    ends_on = models.DateField()
    customer_groups = models.ManyToManyField(
        "organisations.CustomerGroup", blank=True, related_name="+"
    )
    done = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)

    CONSTRAINT_FIELDS = {"phase_dates_in_order": "ends_on"}

    class Meta:
        ordering = ["position", "starts_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="phase_dates_in_order",
                violation_error_message="A phase cannot end before it starts.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Closure(TenantModel):
    """Why and how a running service closes (M-20, M-21); approved by the Owner at the end."""

    ACCESS = perms.RECORD

    service = models.ForeignKey(SERVICE, on_delete=models.PROTECT, related_name="closures")
    reason = models.CharField(max_length=30, choices=ClosureReason.choices)
    explanation = models.TextField()
    replacing_service = models.ForeignKey(
        SERVICE, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    change_notes = models.TextField(
        "organisational change", blank=True, help_text="How customers and staff are taken along."
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    CONSTRAINT_FIELDS = {"closure_replacement_named": "replacing_service"}

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=ClosureReason.REPLACED) | Q(replacing_service__isnull=False),
                name="closure_replacement_named",
                violation_error_message="Name the service that replaces this one.",
            ),
        ]

    def __str__(self) -> str:
        return f"Closure: {self.get_reason_display()}"


class ArtefactDecision(TenantModel):
    """What happens to one of a closing service's artefacts (M-21)."""

    ACCESS = perms.RECORD

    closure = models.ForeignKey(Closure, on_delete=models.PROTECT, related_name="decisions")
    artefact = models.ForeignKey("catalogue.Artefact", on_delete=models.PROTECT, related_name="+")
    fate = models.CharField(max_length=20, choices=ArtefactFate.choices)
    note = models.CharField(max_length=300)

    CONSTRAINT_FIELDS = {"artefactdecision_unique": "artefact"}

    class Meta:
        ordering = ["id"]
        constraints = [
            unique_live(
                "artefact",
                within="closure",
                name="artefactdecision_unique",
                message="This artefact already has a decision.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.artefact_id}: {self.fate}"
