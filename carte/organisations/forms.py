"""Forms of the organisations pages. They validate and render; services do the writing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms

from carte.core.forms import CarteForm, CarteModelForm, widget_class
from carte.organisations import selectors, services
from carte.organisations.choices import OrgRole
from carte.organisations.models import PMO, Competence, CustomerGroup, Person, User


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


class CompetenceForm(CarteModelForm[Competence]):
    """A competence of the framework: its name, group and description, and what each of
    the five levels means for it, each labelled by the level's name."""

    class Meta:
        model = Competence
        fields = ["name", "group", "description", *Competence.LEVEL_FIELDS]
        widgets = {
            name: forms.Textarea(attrs={"rows": 2 if name != "description" else 3})
            for name in ("description", *Competence.LEVEL_FIELDS)
        }

    def setup(self) -> None:
        for name in Competence.LEVEL_FIELDS:
            label = self.fields[name].label
            self.fields[name].help_text = f"What “{label}” means for this competence."


class CompetenceImportForm(CarteForm):
    """A framework file to import (.xlsx or YAML), or only to check (`dry_run`)."""

    file = forms.FileField(
        label="Excel (.xlsx) or YAML file",
        help_text="As the framework's download gives it: one row per competence, with its "
        "name, group, description and the five levels.",
    )
    dry_run = forms.BooleanField(
        required=False, label="Dry run: check the file and report, write nothing"
    )


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


# ---------------------------------------------------------------- the login's own account


class AccountForm:
    """Django's own account forms (no organisation, so no actor), with the Tabler classes
    every page form has."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", widget_class(field.widget))


class NewPasswordMixin(AccountForm):
    """The new password is written by the service, not by the form."""

    user: Any
    cleaned_data: dict[str, Any]

    def save(self, commit: bool = True) -> Any:
        return services.password_set(user=self.user, password=self.cleaned_data["new_password1"])


class PasswordResetForm(AccountForm, auth_forms.PasswordResetForm):
    """Asks for the e-mail; the link in the message starts from `CARTE_BASE_URL`, where
    Carte is reached from outside (as every other e-mail's links), never from the Host
    header of whoever asked."""

    email = forms.EmailField(  # labelled as on the login page
        label="E-mail", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        context = {
            **context,
            "base_url": settings.CARTE_BASE_URL,
            "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        }
        super().send_mail(
            subject_template_name,
            email_template_name,
            context,
            from_email,
            to_email,
            html_email_template_name,
        )


if TYPE_CHECKING:  # generic in django-stubs only
    SetPasswordBase = auth_forms.SetPasswordForm[User]
else:
    SetPasswordBase = auth_forms.SetPasswordForm


class SetPasswordForm(NewPasswordMixin, SetPasswordBase):
    """The new password, from the link of a reset e-mail."""


class PasswordChangeForm(NewPasswordMixin, auth_forms.PasswordChangeForm):
    """The logged-in login's new password, after its current one."""
