"""What every lifecycle form shares: the base forms (the service besides the actor;
attachments), a move's form, the note, and the fields several forms offer (people,
customer groups), their choices read by the selectors.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from carte.catalogue.choices import Stage
from carte.catalogue.models import Service
from carte.core.errors import CONFLICT, DomainError
from carte.core.forms import CarteForm
from carte.lifecycle import machine, services
from carte.organisations import selectors as org_selectors
from carte.organisations.actor import Actor
from carte.organisations.models import CustomerGroup, Person

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024


def date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def text_widget(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


def people_field(actor: Actor, *, label: str, size: int) -> forms.ModelMultipleChoiceField[Person]:
    """A choice of several of the organisation's people, in a list box."""
    return forms.ModelMultipleChoiceField(
        queryset=org_selectors.person_choices(actor=actor),
        required=False,
        label=label,
        widget=forms.SelectMultiple(attrs={"size": size}),
    )


def groups_field(actor: Actor, *, label: str) -> forms.ModelMultipleChoiceField[CustomerGroup]:
    """A choice of several of the organisation's customer groups, as checkboxes."""
    return forms.ModelMultipleChoiceField(
        queryset=org_selectors.customer_group_choices(actor=actor),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=label,
    )


def people(actor: Actor) -> list[Person]:
    """The organisation's live people, loaded once for the fields that name one."""
    return list(org_selectors.person_choices(actor=actor))


class LifecycleForm(CarteForm):
    """Base of the lifecycle's forms: knows the service as well as the actor."""

    actor: Actor

    def __init__(self, *args: Any, service: Service, **kwargs: Any) -> None:
        self.service = service
        super().__init__(*args, **kwargs)

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


class MoveForm(AttachmentMixin):
    """A move's form: what the move takes, a note for the timeline, and the stage the form
    was opened at, so a form left open while someone else moved the service is refused
    with a clear conflict rather than applied to a stage its author never saw."""

    note_label = "Note for the timeline"
    note_required = False
    main: tuple[str, ...] = ()

    def __init__(self, *args: Any, move: machine.Move, **kwargs: Any) -> None:
        self.move = move
        # The conditions a refused move reported as unmet (the page lists them).
        self.unmet: list[dict[str, str]] = []
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        self.fields["expected_from"] = forms.CharField(widget=forms.HiddenInput, required=False)
        self.add_fields()
        self.fields["note"] = forms.CharField(
            label=self.note_label, required=self.note_required, widget=text_widget()
        )
        super().setup()

    def add_fields(self) -> None:
        """The move's own fields."""

    def parts_valid(self) -> bool:
        """Whether what the form holds besides its fields (a plan's phases) is valid."""
        return True

    def _post_clean(self) -> None:
        # Mistakes on a form opened before someone else moved the service: that move is
        # what its author must know first, as a conflict (409). A form without mistakes
        # goes to the service, which refuses a stale move in its own words.
        expected = self.cleaned_data.get("expected_from") or ""
        moved = expected in Stage.values and expected != self.service.stage
        if moved and (self.errors or not self.parts_valid()):
            self.add_error(None, ValidationError(stale(self.service, expected), code=CONFLICT))

    def show(self, exc: DomainError) -> None:
        self.unmet = list(exc.extra.get("unmet", []))
        super().show(exc)

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


def stale(service: Service, expected: str) -> str:
    """What a form opened at the stage `expected` says once the service has moved on."""
    return (
        f"This service has moved from {Stage(expected).label} to "
        f"{Stage(service.stage).label} since you opened this form: reload to see what changed."
    )


class ReasonMoveForm(MoveForm):
    """Defer, reject, propose again, iterate, reintroduce: a reason, on the timeline."""

    note_label = "Reason"
    note_required = True


class NoteForm(AttachmentMixin):
    def setup(self) -> None:
        self.fields["note"] = forms.CharField(
            widget=text_widget(), help_text="Minutes of a meeting, a decision, a link."
        )
        super().setup()

    @property
    def note_fields(self) -> list[forms.BoundField]:
        return self.bound("note")


def today() -> dt.date:
    return timezone.localdate()
