"""Forms of the lifecycle pages: one per move's payload and one per step. They validate
their own fields and render; `carte.lifecycle.services` checks the rest and writes.

Each form knows how the service names its fields (`field_for`), so a refusal such as
`results.2` or `phases.1.ends_on` is shown next to the field the person filled in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.db.models import Model
from django.utils import timezone

from carte.catalogue.choices import ServiceRoleKind
from carte.catalogue.models import Category, Service, Supplier
from carte.core.errors import DomainError
from carte.core.forms import StyledFormMixin
from carte.core.views import apply_domain_error
from carte.lifecycle import machine, selectors, services
from carte.lifecycle.choices import (
    READINESS_QUESTIONS,
    Answer,
    Approach,
    ArtefactFate,
    ClosureReason,
    CriterionResultKind,
    Sourcing,
    TaskStatus,
    Verdict,
)
from carte.lifecycle.models import (
    CriterionResult,
    SuccessCriterion,
    Task,
    TransitionPhase,
)
from carte.organisations.actor import Actor
from carte.organisations.models import PMO, CustomerGroup, Person

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024


def _date() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _text(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


def people(actor: Actor) -> list[Person]:
    return list(
        Person.objects.filter(organisation=actor.organisation, archived_at__isnull=True).order_by(
            "name", "id"
        )
    )


def groups(actor: Actor) -> Any:
    return CustomerGroup.objects.filter(
        organisation=actor.organisation, archived_at__isnull=True
    ).order_by("name", "id")


class ObjectChoiceField(forms.TypedChoiceField):
    """A choice among rows already loaded, so several fields share one query."""

    def __init__(self, objects: Iterable[Model], *, blank: str = "—", **kwargs: Any) -> None:
        self.objects = {str(o.pk): o for o in objects}
        super().__init__(
            choices=[("", blank), *((k, str(o)) for k, o in self.objects.items())],
            coerce=self.objects.__getitem__,
            empty_value=None,
            **kwargs,
        )


class LifecycleForm(StyledFormMixin, forms.Form):
    """Base of the lifecycle's forms: knows the actor and the service."""

    # The service's name for a field -> this form's field, where they differ.
    FIELD_NAMES: dict[str, str] = {}

    def __init__(self, *args: Any, actor: Actor, service: Service, **kwargs: Any) -> None:
        self.actor = actor
        self.service = service
        super().__init__(*args, **kwargs)
        self.setup()
        self.style_widgets(None)

    def setup(self) -> None:
        """Subclasses add their fields and choices here."""

    def full_clean(self) -> None:
        super().full_clean()
        self.style_widgets(self.errors)

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        self.style_widgets(self.errors)

    def field_for(self, name: str) -> str | None:
        name = self.FIELD_NAMES.get(name, name)
        return name if name in self.fields else None

    def show(self, exc: DomainError) -> None:
        """The service's refusal, next to the fields it names."""
        errors: dict[str, list[str]] = {}
        for name, messages in exc.errors.items():
            errors.setdefault(self.field_for(name) or "__all__", []).extend(messages)
        apply_domain_error(self, DomainError(exc.message, code=exc.code, errors=errors))

    def bound(self, *names: str) -> list[forms.BoundField]:
        return [self[n] for n in names if n in self.fields]


class AttachmentMixin(LifecycleForm):
    """A file to upload or a link, attached to the event the form records."""

    def setup(self) -> None:
        super().setup()
        self.fields["attachment_file"] = forms.FileField(
            label="Attach a file", required=False, help_text="Minutes, a signed form, evidence."
        )
        self.fields["attachment_url"] = forms.URLField(
            label="Or a link", required=False, assume_scheme="https"
        )
        self.fields["attachment_name"] = forms.CharField(
            label="Name of the attachment",
            required=False,
            max_length=200,
            help_text="The file's name if left empty.",
        )

    def clean_attachment_file(self) -> Any:
        upload = self.cleaned_data.get("attachment_file")
        if upload is not None and upload.size > MAX_ATTACHMENT_BYTES:
            raise forms.ValidationError("The file is over the limit of 20 MB.")
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("attachment_url") and not data.get("attachment_name"):
            self.add_error("attachment_name", "This field is required: name the link.")
        return data

    def field_for(self, name: str) -> str | None:
        if name in ("attachments", "name"):
            return "attachment_name"
        if name == "url":
            return "attachment_url"
        if name == "file":
            return "attachment_file"
        return super().field_for(name)

    def attachments(self) -> list[services.Attachment]:
        data = self.cleaned_data
        upload, url = data.get("attachment_file"), data.get("attachment_url") or ""
        if upload is None and not url:
            return []
        return [services.Attachment(name=data.get("attachment_name") or "", url=url, file=upload)]

    @property
    def attachment_fields(self) -> list[forms.BoundField]:
        return self.bound("attachment_file", "attachment_url", "attachment_name")


