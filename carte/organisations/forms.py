"""Forms of the organisations pages. They validate and render; services do the writing."""

from __future__ import annotations

from typing import Any

from django import forms

from carte.core.forms import StyledFormMixin
from carte.organisations import selectors
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole
from carte.organisations.models import PMO, CustomerGroup, Person


class ActorFormMixin(StyledFormMixin):
    """Knows the actor, so choices of related rows come from its organisation only."""

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        self.actor = actor
        super().__init__(*args, **kwargs)
        self.style_widgets(None)

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        self.style_widgets(self.errors)  # type: ignore[attr-defined]

    def _post_clean(self) -> None:
        # Model validation (constraints, uniqueness) runs in the service, which names the
        # field of every error; the form checks only its own fields.
        pass

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)  # type: ignore[misc]
        self.style_widgets(self.errors)  # type: ignore[attr-defined]


class PMOForm(ActorFormMixin, forms.ModelForm[PMO]):
    class Meta:
        model = PMO
        fields = ["name", "kind", "parent", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parents = selectors.pmo_choices(actor=self.actor)
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents  # type: ignore[attr-defined]
        self.fields["parent"].help_text = "The PMO this one reports to, if any."


class CustomerGroupForm(ActorFormMixin, forms.ModelForm[CustomerGroup]):
    class Meta:
        model = CustomerGroup
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}


class PersonForm(ActorFormMixin, forms.ModelForm[Person]):
    class Meta:
        model = Person
        fields = ["name", "email", "job_title", "pmo", "provider", "customer_group", "user"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pmo"].queryset = selectors.pmo_choices(actor=self.actor)  # type: ignore[attr-defined]
        self.fields["customer_group"].queryset = selectors.customer_group_choices(  # type: ignore[attr-defined]
            actor=self.actor
        )
        self.fields["user"].queryset = selectors.member_user_choices(actor=self.actor)  # type: ignore[attr-defined]
        self.fields["user"].help_text = "Optional: the member login of this person."
        self.fields["pmo"].help_text = "Leave empty for someone outside the PMOs."


class MemberCreateForm(ActorFormMixin, forms.Form):
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


class MemberRolesForm(ActorFormMixin, forms.Form):
    roles = forms.MultipleChoiceField(
        choices=OrgRole.choices, widget=forms.CheckboxSelectMultiple, label="Roles"
    )

    def __init__(self, *args: Any, instance: Any = None, **kwargs: Any) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {"roles": instance.role_list}
        super().__init__(*args, **kwargs)
