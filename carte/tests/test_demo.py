"""The whole demo (`carte/demo.py`): every app's loader, in the order of the stack."""

from __future__ import annotations

import re

import pytest
from django.apps import apps

from carte.catalogue.models import Service
from carte.catalogue.tests.test_search_ranking import menu, menu_names
from carte.conftest import make_persona
from carte.demo import load_demo
from carte.organisations.choices import OrgRole
from carte.organisations.models import Organisation

pytestmark = pytest.mark.django_db


def _rows() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def test_loading_it_again_without_reset_changes_nothing(demo: dict[str, Organisation]) -> None:
    before = _rows()
    assert before["catalogue.Service"] and before["operations.Measurement"]

    assert load_demo() is False

    assert _rows() == before


# ---------------------------------------------------------------- the catalogue search on the demo


def test_the_search_boxs_example_is_true_on_the_demo(demo: dict[str, Organisation]) -> None:
    northwind = demo["northwind"]
    for role in (OrgRole.DIRECTOR, OrgRole.CUSTOMER):
        persona = make_persona(northwind, [role], f"search-{role}@example.com")
        page = menu(persona, northwind)
        (example,) = re.findall(r'placeholder="e\.g\. ([^"]+)"', page)
        names = menu_names(persona, northwind, q=example)
        overrun = set(
            Service.objects.filter(
                organisation=northwind,
                symptom_links__symptom__statement__icontains="overrunning their budgets",
                symptom_links__archived_at__isnull=True,
            ).values_list("name", flat=True)
        )
        assert names and names[0] in overrun, (role, example, names)