# ---------------------------------------------------------------- moves


class MoveForm(AttachmentMixin):
    """A move's form: what the move takes, a note for the timeline, and the stage the form
    was opened at, so a form left open while someone else moved the service is refused
    with a clear conflict rather than applied to a stage its author never saw."""

    note_label = "Note for the timeline"
    note_required = False
    main: tuple[str, ...] = ()

    def __init__(self, *args: Any, move: machine.Move, **kwargs: Any) -> None:
        self.move = move
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        self.fields["expected_from"] = forms.CharField(widget=forms.HiddenInput, required=False)
        self.add_fields()
        self.fields["note"] = forms.CharField(
            label=self.note_label, required=self.note_required, widget=_text()
        )
        super().setup()

    def add_fields(self) -> None:
        """The move's own fields."""

    def payload(self) -> dict[str, Any]:
        return {}

    @property
    def main_fields(self) -> list[forms.BoundField]:
        return self.bound(*self.main)

    @property
    def note_fields(self) -> list[forms.BoundField]:
        return self.bound("note")

    def submit(self) -> None:
        data = self.cleaned_data
        services.transition(
            actor=self.actor,
            service=self.service,
            to=self.move.target,
            expected_from=data.get("expected_from") or None,
            note=data.get("note") or "",
            attachments=self.attachments(),
            **self.payload(),
        )


class ReasonMoveForm(MoveForm):
    """Defer, reject, propose again, iterate, reintroduce: a reason, on the timeline."""

    note_label = "Reason"
    note_required = True


class DecisionForm(MoveForm):
    """The set-up decision (M-14)."""

    main = (
        "delivering_pmos",
        "owner",
        "sourcing",
        "provider_name",
        "strategy_fit",
        "capacity",
        "other_services",
        "stakeholders",
        "scope",
    )
    TEXTS = ("strategy_fit", "capacity", "other_services", "stakeholders", "scope")

    def add_fields(self) -> None:
        self.pmos = list(
            PMO.objects.filter(organisation=self.actor.organisation, archived_at__isnull=True)
            .order_by("name", "id")
            .only("pk", "name")
        )
        everyone = people(self.actor)
        self.fields["delivering_pmos"] = forms.TypedMultipleChoiceField(
            label="Delivering PMOs",
            choices=[(str(p.pk), p.name) for p in self.pmos],
            coerce=int,
            widget=forms.CheckboxSelectMultiple,
            help_text="The PMO(s) that deliver the service or manage its outsourcing.",
        )
        self.fields["owner"] = ObjectChoiceField(everyone, label="Service Owner")
        for pmo in self.pmos:
            self.fields[f"manager_{pmo.pk}"] = ObjectChoiceField(
                everyone,
                label=f"Service Manager for {pmo.name}",
                required=False,
                help_text="Needed when this PMO delivers the service.",
            )
        self.fields["sourcing"] = forms.ChoiceField(
            choices=[("", "—"), *Sourcing.choices], label="Sourcing"
        )
        self.fields["provider_name"] = forms.CharField(
            label="Provider",
            required=False,
            max_length=200,
            help_text="Who the service is outsourced to, in whole or part.",
        )
        labels = {
            "strategy_fit": "Fit with the service strategy",
            "capacity": "Competence and capacity available",
            "other_services": "The chosen PMO's other services",
            "stakeholders": "Customers and stakeholders",
            "scope": "Scope",
        }
        for name in self.TEXTS:
            self.fields[name] = forms.CharField(label=labels[name], widget=_text())

    def field_for(self, name: str) -> str | None:
        if name == "managers":
            return None
        return super().field_for(name)

    @property
    def manager_fields(self) -> list[forms.BoundField]:
        return self.bound(*(f"manager_{p.pk}" for p in self.pmos))

    @property
    def main_fields(self) -> list[forms.BoundField]:
        return self.bound("delivering_pmos", "owner")

    @property
    def detail_fields(self) -> list[forms.BoundField]:
        return self.bound("sourcing", "provider_name", *self.TEXTS)

    def chosen_pmos(self) -> list[PMO]:
        chosen = set(self.cleaned_data.get("delivering_pmos") or [])
        return [p for p in self.pmos if p.pk in chosen]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for pmo in self.chosen_pmos():
            if not data.get(f"manager_{pmo.pk}") and f"manager_{pmo.pk}" not in self.errors:
                self.add_error(f"manager_{pmo.pk}", f"Appoint a Service Manager for {pmo.name}.")
        return data

    def payload(self) -> dict[str, Any]:
        data = self.cleaned_data
        pmos = self.chosen_pmos()
        return {
            "delivering_pmos": pmos,
            "owner": data["owner"],
            "managers": {p: data[f"manager_{p.pk}"] for p in pmos},
            "sourcing": data["sourcing"],
            "provider_name": data.get("provider_name") or "",
            **{name: data[name] for name in self.TEXTS},
        }


