"""The text policy (`core.text`): NUL, the control characters spreadsheets cannot hold and
lone surrogates are refused with a message naming the field, wherever text comes in (a
page's form, the API's body and query, a list's search, an imported cell); line breaks
are kept as "\\n"; a long text has a ceiling. Nothing refused is written, and an
organisation that holds only accepted text always exports."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from carte.conftest import Persona
from carte.core import text
from carte.core.testing import assert_problem, no_writes
from carte.organisations.models import PMO
from carte.organisations.tests.factories import PMOFactory

VT = "\x0b"  # a vertical tab: accepted in a form, it made every later .xlsx export fail
REFUSED = ["\x00", "\x01", "\x08", VT, "\x0c", "\x0e", "\x1f", "\ud800", "\udfff"]
KEPT = ["\t", "\n", "é", "—", "漢字", "🙂", "\u00a0", "\x7f"]


@pytest.mark.parametrize("character", REFUSED)
def test_it_refuses_nul_controls_and_half_characters(character: str) -> None:
    with pytest.raises(text.BadText) as refused:
        text.accept(f"Risk{character} register")
    assert f"U+{ord(character):04X}" in str(refused.value)


@pytest.mark.parametrize("character", KEPT)
def test_it_keeps_tabs_line_feeds_and_every_script(character: str) -> None:
    assert text.accept(f"a{character}b") == f"a{character}b"


def test_line_breaks_are_kept_as_line_feeds() -> None:
    assert text.accept("one\r\ntwo\rthree\nfour") == "one\ntwo\nthree\nfour"


def test_a_long_text_has_a_ceiling() -> None:
    assert text.accept("x" * 100, limit=100) == "x" * 100
    with pytest.raises(text.BadText, match="At most 100 characters"):
        text.accept("x" * 101, limit=100)


# ---------------------------------------------------------------- model validation


@pytest.mark.django_db
def test_every_write_refuses_bad_text_on_its_field(director: Persona) -> None:
    """Through the service, as every page, API call, command and import writes."""
    from carte.core.errors import DomainError
    from carte.organisations import services

    with no_writes(), pytest.raises(DomainError) as refused:
        services.pmo_create(actor=director.actor, name=f"Delivery{VT}office", kind="coe")
    assert "U+000B" in refused.value.errors["name"][0]
    pmo = services.pmo_create(
        actor=director.actor, name="Delivery office", kind="coe", description="a\r\nb\rc"
    )
    pmo.refresh_from_db()
    assert pmo.description == "a\nb\nc"
    with pytest.raises(DomainError) as refused:
        services.pmo_update(actor=director.actor, pmo=pmo, data={"description": "x" * 20_001})
    assert "At most 20,000 characters" in refused.value.errors["description"][0]
    pmo.refresh_from_db()
    assert pmo.description == "a\nb\nc"


# ---------------------------------------------------------------- pages


@pytest.mark.django_db
def test_a_page_form_shows_the_refusal_next_to_the_field_and_keeps_the_text(
    director: Persona,
) -> None:
    slug = director.organisation.slug
    typed = f"Delivery{VT}office"
    with no_writes():
        response = director.client.post(
            reverse("pmo_create", args=[slug]), {"name": typed, "kind": "coe"}
        )
    assert response.status_code == 422  # as for any form in error
    form = response.context["form"]
    assert "U+000B" in form.errors["name"][0]
    assert form["name"].value() == typed  # nothing the user typed is lost
    # A text area's line breaks (a browser sends "\r\n") are stored as "\n".
    director.client.post(
        reverse("pmo_create", args=[slug]),
        {"name": "Delivery office", "kind": "coe", "description": "one\r\ntwo"},
    )
    assert PMO.objects.get(name="Delivery office").description == "one\ntwo"


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["pmo_list", "catalogue"])
def test_a_search_with_a_nul_is_a_filter_error_not_a_crash(director: Persona, name: str) -> None:
    PMOFactory(organisation=director.organisation, name="Delivery office")
    url = reverse(name, args=[director.organisation.slug])
    response = director.client.get(url, {"q": "office\x00"})
    assert response.status_code == 200
    assert "U+0000" in response.content.decode()


# ---------------------------------------------------------------- API


@pytest.mark.django_db
def test_the_api_refuses_bad_text_in_a_body_naming_the_field(director: Persona) -> None:
    base = f"/api/v1/orgs/{director.organisation.slug}"
    pmo = PMOFactory(organisation=director.organisation, description="As it was")
    with no_writes(pmo):
        for character in ("\x00", VT, "\ud800"):
            body = {"name": "Delivery office", "description": f"a{character}b"}
            assert_problem(director.api.post(f"{base}/pmos", body), 422, "description")
            sent = director.api.patch(f"{base}/pmos/{pmo.pk}", {"description": f"{character}"})
            assert_problem(sent, 422, "description")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["pmos", "services", "people"])
def test_the_api_refuses_bad_text_in_a_search(director: Persona, path: str) -> None:
    base = f"/api/v1/orgs/{director.organisation.slug}"
    assert_problem(director.api.get(f"{base}/{path}", q="office\x00"), 422, "q")
    assert director.api.get(f"{base}/{path}", q="office").status_code == 200


# ---------------------------------------------------------------- imports and exports


@pytest.mark.django_db
def test_an_imported_comment_is_held_to_the_same_policy(director: Persona) -> None:
    from carte.catalogue.tests.factories import ServiceFactory
    from carte.operations import importing
    from carte.operations.tests.factories import KPIFactory

    service = ServiceFactory(organisation=director.organisation, code="PR-01")
    kpi = KPIFactory(service=service, name="On time")
    KPIFactory(service=service, name="Quality", reporting_from=kpi.reporting_from)
    period = kpi.reporting_from.isoformat()
    rows = [f"PR-01,{k},{period},3,la{c}te" for k, c in (("On time", "\x00"), ("Quality", VT))]
    source = io.BytesIO("\n".join(["service,kpi,period,value,comment", *rows]).encode())
    with no_writes():
        report = importing.import_measurements(
            actor=director.actor, source=source, name="values.csv"
        )
    found = {(p.row, p.column, p.message[:40]) for p in report.problems}
    assert (2, "comment", text.refusal("\x00")[:40]) in found  # type: ignore[index]
    assert (3, "comment", text.refusal(VT)[:40]) in found  # type: ignore[index]
