"""Forms of the catalogue pages. They validate and render; the services write."""

from __future__ import annotations

from typing import Any

from django import forms

from carte.catalogue.models import (
    Artefact,
    Category,
    CompetenceNeed,
    GovernanceNeed,
    ProcessStep,
    Service,
    ServiceArtefact,
    ServiceCustomer,
    ServiceInput,
    ServiceLevel,
    ServiceOutput,
    ServiceRole,
    Supplier,
)
from carte.core.forms import StyledFormMixin
from carte.organisations import selectors as org_selectors
from carte.organisations.actor import Actor
from carte.organisations.forms import ActorFormMixin
from carte.organisations.models import Person


class CategoryForm(ActorFormMixin, forms.ModelForm[Category]):
    class Meta:
        model = Category
        fields = ["name", "description", "position"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class ServiceForm(ActorFormMixin, forms.ModelForm[Service]):
    """The service card; the stage is not here (lifecycle transitions move it)."""

    class Meta:
        model = Service
        fields = [
            "code",
            "name",
            "category",
            "summary",
            "description",
            "outcome",
            "rationale",
            "rationale_note",
            "scopes",
            "delivery_mode",
            "provider_kind",
            "provider_name",
            "delivering_pmos",
            "hours",
            "pricing_basis",
            "price",
            "currency",
            "price_unit",
            "is_temporary",
            "end_date",
            "replaces",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "outcome": forms.Textarea(attrs={"rows": 3}),
            "rationale_note": forms.Textarea(attrs={"rows": 2}),
            "delivering_pmos": forms.CheckboxSelectMultiple,
            "end_date": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        org = self.actor.organisation
        self.fields["category"].queryset = Category.objects.filter(  # type: ignore[attr-defined]
            organisation=org, archived_at__isnull=True
        )
        self.fields["delivering_pmos"].queryset = org_selectors.pmo_choices(actor=self.actor)  # type: ignore[attr-defined]
        replaces = Service.objects.filter(organisation=org, archived_at__isnull=True)
        if self.instance.pk:
            replaces = replaces.exclude(pk=self.instance.pk)
        self.fields["replaces"].queryset = replaces  # type: ignore[attr-defined]
        self.style_widgets(None)


def _org_people(actor: Actor) -> Any:
    return Person.objects.filter(organisation=actor.organisation, archived_at__isnull=True)


class PartForm(StyledFormMixin, forms.ModelForm[Any]):
    """Base of the inline forms for a service's parts: choices come from the organisation
    and, where it matters, from the service itself."""

    def __init__(self, *args: Any, actor: Actor, service: Service, **kwargs: Any) -> None:
        self.actor = actor
        self.service = service
        super().__init__(*args, **kwargs)
        self.limit_choices()
        self.style_widgets(None)

    def limit_choices(self) -> None:
        """Subclasses narrow their related-row choices here."""

    def full_clean(self) -> None:
        super().full_clean()
        self.style_widgets(self.errors)


class RoleForm(PartForm):
    class Meta:
        model = ServiceRole
        fields = ["person", "role", "pmo"]

    def limit_choices(self) -> None:
        self.fields["person"].queryset = _org_people(self.actor)  # type: ignore[attr-defined]
        self.fields["pmo"].queryset = self.service.delivering_pmos.all()  # type: ignore[attr-defined]


class LevelForm(PartForm):
    class Meta:
        model = ServiceLevel
        fields = ["name", "description", "effort_hours", "price"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class SymptomLinkForm(StyledFormMixin, forms.Form):
    """A symptom by its statement: an existing one is reused, a new one recorded."""

    statement = forms.CharField(label="Symptom", max_length=300)
    weight = forms.TypedChoiceField(
        choices=[(i, str(i)) for i in range(1, 6)], coerce=int, initial=3, label="Weight (1-5)"
    )

    def __init__(
        self, *args: Any, actor: Actor, service: Service, instance: Any = None, **kwargs: Any
    ) -> None:
        self.actor = actor
        self.service = service
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {"statement": instance.symptom.statement, "weight": instance.weight}
        super().__init__(*args, **kwargs)
        self.style_widgets(None)

    def full_clean(self) -> None:
        super().full_clean()
        self.style_widgets(self.errors)


class SupplierForm(PartForm):
    class Meta:
        model = Supplier
        fields = ["kind", "name", "person", "customer_group"]

    def limit_choices(self) -> None:
        self.fields["person"].queryset = _org_people(self.actor)  # type: ignore[attr-defined]
        self.fields["customer_group"].queryset = org_selectors.customer_group_choices(  # type: ignore[attr-defined]
            actor=self.actor
        )


class InputForm(PartForm):
    class Meta:
        model = ServiceInput
        fields = ["name", "quality_criteria", "is_trigger", "supplier", "source_output"]
        widgets = {"quality_criteria": forms.Textarea(attrs={"rows": 2})}

    def limit_choices(self) -> None:
        self.fields["supplier"].queryset = self.service.suppliers.filter(  # type: ignore[attr-defined]
            archived_at__isnull=True
        )
        outputs = (
            ServiceOutput.objects.filter(
                organisation=self.actor.organisation,
                archived_at__isnull=True,
                service__archived_at__isnull=True,
            )
            .exclude(service=self.service)
            .select_related("service")
            .order_by("service__code", "position")
        )
        field = self.fields["source_output"]
        field.queryset = outputs  # type: ignore[attr-defined]
        field.label_from_instance = lambda o: f"{o.service.code}: {o.name}"  # type: ignore[attr-defined]
        field.help_text = "The output of another service this input comes from, if any."


class StepForm(PartForm):
    class Meta:
        model = ProcessStep
        fields = ["name", "description", "performer"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class OutputForm(PartForm):
    class Meta:
        model = ServiceOutput
        fields = ["name", "quality_criteria", "customers"]
        widgets = {
            "quality_criteria": forms.Textarea(attrs={"rows": 2}),
            "customers": forms.CheckboxSelectMultiple,
        }

    def limit_choices(self) -> None:
        self.fields["customers"].queryset = org_selectors.customer_group_choices(  # type: ignore[attr-defined]
            actor=self.actor
        )


class CustomerForm(PartForm):
    class Meta:
        model = ServiceCustomer
        fields = ["customer_group", "note"]

    def limit_choices(self) -> None:
        self.fields["customer_group"].queryset = org_selectors.customer_group_choices(  # type: ignore[attr-defined]
            actor=self.actor
        )


class CompetenceForm(PartForm):
    class Meta:
        model = CompetenceNeed
        fields = ["competence", "level", "fte"]


class GovernanceForm(PartForm):
    class Meta:
        model = GovernanceNeed
        fields = ["item", "in_place"]


class ArtefactLinkForm(PartForm):
    class Meta:
        model = ServiceArtefact
        fields = ["artefact", "note"]

    def limit_choices(self) -> None:
        self.fields["artefact"].queryset = (  # type: ignore[attr-defined]
            Artefact.objects.filter(organisation=self.actor.organisation, archived_at__isnull=True)
            .exclude(owner_service=self.service)
            .select_related("owner_pmo", "owner_service")
        )


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
