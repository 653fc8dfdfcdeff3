"""Forms of the KPI pages: they validate their own fields and render; the services check
the rest (thresholds against the direction, periods, values) and name the field of each
refusal, shown next to it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from carte.core.clock import today
from carte.core.forms import CarteForm, CarteModelForm
from carte.operations.models import KPI


def _date() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class KPIForm(CarteModelForm[KPI]):
    """A KPI's definition. A "%" unit runs from 0 to 100 unless a range is given."""

    class Meta:
        model = KPI
        fields = (
            "name",
            "definition",
            "outcome",
            "unit",
            "direction",
            "target",
            "amber",
            "red",
            "minimum",
            "maximum",
            "frequency",
            "reporting_from",
            "grace_days",
            "reporter_role",
        )
        widgets = {
            "definition": forms.Textarea(attrs={"rows": 3}),
            "outcome": forms.Textarea(attrs={"rows": 2}),
            "reporting_from": _date(),
        }

    def setup(self) -> None:
        if self.instance.pk is None and not self.is_bound:
            self.initial.setdefault("reporting_from", today().replace(day=1))
        self.fields["unit"].required = False
        self.fields["outcome"].required = False


class MeasurementForm(CarteForm):
    """One value of one KPI for one period."""

    period = forms.DateField(
        label="Period (its first day)",
        widget=_date(),
        help_text="Weeks start on Monday, months on the 1st, quarters on 1 Jan, Apr, Jul, Oct.",
    )
    value = forms.CharField(max_length=40, help_text="A number, written with a point: 87.5.")
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CorrectionForm(CarteForm):
    """A new value for a period that has one; the earlier one is kept with the reason."""

    period = forms.TypedChoiceField(label="Period", coerce=dt.date.fromisoformat, empty_value=None)
    value = forms.CharField(max_length=40, label="Correct value")
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.CharField(
        max_length=300, label="Reason for the correction", help_text="Kept with the earlier value."
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        self.periods = choices
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        period = self.fields["period"]
        if isinstance(period, forms.ChoiceField):
            period.choices = [("", "—"), *self.periods]


class ImportForm(CarteForm):
    """A CSV or .xlsx file of KPI values to import, or only to check (`dry_run`)."""

    file = forms.FileField(
        label="CSV or Excel file",
        help_text="Columns: service (code), kpi (name), period (YYYY-MM-DD, the first day of "
        "the period), value, and optionally comment.",
    )
    dry_run = forms.BooleanField(
        required=False, label="Dry run: check the file and report, write nothing"
    )
