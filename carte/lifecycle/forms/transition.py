"""Forms of the transition (M-16): the readiness assessment, the transition plan and its
phases, supporting services, and the go-live."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils import timezone

from carte.catalogue import selectors as catalogue_selectors
from carte.core.errors import DomainError
from carte.core.forms import CarteForm, ObjectChoiceField, ObjectMultipleChoiceField
from carte.lifecycle import services
from carte.lifecycle.choices import READINESS_QUESTIONS, Answer, Approach, Verdict
from carte.lifecycle.forms.base import (
    AttachmentMixin,
    LifecycleForm,
    MoveForm,
    date_widget,
    groups_field,
    people,
    text_widget,
)
from carte.lifecycle.models import TransitionPhase
from carte.organisations import selectors as org_selectors
from carte.organisations.models import CustomerGroup


class ReadinessForm(AttachmentMixin):
    """An organisation readiness assessment (M-16): the questions, who assessed, the verdict."""

    def setup(self) -> None:
        self.fields["assessor"] = ObjectChoiceField(people(self.actor), label="Assessor")
        self.fields["assessed_on"] = forms.DateField(
            label="Assessed on", widget=date_widget(), initial=timezone.localdate
        )
        for i, question in enumerate(READINESS_QUESTIONS):
            self.fields[f"answer_{i}"] = forms.ChoiceField(
                choices=[("", "—"), *Answer.choices], label=question, required=False
            )
            self.fields[f"answer_note_{i}"] = forms.CharField(
                label="Note", required=False, max_length=300
            )
        self.fields["verdict"] = forms.ChoiceField(
            choices=[("", "—"), *Verdict.choices], label="Overall verdict"
        )
        self.fields["note"] = forms.CharField(label="Note", required=False, widget=text_widget())
        super().setup()

    def field_for(self, name: str) -> str | None:
        head, _, index = name.partition(".")
        if head == "answers" and index.isdigit():
            return f"answer_{index}"
        return super().field_for(name)

    @property
    def head_fields(self) -> list[forms.BoundField]:
        return self.bound("assessor", "assessed_on")

    @property
    def tail_fields(self) -> list[forms.BoundField]:
        return self.bound("verdict", "note")

    @property
    def rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [
            (self[f"answer_{i}"], self[f"answer_note_{i}"]) for i in range(len(READINESS_QUESTIONS))
        ]

    def answers(self) -> list[services.ReadinessItem]:
        data = self.cleaned_data
        return [
            services.ReadinessItem(
                q, data.get(f"answer_{i}") or "", data.get(f"answer_note_{i}") or ""
            )
            for i, q in enumerate(READINESS_QUESTIONS)
        ]


class PhaseForm(LifecycleForm):
    """A phase of the current transition plan."""

    def __init__(self, *args: Any, instance: TransitionPhase, **kwargs: Any) -> None:
        self.instance = instance
        if "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance.name,
                "starts_on": instance.starts_on,
                "ends_on": instance.ends_on,
                "customer_groups": list(instance.customer_groups.all()),
                "done": instance.done,
            }
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        self.fields["name"] = forms.CharField(max_length=200)
        self.fields["starts_on"] = forms.DateField(label="Starts on", widget=date_widget())
        self.fields["ends_on"] = forms.DateField(label="Ends on", widget=date_widget())
        self.fields["customer_groups"] = groups_field(self.actor, label="Customers reached")
        self.fields["done"] = forms.BooleanField(label="Complete", required=False)


class SupportingServiceForm(LifecycleForm):
    """A temporary service alongside the new one during its transition (M-16)."""

    def setup(self) -> None:
        self.fields["code"] = forms.CharField(max_length=20)
        self.fields["name"] = forms.CharField(max_length=200)
        self.fields["end_date"] = forms.DateField(
            label="End date", widget=date_widget(), help_text="When the temporary service closes."
        )
        self.fields["category"] = forms.ModelChoiceField(
            queryset=catalogue_selectors.live_categories(actor=self.actor),
            required=False,
            help_text="This service's category if left empty.",
        )
        self.fields["summary"] = forms.CharField(max_length=300, required=False)


class PlanPhaseForm(CarteForm):
    """One phase of a new transition plan."""

    name = forms.CharField(max_length=200, required=False)
    starts_on = forms.DateField(required=False, widget=date_widget())
    ends_on = forms.DateField(required=False, widget=date_widget())

    def __init__(self, *args: Any, groups: Sequence[CustomerGroup] = (), **kwargs: Any) -> None:
        self.groups = groups
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        self.fields["customer_groups"] = ObjectMultipleChoiceField(
            self.groups,
            required=False,
            widget=forms.CheckboxSelectMultiple,
            label="Customers reached",
        )

    @property
    def group_fields(self) -> list[forms.BoundField]:
        return [self["customer_groups"]]

    def spec(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data.get("name") or "",
            "starts_on": data.get("starts_on"),
            "ends_on": data.get("ends_on"),
            "customer_groups": list(data.get("customer_groups") or []),
        }


PhaseFormSet = forms.formset_factory(PlanPhaseForm, extra=3, max_num=20, validate_max=True)


class PlanForm(MoveForm):
    """The transition plan (M-16), with its phases: a formset the form holds, validated
    and shown with it."""

    main = ("approach", "behavioural_change")

    def add_fields(self) -> None:
        self.fields["approach"] = forms.ChoiceField(
            choices=[("", "—"), *Approach.choices],
            help_text="Phased: customers are reached in turn. Big bang: one phase, the go-live.",
        )
        self.fields["behavioural_change"] = forms.CharField(
            label="Behavioural change",
            required=False,
            widget=text_widget(),
            help_text="How people will be helped to work the new way.",
        )
        groups = list(org_selectors.customer_group_choices(actor=self.actor))
        self.phases = PhaseFormSet(
            self.data if self.is_bound else None,
            prefix="phases",
            form_kwargs={"actor": self.actor, "groups": groups},
        )
        # Refusals about the phases as a whole (a row's own go on that row).
        self.phase_errors: list[str] = []

    def parts_valid(self) -> bool:
        return self.phases.is_valid()

    def is_valid(self) -> bool:
        phases = self.phases.is_valid()
        return super().is_valid() and phases

    def filled(self) -> list[PlanPhaseForm]:
        """The rows filled in: the plan's phases, which the service numbers from 1."""
        return [f for f in self.phases.forms if f.has_changed()]

    def show(self, exc: DomainError) -> None:
        """A refusal naming a phase ("phases.2.ends_on") goes on that row, one about the
        phases as a whole beside them, the rest to the form."""
        rest: dict[str, list[str]] = {}
        filled = self.filled()
        for name, messages in exc.errors.items():
            parts = name.split(".")
            if parts[0] == "phases" and len(parts) == 1:
                self.phase_errors.extend(messages)
            elif parts[0] == "phases" and parts[1].isdigit() and int(parts[1]) - 1 < len(filled):
                row = filled[int(parts[1]) - 1]
                field = parts[2] if len(parts) > 2 and parts[2] in row.fields else None
                for message in messages:
                    row.add_error(field, message)
            else:
                rest[name] = messages
        if rest or not self.phase_errors:
            super().show(DomainError(exc.message, code=exc.code, errors=rest, extra=exc.extra))
        else:
            self.unmet = list(exc.extra.get("unmet", []))

    def payload(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "approach": data["approach"],
            "behavioural_change": data.get("behavioural_change") or "",
            "phases": [f.spec() for f in self.filled()],
        }


class GoLiveForm(MoveForm):
    main = ("publish",)

    def add_fields(self) -> None:
        self.fields["publish"] = forms.BooleanField(
            label="Publish the service, so customers see it",
            required=False,
            initial=True,
        )

    def payload(self) -> dict[str, Any]:
        return {"publish": bool(self.cleaned_data.get("publish"))}
