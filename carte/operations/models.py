"""What running a service records: KPIs and their measurements, service-level targets per
customer group, risks and issues with their actions and escalations, change requests,
improvements, customer feedback, and each user's notices (inbox) and calendar feed.

Writes go through `carte.operations.services`; a KPI carries its latest measurement and
its next report's due date (kept by those services) so the heat map and the reports-due
lists read one row per KPI.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from carte.catalogue.models import OwnedByService, Service
from carte.core.fields import MultiChoiceField
from carte.core.models import TenantModel, unique_live
from carte.operations import permissions as perms
from carte.operations.choices import (
    ActionPurpose,
    Affects,
    ChangeReason,
    ChangeState,
    Decision,
    Direction,
    Frequency,
    ImprovementStatus,
    ItemKind,
    ItemStatus,
    Level,
    NoticeKind,
    Rag,
    RaisedAs,
    ReporterRole,
    Source,
)

SERVICE = "catalogue.Service"
PERSON = "organisations.Person"
USER = settings.AUTH_USER_MODEL
ONE_TO_FIVE = [MinValueValidator(1), MaxValueValidator(5)]


def _number(verbose: str, **kwargs: object) -> models.DecimalField[Decimal, Decimal]:
    return models.DecimalField(verbose, max_digits=18, decimal_places=4, **kwargs)  # type: ignore[arg-type]


class KPI(OwnedByService, TenantModel):
    """A key performance indicator of a service (M-17): how it is measured, what good
    looks like, and how often it is reported, by which service role."""

    ACCESS = perms.KPI

    CONSTRAINT_FIELDS = {
        "kpi_thresholds_match_direction": "amber",
        "kpi_unique_live_name": "name",
        "kpi_range_order": "minimum",
    }
    AUDIT_EXCLUDE = (
        *TenantModel.AUDIT_EXCLUDE,
        "latest_period",
        "latest_value",
        "latest_rag",
        "next_period",
        "next_due",
    )

    service = models.ForeignKey(SERVICE, on_delete=models.PROTECT, related_name="kpis")
    name = models.CharField(max_length=200)
    definition = models.TextField(help_text="How the value is worked out.")
    unit = models.CharField(max_length=30, blank=True, help_text="%, days, count, GBP…")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    target = _number("target")
    amber = _number(
        "amber threshold", help_text="Past this value (on the worse side) the status is amber."
    )
    red = _number("red threshold", help_text="Past this value (on the worse side) it is red.")
    minimum = _number(
        "lowest possible value", null=True, blank=True, help_text="0 for a percentage."
    )
    maximum = _number(
        "highest possible value", null=True, blank=True, help_text="100 for a percentage."
    )
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    grace_days = models.PositiveSmallIntegerField(
        "days to report",
        default=5,
        validators=[MaxValueValidator(90)],
        help_text="A period's report is due this many days after the period ends.",
    )
    reporter_role = models.CharField(
        "reported by", max_length=20, choices=ReporterRole.choices, default=ReporterRole.MANAGER
    )
    outcome = models.TextField("outcome it evidences", blank=True)
    reporting_from = models.DateField(help_text="The first period to report.")
    position = models.PositiveIntegerField(default=0)
    # Kept by the measurement services: the latest period reported, and the next one due.
    latest_period = models.DateField(null=True, blank=True)
    latest_value = _number("latest value", null=True, blank=True)
    latest_rag = models.CharField(max_length=10, choices=Rag.choices, blank=True)
    next_period = models.DateField(null=True, blank=True)
    next_due = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = "KPI"
        verbose_name_plural = "KPIs"
        ordering = ["position", "name", "id"]
        indexes = [
            models.Index(fields=["organisation", "next_due"], name="kpi_org_next_due"),
            models.Index(fields=["service", "position"], name="kpi_service_position"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(direction=Direction.HIGHER, red__lte=F("amber"), amber__lte=F("target"))
                    | Q(direction=Direction.LOWER, red__gte=F("amber"), amber__gte=F("target"))
                ),
                name="kpi_thresholds_match_direction",
                violation_error_message=(
                    "The amber and red thresholds must sit on the worse side of the target, "
                    "red furthest: for 'higher is better', red ≤ amber ≤ target; for "
                    "'lower is better', red ≥ amber ≥ target."
                ),
            ),
            models.CheckConstraint(
                condition=Q(minimum__isnull=True)
                | Q(maximum__isnull=True)
                | Q(minimum__lt=F("maximum")),
                name="kpi_range_order",
                violation_error_message="The lowest possible value must be below the highest.",
            ),
            unique_live(
                "name",
                within="service",
                fold=models.functions.Lower,
                name="kpi_unique_live_name",
                message="This service already has a KPI with this name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def rag_of(self, value: Decimal) -> str:
        """Green up to the amber threshold, amber up to the red one, red beyond it."""
        if self.direction == Direction.HIGHER:
            if value >= self.amber:
                return Rag.GREEN
            return Rag.AMBER if value >= self.red else Rag.RED
        if value <= self.amber:
            return Rag.GREEN
        return Rag.AMBER if value <= self.red else Rag.RED

    def meets(self, value: Decimal, target: Decimal | None = None) -> bool:
        """Does `value` reach `target` (the KPI's own by default) in this KPI's direction?"""
        aim = self.target if target is None else target
        return value >= aim if self.direction == Direction.HIGHER else value <= aim


class Measurement(TenantModel):
    """The value of a KPI for one period; a correction replaces it and keeps the earlier
    value as a `MeasurementCorrection`."""

    ACCESS = perms.STAFF_RECORD

    kpi = models.ForeignKey(KPI, on_delete=models.PROTECT, related_name="measurements")
    period = models.DateField(help_text="The first day of the period.")
    value = _number("value")
    rag = models.CharField(max_length=10, choices=Rag.choices)
    comment = models.TextField(blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.ENTERED)
    recorded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField()

    CONSTRAINT_FIELDS = {"measurement_one_per_period": "period"}

    class Meta:
        ordering = ["kpi", "-period"]
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "period"],
                name="measurement_one_per_period",
                violation_error_message="This KPI already has a value for this period.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kpi_id} {self.period}: {self.value}"


class MeasurementCorrection(TenantModel):
    """An earlier value of a measurement, kept when someone corrected it."""

    ACCESS = perms.STAFF_RECORD

    measurement = models.ForeignKey(
        Measurement, on_delete=models.PROTECT, related_name="corrections"
    )
    value = _number("value")
    comment = models.TextField(blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    recorded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField()
    replaced_at = models.DateTimeField()
    replaced_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["measurement", "-replaced_at", "-id"]

    def __str__(self) -> str:
        return f"{self.value} (replaced {self.replaced_at:%Y-%m-%d})"


class ServiceLevelTarget(OwnedByService, TenantModel):
    """A service level agreed with a customer group (M-24), measured by one of the
    service's KPIs: "95% of gate reviews held on the planned date"."""

    ACCESS = perms.LEVEL_TARGET

    CONSTRAINT_FIELDS = {
        "sltarget_unique_live": "customer_group",
        "sltarget_unique_live_any_level": "customer_group",
    }

    service = models.ForeignKey(SERVICE, on_delete=models.PROTECT, related_name="level_targets")
    customer_group = models.ForeignKey(
        "organisations.CustomerGroup", on_delete=models.PROTECT, related_name="level_targets"
    )
    level = models.ForeignKey(
        "catalogue.ServiceLevel",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="targets",
        verbose_name="service level",
    )
    kpi = models.ForeignKey(
        KPI, on_delete=models.PROTECT, related_name="level_targets", verbose_name="measured by"
    )
    statement = models.CharField(max_length=300, help_text="The level as agreed, in words.")
    target = _number("target")

    class Meta:
        ordering = ["service", "customer_group", "id"]
        constraints = [
            # Two constraints, not one with nulls_distinct=False, which SQLite lacks: a
            # group has one target per KPI at each level, and one for "any level".
            unique_live(
                "level",
                within=("kpi", "customer_group"),
                when=Q(level__isnull=False),
                name="sltarget_unique_live",
                message="This customer group already has a target on this KPI at this level.",
            ),
            unique_live(
                "customer_group",
                within="kpi",
                when=Q(level__isnull=True),
                name="sltarget_unique_live_any_level",
                message="This customer group already has a target on this KPI for every level.",
            ),
        ]

    def __str__(self) -> str:
        return self.statement


class RiskIssue(OwnedByService, TenantModel):
    """A risk (may happen) or an issue (has happened) of a service (M-18), at one of the
    three escalation levels. A risk that happens becomes an issue and keeps its history."""

    ACCESS = perms.RISK_ISSUE

    CONSTRAINT_FIELDS = {"riskissue_score": "probability"}

    service = models.ForeignKey(SERVICE, on_delete=models.PROTECT, related_name="risks_issues")
    kind = models.CharField(max_length=10, choices=ItemKind.choices, default=ItemKind.RISK)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    cause = models.TextField(blank=True)
    effect = models.TextField(blank=True)
    probability = models.PositiveSmallIntegerField(validators=ONE_TO_FIVE)
    impact = models.PositiveSmallIntegerField(validators=ONE_TO_FIVE)
    score = models.PositiveSmallIntegerField(editable=False, default=0)
    owner = models.ForeignKey(
        PERSON, null=True, blank=True, on_delete=models.PROTECT, related_name="owned_items"
    )
    status = models.CharField(max_length=10, choices=ItemStatus.choices, default=ItemStatus.OPEN)
    level = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.OPERATIONS)
    became_issue_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(max_length=20, choices=Decision.choices, blank=True)
    decision_note = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "risk or issue"
        verbose_name_plural = "risks and issues"
        ordering = ["-score", "-id"]
        indexes = [
            models.Index(fields=["organisation", "status", "level"], name="item_org_status_level"),
            models.Index(fields=["service", "status"], name="item_service_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__gte=1, probability__lte=5, impact__gte=1, impact__lte=5)
                & Q(score=F("probability") * F("impact")),
                name="riskissue_score",
                violation_error_message="Probability and impact run from 1 to 5.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: object, **kwargs: object) -> None:
        if self.probability and self.impact:
            self.score = self.probability * self.impact
            update_fields = kwargs.get("update_fields")
            if update_fields is not None and (
                "probability" in update_fields or "impact" in update_fields  # type: ignore[operator]
            ):
                kwargs["update_fields"] = {*update_fields, "score"}  # type: ignore[misc]
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def clean(self) -> None:
        if self.probability and self.impact:
            self.score = self.probability * self.impact


class ItemAction(TenantModel):
    """An action to mitigate a risk or resolve an issue: who, by when, and whether done."""

    ACCESS = perms.ITEM_ACTION

    item = models.ForeignKey(RiskIssue, on_delete=models.PROTECT, related_name="actions")
    purpose = models.CharField(max_length=12, choices=ActionPurpose.choices)
    description = models.CharField(max_length=300)
    owner = models.ForeignKey(PERSON, on_delete=models.PROTECT, related_name="item_actions")
    due_date = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "id"]

    @property
    def owning_service_id(self) -> int:
        return self.item.service_id

    @property
    def owning_service(self) -> Service:
        return self.item.service

    def __str__(self) -> str:
        return self.description


class StoryEvent(TenantModel):
    """A move of a workflow, as its record's story tells it (the event row of
    CONVENTIONS.md, 3): when, who (as they were known then) and the note that explains
    it. Newest first; the staff's to read."""

    ACCESS = perms.STAFF_RECORD

    note = models.TextField(blank=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200)

    class Meta:
        abstract = True
        ordering = ["-at", "-id"]


class ItemEvent(StoryEvent):
    """A step in a risk's or issue's story: raised, escalated, de-escalated, became an
    issue, decided, closed or reopened, always with the note that explains it."""

    item = models.ForeignKey(RiskIssue, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20)
    from_level = models.PositiveSmallIntegerField(choices=Level.choices, null=True, blank=True)
    to_level = models.PositiveSmallIntegerField(choices=Level.choices, null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.item_id}"


class ChangeRequest(OwnedByService, TenantModel):
    """A formal request to change a service (M-19): who raised it and as what, why, what
    it affects, and the Owner's decision. Implementing a change to the catalogue
    publishes a new version of the service, linked both ways."""

    ACCESS = perms.CHANGE_REQUEST

    CONSTRAINT_FIELDS = {"change_unique_number": "number"}

    service = models.ForeignKey(SERVICE, on_delete=models.PROTECT, related_name="change_requests")
    number = models.PositiveIntegerField(editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField()
    raised_by = models.ForeignKey(
        PERSON, null=True, blank=True, on_delete=models.PROTECT, related_name="raised_changes"
    )
    raised_as = models.CharField(max_length=20, choices=RaisedAs.choices)
    reason = models.CharField(max_length=20, choices=ChangeReason.choices)
    affects = MultiChoiceField(choices=Affects.choices, help_text="The documents it changes.")
    state = models.CharField(max_length=20, choices=ChangeState.choices, default=ChangeState.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_note = models.TextField(blank=True)
    implemented_at = models.DateTimeField(null=True, blank=True)
    version_before = models.ForeignKey(
        "catalogue.ServiceVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="changes_from",
    )
    version = models.ForeignKey(
        "catalogue.ServiceVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="change_requests",
        verbose_name="version published",
    )
    item = models.ForeignKey(
        RiskIssue,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="change_requests",
        verbose_name="risk or issue",
    )

    class Meta:
        ordering = ["-number"]
        indexes = [models.Index(fields=["organisation", "state"], name="change_org_state")]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "number"],
                name="change_unique_number",
                violation_error_message="This number is taken.",
            )
        ]

    def __str__(self) -> str:
        return f"CR-{self.number} {self.title}"

    @property
    def reference(self) -> str:
        return f"CR-{self.number}"


