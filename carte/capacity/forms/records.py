"""Forms of people's capacity records. They validate their own fields and render;
`carte.capacity.services` checks the rest and writes, and its refusals are shown next to
the field they name (`show`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms

from carte.capacity import permissions as perms
from carte.capacity.choices import AllocationKind, ExceptionReason
from carte.capacity.models import Allocation, Assessment, Availability, AvailabilityException
from carte.capacity.selectors import records as selectors
from carte.core.forms import CarteForm, ObjectChoiceField
from carte.organisations.choices import CompetenceLevel
from carte.organisations.models import Person

FTE_HELP = "A share of full time, from 0 to 1: 0.5 is half time."


class MonthField(forms.DateField):
    """A month, typed as the browser's month picker sends it ("2027-01") or as a date;
    the date of its first day."""

    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
    input_formats = ["%Y-%m", "%Y-%m-%d"]

    def to_python(self, value: Any) -> dt.date | None:
        day = super().to_python(value)
        return day.replace(day=1) if day is not None else None


def _date() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _fte(label: str, **kwargs: Any) -> forms.DecimalField:
    # No min/max here: the service refuses out of range FTE with its own words.
    return forms.DecimalField(
        label=label,
        max_digits=6,
        decimal_places=2,
        help_text=FTE_HELP,
        widget=forms.NumberInput(attrs={"step": "0.05", "inputmode": "decimal"}),
        **kwargs,
    )


def _initial(form: forms.BaseForm, obj: Any, names: tuple[str, ...]) -> None:
    for name in names:
        if name in form.fields:
            value = getattr(obj, name)
            form.fields[name].initial = value.pk if hasattr(value, "pk") else value


class AssessmentForm(CarteForm):
    """Record or correct an assessment: the competence, the level, the day, the evidence;
    a keeper names who assessed when it was not them."""

    def __init__(
        self,
        *args: Any,
        person: Person,
        assessment: Assessment | None = None,
        **kwargs: Any,
    ) -> None:
        self.person, self.assessment = person, assessment
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        self.fields["competence"] = ObjectChoiceField(
            selectors.competence_choices(actor=self.actor), label="Competence"
        )
        self.fields["level"] = forms.TypedChoiceField(
            label="Level",
            choices=[(v, f"{v}. {label}") for v, label in CompetenceLevel.choices],
            coerce=int,
            help_text="What each level means for a competence is in the framework.",
        )
        self.fields["assessed_on"] = forms.DateField(
            label="Assessed on", widget=_date(), initial=dt.date.today
        )
        self.fields["evidence"] = forms.CharField(
            label="Evidence",
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text="What shows this level: work done, a certificate, an observation.",
        )
        self_assessed = self.assessment.self_assessed if self.assessment else False
        if perms.keeps(self.actor, Assessment) and not self_assessed:
            self.fields["assessed_by"] = ObjectChoiceField(
                selectors.people_choices(actor=self.actor),
                label="Assessed by",
                required=False,
                blank="— you —",
                help_text="Leave empty when you assessed.",
            )
        if self.assessment is not None:
            _initial(self, self.assessment, ("competence", "level", "assessed_on", "evidence"))
            if "assessed_by" in self.fields and self.assessment.assessed_by_id:
                self.fields["assessed_by"].initial = str(self.assessment.assessed_by_id)
            self.fields["competence"].initial = str(self.assessment.competence_id)

    def data_for_service(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if data.get("assessed_by") is None:
            data.pop("assessed_by", None)
        return data


class ContractForm(CarteForm):
    """A person's contract: the share of full time, from and until when."""

    def __init__(self, *args: Any, contract: Availability | None = None, **kwargs: Any) -> None:
        self.contract = contract
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        self.fields["contracted_fte"] = _fte("Contracted FTE", initial=Decimal(1))
        self.fields["starts_on"] = forms.DateField(
            label="Works from", required=False, widget=_date(), help_text="Empty: already here."
        )
        self.fields["leaves_on"] = forms.DateField(
            label="Works until", required=False, widget=_date(), help_text="Empty: no end known."
        )
        if self.contract is not None:
            _initial(self, self.contract, ("contracted_fte", "starts_on", "leaves_on"))


class ExceptionForm(CarteForm):
    """Months in which the person works another share of time than their contract."""

    def __init__(
        self, *args: Any, exception: AvailabilityException | None = None, **kwargs: Any
    ) -> None:
        self.exception = exception
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        self.fields["reason"] = forms.ChoiceField(label="Reason", choices=ExceptionReason.choices)
        self.fields["starts_on"] = MonthField(label="From month")
        self.fields["ends_on"] = MonthField(label="To month")
        self.fields["available_fte"] = _fte("FTE available in those months", initial=Decimal(0))
        self.fields["note"] = forms.CharField(label="Note", required=False, max_length=300)
        if self.exception is not None:
            _initial(
                self, self.exception, ("reason", "starts_on", "ends_on", "available_fte", "note")
            )


class AllocationForm(CarteForm):
    """Some of a person's time, month by month, to a service (with the competence used)
    or to other work."""

    def __init__(
        self,
        *args: Any,
        allocation: Allocation | None = None,
        person: Person | None = None,
        **kwargs: Any,
    ) -> None:
        self.allocation, self.person = allocation, person
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        self.fields["person"] = ObjectChoiceField(
            selectors.people_choices(actor=self.actor), label="Person"
        )
        self.fields["kind"] = forms.ChoiceField(
            label="For", choices=AllocationKind.choices, initial=AllocationKind.SERVICE
        )
        self.fields["service"] = ObjectChoiceField(
            selectors.allocatable_services(actor=self.actor),
            label="Service",
            required=False,
            help_text="For time on a service.",
        )
        self.fields["work"] = forms.CharField(
            label="Other work",
            required=False,
            max_length=200,
            help_text="For a project, business as usual or training: what it is.",
        )
        self.fields["competence"] = ObjectChoiceField(
            selectors.competence_choices(actor=self.actor),
            label="Competence used",
            required=False,
            help_text="On a service, one of the competences it needs.",
        )
        self.fields["fte"] = _fte("FTE each month")
        self.fields["starts_on"] = MonthField(label="From month")
        self.fields["ends_on"] = MonthField(label="To month")
        self.fields["note"] = forms.CharField(label="Note", required=False, max_length=300)
        obj = self.allocation
        if obj is not None:
            _initial(self, obj, ("kind", "work", "fte", "starts_on", "ends_on", "note"))
            for name in ("person", "service", "competence"):
                pk = getattr(obj, f"{name}_id")
                self.fields[name].initial = str(pk) if pk else None
                field = self.fields[name]
                if pk and isinstance(field, ObjectChoiceField) and str(pk) not in field.objects:
                    # A row no longer offered (archived, closed) is kept while it is chosen.
                    field.objects[str(pk)] = getattr(obj, name)
                    field.choices = [
                        *field.widget.choices,
                        (str(pk), str(getattr(obj, name))),
                    ]
        elif self.person is not None:
            self.fields["person"].initial = str(self.person.pk)

    def data_for_service(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for name in ("work", "note"):
            data[name] = data.get(name) or ""
        return data
