"""People read labels, names, amounts and dates, never what the code stores.

The main pages of the demo are rendered as a director and as a customer, and their
visible text (tags, scripts and styles stripped; attributes are not read) must hold:

- no choice code of any model ("approved_for_setup", "in_house", "pmo_manager"), neither
  inside a sentence (codes with an underscore) nor as a whole label (a lowercase code
  such as "draft" standing alone in a cell or badge);
- no machine timestamp (ISO "2026-10-20T22:10" or seconds with microseconds);
- no e-mail address where a person is meant: people appear by name. Addresses are
  allowed where the address is the point: the text of a `mailto:` link, and the people
  and members pages (their list and detail), which exist to show how to reach someone
  and which login is whose;
- no amount written as the database holds it ("1360.00 EUR"): amounts carry their
  currency's sign and the locale's thousands separator ("€1,360.00").

The operations pages count too: each service's Operations tab, its risks and issues,
KPIs, changes, improvements and feedback, and the organisation's heat map, reports due,
escalations, breaches, change queue and inbox.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from carte.catalogue.choices import DeliveryMode, Scope, Stage
from carte.catalogue.models import Service, ServiceVersion
from carte.core import audit
from carte.core.templatetags.carte import format_money
from carte.operations.models import KPI, ChangeRequest, RiskIssue
from carte.organisations.choices import OrgRole
from carte.organisations.models import Membership, Organisation, User

pytestmark = pytest.mark.django_db

Demo = dict[str, Organisation]

MICROSECOND_STAMP = re.compile(r"\d{2}:\d{2}:\d{2}\.\d+|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
RAW_AMOUNT = re.compile(r"\b\d+\.\d{2} ?(EUR|GBP|USD)\b|\b\d{4,}\.\d{2}\b")
ADDRESS_PAGES = ("/people/", "/members/")


def _choice_codes() -> tuple[set[str], set[str]]:
    """Every choice code of every model: those with an underscore, and the one-word
    lowercase ones (which only count when they stand alone)."""
    codes = {
        str(code)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        for code, _ in getattr(field, "flatchoices", None) or ()
        if isinstance(code, str) and code
    }
    return {c for c in codes if "_" in c}, {c for c in codes if "_" not in c and c.islower()}


class _VisibleText(HTMLParser):
    """The text a person sees: no script, style or template; `mailto:` link text kept
    apart (an address is its point)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.mailto: list[str] = []
        self._hidden = 0
        self._in_mailto = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self._hidden += 1
        if tag == "a" and (dict(attrs).get("href") or "").startswith("mailto:"):
            self._in_mailto = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template"):
            self._hidden -= 1
        if tag == "a":
            self._in_mailto = False

    def handle_data(self, data: str) -> None:
        text = data.strip()
        if text and not self._hidden:
            (self.mailto if self._in_mailto else self.texts).append(text)


def _client(email: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(email=email))
    return client


def _customer_pages(client: Client, org: Organisation) -> Iterator[str]:
    """The customer's home, their menu and every service the menu offers them."""
    menu = reverse("catalogue", args=[org.slug])
    yield f"/o/{org.slug}/"
    yield menu
    detail = re.compile(rf'href="(/o/{org.slug}/catalogue/services/\d+/)"')
    yield from sorted(set(detail.findall(client.get(menu).content.decode())))


def _staff_pages(org: Organisation) -> Iterator[str]:
    slug = org.slug
    yield f"/o/{slug}/"
    yield reverse("catalogue", args=[slug])
    services = Service.objects.filter(organisation=org).order_by("id")
    yield reverse("catalogue_document", args=[slug])
    yield f"/o/{slug}/activity/"
    yield f"/o/{slug}/members/"
    yield f"/o/{slug}/people/"
    yield reverse("lifecycle:board", args=[slug])
    for member in Membership.objects.filter(organisation=org).order_by("id")[:3]:
        yield f"/o/{slug}/members/{member.pk}/"
    for service in services:
        detail = reverse("service_detail", args=[slug, service.pk])
        for tab in ("overview", "levels", "history", "versions"):
            yield f"{detail}?tab={tab}"
        yield reverse("lifecycle:service", args=[slug, service.pk])
    for version in ServiceVersion.objects.filter(service__organisation=org, number=2):
        yield reverse("version_diff", args=[slug, version.service_id, 1, 2])


def _operations_pages(org: Organisation) -> Iterator[str]:
    """Every operations page of the organisation, and each of its risks, KPIs and changes."""
    slug = org.slug
    for name in (
        "heatmap",
        "reports_due",
        "escalations",
        "level_breaches",
        "change_queue",
        "risk_register",
        "action_register",
    ):
        yield reverse(f"operations:{name}", args=[slug])
    yield reverse("operations:inbox", args=[slug])
    yield reverse("my_work", args=[slug])
    yield reverse("org_home", args=[slug])
    for service in Service.objects.filter(organisation=org).order_by("id"):
        for name in ("service", "items", "change_list", "improvement_list", "feedback_list"):
            yield reverse(f"operations:{name}", args=[slug, service.pk])
    for item in RiskIssue.objects.filter(service__organisation=org).order_by("id"):
        yield reverse("operations:item", args=[slug, item.service_id, item.pk])
    for kpi in KPI.objects.filter(service__organisation=org).order_by("id"):
        yield reverse("operations:kpi_detail", args=[slug, kpi.service_id, kpi.pk])
    for change in ChangeRequest.objects.filter(service__organisation=org).order_by("id"):
        yield reverse("operations:change_detail", args=[slug, change.service_id, change.pk])


