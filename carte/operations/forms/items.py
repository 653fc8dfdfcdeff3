"""Forms of the risks and issues pages. They validate their own fields and render;
`carte.operations.services.items` checks the rest and writes, and its refusals are shown
next to the field they name (`show`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.db.models import Model

from carte.core.forms import CarteForm, ObjectChoiceField
from carte.lifecycle.choices import ClosureReason
from carte.operations.choices import Affects, ChangeReason, Decision, ItemKind, Level
from carte.operations.models import ItemAction, RiskIssue
from carte.organisations import selectors as org_selectors
from carte.organisations.actor import Actor
from carte.organisations.models import Person

ONE_TO_FIVE = [(n, str(n)) for n in range(1, 6)]
PROBABILITY_HELP = "1 rare, 2 unlikely, 3 possible, 4 likely, 5 almost certain."
IMPACT_HELP = "1 negligible, 2 minor, 3 moderate, 4 major, 5 severe."


def _text(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


def own_person(actor: Actor, choices: Mapping[str, Model]) -> Person | None:
    """The actor's own Person among already loaded people (no query)."""
    if actor.user is None:
        return None
    for person in choices.values():
        if isinstance(person, Person) and person.user_id == actor.user.pk:
            return person
    return None


class ItemForm(CarteForm):
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
        owner = ObjectChoiceField(
            org_selectors.person_choices(actor=self.actor), label="Owner", required=False
        )
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


class NoteForm(CarteForm):
    """A step of the item's story that needs only a note (escalate, de-escalate, make it
    an issue, close, reopen)."""

    def setup(self) -> None:
        self.fields["note"] = forms.CharField(label="Note", widget=_text())


class DecideForm(CarteForm):
    """The Service Owner's decision: the four choices, with what the change or closure
    needs."""

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

    def field_for(self, name: str) -> str | None:
        # The service's `reason` is the change's or the closure's, as decided.
        if name == "reason":
            closing = self.cleaned_data.get("decision") == Decision.CLOSE_SERVICE
            return "closure_reason" if closing else "change_reason"
        return super().field_for(name)

    def payload(self) -> dict[str, Any]:
        """The service's keyword arguments for the chosen decision."""
        data = self.cleaned_data
        decision = data["decision"]
        if decision == Decision.CHANGE:
            return {
                "title": data.get("title") or "",
                "description": data.get("description") or "",
                "affects": list(data.get("affects") or []),
                "reason": data.get("change_reason") or ChangeReason.BUSINESS,
            }
        if decision == Decision.CLOSE_SERVICE:
            return {"reason": data.get("closure_reason") or ""}
        return {}


class ActionForm(CarteForm):
    """A mitigation or resolution action: what, who, by when."""

    def __init__(self, *args: Any, action: ItemAction | None = None, **kwargs: Any) -> None:
        self.action = action
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        self.fields["description"] = forms.CharField(label="Action", max_length=300)
        owner = ObjectChoiceField(org_selectors.person_choices(actor=self.actor), label="Owner")
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
