"""Forms of the closure (M-20, M-21): why and how a service closes, the Owner's approval,
the fate of each artefact, and a new service started from a closed one."""

from __future__ import annotations

from typing import Any

from django import forms

from carte.catalogue import selectors as catalogue_selectors
from carte.lifecycle import selectors
from carte.lifecycle.choices import ArtefactFate, ClosureReason
from carte.lifecycle.forms.base import LifecycleForm, MoveForm, text_widget
from carte.organisations import selectors as org_selectors


class ClosureForm(MoveForm):
    """Why the service closes (M-20), and how."""

    main = ("reason", "explanation", "replacing_service", "change_notes", "template")

    def add_fields(self) -> None:
        self.fields["reason"] = forms.ChoiceField(
            choices=[("", "—"), *ClosureReason.choices], label="Reason for closing"
        )
        self.fields["explanation"] = forms.CharField(widget=text_widget())
        self.fields["replacing_service"] = forms.ModelChoiceField(
            queryset=catalogue_selectors.service_choices(actor=self.actor, exclude=self.service),
            required=False,
            label="Replacing service",
            help_text="Needed when the reason is replacement by a new service.",
        )
        self.fields["change_notes"] = forms.CharField(
            label="Organisational change",
            required=False,
            widget=text_widget(),
            help_text="How customers and staff are taken along.",
        )
        self.fields["template"] = forms.ModelChoiceField(
            queryset=selectors.task_templates(self.actor),
            required=False,
            label="Closure task list from a template",
        )

    def payload(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "reason": data["reason"],
            "explanation": data["explanation"],
            "replacing_service": data.get("replacing_service"),
            "change_notes": data.get("change_notes") or "",
            "template": data.get("template"),
        }


class ApprovalForm(MoveForm):
    main = ("approve",)

    def add_fields(self) -> None:
        self.fields["approve"] = forms.BooleanField(
            label="As Service Owner, I formally approve the closure of this service",
            required=False,
        )

    def payload(self) -> dict[str, Any]:
        return {"approve": bool(self.cleaned_data.get("approve"))}


class ArtefactDecisionForm(LifecycleForm):
    """What happens to one of a closing service's artefacts (M-21)."""

    def setup(self) -> None:
        self.fields["fate"] = forms.ChoiceField(choices=[("", "—"), *ArtefactFate.choices])
        self.fields["note"] = forms.CharField(max_length=300)


class StartFromForm(LifecycleForm):
    """A new service proposed from a closed one's kept artefacts (M-21)."""

    def setup(self) -> None:
        self.fields["code"] = forms.CharField(max_length=20)
        self.fields["name"] = forms.CharField(max_length=200)
        self.fields["delivering_pmos"] = forms.ModelMultipleChoiceField(
            queryset=org_selectors.pmo_choices(actor=self.actor),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            label="Delivering PMOs",
        )
        self.fields["category"] = forms.ModelChoiceField(
            queryset=catalogue_selectors.live_categories(actor=self.actor),
            required=False,
            help_text="The closed service's category if left empty.",
        )