def _problems(path: str, html: str) -> list[str]:
    with_underscore, one_word = _choice_codes()
    code = re.compile(
        r"(?<![\w/.@-])(" + "|".join(map(re.escape, sorted(with_underscore))) + r")(?![\w/.@-])"
    )
    parser = _VisibleText()
    parser.feed(html)
    problems: list[str] = []
    for text in parser.texts:
        found = [m.group(0) for m in code.finditer(text)]
        if text in one_word:
            found.append(text)
        found += [m.group(0) for m in MICROSECOND_STAMP.finditer(text)]
        found += [m.group(0) for m in RAW_AMOUNT.finditer(text)]
        if not any(p in path for p in ADDRESS_PAGES):
            found += [m.group(0) for m in EMAIL.finditer(text)]
        problems += [f"{path}: {f!r} in {text[:100]!r}" for f in found]
    return problems


def _check(client: Client, paths: Iterator[str]) -> tuple[int, list[str]]:
    seen, problems = 0, []
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        seen += 1
        problems += _problems(path, response.content.decode())
    return seen, problems


def test_it_shows_the_director_labels_names_dates_and_amounts(demo: Demo) -> None:
    for org in demo.values():
        seen, problems = _check(_client(f"director@{org.slug}.example"), _staff_pages(org))
        assert seen > 20
        assert problems == []


def test_it_shows_the_director_labels_and_names_on_the_operations_pages(demo: Demo) -> None:
    for org in demo.values():
        seen, problems = _check(_client(f"director@{org.slug}.example"), _operations_pages(org))
        assert seen > 40
        assert problems == []


def test_it_shows_the_customer_labels_names_and_amounts(demo: Demo) -> None:
    org = demo["northwind"]
    client = _client(f"customer@{org.slug}.example")
    seen, problems = _check(client, _customer_pages(client, org))
    assert seen > 3
    assert problems == []


def test_it_names_the_person_logged_in_in_the_header(demo: Demo) -> None:
    director = User.objects.get(email="director@northwind.example")
    html = _client(director.email).get("/o/northwind/").content.decode()
    header = re.search(r'data-testid="current-user"[^>]*>([^<]*)<', html)
    assert header is not None
    assert header.group(1) == director.full_name != ""


def test_it_names_who_made_each_change_in_the_history(demo: Demo) -> None:
    org = demo["northwind"]
    service = Service.objects.filter(organisation=org).order_by("id").first()
    assert service is not None
    html = _client("director@northwind.example").get(
        reverse("service_detail", args=[org.slug, service.pk]), {"tab": "history"}
    )
    names = {str(u) for u in User.objects.filter(memberships__organisation=org)}
    said = set(re.findall(r"by ([^·<]+?) ·", html.content.decode()))
    # A mark of the demo ("(demo data)") may follow the name; Carte names its own work.
    bare = {re.sub(r" \([^()]*\)$", "", who) for who in said}
    assert bare and bare - {"Carte"} <= names


def test_it_writes_amounts_with_the_sign_and_the_separators_of_the_locale() -> None:
    assert format_money(Decimal("1360"), "EUR") == "€1,360.00"
    assert format_money("510.00", "GBP") == "£510.00"
    assert format_money(Decimal("1234567.5"), "CHF") == "1,234,567.50 CHF"
    assert format_money(Decimal("-5"), "USD") == "-$5.00"
    assert format_money(None, "EUR") == "—"


def test_it_reads_recorded_values_as_people_do(demo: Demo) -> None:
    moment = timezone.make_aware(dt.datetime(2026, 10, 20, 22, 10, 56, 438837), dt.UTC)
    shown = audit.display_value(Service, "stage_changed_at", moment.isoformat())
    assert "." not in shown and "T" not in shown and "2026" in shown
    assert audit.display_value(Service, "stage", Stage.APPROVED_FOR_SETUP.value) == str(
        Stage.APPROVED_FOR_SETUP.label
    )
    assert audit.display_value(Service, "delivery_mode", "in_house") == str(
        DeliveryMode.IN_HOUSE.label
    )
    assert audit.display_value(Service, "scopes", ["organisation", "project"]) == ", ".join(
        [str(Scope.ORGANISATION.label), str(Scope.PROJECT.label)]
    )
    assert audit.display_value(Membership, "roles", ["pmo_manager"]) == str(
        OrgRole.PMO_MANAGER.label
    )
    assert audit.display_value(Service, "price", "1360.00") == "1,360.00"
    assert audit.display_value(Service, "end_date", "2026-11-27") == "27 Nov 2026"
    assert audit.display_value(Service, "is_temporary", False) == "No"
    assert audit.display_value(Service, "category", None) == "—"
    director = User.objects.get(email="director@northwind.example")
    assert audit.display_value(Membership, "user", director.pk) == director.full_name
