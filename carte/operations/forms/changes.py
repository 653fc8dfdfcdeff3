"""Forms of the change-request, improvement and feedback pages. They validate their own
fields and render; `carte.operations.services.changes` checks the rest and writes."""

from __future__ import annotations

from typing import Any

from django import forms

from carte.catalogue.models import Service
from carte.core.forms import CarteForm, ObjectChoiceField
from carte.operations.choices import Affects, ChangeReason, RaisedAs
from carte.operations.models import ChangeRequest, Improvement
from carte.operations.selectors.items import item_choices
from carte.organisations import selectors as org_selectors
from carte.organisations.models import Person


def _area(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class ChangeRequestForm(CarteForm):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=_area(5), help_text="What should change, and why now.")
    raised_as = forms.ChoiceField(label="Raised as", choices=RaisedAs.choices)
    reason = forms.ChoiceField(choices=ChangeReason.choices)
    affects = forms.MultipleChoiceField(
        label="Documents it affects",
        choices=Affects.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Needed before submitting. A change to the catalogue publishes a new "
        "version of the service when it is implemented.",
    )

    def __init__(
        self, *args: Any, service: Service, change: ChangeRequest | None = None, **kwargs: Any
    ) -> None:
        self.service = service
        if change is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "title": change.title,
                "description": change.description,
                "raised_as": change.raised_as,
                "reason": change.reason,
                "affects": change.affects,
                "raised_by": change.raised_by_id,
                "item": change.item_id,
            }
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        self.fields["raised_by"] = ObjectChoiceField(
            org_selectors.person_choices(actor=self.actor),
            required=False,
            label="Raised by",
            blank="— me —",
        )
        self.fields["item"] = ObjectChoiceField(
            item_choices(self.actor, self.service),
            required=False,
            label="Risk or issue behind it",
            blank="— none —",
        )

    def data_for_service(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["affects"] = list(data.get("affects") or [])
        return data


class NoteForm(CarteForm):
    note = forms.CharField(widget=_area(3), required=False)


class DecisionForm(CarteForm):
    decision = forms.ChoiceField(
        choices=[("approve", "Approve"), ("reject", "Reject")], widget=forms.RadioSelect
    )
    note = forms.CharField(
        widget=_area(3),
        required=False,
        help_text="Required: why you approve or reject it, and any conditions.",
    )


class ImprovementForm(CarteForm):
    title = forms.CharField(label="Idea", max_length=200)
    description = forms.CharField(widget=_area(3), required=False)
    expected_benefit = forms.CharField(widget=_area(2), required=False)

    def __init__(self, *args: Any, improvement: Improvement | None = None, **kwargs: Any) -> None:
        if improvement is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "title": improvement.title,
                "description": improvement.description,
                "expected_benefit": improvement.expected_benefit,
            }
        super().__init__(*args, **kwargs)


class AgreeForm(CarteForm):
    agree = forms.ChoiceField(
        choices=[("yes", "Agree it is implemented"), ("no", "Send it back in progress")],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(widget=_area(2), required=False, help_text="Required to send it back.")


RATINGS = [
    ("5", "5 — excellent"),
    ("4", "4 — good"),
    ("3", "3 — fair"),
    ("2", "2 — poor"),
    ("1", "1 — very poor"),
]


class FeedbackForm(CarteForm):
    rating = forms.ChoiceField(choices=RATINGS, widget=forms.RadioSelect)
    comment = forms.CharField(widget=_area(3), required=False)
    suggestion = forms.CharField(
        label="Suggest a change",
        widget=_area(3),
        required=False,
        help_text="Optional. It goes to the service's team as a change request.",
    )

    def __init__(self, *args: Any, customers: list[Person] | None = None, **kwargs: Any) -> None:
        self.customers = customers
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        if self.customers is not None:
            self.fields["person"] = ObjectChoiceField(
                self.customers, label="On behalf of", blank="— choose the customer —"
            )
            self.order_fields(["person", "rating", "comment", "suggestion"])
