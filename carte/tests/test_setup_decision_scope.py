"""The set-up decision's scope reads as words: the demo's decisions name the service's
scopes by their labels, and a set of choices (`core.fields.MultiChoiceField`) displays as
its labels, not as a list printed one character at a time ("[, ', p, o, ...")."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from carte.catalogue.choices import Scope
from carte.catalogue.models import Service
from carte.organisations.models import Organisation, User

pytestmark = pytest.mark.django_db


def test_a_set_of_choices_displays_as_its_labels() -> None:
    labels = dict(Scope.choices)
    service = Service(scopes=[Scope.PORTFOLIO, Scope.PROJECT])

    assert service.get_scopes_display() == ", ".join(
        labels[code] for code in sorted([Scope.PORTFOLIO, Scope.PROJECT])
    )
    assert Service(scopes=[]).get_scopes_display() == ""


def _scope_on_page(page: str) -> str | None:
    """The scope of the set-up decision's card, if the page shows one."""
    card = re.search(r'<section[^>]*id="decision".*?</section>', page, re.S)
    if card is None:
        return None
    found = re.search(r"<dt[^>]*>Scope</dt>\s*<dd[^>]*>(.*?)</dd>", card.group(0), re.S)
    assert found, "the set-up decision shows no scope"
    return html.unescape(found.group(1)).strip()


def test_the_lifecycle_pages_of_the_demo_name_each_scope(demo: dict[str, Organisation]) -> None:
    labels = dict(Scope.choices)
    services = (
        Service.objects.filter(organisation__in=demo.values(), setup_decisions__isnull=False)
        .exclude(scopes="")
        .select_related("organisation")
        .distinct()
    )
    clients: dict[int, Client] = {}
    for org in demo.values():
        clients[org.pk] = Client()
        clients[org.pk].force_login(User.objects.get(email=f"director@{org.slug}.example"))

    checked = 0
    for service in services:
        url = reverse(
            "lifecycle:service", kwargs={"org": service.organisation.slug, "pk": service.pk}
        )
        response = clients[service.organisation_id].get(url)
        assert response.status_code == 200
        shown = _scope_on_page(response.content.decode())
        if shown is None:
            continue
        checked += 1
        assert shown == ", ".join(labels[code] for code in service.scopes), (service.code, shown)
    assert checked > 1, "the demo shows set-up decisions of services with scopes"
