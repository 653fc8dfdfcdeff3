"""The organisation's registers: every risk and issue (every service and level, worst score
first) and every action on them, as pages and API lists, with their filters and orderings;
the staff's only, never another organisation's rows, and a bounded number of queries."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

import pytest
from django.urls import reverse

from carte.catalogue.choices import Stage
from carte.catalogue.tests.factories import ServiceFactory
from carte.conftest import Persona
from carte.core.clock import today
from carte.core.testing import assert_constant_queries, assert_problem, no_writes
from carte.operations.choices import ItemStatus
from carte.operations.models import ItemAction, RiskIssue
from carte.operations.services import items as services
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import RiskIssueFactory
from carte.organisations.models import Organisation

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
API = "/api/v1/orgs/acme"


def risks_url(slug: str = "acme") -> str:
    return reverse("operations:risk_register", args=[slug])


def actions_url(slug: str = "acme") -> str:
    return reverse("operations:action_register", args=[slug])


def text(response: Any) -> str:
    assert response.status_code == 200, response.content[:500]
    return str(response.content.decode())


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.content[:800]
    return response.json()


def an_action(ops: Ops, item: RiskIssue, **extra: Any) -> ItemAction:
    return services.action_create(
        actor=ops.system,
        item=item,
        data={
            "description": "Ask Finance for a flash extract",
            "owner": ops.operative_person,
            "due_date": today() + dt.timedelta(days=7),
            **extra,
        },
    )


@pytest.fixture
def register(ops: Ops, other_org: Organisation) -> dict[str, RiskIssue]:
    """A risk scored 25 at level 1 on REP (the Manager's), an issue scored 12 at level 2 on
    GOV (the Operative's), a closed risk, and a risk of another organisation."""
    worst = RiskIssueFactory(
        service=ops.service,
        title="Finance feed late for month-end",
        probability=5,
        impact=5,
        owner=ops.manager_person,
    )
    issue = RiskIssueFactory(
        service=ops.other_service,
        kind="issue",
        title="Gate panel double-booked",
        level=2,
        probability=3,
        impact=4,
        owner=ops.operative_person,
    )
    closed = RiskIssueFactory(
        service=ops.service, title="Old template retired", status=ItemStatus.CLOSED
    )
    theirs = RiskIssueFactory(
        service=ServiceFactory(organisation=other_org, stage=Stage.RUNNING),
        title="Globex secret risk",
        probability=5,
        impact=5,
    )
    return {"worst": worst, "issue": issue, "closed": closed, "theirs": theirs}


# ---------------------------------------------------------------- the risk register


def test_the_register_lists_every_service_and_level_worst_score_first(
    ops: Ops, register: dict[str, RiskIssue]
) -> None:
    an_action(ops, register["issue"], due_date=dt.date(2031, 3, 4))
    page = text(ops.viewer.client.get(risks_url()))
    worst, issue = register["worst"].title, register["issue"].title
    assert worst in page and issue in page
    assert page.index(worst) < page.index(issue)  # 25 before 12
    assert "Old template retired" not in page  # open ones by default
    assert "Globex secret risk" not in page
    # Labels and names, never codes or e-mail addresses; the next action's due date.
    assert "2. Delivery management" in page and "Manu Manager" in page
    assert "4 Mar 2031" in page and "manager@acme.example" not in page
    link = reverse("operations:item", args=["acme", ops.other_service.pk, register["issue"].pk])
    assert link in page
    assert 'role="region"' in page and "format=xlsx" in page


@pytest.mark.parametrize(
    ("params", "shown"),
    [
        ({"kind": "issue"}, ["issue"]),
        ({"level": "2"}, ["issue"]),
        ({"state": "closed"}, ["closed"]),
        ({"state": "all"}, ["worst", "issue", "closed"]),
        ({"q": "feed late"}, ["worst"]),
        ({"owner": "mine"}, ["worst"]),  # the Manager's own
        ({"ordering": "score"}, ["issue", "worst"]),
        ({"ordering": "-raised"}, ["issue", "worst"]),
        ({"ordering": "raised"}, ["worst", "issue"]),
    ],
)
def test_the_register_filters_and_orders(
    ops: Ops, register: dict[str, RiskIssue], params: dict[str, str], shown: list[str]
) -> None:
    page = text(ops.manager.client.get(risks_url(), params, headers=HTMX))
    assert "<html" not in page  # the results partial
    titles = [register[k].title for k in shown]
    for name, item in register.items():
        assert (item.title in page) == (name in shown), (name, params)
    assert [page.index(t) for t in titles] == sorted(page.index(t) for t in titles)


def test_the_register_filters_by_service_and_owner(
    ops: Ops, register: dict[str, RiskIssue]
) -> None:
    by_service = text(ops.director.client.get(risks_url(), {"service": ops.other_service.pk}))
    assert register["issue"].title in by_service and register["worst"].title not in by_service
    by_owner = text(ops.director.client.get(risks_url(), {"owner": ops.operative_person.pk}))
    assert register["issue"].title in by_owner and register["worst"].title not in by_owner
    nobody = text(ops.director.client.get(risks_url(), {"owner": "mine"}))  # no person
    assert register["worst"].title not in nobody and "No risk or issue matches" in nobody
    bad = text(ops.director.client.get(risks_url(), {"ordering": "colour", "level": "7"}))
    assert "Unknown ordering" in bad and register["worst"].title in bad


def test_the_action_register_flags_overdue_and_filters(
    ops: Ops, register: dict[str, RiskIssue]
) -> None:
    late = an_action(
        ops, register["worst"], description="Chase the feed", due_date=today() - dt.timedelta(1)
    )
    soon = an_action(
        ops, register["issue"], description="Rebook the panel", owner=ops.manager_person
    )
    done = an_action(ops, register["worst"], description="Agree a cut-off")
    services.action_done(actor=ops.system, action=done, done=True)
    an_action(ops, RiskIssueFactory(service=ops.service), description="Old step")
    page = text(ops.staff.client.get(actions_url()))
    assert page.index("Chase the feed") < page.index("Rebook the panel")  # soonest due first
    assert "Agree a cut-off" not in page  # open ones by default
    row = page.split(f'data-testid="register-action-{late.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Overdue" in row and "Opal Operative" in row  # told in words, not by colour
    assert "Finance feed late for month-end" in row
    other = page.split(f'data-testid="register-action-{soon.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Overdue" not in other and "Manu Manager" in other

    def titles(**params: Any) -> set[str]:
        html = text(ops.manager.client.get(actions_url(), params, headers=HTMX))
        names = ("Chase the feed", "Rebook the panel", "Agree a cut-off", "Old step")
        return {n for n in names if n in html}

    assert titles(overdue="true") == {"Chase the feed"}
    assert titles(owner="mine") == {"Rebook the panel"}
    assert titles(owner=ops.operative_person.pk) == {"Chase the feed", "Old step"}
    assert titles(state="done") == {"Agree a cut-off"}
    assert titles(state="all", service=ops.other_service.pk) == {"Rebook the panel"}
    assert titles(q="panel") == {"Rebook the panel"}
    by_owner = text(ops.manager.client.get(actions_url(), {"ordering": "owner"}))
    assert by_owner.index("Rebook the panel") < by_owner.index("Chase the feed")  # Manu < Opal


def test_customers_are_refused_and_outsiders_see_nothing(
    ops: Ops, register: dict[str, RiskIssue], outsider: Persona
) -> None:
    an_action(ops, register["worst"])
    # The staff's records: refused to a customer as the escalations list is.
    assert ops.customer.client.get(risks_url()).status_code == 403
    assert ops.customer.client.get(actions_url()).status_code == 403
    assert ops.customer.client.get(risks_url(), {"format": "csv"}).status_code == 403
    with no_writes(register["worst"]):
        for path in (risks_url(), actions_url()):
            assert outsider.client.get(path).status_code == 404
            assert outsider.client.get(path, {"format": "xlsx"}).status_code == 404
    # Their own organisation's register holds only their rows.
    theirs = text(outsider.client.get(risks_url("globex")))
    assert "Globex secret risk" in theirs and "Finance feed late" not in theirs
    own = text(outsider.client.get(risks_url("globex"), {"format": "csv"}))
    assert "Globex secret risk" in own and "Finance feed late" not in own
    actions = text(outsider.client.get(actions_url("globex")))
    assert "Ask Finance" not in actions


def test_the_register_pages_run_a_bounded_number_of_queries(ops: Ops) -> None:
    def grow(n: int) -> None:
        for i in range(n):
            service = ops.service if i % 2 else ops.other_service
            item = RiskIssueFactory(service=service, level=1 + i % 3, owner=ops.manager_person)
            an_action(ops, item, due_date=today() - dt.timedelta(days=i))
            an_action(ops, item, owner=ops.manager_person)

    grow(2)
    client = ops.manager.client
    for url in (risks_url(), actions_url()):
        assert_constant_queries(partial(client.get, url), lambda: grow(30))
        assert_constant_queries(partial(client.get, url, {"owner": "mine"}), lambda: grow(5))
        assert_constant_queries(partial(client.get, url, {"format": "xlsx"}), lambda: grow(5))


# ---------------------------------------------------------------- the API


def test_the_api_lists_answer_paged_json_with_the_page_filters(
    ops: Ops, register: dict[str, RiskIssue]
) -> None:
    action = an_action(ops, register["worst"], due_date=today() - dt.timedelta(days=1))
    an_action(ops, register["issue"], owner=ops.manager_person)
    body = ok(ops.director.api.get(f"{API}/risks-issues"))
    assert body["count"] == 2
    first = body["items"][0]
    assert first["id"] == register["worst"].pk  # worst score first
    assert first["level_label"] == "Service operations" and first["kind_label"] == "Risk"
    assert first["owner"] == {"id": ops.manager_person.pk, "name": "Manu Manager"}
    assert first["service"]["code"] == "REP"
    assert first["next_action_due"] == action.due_date.isoformat()
    every = ok(ops.director.api.get(f"{API}/risks-issues", state="all", page_size=1, page=3))
    assert every["count"] == 3 and len(every["items"]) == 1
    issues = ok(ops.director.api.get(f"{API}/risks-issues", kind="issue", ordering="-raised"))
    assert [i["id"] for i in issues["items"]] == [register["issue"].pk]
    mine = ok(ops.manager.api.get(f"{API}/risks-issues", owner="mine"))
    assert [i["id"] for i in mine["items"]] == [register["worst"].pk]

    actions = ok(ops.viewer.api.get(f"{API}/actions"))
    assert actions["count"] == 2
    row = actions["items"][0]
    assert row["id"] == action.pk and row["overdue"] is True and row["done"] is False
    assert row["item"] == {
        "id": register["worst"].pk,
        "kind": "risk",
        "title": "Finance feed late for month-end",
    }
    assert row["owner"]["name"] == "Opal Operative" and row["service"]["code"] == "REP"
    overdue = ok(ops.viewer.api.get(f"{API}/actions", overdue="true"))
    assert [a["id"] for a in overdue["items"]] == [action.pk]
    mine_actions = ok(ops.manager.api.get(f"{API}/actions", owner="mine"))
    assert [a["item"]["id"] for a in mine_actions["items"]] == [register["issue"].pk]


def test_the_api_lists_refuse_with_problems(
    ops: Ops, register: dict[str, RiskIssue], outsider: Persona
) -> None:
    for path in (f"{API}/risks-issues", f"{API}/actions"):
        assert_problem(ops.customer.api.get(path), 403)
        assert_problem(outsider.api.get(path), 404)
        assert_problem(ops.director.api.get(path, ordering="colour"), 422, "ordering")
        assert_problem(ops.director.api.get(path, owner="someone"), 422)
    theirs = ok(outsider.api.get("/api/v1/orgs/globex/risks-issues"))
    assert [i["title"] for i in theirs["items"]] == ["Globex secret risk"]


def test_the_api_lists_run_a_bounded_number_of_queries(ops: Ops) -> None:
    def grow(n: int) -> None:
        for i in range(n):
            item = RiskIssueFactory(service=ops.service, level=1 + i % 3, owner=ops.manager_person)
            an_action(ops, item, due_date=today() - dt.timedelta(days=i))

    grow(2)
    api = ops.director.api
    assert_constant_queries(lambda: api.get(f"{API}/risks-issues"), lambda: grow(12))
    assert_constant_queries(lambda: api.get(f"{API}/actions"), lambda: grow(12))
    assert_constant_queries(
        lambda: ops.manager.api.get(f"{API}/actions", owner="mine"), lambda: grow(3)
    )
