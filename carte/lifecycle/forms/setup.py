"""Forms of the set-up: the decision to set a service up (M-14), the move to design with
its task list, and the success criteria a pilot is judged by (M-15)."""

from __future__ import annotations

from typing import Any

from django import forms

from carte.core.forms import ObjectChoiceField
from carte.lifecycle import selectors
from carte.lifecycle.choices import Sourcing
from carte.lifecycle.forms.base import (
    LifecycleForm,
    MoveForm,
    groups_field,
    people_field,
    text_widget,
)
from carte.lifecycle.models import SuccessCriterion
from carte.organisations import selectors as org_selectors
from carte.organisations.models import PMO


class DecisionForm(MoveForm):
    """The set-up decision (M-14)."""

    main = (
        "delivering_pmos",
        "owner",
        "sourcing",
        "provider_name",
        "strategy_fit",
        "capacity",
        "other_services",
        "stakeholders",
        "scope",
    )
    TEXTS = ("strategy_fit", "capacity", "other_services", "stakeholders", "scope")

    def add_fields(self) -> None:
        self.pmos = list(org_selectors.pmo_choices(actor=self.actor).only("pk", "name"))
        owners, managers = selectors.appointable(self.actor)
        self.fields["delivering_pmos"] = forms.TypedMultipleChoiceField(
            label="Delivering PMOs",
            choices=[(str(p.pk), p.name) for p in self.pmos],
            coerce=int,
            widget=forms.CheckboxSelectMultiple,
            help_text="The PMO(s) that deliver the service or manage its outsourcing.",
        )
        self.fields["owner"] = ObjectChoiceField(
            owners,
            label="Service Owner",
            help_text="One of our staff: not a customer or a contractor.",
        )
        # Asked only of the PMOs ticked (the page shows each beside its PMO): the service
        # needs a Service Manager for each delivering PMO, and for no other.
        for pmo in self.pmos:
            self.fields[f"manager_{pmo.pk}"] = ObjectChoiceField(
                managers, label=f"Service Manager for {pmo.name}", required=False
            )
        self.fields["sourcing"] = forms.ChoiceField(
            choices=[("", "—"), *Sourcing.choices], label="Sourcing"
        )
        self.fields["provider_name"] = forms.CharField(
            label="Provider",
            required=False,
            max_length=200,
            help_text="Who the service is outsourced to, in whole or part.",
        )
        labels = {
            "strategy_fit": "Fit with the service strategy",
            "capacity": "Competence and capacity available",
            "other_services": "The chosen PMO's other services",
            "stakeholders": "Customers and stakeholders",
            "scope": "Scope",
        }
        for name in self.TEXTS:
            self.fields[name] = forms.CharField(label=labels[name], widget=text_widget())

    def field_for(self, name: str) -> str | None:
        if name == "managers":
            return None
        return super().field_for(name)

    @property
    def manager_fields(self) -> list[forms.BoundField]:
        return self.bound(*(f"manager_{p.pk}" for p in self.pmos))

    @property
    def pmo_rows(self) -> list[tuple[Any, forms.BoundField]]:
        """Each PMO's checkbox with the Service Manager it needs once ticked."""
        return list(zip(self["delivering_pmos"], self.manager_fields, strict=True))

    @property
    def main_fields(self) -> list[forms.BoundField]:
        return self.bound("delivering_pmos", "owner")

    @property
    def owner_fields(self) -> list[forms.BoundField]:
        return self.bound("owner")

    @property
    def detail_fields(self) -> list[forms.BoundField]:
        return self.bound("sourcing", "provider_name", *self.TEXTS)

    def chosen_pmos(self) -> list[PMO]:
        chosen = set(self.cleaned_data.get("delivering_pmos") or [])
        return [p for p in self.pmos if p.pk in chosen]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # A Service Manager chosen for a PMO left unticked is not asked for: dropped.
        for pmo in self.chosen_pmos():
            if not data.get(f"manager_{pmo.pk}") and f"manager_{pmo.pk}" not in self.errors:
                self.add_error(f"manager_{pmo.pk}", f"Appoint a Service Manager for {pmo.name}.")
        return data

    def payload(self) -> dict[str, Any]:
        data = self.cleaned_data
        pmos = self.chosen_pmos()
        return {
            "delivering_pmos": pmos,
            "owner": data["owner"],
            "managers": {p: data[f"manager_{p.pk}"] for p in pmos},
            "sourcing": data["sourcing"],
            "provider_name": data.get("provider_name") or "",
            **{name: data[name] for name in self.TEXTS},
        }


class DesignForm(MoveForm):
    main = ("template",)

    def add_fields(self) -> None:
        self.fields["template"] = forms.ModelChoiceField(
            queryset=selectors.task_templates(self.actor),
            required=False,
            label="Set-up task list from a template",
            help_text="A Centre of Excellence's template: its tasks become the set-up plan.",
        )

    def payload(self) -> dict[str, Any]:
        template = self.cleaned_data.get("template")
        return {"template": template} if template is not None else {}


class CriterionForm(LifecycleForm):
    """A success criterion and who agreed it (M-15)."""

    def __init__(self, *args: Any, instance: SuccessCriterion | None = None, **kwargs: Any) -> None:
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "description": instance.description,
                "measure": instance.measure,
                "agreed_with_groups": list(instance.agreed_with_groups.all()),
                "agreed_with_people": list(instance.agreed_with_people.all()),
            }
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        self.fields["description"] = forms.CharField(max_length=300)
        self.fields["measure"] = forms.CharField(
            label="How it is verified",
            max_length=300,
            required=False,
            help_text="e.g. 4 of 5 customers rate the reports useful",
        )
        self.fields["agreed_with_groups"] = groups_field(
            self.actor, label="Agreed with customer groups"
        )
        self.fields["agreed_with_people"] = people_field(
            self.actor, label="Agreed with customers", size=5
        )
