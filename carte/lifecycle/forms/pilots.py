"""Forms of the pilots (M-15): the next iteration, how it did against its success
criteria, waivers, and the Owner's sign-off."""

from __future__ import annotations

from typing import Any

from django import forms

from carte.catalogue import selectors as catalogue_selectors
from carte.lifecycle import selectors, services
from carte.lifecycle.choices import CriterionResultKind
from carte.lifecycle.forms.base import (
    AttachmentMixin,
    LifecycleForm,
    MoveForm,
    date_widget,
    groups_field,
    people_field,
    text_widget,
)
from carte.lifecycle.models import CriterionResult


class PilotForm(MoveForm):
    """The next pilot iteration with its selected participants and dates (M-15)."""

    main = ("starts_on", "ends_on", "suppliers", "customers", "operatives")

    def add_fields(self) -> None:
        self.fields["starts_on"] = forms.DateField(label="Starts on", widget=date_widget())
        self.fields["ends_on"] = forms.DateField(label="Ends on", widget=date_widget())
        self.fields["suppliers"] = forms.ModelMultipleChoiceField(
            queryset=catalogue_selectors.supplier_choices(service=self.service),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            label="Selected suppliers",
        )
        self.fields["customers"] = groups_field(self.actor, label="Customer groups taking part")
        self.fields["operatives"] = people_field(
            self.actor, label="Operatives delivering the pilot", size=6
        )

    def payload(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "starts_on": data["starts_on"],
            "ends_on": data["ends_on"],
            "suppliers": list(data.get("suppliers") or []),
            "customers": list(data.get("customers") or []),
            "operatives": list(data.get("operatives") or []),
        }


class SignOffForm(MoveForm):
    """The Owner's sign-off; criteria the pilot did not meet can be waived here, each
    with its reason."""

    def add_fields(self) -> None:
        self.missed = selectors.unmet_results(self.service)
        for result in self.missed:
            self.fields[f"waive_{result.pk}"] = forms.CharField(
                label=f"Waive “{result.criterion.description}”: reason",
                required=False,
                widget=text_widget(2),
                help_text="Leave empty to keep the criterion as it is.",
            )

    @property
    def waiver_fields(self) -> list[forms.BoundField]:
        return self.bound(*(f"waive_{r.pk}" for r in self.missed))

    def waivers(self) -> dict[CriterionResult, str]:
        return {
            r: self.cleaned_data[f"waive_{r.pk}"]
            for r in self.missed
            if (self.cleaned_data.get(f"waive_{r.pk}") or "").strip()
        }

    def field_for(self, name: str) -> str | None:
        # A refused waiver's reason is that criterion's field on the form.
        head, _, pk = name.partition(".")
        if head == "waivers" and f"waive_{pk}" in self.fields:
            return f"waive_{pk}"
        return super().field_for(name)

    def submit(self) -> None:
        data = self.cleaned_data
        services.sign_off(
            actor=self.actor,
            service=self.service,
            waivers=self.waivers(),
            expected_from=data.get("expected_from") or None,
            note=data.get("note") or "",
            attachments=self.attachments(),
        )


class PilotResultForm(AttachmentMixin):
    """How the current pilot did: each criterion met or not, with evidence, and the
    confirmations of M-15."""

    CONFIRMATIONS = ("governance_in_place", "resources_confirmed", "outcomes_validated")

    def setup(self) -> None:
        known = selectors.pilot_results(self.service)
        self.criteria, pilot = known.criteria, known.pilot
        for c in self.criteria:
            given = known.given.get(c.pk)
            self.fields[f"result_{c.pk}"] = forms.ChoiceField(
                choices=[("", "—"), *CriterionResultKind.choices],
                label=c.description,
                help_text=c.measure,
                required=False,
                initial=given.result if given else "",
            )
            self.fields[f"evidence_{c.pk}"] = forms.CharField(
                label="Evidence",
                required=False,
                widget=text_widget(2),
                initial=given.evidence if given else "",
            )
        labels = {
            "governance_in_place": "Governance and critical success factors are in place",
            "resources_confirmed": "Resources are confirmed",
            "outcomes_validated": "Expected outcomes are validated",
        }
        for name in self.CONFIRMATIONS:
            self.fields[name] = forms.BooleanField(
                label=labels[name],
                required=False,
                initial=bool(getattr(pilot, name, False)),
            )
        self.fields["note"] = forms.CharField(
            label="Note",
            required=False,
            widget=text_widget(),
            initial=getattr(pilot, "result_note", ""),
        )
        super().setup()

    def field_for(self, name: str) -> str | None:
        head, _, index = name.partition(".")
        if head == "results" and index.isdigit() and int(index) < len(self.criteria):
            return f"result_{self.criteria[int(index)].pk}"
        return super().field_for(name)

    @property
    def rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"result_{c.pk}"], self[f"evidence_{c.pk}"]) for c in self.criteria]

    @property
    def confirmation_fields(self) -> list[forms.BoundField]:
        return self.bound(*self.CONFIRMATIONS, "note")

    def results(self) -> list[services.CriterionOutcome]:
        data = self.cleaned_data
        return [
            services.CriterionOutcome(c, data.get(f"result_{c.pk}") or "", data[f"evidence_{c.pk}"])
            for c in self.criteria
        ]


class WaiverForm(LifecycleForm):
    def setup(self) -> None:
        self.fields["waiver_reason"] = forms.CharField(
            label="Reason for waiving", widget=text_widget(2)
        )
