"""The main menu lists what people can open: an app still to come (Strategy, Handbook,
Capacity, ...) has no entry until it exists, then an entry leading to its page."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.urls import reverse

from carte import navigation
from carte.conftest import Persona

pytestmark = pytest.mark.django_db


def _main_menu(page: str) -> str:
    found = re.search(r'<nav[^>]*aria-label="Main"[^>]*>(.*?)</nav>', page, re.S)
    assert found, "the page has its main menu"
    return found.group(1)


@pytest.mark.parametrize("who", ["director", "viewer", "customer"])
def test_it_shows_no_entry_for_an_app_that_does_not_exist(
    who: str, request: pytest.FixtureRequest
) -> None:
    persona: Persona = request.getfixturevalue(who)
    missing = [label for label, module, _ in navigation.NAVIGATION if not apps.is_installed(module)]
    assert missing, "some apps are still to come"

    response = persona.client.get(reverse("org_home", args=[persona.organisation.slug]))

    menu = _main_menu(response.content.decode())
    assert "Catalogue" in menu  # the menu is there, with the apps that exist
    assert "Coming soon" not in menu and "disabled" not in menu
    for label in missing:
        assert not re.search(rf">\s*{label}\s*<", menu), label


def test_an_app_that_exists_has_an_entry_to_its_page(
    director: Persona, monkeypatch: pytest.MonkeyPatch
) -> None:
    slug = director.organisation.slug
    monkeypatch.setattr(
        navigation,
        "NAVIGATION",
        [
            ("Strategy", "carte.strategy", "strategy:home"),
            ("Operations", "carte.operations", "operations:heatmap"),
        ],
    )

    assert navigation.nav_apps(slug) == [
        ("Operations", reverse("operations:heatmap", kwargs={"org": slug}))
    ]
    page = director.client.get(reverse("org_home", args=[slug])).content.decode()
    link = reverse("operations:heatmap", kwargs={"org": slug})
    assert re.search(rf'<a class="nav-link" href="{re.escape(link)}"[^>]*>Operations</a>', page)
