"""The organisation's change register (issue 13): the change queue names who asked and who
decided (people's names, never e-mail addresses), when it was decided, and downloads the
filtered list whole as .xlsx or CSV; bounded queries, the staff's only."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook  # type: ignore[import-untyped]

from carte.core.testing import assert_constant_queries
from carte.operations.models import ChangeRequest
from carte.operations.services import changes as services
from carte.operations.tests.conftest import Ops
from carte.operations.tests.test_changes_services import raise_change, submitted
from carte.operations.views.changes.base import PAGE_SIZE
from carte.operations.views.changes.requests import QUEUE_COLUMNS
from carte.organisations.tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def main(html: str) -> str:
    """The page's own content, without the header (which shows the viewer's login)."""
    return html[html.index('<main id="main"') : html.index("</main>")]


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def queue(ops: Ops, query: str = "") -> str:
    return reverse("operations:change_queue", args=[ops.org.slug]) + query


def decided(ops: Ops, approve: bool, **extra: Any) -> ChangeRequest:
    cr = submitted(ops, **extra)
    return services.change_request_decide(
        actor=ops.owner.actor, change=cr, approve=approve, note="Said at the review."
    )


def column(rows: list[Any], name: str) -> list[Any]:
    i = QUEUE_COLUMNS.index(name)
    return [r[i] for r in rows[1:]]


def test_the_register_names_the_requester_and_the_decider(ops: Ops) -> None:
    asker = PersonFactory(organisation=ops.org, name="Ada Asker", email="ada@acme.example")
    decided(ops, True, raised_by=asker, title="Approved one")
    page = ops.director.client.get(queue(ops, "?state=approved")).content.decode()
    assert 'data-testid="requester">Ada Asker<' in page
    assert 'data-testid="decider">Olive Owner<' in page
    assert "Approved one" in page
    assert "@acme.example" not in main(page)
    waiting = ops.director.client.get(queue(ops, "?state=submitted")).content.decode()
    assert "Approved one" not in waiting


def test_the_decider_without_a_person_is_named_by_their_login_never_their_e_mail(
    ops: Ops,
) -> None:
    cr = submitted(ops)
    ops.owner_person.user = None
    ops.owner_person.save(update_fields=["user"])
    ops.owner.user.full_name = "Olivia O."
    ops.owner.user.save(update_fields=["full_name"])
    ChangeRequest.objects.filter(pk=cr.pk).update(
        state="rejected", decided_by=ops.owner.user, decided_at=cr.created_at
    )
    page = ops.director.client.get(queue(ops, "?state=rejected")).content.decode()
    assert 'data-testid="decider">Olivia O.<' in page
    ops.owner.user.full_name = ""
    ops.owner.user.save(update_fields=["full_name"])
    page = ops.director.client.get(queue(ops, "?state=rejected")).content.decode()
    assert 'data-testid="decider">—<' in page and "owner@acme.example" not in main(page)


def test_the_downloads_hold_every_filtered_row_with_names(ops: Ops) -> None:
    asker = PersonFactory(organisation=ops.org, name="Ada Asker", email="ada@acme.example")
    for i in range(PAGE_SIZE + 2):
        decided(ops, False, raised_by=asker, title=f"Rejected {i}")
    decided(ops, True, title="Approved, not in the filter")
    response = ops.director.client.get(queue(ops, "?state=rejected&format=xlsx&page=2"))
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert list(rows[0]) == QUEUE_COLUMNS
    assert len(rows) == 1 + PAGE_SIZE + 2
    assert set(column(rows, "Requester")) == {"Ada Asker"}
    assert set(column(rows, "Decider")) == {"Olive Owner"}
    assert set(column(rows, "State")) == {"Rejected"}
    assert all(d is not None for d in column(rows, "Decided"))
    assert not any("@" in str(v) for row in rows for v in row if v is not None)

    response = ops.director.client.get(queue(ops, "?state=rejected&format=csv"))
    assert response["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(table) == 1 + PAGE_SIZE + 2
    assert set(column(table, "Decider")) == {"Olive Owner"}
    assert "@" not in response.content.decode("utf-8-sig")


def test_the_page_offers_the_downloads_with_its_filters(ops: Ops) -> None:
    submitted(ops)
    page = ops.director.client.get(queue(ops, "?state=submitted&page=1")).content.decode()
    assert 'href="?state=submitted&amp;format=xlsx"' in page
    assert 'href="?state=submitted&amp;format=csv"' in page
    assert 'role="region" aria-label="Change requests"' in page


def test_the_register_runs_a_bounded_number_of_queries(ops: Ops) -> None:
    people = [PersonFactory(organisation=ops.org, name=f"Asker {i}") for i in range(4)]

    def grow() -> None:
        for i, person in enumerate(people):
            decided(ops, i % 2 == 0, raised_by=person)
            submitted(ops, raised_by=person)

    grow()
    for query in ("", "?state=approved", "?state=rejected&format=csv", "?format=xlsx"):
        assert_constant_queries(lambda q=query: ops.director.client.get(queue(ops, q)), grow)  # type: ignore[misc]


def test_the_register_is_the_staffs_and_the_organisations_own(ops: Ops, other_org: Any) -> None:
    raise_change(ops)
    for query in ("", "?format=xlsx", "?format=csv"):
        assert ops.customer.client.get(queue(ops, query)).status_code == 403
        assert ops.outsider.client.get(queue(ops, query)).status_code == 404
    theirs = ops.outsider.client.get(
        reverse("operations:change_queue", args=[other_org.slug]) + "?state=draft&format=csv"
    )
    assert theirs.status_code == 200
    assert "Add a programme view" not in theirs.content.decode("utf-8-sig")


def test_every_state_lists_the_whole_register_where_the_queue_shows_what_waits(
    ops: Ops,
) -> None:
    decided(ops, True, title="Approved one")
    decided(ops, False, title="Rejected one")
    submitted(ops, title="Waiting one")
    waiting = main(ops.director.client.get(queue(ops)).content.decode())
    assert "Waiting one" in waiting and "Approved one" in waiting
    assert "Rejected one" not in waiting
    register = main(ops.director.client.get(queue(ops, "?every=true")).content.decode())
    for title in ("Waiting one", "Approved one", "Rejected one"):
        assert title in register
    workbook = ops.director.client.get(queue(ops, "?every=true&format=xlsx"))
    rows = list(load_workbook(io.BytesIO(workbook.content)).active.values)
    assert {"Waiting one", "Approved one", "Rejected one"} <= set(column(rows, "Title"))
