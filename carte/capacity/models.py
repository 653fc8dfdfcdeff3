"""What capacity records about people: their assessed competences (with history: a new
assessment never erases the old, the latest that counts wins), their contract and the
months it does not hold (leave, secondment, part-time), and their allocations to
services and to other work.

Months are the unit of capacity: availability and allocations run from a month to a
month, stored as the first day of each (`capacity.months`). Writes go through
`carte.capacity.services`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from carte.capacity import permissions as perms
from carte.capacity.choices import AllocationKind, ExceptionReason
from carte.core.models import TenantModel, unique_live
from carte.organisations.choices import CompetenceLevel

PERSON = "organisations.Person"
COMPETENCE = "organisations.Competence"


def fte_field(verbose_name: str, **extra: Any) -> models.DecimalField[Decimal, Decimal]:
    """A share of full time, 0 to 1 (0.5 is half time), to the hundredth."""
    return models.DecimalField(
        verbose_name,
        max_digits=4,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))],
        **extra,
    )


class Assessment(TenantModel):
    """A person's level in a competence, as assessed on a day, by whom and on what
    evidence. A self-assessment counts once a PMO Manager confirms it; of the
    assessments that count, the latest is the person's level."""

    ACCESS = perms.ASSESSMENT

    CONSTRAINT_FIELDS = {"assessment_unique_live_day": "assessed_on"}

    person = models.ForeignKey(PERSON, on_delete=models.PROTECT, related_name="assessments")
    competence = models.ForeignKey(COMPETENCE, on_delete=models.PROTECT, related_name="assessments")
    level = models.PositiveSmallIntegerField(choices=CompetenceLevel.choices)
    assessed_on = models.DateField("assessed on")
    assessed_by = models.ForeignKey(
        PERSON, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    evidence = models.TextField(blank=True)
    self_assessed = models.BooleanField("self-assessment", default=False)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["person", "competence", "-assessed_on", "-id"]
        indexes = [
            models.Index(fields=["organisation", "competence"], name="assessment_org_competence")
        ]
        constraints = [
            unique_live(
                "assessed_on",
                within=("person", "competence"),
                name="assessment_unique_live_day",
                message="This person already has an assessment of this competence on that day.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.competence} ({self.get_level_display()})"

    @property
    def counts(self) -> bool:
        """Whether it sets the person's level: an assessment by someone else, or a
        self-assessment once confirmed."""
        return not self.self_assessed or self.confirmed_at is not None


class Availability(TenantModel):
    """A person's contract with the PMO: the share of full time they work (a provider's
    operative too), from when and until when."""

    ACCESS = perms.AVAILABILITY

    CONSTRAINT_FIELDS = {
        "availability_unique_live_person": "person",
        "availability_leaves_after_start": "leaves_on",
    }

    person = models.ForeignKey(PERSON, on_delete=models.PROTECT, related_name="availability")
    contracted_fte = fte_field("contracted FTE", default=Decimal(1))
    starts_on = models.DateField("from", null=True, blank=True)
    leaves_on = models.DateField("until", null=True, blank=True)

    class Meta:
        verbose_name_plural = "availability"
        ordering = ["person", "id"]
        constraints = [
            unique_live(
                "person",
                within=(),
                name="availability_unique_live_person",
                message="This person's availability is already recorded: change it instead.",
            ),
            models.CheckConstraint(
                condition=Q(leaves_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(leaves_on__gte=F("starts_on")),
                name="availability_leaves_after_start",
                violation_error_message="The end comes before the start.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person}: {self.contracted_fte} FTE"


class AvailabilityException(TenantModel):
    """Months in which a person works another share of full time than their contract
    says: leave (0), a secondment, part-time for a while."""

    ACCESS = perms.AVAILABILITY

    CONSTRAINT_FIELDS = {"exception_ends_after_start": "ends_on"}

    person = models.ForeignKey(
        PERSON, on_delete=models.PROTECT, related_name="availability_exceptions"
    )
    reason = models.CharField(max_length=20, choices=ExceptionReason.choices)
    starts_on = models.DateField("from month")
    ends_on = models.DateField("to month")
    available_fte = fte_field("FTE available")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["person", "starts_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="exception_ends_after_start",
                violation_error_message="The end comes before the start.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()}, {self.starts_on:%b %Y} to {self.ends_on:%b %Y}"


class Allocation(TenantModel):
    """Some of a person's time, month by month, given to a service (using one of its
    needed competences) or to other work (a project, business as usual, training)."""

    ACCESS = perms.ALLOCATION

    CONSTRAINT_FIELDS = {
        "allocation_ends_after_start": "ends_on",
        "allocation_service_or_work": "service",
        "allocation_fte_positive": "fte",
    }

    person = models.ForeignKey(PERSON, on_delete=models.PROTECT, related_name="allocations")
    kind = models.CharField(
        max_length=20, choices=AllocationKind.choices, default=AllocationKind.SERVICE
    )
    service = models.ForeignKey(
        "catalogue.Service",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="allocations",
    )
    work = models.CharField(
        "work", max_length=200, blank=True, help_text="The project or work, when not a service."
    )
    competence = models.ForeignKey(
        COMPETENCE, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    fte = fte_field("FTE")
    starts_on = models.DateField("from month")
    ends_on = models.DateField("to month")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["person", "starts_on", "id"]
        indexes = [
            models.Index(fields=["organisation", "starts_on"], name="allocation_org_start"),
            models.Index(fields=["service", "starts_on"], name="allocation_service_start"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="allocation_ends_after_start",
                violation_error_message="The end comes before the start.",
            ),
            models.CheckConstraint(
                condition=(Q(kind=AllocationKind.SERVICE) & Q(service__isnull=False))
                | (~Q(kind=AllocationKind.SERVICE) & Q(service__isnull=True) & ~Q(work="")),
                name="allocation_service_or_work",
                violation_error_message=(
                    "Name the service, or for other work, what the work is (and no service)."
                ),
            ),
            models.CheckConstraint(
                condition=Q(fte__gt=0),
                name="allocation_fte_positive",
                violation_error_message="Allocate more than 0 FTE.",
            ),
        ]

    def __str__(self) -> str:
        what = self.service.name if self.service_id and self.service else self.work
        return f"{self.person} to {what}, {self.fte} FTE"

    @property
    def owning_service_id(self) -> int | None:
        return self.service_id
