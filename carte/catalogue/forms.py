"""Forms of the catalogue pages. They validate and render; the services write."""

from __future__ import annotations

from typing import Any

from django import forms

from carte.catalogue import models, selectors
from carte.catalogue.services import EDITABLE_FIELDS
from carte.core.forms import CarteForm, CarteModelForm
from carte.organisations import selectors as org_selectors


class CategoryForm(CarteModelForm[models.Category]):
    class Meta:
        model = models.Category
        fields = ["name", "description", "position"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class ServiceForm(CarteModelForm[models.Service]):
    """The service card; the stage is not here (lifecycle transitions move it)."""

    class Meta:
        model = models.Service
        fields = EDITABLE_FIELDS
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "outcome": forms.Textarea(attrs={"rows": 3}),
            "rationale_note": forms.Textarea(attrs={"rows": 2}),
            "delivering_pmos": forms.CheckboxSelectMultiple,
            "end_date": forms.DateInput(attrs={"type": "date"}),
        }

    def setup(self) -> None:
        self.choose("category", selectors.live_categories(actor=self.actor))
        self.choose("delivering_pmos", org_selectors.pmo_choices(actor=self.actor))
        self.choose("replaces", selectors.service_choices(actor=self.actor, exclude=self.instance))


class PartForm(CarteModelForm[Any]):
    """Base of the inline forms for a service's parts: choices come from the organisation
    and, where it matters, from the service itself."""

    def __init__(self, *args: Any, service: models.Service, **kwargs: Any) -> None:
        self.service = service
        super().__init__(*args, **kwargs)


class RoleForm(PartForm):
    class Meta:
        model = models.ServiceRole
        fields = ["person", "role", "pmo"]

    def setup(self) -> None:
        self.choose("person", org_selectors.person_choices(actor=self.actor))
        self.choose("pmo", selectors.delivering_pmo_choices(service=self.service))


class LevelForm(PartForm):
    class Meta:
        model = models.ServiceLevel
        fields = ["name", "description", "effort_hours", "price"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class SymptomLinkForm(CarteForm):
    """A symptom by its statement: an existing one is reused, a new one recorded."""

    statement = forms.CharField(label="Symptom", max_length=300)
    weight = forms.TypedChoiceField(
        choices=[(i, str(i)) for i in range(1, 6)], coerce=int, initial=3, label="Weight (1-5)"
    )

    def __init__(
        self, *args: Any, service: models.Service, instance: Any = None, **kwargs: Any
    ) -> None:
        self.service = service
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {"statement": instance.symptom.statement, "weight": instance.weight}
        super().__init__(*args, **kwargs)


class SupplierForm(PartForm):
    class Meta:
        model = models.Supplier
        fields = ["kind", "name", "person", "customer_group"]

    def setup(self) -> None:
        self.choose("person", org_selectors.person_choices(actor=self.actor))
        self.choose("customer_group", org_selectors.customer_group_choices(actor=self.actor))


class OutputChoiceField(forms.ModelChoiceField[models.ServiceOutput]):
    """Another service's output, named with that service's code."""

    def label_from_instance(self, obj: models.ServiceOutput) -> str:
        return f"{obj.service.code}: {obj.name}"


class InputForm(PartForm):
    class Meta:
        model = models.ServiceInput
        fields = ["name", "quality_criteria", "is_trigger", "supplier", "source_output"]
        widgets = {"quality_criteria": forms.Textarea(attrs={"rows": 2})}
        field_classes = {"source_output": OutputChoiceField}

    def setup(self) -> None:
        self.choose("supplier", selectors.supplier_choices(service=self.service))
        self.choose(
            "source_output", selectors.output_choices(actor=self.actor, service=self.service)
        )
        self.fields[
            "source_output"
        ].help_text = "The output of another service this input comes from, if any."


class StepForm(PartForm):
    class Meta:
        model = models.ProcessStep
        fields = ["name", "description", "performer"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class OutputForm(PartForm):
    class Meta:
        model = models.ServiceOutput
        fields = ["name", "quality_criteria", "customers"]
        widgets = {
            "quality_criteria": forms.Textarea(attrs={"rows": 2}),
            "customers": forms.CheckboxSelectMultiple,
        }

    def setup(self) -> None:
        self.choose("customers", org_selectors.customer_group_choices(actor=self.actor))


class CustomerForm(PartForm):
    class Meta:
        model = models.ServiceCustomer
        fields = ["customer_group", "note"]

    def setup(self) -> None:
        self.choose("customer_group", org_selectors.customer_group_choices(actor=self.actor))


class CompetenceForm(PartForm):
    """A competence of the organisation's framework, the level needed and how many FTE."""

    class Meta:
        model = models.CompetenceNeed
        fields = ["competence", "level", "fte"]

    def setup(self) -> None:
        self.choose("competence", selectors.competence_choices(actor=self.actor))
        self.fields["competence"].help_text = "A competence of the organisation's framework."


class GovernanceForm(PartForm):
    class Meta:
        model = models.GovernanceNeed
        fields = ["item", "in_place"]


class ArtefactLinkForm(PartForm):
    class Meta:
        model = models.ServiceArtefact
        fields = ["artefact", "note"]

    def setup(self) -> None:
        self.choose("artefact", selectors.artefact_choices(actor=self.actor, service=self.service))


PART_FORMS: dict[str, type[Any]] = {
    "roles": RoleForm,
    "levels": LevelForm,
    "symptoms": SymptomLinkForm,
    "suppliers": SupplierForm,
    "inputs": InputForm,
    "steps": StepForm,
    "outputs": OutputForm,
    "customers": CustomerForm,
    "competences": CompetenceForm,
    "governance": GovernanceForm,
    "artefacts": ArtefactLinkForm,
}