class DesignForm(MoveForm):
    main = ("template",)

    def add_fields(self) -> None:
        self.fields["template"] = forms.ModelChoiceField(
            queryset=selectors.task_templates(self.actor),
            required=False,
            label="Set-up task list from a template",
            help_text="A Centre of Excellence's template: its tasks become the set-up plan.",
        )

    def payload(self) -> dict[str, Any]:
        template = self.cleaned_data.get("template")
        return {"template": template} if template is not None else {}


class PilotForm(MoveForm):
    """The next pilot iteration with its selected participants and dates (M-15)."""

    main = ("starts_on", "ends_on", "suppliers", "customers", "operatives")

    def add_fields(self) -> None:
        self.fields["starts_on"] = forms.DateField(label="Starts on", widget=_date())
        self.fields["ends_on"] = forms.DateField(label="Ends on", widget=_date())
        self.fields["suppliers"] = forms.ModelMultipleChoiceField(
            queryset=Supplier.objects.filter(service=self.service, archived_at__isnull=True),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            label="Selected suppliers",
        )
        self.fields["customers"] = forms.ModelMultipleChoiceField(
            queryset=groups(self.actor),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            label="Customer groups taking part",
        )
        self.fields["operatives"] = forms.ModelMultipleChoiceField(
            queryset=Person.objects.filter(
                organisation=self.actor.organisation, archived_at__isnull=True
            ).order_by("name", "id"),
            required=False,
            label="Operatives delivering the pilot",
            widget=forms.SelectMultiple(attrs={"size": 6}),
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
        pilot = machine.latest_pilot(self.service)
        self.unmet: list[CriterionResult] = []
        if pilot is not None:
            self.unmet = [
                r
                for r in CriterionResult.objects.filter(
                    pilot=pilot, archived_at__isnull=True, waived=False
                )
                .exclude(result=CriterionResultKind.MET)
                .select_related("criterion")
            ]
        for result in self.unmet:
            self.fields[f"waive_{result.pk}"] = forms.CharField(
                label=f"Waive “{result.criterion.description}”: reason",
                required=False,
                widget=_text(2),
                help_text="Leave empty to keep the criterion as it is.",
            )

    @property
    def waiver_fields(self) -> list[forms.BoundField]:
        return self.bound(*(f"waive_{r.pk}" for r in self.unmet))

    def waivers(self) -> dict[CriterionResult, str]:
        return {
            r: self.cleaned_data[f"waive_{r.pk}"]
            for r in self.unmet
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


class PlanForm(MoveForm):
    """The transition plan (M-16); its phases are a formset beside it."""

    main = ("approach", "behavioural_change")

    def add_fields(self) -> None:
        self.fields["approach"] = forms.ChoiceField(
            choices=[("", "—"), *Approach.choices],
            help_text="Phased: customers are reached in turn. Big bang: one phase, the go-live.",
        )
        self.fields["behavioural_change"] = forms.CharField(
            label="Behavioural change",
            required=False,
            widget=_text(),
            help_text="How people will be helped to work the new way.",
        )

    def payload(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "approach": data["approach"],
            "behavioural_change": data.get("behavioural_change") or "",
            "phases": getattr(self, "phases", []),
        }


class PlanPhaseForm(StyledFormMixin, forms.Form):
    """One phase of a new transition plan."""

    name = forms.CharField(max_length=200, required=False)
    starts_on = forms.DateField(required=False, widget=_date())
    ends_on = forms.DateField(required=False, widget=_date())
    customer_groups = forms.ModelMultipleChoiceField(
        queryset=CustomerGroup.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Customers reached",
    )

    def __init__(self, *args: Any, groups: Sequence[CustomerGroup] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["customer_groups"]
        field.queryset = CustomerGroup.objects.filter(pk__in=[g.pk for g in groups])  # type: ignore[attr-defined]
        field.choices = [(g.pk, g.name) for g in groups]  # type: ignore[attr-defined]
        self.style_widgets(None)

    def full_clean(self) -> None:
        super().full_clean()
        self.style_widgets(self.errors)

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        self.style_widgets(self.errors)

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


class ClosureForm(MoveForm):
    """Why the service closes (M-20), and how."""

    main = ("reason", "explanation", "replacing_service", "change_notes", "template")

    def add_fields(self) -> None:
        self.fields["reason"] = forms.ChoiceField(
            choices=[("", "—"), *ClosureReason.choices], label="Reason for closing"
        )
        self.fields["explanation"] = forms.CharField(widget=_text())
        self.fields["replacing_service"] = forms.ModelChoiceField(
            queryset=Service.objects.filter(
                organisation=self.actor.organisation, archived_at__isnull=True
            )
            .exclude(pk=self.service.pk)
            .order_by("code", "id"),
            required=False,
            label="Replacing service",
            help_text="Needed when the reason is replacement by a new service.",
        )
        self.fields["change_notes"] = forms.CharField(
            label="Organisational change",
            required=False,
            widget=_text(),
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


MOVE_FORMS: dict[str, type[MoveForm]] = {
    "decision": DecisionForm,
    "reason": ReasonMoveForm,
    "note": SignOffForm,
    "design": DesignForm,
    "pilot": PilotForm,
    "plan": PlanForm,
    "go_live": GoLiveForm,
    "closure": ClosureForm,
    "approval": ApprovalForm,
}


# ---------------------------------------------------------------- steps


class NoteForm(AttachmentMixin):
    def setup(self) -> None:
        self.fields["note"] = forms.CharField(
            widget=_text(), help_text="Minutes of a meeting, a decision, a link."
        )
        super().setup()

    @property
    def note_fields(self) -> list[forms.BoundField]:
        return self.bound("note")


class CriterionForm(LifecycleForm):
    """A success criterion and who agreed it (M-15)."""

    def __init__(self, *args: Any, instance: SuccessCriterion | None = None, **kwargs: Any) -> None:
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "description": instance.description,
                "measure": instance.measure,
                "agreed_with_groups": list(instance.agreed_with_groups.all()),
                "agreed_with_people": list(instance.agreed_with_people.all()),
            }
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        self.fields["description"] = forms.CharField(max_length=300)
        self.fields["measure"] = forms.CharField(
            label="How it is verified",
            max_length=300,
            required=False,
            help_text="e.g. 4 of 5 customers rate the reports useful",
        )
        self.fields["agreed_with_groups"] = forms.ModelMultipleChoiceField(
            queryset=groups(self.actor),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            label="Agreed with customer groups",
        )
        self.fields["agreed_with_people"] = forms.ModelMultipleChoiceField(
            queryset=Person.objects.filter(
                organisation=self.actor.organisation, archived_at__isnull=True
            ).order_by("name", "id"),
            required=False,
            label="Agreed with customers",
            widget=forms.SelectMultiple(attrs={"size": 5}),
        )


class TaskListForm(LifecycleForm):
    def setup(self) -> None:
        self.fields["purpose"] = forms.ChoiceField(
            choices=selectors.task_list_purposes(self.service)
        )
        self.fields["template"] = forms.ModelChoiceField(
            queryset=selectors.task_templates(self.actor),
            required=False,
            help_text="A Centre of Excellence's template: its tasks are copied in.",
        )
        self.fields["name"] = forms.CharField(
            max_length=200, required=False, help_text="Named after the service if left empty."
        )


class TaskForm(LifecycleForm):
    def __init__(self, *args: Any, instance: Task | None = None, **kwargs: Any) -> None:
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "title": instance.title,
                "assignee": instance.assignee,
                "due_on": instance.due_on,
                "status": instance.status,
            }
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        self.fields["title"] = forms.CharField(max_length=200)
        self.fields["assignee"] = forms.ModelChoiceField(
            queryset=Person.objects.filter(
                organisation=self.actor.organisation, archived_at__isnull=True
            ).order_by("name", "id"),
            required=False,
        )
        self.fields["due_on"] = forms.DateField(label="Due", required=False, widget=_date())
        self.fields["status"] = forms.ChoiceField(choices=TaskStatus.choices, initial="todo")


class PilotResultForm(AttachmentMixin):
    """How the current pilot did: each criterion met or not, with evidence, and the
    confirmations of M-15."""

    CONFIRMATIONS = ("governance_in_place", "resources_confirmed", "outcomes_validated")

    def setup(self) -> None:
        self.criteria = machine.live_criteria(self.service)
        pilot = machine.latest_pilot(self.service)
        existing = (
            {
                r.criterion_id: r
                for r in CriterionResult.objects.filter(pilot=pilot, archived_at__isnull=True)
            }
            if pilot is not None
            else {}
        )
        for c in self.criteria:
            given = existing.get(c.pk)
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
                widget=_text(2),
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
            label="Note", required=False, widget=_text(), initial=getattr(pilot, "result_note", "")
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
        self.fields["waiver_reason"] = forms.CharField(label="Reason for waiving", widget=_text(2))


class ReadinessForm(AttachmentMixin):
    """An organisation readiness assessment (M-16): the questions, who assessed, the verdict."""

    def setup(self) -> None:
        self.fields["assessor"] = ObjectChoiceField(people(self.actor), label="Assessor")
        self.fields["assessed_on"] = forms.DateField(
            label="Assessed on", widget=_date(), initial=timezone.localdate
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
        self.fields["note"] = forms.CharField(label="Note", required=False, widget=_text())
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
        self.fields["starts_on"] = forms.DateField(label="Starts on", widget=_date())
        self.fields["ends_on"] = forms.DateField(label="Ends on", widget=_date())
        self.fields["customer_groups"] = forms.ModelMultipleChoiceField(
            queryset=groups(self.actor),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            label="Customers reached",
        )
        self.fields["done"] = forms.BooleanField(label="Complete", required=False)


class SupportingServiceForm(LifecycleForm):
    """A temporary service alongside the new one during its transition (M-16)."""

    def setup(self) -> None:
        self.fields["code"] = forms.CharField(max_length=20)
        self.fields["name"] = forms.CharField(max_length=200)
        self.fields["end_date"] = forms.DateField(
            label="End date", widget=_date(), help_text="When the temporary service closes."
        )
        self.fields["category"] = forms.ModelChoiceField(
            queryset=Category.objects.filter(
                organisation=self.actor.organisation, archived_at__isnull=True
            ).order_by("position", "id"),
            required=False,
            help_text="This service's category if left empty.",
        )
        self.fields["summary"] = forms.CharField(max_length=300, required=False)


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
            queryset=PMO.objects.filter(
                organisation=self.actor.organisation, archived_at__isnull=True
            ).order_by("name", "id"),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            label="Delivering PMOs",
        )
        self.fields["category"] = forms.ModelChoiceField(
            queryset=Category.objects.filter(
                organisation=self.actor.organisation, archived_at__isnull=True
            ).order_by("position", "id"),
            required=False,
            help_text="The closed service's category if left empty.",
        )


def decision_initial(service: Service) -> dict[str, Any]:
    """The decision form starts from what the service already has: its PMOs and roles."""
    initial: dict[str, Any] = {
        "delivering_pmos": [str(pk) for pk in service.delivering_pmos.values_list("pk", flat=True)]
    }
    for role, person_id, pmo_id in service.roles.filter(
        archived_at__isnull=True, role__in=(ServiceRoleKind.OWNER, ServiceRoleKind.MANAGER)
    ).values_list("role", "person_id", "pmo_id"):
        if role == ServiceRoleKind.OWNER:
            initial["owner"] = str(person_id)
        elif pmo_id is not None:
            initial[f"manager_{pmo_id}"] = str(person_id)
    return initial


def today() -> dt.date:
    return timezone.localdate()


class TemplateTaskForm(StyledFormMixin, forms.Form):
    """A line of a Centre of Excellence's task-list template."""

    title = forms.CharField(max_length=200)
    due_after_days = forms.IntegerField(
        label="Due after (days)",
        min_value=0,
        initial=0,
        help_text="Days after the list is created.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_widgets(None)

    def full_clean(self) -> None:
        super().full_clean()
        self.style_widgets(self.errors)

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        self.style_widgets(self.errors)
