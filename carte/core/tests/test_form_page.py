"""`core.views.form_page` with a plain `CarteForm` and a stand-in service call (core knows
no app's model): a valid post is saved once and goes back with a message; an invalid form
is 422; a refusal is shown next to the field it names with what was typed (422), a
conflict is 409; rights are not the form's business (raised); htmx gets the partial, a
conflict answered 422 so that htmx swaps it in."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, override_settings

from carte.core.errors import CONFLICT, FORBIDDEN, DomainError
from carte.core.forms import CarteForm
from carte.core.views import form_page

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "OPTIONS": {
            "loaders": [
                (
                    "django.template.loaders.locmem.Loader",
                    {
                        "page.html": "page {{ title }} {{ form.as_div }}",
                        "partial.html": "partial {{ form.as_div }}",
                    },
                )
            ]
        },
    }
]


class TicketForm(CarteForm):
    """A plain form: one field declared, one added in `setup()`, which the service calls
    by another name."""

    FIELD_NAMES = {"owner_name": "owner"}

    title = forms.CharField(max_length=50)
    urgency = forms.ChoiceField(
        choices=[("low", "Low"), ("high", "High")], widget=forms.RadioSelect
    )

    def setup(self) -> None:
        self.fields["owner"] = forms.CharField(required=False)


@pytest.fixture(autouse=True)
def _templates() -> Iterator[None]:
    with override_settings(TEMPLATES=TEMPLATES):
        yield


def _request(data: dict[str, str] | None = None, *, htmx: bool = False) -> HttpRequest:
    factory = RequestFactory(headers={"HX-Request": "true"} if htmx else {})
    request = factory.post("/tickets/new/", data) if data is not None else factory.get("/")
    request.session = {}  # type: ignore[assignment]
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    return request


GOOD = {"title": "Printer jammed", "urgency": "high", "owner": "Ada"}


def _page(request: HttpRequest, save: Callable[[dict[str, Any]], Any]) -> HttpResponse:
    form = TicketForm(request.POST if request.method == "POST" else None, actor="the actor")
    return form_page(
        request,
        form=form,
        save=save,
        success=lambda ticket: (f"/tickets/{ticket}/", f"Ticket {ticket} raised."),
        template="page.html",
        context={"title": "Raise a ticket"},
        partial="partial.html",
    )


def _never(data: dict[str, Any]) -> Any:
    raise AssertionError("saved when it should not be")


def _refuse(exc: DomainError) -> Callable[[dict[str, Any]], Any]:
    def save(data: dict[str, Any]) -> Any:
        raise exc

    return save


def test_it_shows_the_form_with_its_tabler_classes() -> None:
    form = TicketForm(actor="the actor")
    assert form.actor == "the actor"
    assert form.fields["title"].widget.attrs["class"] == "form-control"
    assert form.fields["urgency"].widget.attrs["class"] == "form-check-input"
    assert form.fields["owner"].widget.attrs["class"] == "form-control"  # added in setup()
    response = _page(_request(), _never)
    assert response.status_code == 200
    assert response.content.startswith(b"page Raise a ticket")


def test_it_saves_a_valid_post_once_and_goes_back_with_a_message() -> None:
    saved: list[dict[str, Any]] = []

    def save(data: dict[str, Any]) -> int:
        saved.append(data)
        return 7

    request = _request(GOOD)
    response = _page(request, save)
    assert response.status_code == 302
    assert response["Location"] == "/tickets/7/"
    assert saved == [GOOD]
    assert [str(m) for m in get_messages(request)] == ["Ticket 7 raised."]


def test_it_answers_422_to_an_invalid_form_without_saving() -> None:
    response = _page(_request({**GOOD, "title": ""}), _never)
    assert response.status_code == 422
    assert b'aria-invalid="true"' in response.content


def test_it_shows_a_refusal_next_to_the_field_it_names_keeping_what_was_typed() -> None:
    refusal = DomainError("Owner: nobody of that name.", errors={"owner_name": ["Nobody."]})
    response = _page(_request(GOOD), _refuse(refusal))
    assert response.status_code == 422
    page = response.content.decode()
    owner = re.search(r'<input[^>]*name="owner"[^>]*>', page)
    assert owner and 'value="Ada"' in owner[0] and 'aria-invalid="true"' in owner[0]
    assert 'class="form-control"' in owner[0]
    assert 'value="Printer jammed"' in page
    assert "Nobody." in page


def test_it_puts_a_refusal_naming_no_field_on_top() -> None:
    refusal = DomainError("Closed for the holidays.")
    response = _page(_request(GOOD), _refuse(refusal))
    assert response.status_code == 422
    assert b"Closed for the holidays." in response.content
    assert b'aria-invalid="true"' not in response.content


def test_it_answers_409_to_a_conflict() -> None:
    refusal = DomainError("Someone raised it first.", code=CONFLICT)
    response = _page(_request(GOOD), _refuse(refusal))
    assert response.status_code == 409
    assert b"Someone raised it first." in response.content


def test_it_leaves_rights_to_the_page_around_it() -> None:
    refusal = DomainError("Not yours.", code=FORBIDDEN)
    with pytest.raises(DomainError) as raised:
        _page(_request(GOOD), _refuse(refusal))
    assert raised.value is refusal


def test_it_answers_htmx_with_the_partial_and_a_conflict_as_422() -> None:
    response = _page(_request(htmx=True), _never)
    assert (response.status_code, response.content[:7]) == (200, b"partial")
    refusal = DomainError("Someone raised it first.", code=CONFLICT)
    response = _page(_request(GOOD, htmx=True), _refuse(refusal))
    assert (response.status_code, response.content[:7]) == (422, b"partial")
    assert b"Someone raised it first." in response.content


def test_it_sends_htmx_back_with_a_redirect_header() -> None:
    request = _request(GOOD, htmx=True)
    response = _page(request, lambda data: 8)
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/tickets/8/"
    assert [str(m) for m in get_messages(request)] == ["Ticket 8 raised."]


class StaleForm(TicketForm):
    """A form that knows the state it was opened at moved on since."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            self.add_error(None, forms.ValidationError("It moved on.", code=CONFLICT))
        return data


def test_it_answers_409_to_a_form_whose_mistake_is_a_conflict() -> None:
    request = _request({**GOOD, "title": ""})
    response = form_page(
        request,
        form=StaleForm(request.POST, actor="the actor"),
        save=_never,
        success=lambda _: ("/", ""),
        template="page.html",
    )
    assert response.status_code == 409
    assert b"It moved on." in response.content


def test_it_builds_a_context_given_as_a_function_only_to_draw_the_page() -> None:
    drawn: list[bool] = []

    def context() -> dict[str, Any]:
        drawn.append(True)
        return {"title": "Raise a ticket"}

    def page(request: HttpRequest, save: Callable[[dict[str, Any]], Any]) -> HttpResponse:
        return form_page(
            request,
            form=TicketForm(request.POST or None, actor="the actor"),
            save=save,
            success=lambda _: ("/tickets/", "Raised."),
            template="page.html",
            context=context,
        )

    assert page(_request(GOOD), lambda data: 1).status_code == 302
    assert drawn == []
    refused = page(_request(GOOD), _refuse(DomainError("No.")))
    assert refused.content.startswith(b"page Raise a ticket") and drawn == [True]