class ChangeEvent(StoryEvent):
    """A change request's move from one state to the next, with its note."""

    change = models.ForeignKey(ChangeRequest, on_delete=models.PROTECT, related_name="events")
    from_state = models.CharField(max_length=20, choices=ChangeState.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=ChangeState.choices)

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"


class Improvement(OwnedByService, TenantModel):
    """An entry in the Service Manager's continuous-improvement log (M-19); marking it
    implemented needs the Owner's agreement."""

    ACCESS = perms.IMPROVEMENT

    service = models.ForeignKey(SERVICE, on_delete=models.PROTECT, related_name="improvements")
    title = models.CharField("idea", max_length=200)
    description = models.TextField(blank=True)
    expected_benefit = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=ImprovementStatus.choices, default=ImprovementStatus.IDEA
    )
    raised_by = models.ForeignKey(
        PERSON, null=True, blank=True, on_delete=models.PROTECT, related_name="improvements"
    )
    note = models.TextField(blank=True)
    agreed_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agreed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.title


class Feedback(OwnedByService, TenantModel):
    """A customer's rating of a service they use, with a comment and perhaps a suggested
    change (which becomes a draft change request)."""

    ACCESS = perms.FEEDBACK

    service = models.ForeignKey(SERVICE, on_delete=models.PROTECT, related_name="feedback")
    person = models.ForeignKey(
        PERSON, null=True, blank=True, on_delete=models.PROTECT, related_name="feedback_given"
    )
    customer_group = models.ForeignKey(
        "organisations.CustomerGroup",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="feedback",
    )
    rating = models.PositiveSmallIntegerField(validators=ONE_TO_FIVE)
    comment = models.TextField(blank=True)
    suggestion = models.TextField("suggested change", blank=True)
    change_request = models.ForeignKey(
        ChangeRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="feedback"
    )
    given_at = models.DateTimeField()

    CONSTRAINT_FIELDS = {"feedback_rating_range": "rating"}

    class Meta:
        verbose_name_plural = "feedback"
        ordering = ["-given_at", "-id"]
        indexes = [models.Index(fields=["service", "given_at"], name="feedback_service_at")]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5),
                name="feedback_rating_range",
                violation_error_message="Rate from 1 (poor) to 5 (excellent).",
            )
        ]

    def __str__(self) -> str:
        # As the activity list and the audit trail name it: never a bare "4/5".
        return f"Feedback rated {self.rating} out of 5"


class Notice(models.Model):
    """One notification for one user: shown in their inbox and e-mailed once. `key` names
    what it is about (a KPI's period, an escalation, a decision), so it is created once
    however often and from however many machines `carte notify` runs."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    recipient = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=20, choices=NoticeKind.choices)
    key = models.CharField(max_length=200)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "organisation", "-created_at"], name="notice_inbox"),
            models.Index(
                fields=["created_at"], condition=Q(emailed_at__isnull=True), name="notice_unsent"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="notice_once_per_key")
        ]

    def __str__(self) -> str:
        return self.title


class CalendarFeed(models.Model):
    """A user's secret, revocable iCalendar address listing the KPI reports they have
    due. Only the SHA-256 of the secret is stored."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="calendar_feeds")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user"],
                condition=Q(revoked_at__isnull=True),
                name="calendarfeed_one_live",
                violation_error_message="This user already has a live calendar feed here.",
            )
        ]

    def __str__(self) -> str:
        return f"calendar feed #{self.pk}"
