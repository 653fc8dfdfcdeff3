"""What services share: symptoms (M-3, M-23) and artefacts (M-6), and each service's
links to them."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from carte.catalogue import permissions as perms
from carte.catalogue.choices import ArtefactKind
from carte.catalogue.models.services import OwnedByService, Service
from carte.core.models import TenantModel, unique_live


class Symptom(TenantModel):
    """A business problem customers describe, shared across services (M-3, M-23)."""

    ACCESS = perms.SYMPTOM

    statement = models.CharField(max_length=300)
    description = models.TextField(blank=True)

    CONSTRAINT_FIELDS = {"symptom_unique_live_statement": "statement"}

    class Meta:
        ordering = ["statement", "id"]
        constraints = [
            unique_live(
                "statement",
                fold=Lower,
                name="symptom_unique_live_statement",
                message="This symptom is already recorded.",
            ),
        ]

    def __str__(self) -> str:
        return self.statement


class ServiceSymptom(OwnedByService, TenantModel):
    """How strongly a service helps with a symptom (1 a little, 5 the main remedy)."""

    ACCESS = perms.SERVICE_PART

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="symptom_links")
    symptom = models.ForeignKey(Symptom, on_delete=models.PROTECT, related_name="service_links")
    weight = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    CONSTRAINT_FIELDS = {"servicesymptom_unique": "symptom", "servicesymptom_weight": "weight"}

    class Meta:
        ordering = ["-weight", "id"]
        constraints = [
            unique_live(
                "symptom",
                within="service",
                name="servicesymptom_unique",
                message="This symptom is already linked to the service.",
            ),
            models.CheckConstraint(
                condition=Q(weight__gte=1, weight__lte=5),
                name="servicesymptom_weight",
                violation_error_message="The weight is from 1 to 5.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.symptom} ({self.weight})"


class Artefact(TenantModel):
    """A template, tool, document or procedure: a service's own, or a Centre of Excellence's
    shared one. Any service can reuse it by reference (M-6)."""

    ACCESS = perms.ARTEFACT

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=ArtefactKind.choices)
    description = models.TextField(blank=True)
    url = models.URLField("link", blank=True)
    file = models.FileField(upload_to="artefacts/%Y/%m/", blank=True)
    owner_service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.PROTECT, related_name="own_artefacts"
    )
    owner_pmo = models.ForeignKey(
        "organisations.PMO",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="artefacts",
        verbose_name="shared by PMO",
    )

    CONSTRAINT_FIELDS = {"artefact_has_owner": "owner_service"}

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(owner_service__isnull=False) | Q(owner_pmo__isnull=False),
                name="artefact_has_owner",
                violation_error_message="An artefact belongs to a service or is shared by a PMO.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ServiceArtefact(OwnedByService, TenantModel):
    """A service's use of an artefact it does not own."""

    ACCESS = perms.SERVICE_PART

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="artefact_links")
    artefact = models.ForeignKey(Artefact, on_delete=models.PROTECT, related_name="uses")
    note = models.CharField(max_length=200, blank=True)

    CONSTRAINT_FIELDS = {"serviceartefact_unique": "artefact"}

    class Meta:
        ordering = ["id"]
        constraints = [
            unique_live(
                "artefact",
                within="service",
                name="serviceartefact_unique",
                message="The service already uses this artefact.",
            ),
        ]

    def __str__(self) -> str:
        return str(self.artefact)
