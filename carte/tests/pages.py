"""The demo's main pages, as its people see them, for the browser tests that walk them
(test_accessibility.py at desktop and phone widths, test_phone_layout.py at 390 px)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count

from carte.catalogue.choices import Stage
from carte.catalogue.models import Service
from carte.catalogue.views import TABS
from carte.operations.models import KPI, ChangeRequest, RiskIssue
from carte.organisations.demo import CONSULTANT, DEMO_PASSWORD
from carte.organisations.models import PMO, Organisation

AXE = settings.STATIC_URL + "vendor/axe-core/axe.min.js"
BLOCKING = {"critical", "serious"}


@dataclass
class Visit:
    """Who looks at which pages (name -> path)."""

    email: str
    pages: dict[str, str]


def main_pages(org: Organisation) -> list[Visit]:
    """The demo's Director and a customer of `org`, each on their main pages, and the
    consultant (a member of both organisations, so the organisation switcher shows).

    Work the paths out before the browser starts: a query from the test body while
    Playwright's loop runs would open a connection nothing closes."""
    o = f"/o/{org.slug}"
    # The running service with the most risks and changes: every tab has something to show.
    service = (
        Service.objects.filter(organisation=org, stage=Stage.RUNNING)
        .annotate(n=Count("risks_issues", distinct=True) + Count("change_requests", distinct=True))
        .order_by("-n", "pk")
        .first()
    )
    assert service is not None
    s = f"{o}/catalogue/services/{service.pk}"
    item = RiskIssue.objects.filter(service=service).order_by("pk").first()
    change = ChangeRequest.objects.filter(service=service).order_by("pk").first()
    kpi = KPI.objects.filter(service=service).order_by("pk").first()
    pmo = PMO.objects.filter(organisation=org).order_by("pk").first()
    assert item and change and kpi and pmo
    published = (
        Service.objects.filter(
            organisation=org,
            current_version__isnull=False,
            customers__customer_group__name="Operations",
        )
        .order_by("pk")
        .first()
    )
    assert published is not None
    proposed = Service.objects.filter(organisation=org, stage=Stage.PROPOSED).order_by("pk").first()
    assert proposed is not None

    director = {
        "home": f"{o}/",
        "catalogue": f"{o}/catalogue/",
        **{f"service-{key}": f"{s}/?tab={key}" for key, _ in TABS},
        "lifecycle-board": f"{o}/lifecycle/",
        "service-lifecycle": f"{s}/lifecycle/",
        "service-operations": f"{s}/operations/",
        "heatmap": f"{o}/operations/heatmap/",
        "inbox": f"{o}/operations/inbox/",
        "reports-due": f"{o}/operations/reports/",
        "kpi": f"{s}/operations/kpis/{kpi.pk}/",
        "risks": f"{s}/operations/risks/",
        "risk": f"{s}/operations/risks/{item.pk}/",
        "change-queue": f"{o}/operations/changes/",
        "risk-register": f"{o}/operations/risks/",
        "action-register": f"{o}/operations/actions/",
        "my-work": f"{o}/my-work/",
        "search": f"{o}/search/?q=budget",
        "competences": f"{o}/competences/",
        "capacity": f"{o}/capacity/",
        "capacity-fit": f"{o}/capacity/fit/?service={proposed.pk}",
        "allocations": f"{o}/capacity/allocations/",
        "my-capacity": f"{o}/capacity/me/",
        "set-up-decision": f"{o}/catalogue/services/{proposed.pk}/lifecycle/moves/approve/",
        "changes": f"{s}/operations/changes/",
        "change": f"{s}/operations/changes/{change.pk}/",
        "pmos": f"{o}/pmos/",
        "pmo": f"{o}/pmos/{pmo.pk}/",
        "people": f"{o}/people/",
        "members": f"{o}/members/",
        "tokens": "/account/tokens/",
    }
    customer = {
        "home": f"{o}/",
        "catalogue": f"{o}/catalogue/",
        "service": f"{o}/catalogue/services/{published.pk}/",
        "feedback": f"{o}/catalogue/services/{published.pk}/feedback/",
        "my-requests": f"{o}/operations/my-requests/",
        "capacity": f"{o}/capacity/",
        "my-work": f"{o}/my-work/",
        "inbox": f"{o}/operations/inbox/",
        "pmos": f"{o}/pmos/",
        "people": f"{o}/people/",
    }
    return [
        Visit(f"director@{org.slug}.example", director),
        Visit(f"customer@{org.slug}.example", customer),
        Visit(CONSULTANT, {"home": f"{o}/"}),
    ]


def log_in(page: Any, email: str) -> None:
    """Log in through the login page with the demo's password."""
    from playwright.sync_api import expect

    page.goto("/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))


def violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's critical and serious violations on the page as it is now."""
    page.add_script_tag(url=AXE)
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [v for v in found if v["impact"] in BLOCKING]


def describe(where: str, found: list[dict[str, Any]]) -> list[str]:
    """One line a violation: its id, impact, help, the elements (first five) and why."""
    lines = []
    for v in found:
        targets = ", ".join(" ".join(n["target"]) for n in v["nodes"][:5])
        more = f" (+{len(v['nodes']) - 5} more)" if len(v["nodes"]) > 5 else ""
        why = " ".join(v["nodes"][0]["failureSummary"].split()) if v["nodes"] else ""
        lines.append(f"{where}: {v['id']} [{v['impact']}] {v['help']} -> {targets}{more}; {why}")
    return lines
