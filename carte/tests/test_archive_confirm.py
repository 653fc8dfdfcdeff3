"""Archiving asks first and can be undone: an object's Archive button leads to a question
(nothing archived by asking), a row's Remove button opens its question in place (no
script needed), and once archived the message offers a Restore button that works."""

from __future__ import annotations

import html
import re

import pytest
from django.test import RequestFactory
from django.urls import reverse

from carte.catalogue.tests.factories import ServiceFactory, ServiceLevelFactory
from carte.conftest import Persona
from carte.core.views import restore_url_for
from carte.operations.models import KPI
from carte.operations.tests.conftest import Ops, ops  # noqa: F401 (the fixture)
from carte.operations.tests.factories import KPIFactory
from carte.organisations.models import PMO
from carte.organisations.tests.factories import PMOFactory

pytestmark = pytest.mark.django_db


def _messages(page: str) -> list[str]:
    return re.findall(r'<div class="alert alert-success[^"]*"[^>]*>(.*?)</div>', page, re.S)


def _restore_form(page: str) -> str:
    """The address the success message's Restore button posts to."""
    for message in _messages(page):
        form = re.search(
            r'<form method="post" action="([^"]+)"[^>]*>.*?Restore</button>', message, re.S
        )
        if form:
            return html.unescape(form.group(1))
    raise AssertionError("no message offers to restore")


def test_archiving_an_object_asks_first_then_offers_to_restore(director: Persona) -> None:
    slug = director.organisation.slug
    pmo: PMO = PMOFactory(organisation=director.organisation, name="Group PMO")
    archive_url = reverse("pmo_archive", args=[slug, pmo.pk])

    detail = director.client.get(reverse("pmo_detail", args=[slug, pmo.pk])).content.decode()
    assert f'href="{archive_url}"' in detail  # a link to the question, not a form doing it

    question = director.client.get(archive_url)
    assert question.status_code == 200
    text = question.content.decode()
    assert "Archive PMO “Group PMO”?" in text
    assert re.search(
        r'<form method="post"[^>]*>.*?<button type="submit"[^>]*>Archive</button>', text, re.S
    )
    pmo.refresh_from_db()
    assert pmo.archived_at is None  # asking archives nothing

    archived = director.client.post(archive_url, follow=True)
    assert archived.status_code == 200
    pmo.refresh_from_db()
    assert pmo.archived_at is not None
    page = archived.content.decode()
    assert any("“Group PMO” archived." in m for m in _messages(page))
    restore_url = _restore_form(page)
    assert restore_url == reverse("pmo_restore", args=[slug, pmo.pk])

    restored = director.client.post(restore_url, follow=True)
    assert restored.status_code == 200
    pmo.refresh_from_db()
    assert pmo.archived_at is None
    assert not any("Restore</button>" in m for m in _messages(restored.content.decode()))


def test_a_step_archived_from_its_page_offers_to_restore(ops: Ops) -> None:  # noqa: F811
    kpi: KPI = KPIFactory(service=ops.service, name="Status packs on time")
    client = ops.manager.client
    archive_url = reverse("operations:kpi_archive", args=[ops.org.slug, ops.service.pk, kpi.pk])

    assert client.get(archive_url).status_code == 405  # a GET does nothing
    kpi.refresh_from_db()
    assert kpi.archived_at is None

    archived = client.post(archive_url, follow=True)
    assert archived.status_code == 200
    kpi.refresh_from_db()
    assert kpi.archived_at is not None
    restore_url = _restore_form(archived.content.decode())
    assert restore_url == reverse(
        "operations:kpi_restore", args=[ops.org.slug, ops.service.pk, kpi.pk]
    )

    assert client.post(restore_url).status_code == 302
    kpi.refresh_from_db()
    assert kpi.archived_at is None


def test_a_kpis_page_asks_before_it_archives(ops: Ops) -> None:  # noqa: F811
    """The KPI, risk, change and service level pages archive through the same question."""
    kpi: KPI = KPIFactory(service=ops.service, name="Status packs on time")
    page = ops.manager.client.get(
        reverse("operations:kpi_detail", args=[ops.org.slug, ops.service.pk, kpi.pk])
    ).content.decode()
    archive_url = reverse("operations:kpi_archive", args=[ops.org.slug, ops.service.pk, kpi.pk])
    question = re.search(r'<details[^>]*data-testid="confirm-step".*?</details>', page, re.S)
    assert question is not None and f'action="{archive_url}"' in question.group()
    assert "Archive “Status packs on time”?" in html.unescape(question.group())
    assert page.count(f'action="{archive_url}"') == 1  # no one-click form beside it


def test_the_undo_is_offered_only_where_a_restore_route_exists(director: Persona) -> None:
    slug = director.organisation.slug
    factory = RequestFactory()
    pmo_archive = reverse("pmo_archive", args=[slug, 7])
    assert restore_url_for(factory.post(pmo_archive)) == reverse("pmo_restore", args=[slug, 7])
    task_archive = reverse("lifecycle:task_archive", args=[slug, 3, 7])
    assert restore_url_for(factory.post(task_archive)) is None
    assert restore_url_for(factory.post(reverse("pmo_update", args=[slug, 7]))) is None


def _closed_question(page: str, url: str) -> str:
    """The `<details>` that holds the form posting to `url`, which must start closed."""
    for block in re.findall(r"<details([^>]*)>(.*?)</details>", page, re.S):
        attrs, body = block
        if f'action="{url}"' in body:
            assert " open" not in attrs
            return str(body)
    raise AssertionError(f"no question in place for {url}")


def test_a_row_is_removed_only_once_its_question_is_answered(director: Persona) -> None:
    slug = director.organisation.slug
    service = ServiceFactory(organisation=director.organisation)
    level = ServiceLevelFactory(service=service, name="Premium")
    archive_url = reverse("part_archive", args=[slug, service.pk, "levels", level.pk])

    page = director.client.get(
        reverse("service_detail", args=[slug, service.pk]), {"tab": "levels"}
    ).content.decode()

    body = _closed_question(page, archive_url)
    summary = re.search(r"<summary[^>]*>(.*?)</summary>", body, re.S)
    assert summary and re.sub(r"<[^>]+>", "", summary.group(1)).strip() == "Remove Premium"
    assert "Remove “Premium”?" in body
    button = re.search(r'<button[^>]*type="submit"[^>]*>(.*?)</button>', body, re.S)
    assert button and re.sub(r"<[^>]+>", "", button.group(1)).strip() == "Yes, remove Premium"
    level.refresh_from_db()
    assert level.archived_at is None
