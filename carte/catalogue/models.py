"""The catalogue: services and everything a service's card holds.

A service (M-1) is activities (process steps) producing outputs for customers, towards
an outcome. Its parts (roles, levels, SIPOC rows, needs, symptom links, artefact links)
are tenant rows of their own, archived rather than deleted, so every change to them is
in the audit trail. An input that names another service's output is a dependency (M-5).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Upper
from django.utils import timezone

from carte.catalogue import permissions as perms
from carte.catalogue.choices import (
    ArtefactKind,
    CompetenceLevel,
    DeliveryMode,
    PricingBasis,
    ProviderKind,
    Rationale,
    Scope,
    ServiceRoleKind,
    Stage,
    SupplierKind,
)
from carte.core.fields import MultiChoiceField
from carte.core.models import TenantModel

LIVE = Q(archived_at__isnull=True)

code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$",
    "Use up to 20 letters, digits, dots, hyphens or underscores, starting with a letter or digit.",
)


class Category(TenantModel):
    """A heading of the menu: governance and assurance, reporting and information, ..."""

    ACCESS = perms.CATEGORY

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0, help_text="Order in the menu.")

    CONSTRAINT_FIELDS = {"category_unique_live_name": "name"}

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["position", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                "organisation",
                Lower("name"),
                condition=LIVE,
                name="category_unique_live_name",
                violation_error_message="A category with this name already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OwnedByService:
    """A row that belongs to a service: rights on it follow the service's
    (`carte.catalogue.permissions`), whichever app the row is in."""

    service_id: int
    service: Service

    @property
    def owning_service_id(self) -> int:
        return self.service_id

    @property
    def owning_service(self) -> Service:
        return self.service


class StageLocked(Exception):
    """A write tried to set a service's stage outside the lifecycle's transition functions."""


class ServiceQuerySet(models.QuerySet["Service"]):
    def update(self, **kwargs: Any) -> int:
        if "stage" in kwargs:
            raise StageLocked("The stage changes only through carte.lifecycle transitions.")
        return super().update(**kwargs)

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        if "stage" in fields:
            raise StageLocked("The stage changes only through carte.lifecycle transitions.")
        return super().bulk_update(objs, fields, batch_size=batch_size)

    def bulk_create(
        self,
        objs: Any,
        batch_size: int | None = None,
        ignore_conflicts: bool = False,
        update_conflicts: bool = False,
        update_fields: Any = None,
        unique_fields: Any = None,
    ) -> list[Service]:
        objs = list(objs)
        if any(o.stage != Stage.PROPOSED for o in objs):
            raise StageLocked("New services start at the proposed stage.")
        # An upsert (update_conflicts) would write the stage over a stored row's.
        update_fields = None if update_fields is None else list(update_fields)
        if update_fields and "stage" in update_fields:
            raise StageLocked("The stage changes only through carte.lifecycle transitions.")
        created = super().bulk_create(
            objs,
            batch_size=batch_size,
            ignore_conflicts=ignore_conflicts,
            update_conflicts=update_conflicts,
            update_fields=update_fields,
            unique_fields=unique_fields,
        )
        if not (ignore_conflicts or update_conflicts):  # every row written, as proposed
            for obj in created:
                obj._stored_stage = obj.stage
        return created

    def _move_stage(self, stage: str, at: Any) -> int:
        """The one statement that moves a stage: for `carte.lifecycle.services.transition`
        (and the test factories and the benchmarks' seeding, docs/architecture.md)."""
        # `at` is when the move happened (it may be a past moment, `core.clock.as_of`);
        # `updated_at` is bookkeeping: when the row was written.
        return super().update(stage=stage, stage_changed_at=at, updated_at=timezone.now())


class Service(TenantModel):
    """A PMO service: what it does, for whom, why the PMO, how it is delivered and priced.

    The stage is guarded: `save()` refuses a changed stage, and the queryset refuses
    `update(stage=...)`; only the lifecycle's transition functions move it (DESIGN.md).
    """

    ACCESS = perms.SERVICE_PART

    code = models.CharField(max_length=20, validators=[code_validator])
    name = models.CharField(max_length=200)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="services")
    summary = models.CharField(max_length=300, blank=True, help_text="One line for the menu.")
    description = models.TextField(blank=True)
    outcome = models.TextField(
        "intended outcome", blank=True, help_text="What the organisation gains (M-1)."
    )
    rationale = MultiChoiceField(
        "why the PMO provides it",
        choices=Rationale.choices,
        help_text="Where the PMO is more effective, efficient or economical, or control is needed.",
    )
    rationale_note = models.TextField("rationale note", blank=True)
    scopes = MultiChoiceField("scope", choices=Scope.choices)
    delivery_mode = models.CharField(
        max_length=20, choices=DeliveryMode.choices, default=DeliveryMode.IN_HOUSE
    )
    provider_kind = models.CharField(max_length=20, choices=ProviderKind.choices, blank=True)
    provider_name = models.CharField(
        "provider", max_length=200, blank=True, help_text="Who delivers it when not in-house."
    )
    delivering_pmos = models.ManyToManyField(
        "organisations.PMO", blank=True, related_name="services", verbose_name="delivering PMOs"
    )
    hours = models.CharField(
        "hours and availability", max_length=200, blank=True, help_text="e.g. Mon-Fri 9:00-17:00"
    )
    pricing_basis = models.CharField(
        max_length=20, choices=PricingBasis.choices, default=PricingBasis.FREE
    )
    price = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(
        max_length=3,
        blank=True,
        validators=[RegexValidator(r"^[A-Z]{3}$", "Use an ISO code: EUR.")],
    )
    price_unit = models.CharField(
        max_length=100, blank=True, help_text="per month, per review, per project..."
    )
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.PROPOSED)
    stage_changed_at = models.DateTimeField(null=True, blank=True)
    is_temporary = models.BooleanField("temporary", default=False)
    end_date = models.DateField(null=True, blank=True)
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    supports = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supporting_services",
        help_text="For a temporary supporting service: the new service it runs alongside (M-16).",
    )
    origin = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="successors",
        help_text="The closed service whose kept artefacts this one started from (M-21).",
    )
    current_version = models.ForeignKey(
        "catalogue.ServiceVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The latest published version: what customers see.",
    )

    CONSTRAINT_FIELDS = {
        "service_unique_live_code": "code",
        "service_temporary_has_end_date": "end_date",
        "service_price_has_currency": "currency",
        "service_not_replacing_itself": "replaces",
    }
    AUDIT_EXCLUDE = (*TenantModel.AUDIT_EXCLUDE, "current_version", "stage_changed_at")

    objects = ServiceQuerySet.as_manager()

    class Meta:
        ordering = ["code", "id"]
        constraints = [
            models.UniqueConstraint(
                "organisation",
                Upper("code"),
                condition=LIVE,
                name="service_unique_live_code",
                violation_error_message="A service with this code already exists.",
            ),
            models.CheckConstraint(
                condition=Q(is_temporary=False) | Q(end_date__isnull=False),
                name="service_temporary_has_end_date",
                violation_error_message="A temporary service needs an end date.",
            ),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | ~Q(currency=""),
                name="service_price_has_currency",
                violation_error_message="A price needs a currency.",
            ),
            models.CheckConstraint(
                condition=~Q(replaces=models.F("id")),
                name="service_not_replacing_itself",
                violation_error_message="A service cannot replace itself.",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "stage"], name="service_org_stage")]

    @property
    def owning_service_id(self) -> int:
        return self.pk

    @property
    def owning_service(self) -> Service:
        return self

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any, **kwargs: Any) -> Service:
        instance = super().from_db(db, field_names, values, **kwargs)
        instance._stored_stage = instance.__dict__.get("stage")
        return instance

    def refresh_from_db(
        self, using: Any = None, fields: Any = None, from_queryset: Any = None
    ) -> None:
        # Also how a deferred field is loaded (fields=[that one]): only a reload of the
        # stage itself tells what is stored; other fields leave the remembered stage be.
        fields = None if fields is None else set(fields)
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        if (fields is None or "stage" in fields) and "stage" in self.__dict__:
            self._stored_stage = self.__dict__["stage"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        fields = kwargs.get("update_fields")
        if fields is not None:
            fields = kwargs["update_fields"] = frozenset(fields)
        # An instance loaded without its stage writes one set since (Django saves the
        # loaded fields): compare with the stored stage, read once.
        writes_stage = "stage" in self.__dict__ and (fields is None or "stage" in fields)
        if writes_stage:
            stored: str
            if self._state.adding:
                stored = Stage.PROPOSED
            else:
                if self._stored_stage is None:
                    self._stored_stage = self._read_stored_stage()
                stored = self._stored_stage
            if self.stage != stored:
                raise StageLocked("The stage changes only through carte.lifecycle transitions.")
        super().save(*args, **kwargs)
        if writes_stage:
            self._stored_stage = self.__dict__["stage"]

    def _read_stored_stage(self) -> str:
        """The stage stored for this row; a row no longer there is saved as a new one."""
        stored = (
            type(self)
            ._base_manager.db_manager(self._state.db)
            .filter(pk=self.pk)
            .values_list("stage", flat=True)
            .first()
        )
        return Stage.PROPOSED if stored is None else stored

    # The stage as last read from or written to the database (None: not loaded).
    _stored_stage: str | None = None

    @property
    def is_published(self) -> bool:
        return self.current_version_id is not None


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
            models.UniqueConstraint(
                fields=["service"],
                condition=LIVE & Q(role=ServiceRoleKind.OWNER),
                name="servicerole_one_owner",
                violation_error_message="The service already has an Owner.",
            ),
            models.UniqueConstraint(
                fields=["service", "pmo"],
                condition=LIVE & Q(role=ServiceRoleKind.MANAGER),
                name="servicerole_one_manager_per_pmo",
                violation_error_message="This PMO already has a Service Manager for the service.",
            ),
            models.CheckConstraint(
                condition=~Q(role=ServiceRoleKind.MANAGER) | Q(pmo__isnull=False),
                name="servicerole_manager_has_pmo",
                violation_error_message="Choose the PMO this Service Manager manages it for.",
            ),
            models.UniqueConstraint(
                fields=["service", "person", "role"],
                condition=LIVE & ~Q(role=ServiceRoleKind.MANAGER),
                name="servicerole_unique_person_role",
                violation_error_message="This person already holds this role on the service.",
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
            models.UniqueConstraint(
                "service",
                Lower("name"),
                condition=LIVE,
                name="servicelevel_unique_live_name",
                violation_error_message="The service already has a level with this name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Symptom(TenantModel):
    """A business problem customers describe, shared across services (M-3, M-23)."""

    ACCESS = perms.SYMPTOM

    statement = models.CharField(max_length=300)
    description = models.TextField(blank=True)

    CONSTRAINT_FIELDS = {"symptom_unique_live_statement": "statement"}

    class Meta:
        ordering = ["statement", "id"]
        constraints = [
            models.UniqueConstraint(
                "organisation",
                Lower("statement"),
                condition=LIVE,
                name="symptom_unique_live_statement",
                violation_error_message="This symptom is already recorded.",
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
            models.UniqueConstraint(
                fields=["service", "symptom"],
                condition=LIVE,
                name="servicesymptom_unique",
                violation_error_message="This symptom is already linked to the service.",
            ),
            models.CheckConstraint(
                condition=Q(weight__gte=1, weight__lte=5),
                name="servicesymptom_weight",
                violation_error_message="The weight is from 1 to 5.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.symptom} ({self.weight})"


class Supplier(OwnedByService, TenantModel):
    """The S of SIPOC: who or what provides an input."""

    ACCESS = perms.SERVICE_PART

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="suppliers")
    kind = models.CharField(max_length=20, choices=SupplierKind.choices, default=SupplierKind.ROLE)
    name = models.CharField(max_length=200)
    person = models.ForeignKey(
        "organisations.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    customer_group = models.ForeignKey(
        "organisations.CustomerGroup",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class ServiceInput(OwnedByService, TenantModel):
    """The I of SIPOC. `source_output` names the output it comes from: a dependency (M-5)."""

    ACCESS = perms.SERVICE_PART

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="inputs")
    name = models.CharField(max_length=200)
    quality_criteria = models.TextField(blank=True)
    is_trigger = models.BooleanField("triggers the process", default=False)
    supplier = models.ForeignKey(
        Supplier, null=True, blank=True, on_delete=models.PROTECT, related_name="inputs"
    )
    source_output = models.ForeignKey(
        "catalogue.ServiceOutput",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consumers",
        verbose_name="comes from output",
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "input"
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class ProcessStep(OwnedByService, TenantModel):
    """The P of SIPOC: an ordered activity, with the role that performs it."""

    ACCESS = perms.SERVICE_PART

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="steps")
    position = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    performer = models.CharField(
        "performed by", max_length=100, help_text="The role that performs it."
    )

    class Meta:
        verbose_name = "process step"
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class ServiceOutput(OwnedByService, TenantModel):
    """The O of SIPOC, with the customer groups that receive it."""

    ACCESS = perms.SERVICE_PART

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="outputs")
    name = models.CharField(max_length=200)
    quality_criteria = models.TextField(blank=True)
    customers = models.ManyToManyField(
        "organisations.CustomerGroup", blank=True, related_name="received_outputs"
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "output"
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class ServiceCustomer(OwnedByService, TenantModel):
    """The C of SIPOC: a customer group the service serves."""

    ACCESS = perms.SERVICE_PART

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="customers")
    customer_group = models.ForeignKey(
        "organisations.CustomerGroup", on_delete=models.PROTECT, related_name="service_links"
    )
    note = models.CharField(max_length=200, blank=True)

    CONSTRAINT_FIELDS = {"servicecustomer_unique": "customer_group"}

    class Meta:
        verbose_name = "customer"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "customer_group"],
                condition=LIVE,
                name="servicecustomer_unique",
                violation_error_message="This customer group is already a customer.",
            ),
        ]

    def __str__(self) -> str:
        return str(self.customer_group)


class CompetenceNeed(OwnedByService, TenantModel):
    """A competence the service needs, at a level, for so many full-time equivalents (M-2)."""

    ACCESS = perms.SERVICE_PART

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="competences")
    competence = models.CharField(max_length=200)
    level = models.PositiveSmallIntegerField(
        choices=CompetenceLevel.choices, default=CompetenceLevel.WORKING
    )
    fte = models.DecimalField(
        "FTE", max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )

    class Meta:
        ordering = ["competence", "id"]

    def __str__(self) -> str:
        return self.competence


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
            models.UniqueConstraint(
                fields=["service", "artefact"],
                condition=LIVE,
                name="serviceartefact_unique",
                violation_error_message="The service already uses this artefact.",
            ),
        ]

    def __str__(self) -> str:
        return str(self.artefact)


class ServiceVersion(OwnedByService, TenantModel):
    """An immutable, numbered snapshot of a service and all its parts, made by publishing."""

    ACCESS = perms.SERVICE_PART

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    snapshot: models.JSONField[dict[str, Any]] = models.JSONField()
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["service", "number"], name="serviceversion_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.service.code} v{self.number}" if self.service_id else f"v{self.number}"
