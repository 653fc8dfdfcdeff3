"""Forms of the risks and issues pages. They validate their own fields and render;
`carte.operations.services.items` checks the rest and writes, and its refusals are shown
next to the field they name (`show`)."""

from __future__ import annotations

from typing import Any

from django import forms

from carte.core.errors import DomainError
from carte.core.forms import StyledFormMixin
from carte.core.views import apply_domain_error
from carte.lifecycle.choices import ClosureReason
from carte.lifecycle.forms import ObjectChoiceField, people
from carte.operations.choices import Affects, ChangeReason, Decision, ItemKind, Level
from carte.operations.models import ItemAction, RiskIssue
from carte.organisations.actor import Actor
from carte.organisations.models import Person

ONE_TO_FIVE = [(n, str(n)) for n in range(1, 6)]
PROBABILITY_HELP = "1 rare, 2 unlikely, 3 possible, 4 likely, 5 almost certain."
IMPACT_HELP = "1 negligible, 2 minor, 3 moderate, 4 major, 5 severe."


def _text(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class ItemsForm(StyledFormMixin, forms.Form):
    """Base: knows the actor, styles its widgets, and shows a service's refusal."""

    # The service's name for a field -> this form's field, where they differ.
    FIELD_NAMES: dict[str, str] = {}

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        self.actor = actor
        super().__init__(*args, **kwargs)
        self.setup()
        self.style_widgets(None)

    def setup(self) -> None:
        """Subclasses add their fields here."""

    def style_widgets(self, bound_errors: Any) -> None:
        super().style_widgets(bound_errors)
        for field in self.fields.values():
            if isinstance(field.widget, forms.RadioSelect):
                field.widget.attrs["class"] = "form-check-input"

    def full_clean(self) -> None:
        super().full_clean()
        self.style_widgets(self.errors)

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        self.style_widgets(self.errors)

    def show(self, exc: DomainError) -> None:
        errors: dict[str, list[str]] = {}
        for name, messages in exc.errors.items():
            mine = self.FIELD_NAMES.get(name, name)
            errors.setdefault(mine if mine in self.fields else "__all__", []).extend(messages)
        apply_domain_error(self, DomainError(exc.message, code=exc.code, errors=errors))


def own_person(actor: Actor, choices: dict[str, Any]) -> Person | None:
    """The actor's own Person among already loaded people (no query)."""
    if actor.user is None:
        return None
    for person in choices.values():
        if person.user_id == actor.user.pk:
            return person  # type: ignore[no-any-return]
    return None


class ItemForm(ItemsForm):
    """Raise or edit a risk or issue. Kind and level are chosen when it is raised; later
    they move through their own steps (make issue, escalate)."""

    def __init__(self, *args: Any, item: RiskIssue | None = None, **kwargs: Any) -> None:
        self.item = item
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        item = self.item
        if item is None:
            self.fields["kind"] = forms.ChoiceField(
                label="Kind",
                choices=ItemKind.choices,
                initial=ItemKind.RISK,
                widget=forms.RadioSelect,
                help_text="A risk may happen; an issue has happened.",
            )
        self.fields["title"] = forms.CharField(label="Title", max_length=200)
        self.fields["description"] = forms.CharField(
            label="Description", required=False, widget=_text()
        )
        self.fields["cause"] = forms.CharField(label="Cause", required=False, widget=_text(2))
        self.fields["effect"] = forms.CharField(label="Effect", required=False, widget=_text(2))
        self.fields["probability"] = forms.TypedChoiceField(
            label="Probability", choices=ONE_TO_FIVE, coerce=int, help_text=PROBABILITY_HELP
        )
        self.fields["impact"] = forms.TypedChoiceField(
            label="Impact", choices=ONE_TO_FIVE, coerce=int, help_text=IMPACT_HELP
        )
        owner = ObjectChoiceField(people(self.actor), label="Owner", required=False)
        mine = own_person(self.actor, owner.objects) if item is None else item.owner
        if mine is not None:
            owner.initial = str(mine.pk)
        self.fields["owner"] = owner
        if item is None:
            self.fields["level"] = forms.TypedChoiceField(
                label="Escalation level",
                choices=Level.choices,
                coerce=int,
                initial=Level.OPERATIONS,
                help_text="Raise it at service operations unless it already needs more.",
            )
        else:
            for name in ("title", "description", "cause", "effect", "probability", "impact"):
                self.fields[name].initial = getattr(item, name)


class NoteForm(ItemsForm):
    """A step of the item's story that needs only a note (escalate, de-escalate, make it
    an issue, close, reopen)."""

    def setup(self) -> None:
        self.fields["note"] = forms.CharField(label="Note", widget=_text())


class DecideForm(ItemsForm):
    """The Service Owner's decision: the four choices, with what the change or closure
    needs."""

    FIELD_NAMES = {"reason": "change_reason"}

    def setup(self) -> None:
        self.fields["decision"] = forms.ChoiceField(
            label="Decision", choices=Decision.choices, widget=forms.RadioSelect
        )
        self.fields["note"] = forms.CharField(
            label="Note", widget=_text(), help_text="The decision as you would minute it."
        )
        self.fields["title"] = forms.CharField(
            label="Change request title", required=False, max_length=200
        )
        self.fields["description"] = forms.CharField(
            label="What should change", required=False, widget=_text(2)
        )
        self.fields["affects"] = forms.MultipleChoiceField(
            label="Documents it changes",
            choices=Affects.choices,
            required=False,
            widget=forms.CheckboxSelectMultiple,
        )
        self.fields["change_reason"] = forms.ChoiceField(
            label="Reason for the change", choices=ChangeReason.choices, required=False
        )
        self.fields["closure_reason"] = forms.ChoiceField(
            label="Reason for closing the service",
            choices=[("", "—"), *ClosureReason.choices],
            required=False,
        )

    def payload(self) -> dict[str, Any]:
        """The service's keyword arguments for the chosen decision."""
        data = self.cleaned_data
        decision = data["decision"]
        if decision == Decision.CHANGE:
            self.FIELD_NAMES = {"reason": "change_reason"}
            return {
                "title": data.get("title") or "",
                "description": data.get("description") or "",
                "affects": list(data.get("affects") or []),
                "reason": data.get("change_reason") or ChangeReason.BUSINESS,
            }
        if decision == Decision.CLOSE_SERVICE:
            self.FIELD_NAMES = {"reason": "closure_reason"}
            return {"reason": data.get("closure_reason") or ""}
        return {}


class ActionForm(ItemsForm):
    """A mitigation or resolution action: what, who, by when."""

    def __init__(self, *args: Any, action: ItemAction | None = None, **kwargs: Any) -> None:
        self.action = action
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        self.fields["description"] = forms.CharField(label="Action", max_length=300)
        owner = ObjectChoiceField(people(self.actor), label="Owner")
        self.fields["owner"] = owner
        self.fields["due_date"] = forms.DateField(
            label="Due by", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        )
        if self.action is not None:
            self.fields["description"].initial = self.action.description
            owner.initial = str(self.action.owner_id)
            self.fields["due_date"].initial = self.action.due_date
        else:
            mine = own_person(self.actor, owner.objects)
            if mine is not None:
                owner.initial = str(mine.pk)
