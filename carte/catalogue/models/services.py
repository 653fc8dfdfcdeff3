"""A service and what it hangs from and becomes: its category, the guard on its stage, and
its published versions. `OwnedByService` is how any row under a service (in this app or
another) says which service it belongs to.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Upper
from django.utils import timezone

from carte.catalogue import permissions as perms
from carte.catalogue.choices import (
    DeliveryMode,
    PricingBasis,
    ProviderKind,
    Rationale,
    Scope,
    Stage,
)
from carte.core.fields import MultiChoiceField
from carte.core.models import TenantModel, unique_live

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
            unique_live(
                "name",
                fold=Lower,
                name="category_unique_live_name",
                message="A category with this name already exists.",
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
            unique_live(
                "code",
                fold=Upper,
                name="service_unique_live_code",
                message="A service with this code already exists.",
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

    # What a customer's search and filters match (`catalogue.filters.PublishedServiceFilter`),
    # written with the snapshot: a customer finds a service by its published words and
    # facets, never by a draft's. The text is lowercased (`snapshots.search_text`).
    search_text = models.TextField(blank=True, editable=False)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scopes = MultiChoiceField("scope", choices=Scope.choices)
    delivery_mode = models.CharField(max_length=20, choices=DeliveryMode.choices, blank=True)
    pricing_basis = models.CharField(max_length=20, choices=PricingBasis.choices, blank=True)
    customer_groups = models.ManyToManyField(
        "organisations.CustomerGroup", blank=True, related_name="+"
    )
    delivering_pmos = models.ManyToManyField("organisations.PMO", blank=True, related_name="+")

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["service", "number"], name="serviceversion_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.service.code} v{self.number}" if self.service_id else f"v{self.number}"
