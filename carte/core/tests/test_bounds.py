"""Numbers from a query string or a path beyond what the database holds: a page number
past the end answers the last page, a filter's id beyond 64 bits is a filter error, a
path's id beyond 64 bits matches no page (404); never a 500 (SQLite refuses integers
beyond 64 bits with an OverflowError, Python a 5,000-digit number with a ValueError)."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.converters import IntConverter
from django.urls.exceptions import Resolver404
from ninja import Schema

from carte.conftest import Persona
from carte.core.converters import MAX_ID, IdConverter
from carte.core.listing import MAX_PAGE, FromQuery, page_number
from carte.core.testing import without_csrf

BEYOND = str(MAX_ID + 1)  # 9223372036854775808: one more than a signed 64-bit integer
HUGE = "9" * 5000  # more digits than Python converts from text by default (4,300)


# ---------------------------------------------------------------- path ids


def test_an_id_converter_takes_any_id_the_database_holds_and_nothing_larger() -> None:
    converter = IdConverter()
    assert converter.to_python("1") == 1
    assert converter.to_python(str(MAX_ID)) == MAX_ID
    for value in (BEYOND, "1" + "0" * 30, HUGE):
        with pytest.raises(ValueError, match="beyond any id"):
            converter.to_python(value)
    assert converter.to_url(42) == "42"


def test_a_path_id_beyond_64_bits_is_404(admin: Persona) -> None:
    slug = admin.organisation.slug
    for path in (
        f"/o/{slug}/pmos/{BEYOND}/",
        f"/o/{slug}/pmos/{HUGE}/edit/",
        f"/o/{slug}/catalogue/services/{BEYOND}/lifecycle/",
        f"/account/tokens/{BEYOND}/revoke/",
    ):
        with pytest.raises(Resolver404):
            resolve(path)
        assert admin.client.get(path).status_code == 404, path
        assert admin.client.post(path).status_code == 404, path
    assert resolve(f"/o/{slug}/pmos/{MAX_ID}/").kwargs["pk"] == MAX_ID


def _page_routes(patterns: list[Any], prefix: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for p in patterns:
        if isinstance(p, URLResolver):
            found += _page_routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern) and not prefix.startswith("api/"):
            found.append((prefix + str(p.pattern), p))
    return found


def _unbounded_routes() -> list[str]:
    return [
        route
        for route, p in _page_routes(get_resolver().url_patterns)
        if any(isinstance(c, IntConverter) for c in p.pattern.converters.values())
    ]


def test_the_generic_pages_the_lifecycle_and_the_account_take_bounded_ids() -> None:
    unbounded = _unbounded_routes()
    for stem in ("pmos/<", "people/<", "lifecycle/", "account/tokens/"):
        assert not [r for r in unbounded if stem in r], stem


def test_every_page_takes_its_ids_with_the_bounded_converter() -> None:
    assert _unbounded_routes() == []


# ---------------------------------------------------------------- page numbers


@pytest.mark.parametrize(
    ("requested", "number"),
    [
        (None, 1),
        ("", 1),
        ("3", 3),
        ("0003", 3),
        (str(MAX_PAGE), MAX_PAGE),
        (BEYOND, MAX_PAGE + 1),
        (HUGE, MAX_PAGE + 1),
        ("²", "²"),  # a digit to str.isdigit(), not to int(): not a page number
        ("last", "last"),
    ],
)
def test_a_page_number_is_a_number_past_the_end_however_long(requested: Any, number: Any) -> None:
    assert page_number(requested) == number


def _pmos(admin: Persona, names: list[str]) -> None:
    base = f"/api/v1/orgs/{admin.organisation.slug}/pmos"
    for name in names:
        assert admin.api.post(base, {"name": name}).status_code == 201


@pytest.mark.django_db
def test_a_huge_page_number_shows_the_last_page_as_any_page_past_the_end(admin: Persona) -> None:
    _pmos(admin, ["Alpha office", "Beta office", "Gamma office"])
    url = f"/o/{admin.organisation.slug}/pmos/"
    last = admin.client.get(url, {"page_size": "1", "page": "3"})
    assert "Gamma office" in last.content.decode() and "page 3 of 3" in last.content.decode()
    for requested in ("4", BEYOND, HUGE):
        response = admin.client.get(url, {"page_size": "1", "page": requested})
        assert response.status_code == 200, requested
        assert without_csrf(response.content) == without_csrf(last.content), requested
    first = admin.client.get(url, {"page_size": "1", "page": "²"})
    assert first.status_code == 200 and "page 1 of 3" in first.content.decode()


@pytest.mark.django_db
def test_the_catalogue_menu_takes_any_page_number(admin: Persona) -> None:
    url = f"/o/{admin.organisation.slug}/catalogue/"
    first = admin.client.get(url)
    for requested in (BEYOND, HUGE, "²"):
        response = admin.client.get(url, {"page": requested})
        assert response.status_code == 200, requested
        assert without_csrf(response.content) == without_csrf(first.content), requested


# ---------------------------------------------------------------- filter ids


class _Probe(FromQuery, Schema):
    service: int | None = None
    services: list[int] = []
    level: int | None = None
    flag: bool = False

    LIMIT: ClassVar[str] = f"Must be at most {MAX_ID}."


def test_a_filter_number_beyond_64_bits_is_reported_on_its_field_and_left_out() -> None:
    filters, errors = _Probe.from_query(
        {"service": BEYOND, "level": str(MAX_ID), "flag": "true", "unknown": BEYOND}
    )
    assert errors == {"service": [_Probe.LIMIT]}
    assert (filters.service, filters.level, filters.flag) == (None, MAX_ID, True)
    filters, errors = _Probe.from_query({"service": f"-{BEYOND}0"})
    assert list(errors) == ["service"] and filters.service is None
    with pytest.raises(ValueError, match="Must be at most"):
        _Probe.model_validate({"services": [1, int(BEYOND)]})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("page", "name"),
    [
        ("pmos", "parent"),
        ("people", "pmo"),
        ("people", "customer_group"),
        ("catalogue", "category"),
        ("catalogue", "customer_group"),
        ("catalogue", "pmo"),
        ("lifecycle", "owner"),
        ("lifecycle", "category"),
        ("operations/heatmap", "category"),
        ("operations/levels/breaches", "service"),
        ("operations/escalations", "service"),
        ("operations/changes", "service"),
    ],
)
def test_a_filter_id_beyond_64_bits_is_a_filter_error_on_the_page(
    admin: Persona, page: str, name: str
) -> None:
    url = f"/o/{admin.organisation.slug}/{page}/"
    response = admin.client.get(url, {name: BEYOND})
    assert response.status_code == 200
    html = response.content.decode()
    assert f"{name}: Must be at most {MAX_ID}." in html, html[:300]
