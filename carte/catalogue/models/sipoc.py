"""A service's SIPOC: suppliers, inputs, process steps, outputs and customers. An input
that names another service's output is a dependency (M-5)."""

from __future__ import annotations

from django.db import models

from carte.catalogue import permissions as perms
from carte.catalogue.choices import SupplierKind
from carte.catalogue.models.services import OwnedByService, Service
from carte.core.models import TenantModel, unique_live


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
            unique_live(
                "customer_group",
                within="service",
                name="servicecustomer_unique",
                message="This customer group is already a customer.",
            ),
        ]

    def __str__(self) -> str:
        return str(self.customer_group)
