"""A service's people and means: its roles, its levels, and the competences and
governance it needs (M-2, M-3, M-10)."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from carte.catalogue import permissions as perms
from carte.catalogue.choices import CompetenceLevel, ServiceRoleKind
from carte.catalogue.models.services import OwnedByService, Service
from carte.core.models import TenantModel, unique_live


class ServiceRole(OwnedByService, TenantModel):
    """A person's role on a service: one Owner, a Manager per delivering PMO, Operatives (M-10)."""

    ACCESS = perms.SERVICE_PART

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="roles")
    person = models.ForeignKey(
        "organisations.Person", on_delete=models.PROTECT, related_name="service_roles"
    )
    role = models.CharField(max_length=20, choices=ServiceRoleKind.choices)
    pmo = models.ForeignKey(
        "organisations.PMO",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_roles",
        verbose_name="PMO",
        help_text="For a Service Manager: the delivering PMO they manage it for.",
    )

    CONSTRAINT_FIELDS = {
        "servicerole_one_owner": "role",
        "servicerole_one_manager_per_pmo": "pmo",
        "servicerole_manager_has_pmo": "pmo",
        "servicerole_unique_person_role": "person",
    }

    class Meta:
        ordering = ["role", "id"]
        constraints = [
            unique_live(
                "service",
                within=(),
                when=Q(role=ServiceRoleKind.OWNER),
                name="servicerole_one_owner",
                message="The service already has an Owner.",
            ),
            unique_live(
                "pmo",
                within="service",
                when=Q(role=ServiceRoleKind.MANAGER),
                name="servicerole_one_manager_per_pmo",
                message="This PMO already has a Service Manager for the service.",
            ),
            models.CheckConstraint(
                condition=~Q(role=ServiceRoleKind.MANAGER) | Q(pmo__isnull=False),
                name="servicerole_manager_has_pmo",
                violation_error_message="Choose the PMO this Service Manager manages it for.",
            ),
            unique_live(
                "role",
                within=("service", "person"),
                when=~Q(role=ServiceRoleKind.MANAGER),
                name="servicerole_unique_person_role",
                message="This person already holds this role on the service.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.person}"


class ServiceLevel(OwnedByService, TenantModel):
    """A "dose" of the service, from light touch to intensive (M-3)."""

    ACCESS = perms.SERVICE_PART

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="levels")
    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    description = models.TextField("what the customer gets", blank=True)
    effort_hours = models.DecimalField(
        "effort per unit (hours)",
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    price = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )

    CONSTRAINT_FIELDS = {"servicelevel_unique_live_name": "name"}

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            unique_live(
                "name",
                within="service",
                fold=Lower,
                name="servicelevel_unique_live_name",
                message="The service already has a level with this name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CompetenceNeed(OwnedByService, TenantModel):
    """A competence the service needs, at a level, for so many full-time equivalents (M-2)."""

    ACCESS = perms.SERVICE_PART

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="competences")
    # A competence of the organisation's framework (M-9): what people are assessed on, so
    # that demand and supply meet on the same rows.
    competence = models.ForeignKey(
        "organisations.Competence", on_delete=models.PROTECT, related_name="needs"
    )
    level = models.PositiveSmallIntegerField(
        choices=CompetenceLevel.choices, default=CompetenceLevel.WORKING
    )
    fte = models.DecimalField(
        "FTE", max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )

    class Meta:
        ordering = ["competence__name", "id"]

    def __str__(self) -> str:
        return self.competence.name


class GovernanceNeed(OwnedByService, TenantModel):
    """Something that must be in place before the service can run (M-2)."""

    ACCESS = perms.SERVICE_PART

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="governance")
    item = models.CharField(max_length=300)
    in_place = models.BooleanField(default=False)

    class Meta:
        verbose_name = "governance prerequisite"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.item
