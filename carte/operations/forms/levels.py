"""The form of a service-level target, on a service's Operations tab. It validates its
own fields and renders; `carte.operations.services.levels` checks the rest and writes.

The choices are the service's own: the customer groups that use it (its SIPOC
customers), its live KPIs and its live levels, each read in one query.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Model

from carte.catalogue.models import Service, ServiceCustomer, ServiceLevel
from carte.core.errors import DomainError
from carte.core.forms import StyledFormMixin
from carte.core.views import apply_domain_error
from carte.operations.models import KPI, ServiceLevelTarget
from carte.organisations.actor import Actor
from carte.organisations.models import CustomerGroup


class RowChoiceField(forms.TypedChoiceField):
    """A choice among rows already loaded."""

    def __init__(self, objects: Iterable[Model], *, blank: str = "—", **kwargs: Any) -> None:
        self.objects = {str(o.pk): o for o in objects}
        super().__init__(
            choices=[("", blank), *((k, str(o)) for k, o in self.objects.items())],
            coerce=self.objects.__getitem__,
            empty_value=None,
            **kwargs,
        )


def customer_groups(service: Service) -> list[CustomerGroup]:
    """The live customer groups that use the service, by name."""
    links = (
        ServiceCustomer.objects.filter(
            service=service,
            archived_at__isnull=True,
            customer_group__archived_at__isnull=True,
        )
        .select_related("customer_group")
        .order_by("customer_group__name", "customer_group_id")
    )
    return [link.customer_group for link in links]


class LevelTargetForm(StyledFormMixin, forms.Form):
    """Add or change a service level agreed with a customer group."""

    statement = forms.CharField(
        label="Service level as agreed",
        max_length=300,
        help_text="In the customer's words: “Status pack delivered within 5 working days of "
        "month end”.",
    )
    target = forms.DecimalField(
        label="Target value",
        max_digits=18,
        decimal_places=4,
        help_text="Met when the KPI's value is at least this (higher is better) or at most "
        "this (lower is better).",
    )

    def __init__(
        self,
        *args: Any,
        actor: Actor,
        service: Service,
        instance: ServiceLevelTarget | None = None,
        **kwargs: Any,
    ) -> None:
        self.actor = actor
        self.service = service
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "customer_group": str(instance.customer_group_id),
                "kpi": str(instance.kpi_id),
                "level": str(instance.level_id or ""),
                "statement": instance.statement,
                "target": _plain(instance.target),
            }
        super().__init__(*args, **kwargs)
        groups = customer_groups(service)
        if instance is not None and instance.customer_group_id not in {g.pk for g in groups}:
            groups.append(instance.customer_group)
        kpis = list(
            KPI.objects.filter(service=service, archived_at__isnull=True).order_by(
                "position", "name", "id"
            )
        )
        levels = list(
            ServiceLevel.objects.filter(service=service, archived_at__isnull=True).order_by(
                "position", "id"
            )
        )
        if instance is not None:
            # The stored choices stay on offer even if archived since, so the service
            # (not the form) says what is wrong with them.
            if instance.kpi_id not in {k.pk for k in kpis}:
                kpis.append(instance.kpi)
            if instance.level is not None and instance.level_id not in {lv.pk for lv in levels}:
                levels.append(instance.level)
        self.fields = {
            "customer_group": RowChoiceField(
                groups,
                label="Customer group",
                help_text="The groups that use this service (its SIPOC customers).",
            ),
            "kpi": RowChoiceField(
                kpis,
                label="Measured by KPI",
                help_text="One of the service's own KPIs; the target follows its direction.",
            ),
            "level": RowChoiceField(
                levels,
                label="Service level",
                blank="Any level",
                required=False,
                help_text="Leave blank when the level holds whatever the dose of the service.",
            ),
            **self.fields,
        }
        self.no_groups = not groups
        self.no_kpis = not kpis
        self.style_widgets(None)

    def full_clean(self) -> None:
        super().full_clean()
        self.style_widgets(self.errors)

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        self.style_widgets(self.errors)

    def show(self, exc: DomainError) -> None:
        """The service's refusal, next to the fields it names."""
        apply_domain_error(self, exc)

    def values(self) -> dict[str, Any]:
        return {
            name: self.cleaned_data.get(name)
            for name in ("customer_group", "kpi", "level", "statement", "target")
        }


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"
