"""The whole demo (`carte/demo.py`): every app's loader, in the order of the stack."""

from __future__ import annotations

import pytest
from django.apps import apps

from carte.demo import load_demo
from carte.organisations.models import Organisation

pytestmark = pytest.mark.django_db


def _rows() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def test_loading_it_again_without_reset_changes_nothing(demo: dict[str, Organisation]) -> None:
    before = _rows()
    assert before["catalogue.Service"] and before["operations.Measurement"]

    assert load_demo() is False

    assert _rows() == before
