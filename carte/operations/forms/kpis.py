"""Forms of the KPI pages: they validate their own fields and render; the services check
the rest (thresholds against the direction, periods, values) and name the field of each
refusal, shown next to it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from carte.core.clock import today
from carte.core.forms import StyledFormMixin
from carte.operations.models import KPI


def _date() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class Styled(StyledFormMixin):
    """Tabler classes, kept right after errors are added."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_widgets(None)

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        self.style_widgets(self.errors)  # type: ignore[attr-defined]

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)  # type: ignore[misc]
        self.style_widgets(self.errors)  # type: ignore[attr-defined]


class KPIForm(Styled, forms.ModelForm):  # type: ignore[type-arg]
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None and not self.is_bound:
            self.initial.setdefault("reporting_from", today().replace(day=1))
        self.fields["unit"].required = False
        self.fields["outcome"].required = False

    def _post_clean(self) -> None:
        """Constraints and uniqueness are checked once, by the service."""


class MeasurementForm(Styled, forms.Form):
    """One value of one KPI for one period."""

    period = forms.DateField(
        label="Period (its first day)",
        widget=_date(),
        help_text="Weeks start on Monday, months on the 1st, quarters on 1 Jan, Apr, Jul, Oct.",
    )
    value = forms.CharField(max_length=40, help_text="A number, written with a point: 87.5.")
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CorrectionForm(Styled, forms.Form):
    """A new value for a period that has one; the earlier one is kept with the reason."""

    period = forms.TypedChoiceField(label="Period", coerce=dt.date.fromisoformat, empty_value=None)
    value = forms.CharField(max_length=40, label="Correct value")
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.CharField(
        max_length=300, label="Reason for the correction", help_text="Kept with the earlier value."
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = [("", "—"), *choices]  # type: ignore[attr-defined]


class ImportForm(Styled, forms.Form):
    file = forms.FileField(
        label="CSV or Excel file",
        help_text="Columns: service (code), kpi (name), period (YYYY-MM-DD, the first day of "
        "the period), value, and optionally comment.",
    )
    dry_run = forms.BooleanField(
        required=False, label="Dry run: check the file and report, write nothing"
    )
