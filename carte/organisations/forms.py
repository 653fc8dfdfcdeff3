"""Forms of the organisations pages. They validate and render; services do the writing."""

from __future__ import annotations

from typing import Any

from django import forms

from carte.core.forms import CarteForm, CarteModelForm
from carte.organisations import selectors
from carte.organisations.choices import OrgRole
from carte.organisations.models import PMO, CustomerGroup, Person


class PMOForm(CarteModelForm[PMO]):
    class Meta:
        model = PMO
        fields = ["name", "kind", "parent", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def setup(self) -> None:
        parents = selectors.pmo_choices(actor=self.actor)
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.choose("parent", parents)
        self.fields["parent"].help_text = "The PMO this one reports to, if any."


class CustomerGroupForm(CarteModelForm[CustomerGroup]):
    class Meta:
        model = CustomerGroup
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}


class PersonForm(CarteModelForm[Person]):
    class Meta:
        model = Person
        fields = ["name", "email", "job_title", "pmo", "provider", "customer_group", "user"]

    def setup(self) -> None:
        self.choose("pmo", selectors.pmo_choices(actor=self.actor))
        self.choose("customer_group", selectors.customer_group_choices(actor=self.actor))
        self.choose("user", selectors.member_user_choices(actor=self.actor))
        self.fields["user"].help_text = "Optional: the member login of this person."
        self.fields["pmo"].help_text = "Leave empty for someone outside the PMOs."


class MemberCreateForm(CarteForm):
    email = forms.EmailField(label="E-mail", max_length=254)
    full_name = forms.CharField(label="Full name", max_length=150, required=False)
    roles = forms.MultipleChoiceField(
        choices=OrgRole.choices, widget=forms.CheckboxSelectMultiple, label="Roles"
    )
    password = forms.CharField(
        label="Initial password",
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="Only for a new login. Leave empty to add an existing login.",
    )

    def __init__(self, *args: Any, instance: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)


class MemberRolesForm(CarteForm):
    roles = forms.MultipleChoiceField(
        choices=OrgRole.choices, widget=forms.CheckboxSelectMultiple, label="Roles"
    )

    def __init__(self, *args: Any, instance: Any = None, **kwargs: Any) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {"roles": instance.role_list}
        super().__init__(*args, **kwargs)
