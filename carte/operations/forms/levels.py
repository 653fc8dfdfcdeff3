"""The form of a service-level target, on a service's Operations tab. It validates its
own fields and renders; `carte.operations.services.levels` checks the rest and writes.

The choices are the service's own (`selectors.levels.target_choices`): the customer
groups that use it (its SIPOC customers), its live KPIs and its live levels.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from carte.catalogue.models import Service
from carte.core.forms import CarteForm, ObjectChoiceField
from carte.operations.models import ServiceLevelTarget
from carte.operations.selectors.levels import target_choices


class LevelTargetForm(CarteForm):
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
        service: Service,
        instance: ServiceLevelTarget | None = None,
        **kwargs: Any,
    ) -> None:
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

    def setup(self) -> None:
        choices = target_choices(self.service, self.instance)
        self.fields = {
            "customer_group": ObjectChoiceField(
                choices.groups,
                label="Customer group",
                help_text="The groups that use this service (its SIPOC customers).",
            ),
            "kpi": ObjectChoiceField(
                choices.kpis,
                label="Measured by KPI",
                help_text="One of the service's own KPIs; the target follows its direction.",
            ),
            "level": ObjectChoiceField(
                choices.levels,
                label="Service level",
                blank="Any level",
                required=False,
                help_text="Leave blank when the level holds whatever the dose of the service.",
            ),
            **self.fields,
        }
        self.no_groups = not choices.groups
        self.no_kpis = not choices.kpis


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"
