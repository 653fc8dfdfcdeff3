"""MultiChoiceField: a set of choices stored as ",a,b," in one text column."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.db import connection

from carte.catalogue import services
from carte.catalogue.choices import Scope
from carte.catalogue.models import Category, Service
from carte.core.errors import DomainError
from carte.core.fields import MultiChoiceField, as_list, has_choice


@pytest.fixture
def category(director: Any) -> Category:
    return services.category_create(actor=director.actor, name="Governance")


def make(director: Any, category: Category, code: str, scopes: Any) -> Service:
    return services.service_create(
        actor=director.actor, code=code, name=code, category=category, scopes=scopes
    )


def stored(service: Service, column: str = "scopes") -> str:
    """The raw text in the database column, bypassing the field."""
    table = Service._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [service.pk])
        value: str = cursor.fetchone()[0]
    return value


def test_it_round_trips_a_list_as_a_sorted_list(director: Any, category: Category) -> None:
    service = make(director, category, "A", ["project", "portfolio", "project"])

    assert Service.objects.get(pk=service.pk).scopes == ["portfolio", "project"]
    assert Service.objects.values_list("scopes", flat=True).get(pk=service.pk) == [
        "portfolio",
        "project",
    ]


def test_it_stores_codes_between_separators(director: Any, category: Category) -> None:
    some = make(director, category, "A", ["programme", "multiple"])
    none = make(director, category, "B", [])

    assert stored(some) == ",multiple,programme,"
    assert stored(none) == ""
    assert Service.objects.get(pk=none.pk).scopes == []


def test_it_matches_a_choice_exactly(director: Any, category: Category) -> None:
    make(director, category, "PRJ", ["project"])
    make(director, category, "PGM", ["programme", "portfolio"])
    make(director, category, "NONE", [])

    def matching(code: str) -> list[str]:
        return sorted(
            Service.objects.filter(has_choice("scopes", code)).values_list("code", flat=True)
        )

    assert matching("project") == ["PRJ"]
    assert matching("programme") == ["PGM"]
    assert matching("portfolio") == ["PGM"]
    assert matching("pro") == []
    assert matching("organisation") == []


def test_it_compares_whole_sets_whatever_the_order(director: Any, category: Category) -> None:
    make(director, category, "PGM", ["programme", "portfolio"])
    found = Service.objects.filter(scopes=["portfolio", "programme"]).values_list("code", flat=True)
    assert list(found) == ["PGM"]
    assert not Service.objects.filter(scopes=["portfolio"]).exists()


def test_it_refuses_an_unknown_choice_in_full_clean(
    director: Any, org: Any, category: Category
) -> None:
    service = Service(organisation=org, category=category, code="X", name="X", scopes=["nope"])
    with pytest.raises(ValidationError) as info:
        service.full_clean()
    assert list(info.value.message_dict) == ["scopes"]
    assert "'nope'" in info.value.message_dict["scopes"][0]

    with pytest.raises(DomainError) as refused:
        make(director, category, "Y", ["project", "nope"])
    assert "scopes" in refused.value.errors
    assert not Service.objects.filter(code="Y").exists()

    service.scopes = ["organisation", "project"]
    service.full_clean()


def test_it_requires_a_choice_when_not_blank() -> None:
    field = MultiChoiceField(choices=Scope.choices, blank=False)
    with pytest.raises(ValidationError):
        field.validate([], None)
    field.validate(["project"], None)
    MultiChoiceField(choices=Scope.choices).validate([], None)


@pytest.mark.parametrize(
    ("value", "codes"),
    [
        (None, []),
        ("", []),
        ("b,a", ["a", "b"]),
        (",b,a,", ["a", "b"]),
        (["b", "a", "b"], ["a", "b"]),
        (("a",), ["a"]),
        (iter(["c", "a"]), ["a", "c"]),
    ],
)
def test_it_reads_each_form_of_value_as_sorted_codes(value: Any, codes: list[str]) -> None:
    assert MultiChoiceField(choices=Scope.choices).to_python(value) == codes


def test_it_prepares_the_stored_text() -> None:
    field = MultiChoiceField(choices=Scope.choices)
    assert field.get_prep_value([]) == ""
    assert field.get_prep_value(None) == ""
    assert field.get_prep_value(["project", "multiple"]) == ",multiple,project,"


def test_it_serialises_and_deconstructs_without_defaults(director: Any, category: Category) -> None:
    service = Service.objects.get(pk=make(director, category, "A", ["project", "portfolio"]).pk)
    field = Service._meta.get_field("scopes")
    assert field.value_to_string(service) == "portfolio,project"

    _, path, _, kwargs = MultiChoiceField(choices=Scope.choices).deconstruct()
    assert path == "carte.core.fields.MultiChoiceField"
    assert "default" not in kwargs
    assert "blank" not in kwargs
    assert "max_length" not in kwargs
    _, _, _, kwargs = MultiChoiceField(choices=Scope.choices, max_length=50).deconstruct()
    assert kwargs["max_length"] == 50


def test_it_rebuilds_a_required_field_from_its_deconstruction() -> None:
    _, _, args, kwargs = MultiChoiceField(choices=Scope.choices, blank=False).deconstruct()
    assert MultiChoiceField(*args, **kwargs).blank is False


def test_it_gives_a_checkbox_form_field() -> None:
    form_field = MultiChoiceField("scope", choices=Scope.choices).formfield()
    assert isinstance(form_field, forms.TypedMultipleChoiceField)
    assert isinstance(form_field.widget, forms.CheckboxSelectMultiple)
    assert form_field.required is False
    assert form_field.label == "Scope"
    assert form_field.clean(["project", "portfolio"]) == ["project", "portfolio"]
    with pytest.raises(ValidationError):
        form_field.clean(["nope"])
    required = MultiChoiceField("scope", choices=Scope.choices, blank=False).formfield()
    assert required.required is True


def test_it_reads_a_comma_separated_list() -> None:
    assert as_list(None) == []
    assert as_list(" project, portfolio ,,") == ["project", "portfolio"]
    assert as_list(["a", "b"]) == ["a", "b"]
