"""The form of "Can we take this on?": a proposed service to try, or needs typed, and the
months to look at. It reads only; the page writes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms

from carte.capacity.selectors import grid as selectors
from carte.core.errors import DomainError
from carte.core.forms import CarteForm
from carte.organisations.choices import CompetenceLevel

FIT_ROWS = 4  # needs typed on the "can we take this on?" page


def _month_field(label_text: str, required: bool = False) -> forms.CharField:
    return forms.CharField(
        label=label_text,
        required=required,
        max_length=7,
        widget=forms.TextInput(attrs={"placeholder": "YYYY-MM", "inputmode": "numeric"}),
        help_text="A month, as 2027-01.",
    )


class FitForm(CarteForm):
    """A proposed service to try, or needs typed (competence, level, FTE, months), and the
    months to look at. Reading only: the page asks, nothing is written."""

    def setup(self) -> None:
        services = selectors.proposed_services(self.actor)
        options = selectors.filter_options(self.actor)
        self.fields["service"] = forms.TypedChoiceField(
            label="A proposed service",
            required=False,
            coerce=int,
            empty_value=None,
            choices=[("", "— or type needs below —"), *services],
        )
        self.fields["from"] = _month_field("From month")
        self.fields["to"] = _month_field("To month")
        self.fields["pmo"] = forms.TypedChoiceField(
            label="PMO",
            required=False,
            coerce=int,
            empty_value=None,
            choices=[("", "Every PMO"), *options["pmos"]],
        )
        competences = [("", "—"), *options["competences"]]
        levels = [("", "—"), *CompetenceLevel.choices]
        for i in range(FIT_ROWS):
            n = i + 1
            self.fields[f"competence_{i}"] = forms.TypedChoiceField(
                label=f"Need {n}: competence",
                required=False,
                coerce=int,
                empty_value=None,
                choices=competences,
            )
            self.fields[f"level_{i}"] = forms.TypedChoiceField(
                label=f"Need {n}: level",
                required=False,
                coerce=int,
                empty_value=None,
                choices=levels,
            )
            self.fields[f"fte_{i}"] = forms.DecimalField(
                label=f"Need {n}: FTE",
                required=False,
                min_value=Decimal("0.01"),
                max_value=Decimal(100),
                decimal_places=2,
            )
            self.fields[f"from_{i}"] = _month_field(f"Need {n}: from month")
            self.fields[f"to_{i}"] = _month_field(f"Need {n}: to month")

    def rows(self) -> list[list[forms.BoundField]]:
        return [
            [self[f"{name}_{i}"] for name in ("competence", "level", "fte", "from", "to")]
            for i in range(FIT_ROWS)
        ]

    def needs(self) -> list[selectors.FitNeed]:
        """The needs typed, each complete or refused on its row's fields."""
        data = self.cleaned_data
        needs = []
        for i in range(FIT_ROWS):
            competence, level, fte = (
                data.get(f"competence_{i}"),
                data.get(f"level_{i}"),
                data.get(f"fte_{i}"),
            )
            if competence is None and level is None and fte is None:
                continue
            missing = False
            for name, value in (("competence", competence), ("level", level), ("fte", fte)):
                if value is None:
                    self.add_error(f"{name}_{i}", "Give this too, or leave the whole need empty.")
                    missing = True
            first = last = None
            try:
                first, last = _need_months(data.get(f"from_{i}"), data.get(f"to_{i}"))
            except DomainError as exc:
                for name, messages in exc.errors.items():
                    self.add_error(f"{name}_{i}", " ".join(messages))
                missing = True
            if not missing:
                needs.append(selectors.FitNeed(int(competence), int(level), fte, first, last))  # type: ignore[arg-type]
        return needs


def _need_months(start: str | None, end: str | None) -> tuple[dt.date | None, dt.date | None]:
    if not start and not end:
        return None, None
    errors: dict[str, list[str]] = {}
    first = last = None
    for name, text in (("from", start), ("to", end)):
        if text:
            try:
                month = selectors.parse_range(text, text)[0]
            except DomainError:
                errors[name] = ["Give a month as YYYY-MM, such as 2027-01."]
                continue
            if name == "from":
                first = month
            else:
                last = month
    if first and last and last < first:
        errors["to"] = ["The last month comes before the first."]
    if errors:
        raise DomainError("Give months as YYYY-MM.", errors=errors)
    return first, last
